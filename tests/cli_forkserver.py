"""The console script as a new process, without paying the interpreter's imports each time.

For tests that run `lambda-reconciler` many times from shell scripts (the Action's steps): one
server process imports the CLI and boto3 once; each run of its `bin/lambda-reconciler` shim (a
few milliseconds of Python without site packages) hands the server its arguments, environment,
working directory and its standard input, output and error — the file descriptors themselves —
and the server forks a child that runs the console script's entry point in that environment and
directory, on those descriptors, and sends back its exit code, which the shim exits with. A
caller sees what the console script would do: the same streams, environment, directory and exit
code, in a process of its own. What it saves is the imports, about 0.3 s of CPU a run.

Where a run's environment asks for other interpreter settings than the server started with
(any PYTHON* variable, the locale), the shim runs the real console script instead.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REAL = str(Path(sys.executable).parent / "lambda-reconciler")
# What a new interpreter's start-up reads from the environment: a run asking for other values
# than the server's gets the real console script.
_INTERPRETER = ("PYTHON", "LC_", "LANG")
_DECLINE = b"exec"
# What a run of the CLI imports, loaded once in the server before any fork.
_PRELOAD = (
    "reconciler.cli.main",
    "reconciler.cli.github",
    "reconciler.aws.client",
    "reconciler.engine.run",
    "reconciler.engine.apply",
    "reconciler.plan.planfile",
    "reconciler.render",
)

SHIM = """#!{python} -IS
import json, os, socket, sys
real = {real!r}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect({path!r})
body = json.dumps({{"args": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}).encode()
socket.send_fds(s, [len(body).to_bytes(4, "big") + body], [0, 1, 2])
got = b""
while len(got) < 4:
    chunk = s.recv(4 - len(got))
    if not chunk:
        break
    got += chunk
if got == {decline!r}:
    os.execv(real, [real, *sys.argv[1:]])
if len(got) < 4:
    sys.stderr.write("lambda-reconciler: the run ended without an exit code\\n")
    sys.exit(1)
sys.exit(int.from_bytes(got, "big", signed=True))
"""


def _interpreter_settings(env: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(_INTERPRETER)}


def _receive(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise EOFError("the shim went away")
        data += chunk
    request: dict[str, object] = json.loads(data[4:])
    return request, list(fds)


def _streams() -> None:
    """Standard streams as a new interpreter makes them on these descriptors: stdout line
    buffered on a terminal only, stderr always."""
    for name, fd, mode in (("stdin", 0, "rb"), ("stdout", 1, "wb"), ("stderr", 2, "wb")):
        old = getattr(sys, name)
        raw = open(fd, mode, closefd=False)  # noqa: SIM115 - the stream lives as long as the run
        buffered = name == "stderr" or os.isatty(fd)
        setattr(
            sys,
            name,
            io.TextIOWrapper(
                raw,
                encoding=old.encoding,
                errors=old.errors,
                line_buffering=buffered and name != "stdin",
                write_through=name == "stderr",
            ),
        )


def _run(request: dict[str, object]) -> int:
    """The console script's entry point, as `sys.exit(main())` runs it."""
    env = request["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in env.items()})
    os.chdir(str(request["cwd"]))
    args = request["args"]
    assert isinstance(args, list)
    sys.argv = [REAL, *(str(a) for a in args)]
    _streams()
    try:
        from reconciler.cli.main import main

        raise SystemExit(main())
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except BaseException:  # what the interpreter prints for an uncaught exception
        traceback.print_exc()
        return 1


def _child(conn: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        code = _run(request)
        # What the interpreter does on its way out: wait for the threads, run atexit, flush.
        getattr(threading, "_shutdown", lambda: None)()
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            conn.sendall(code.to_bytes(4, "big", signed=True))
        finally:
            os._exit(code & 0xFF)


def _reap(_signum: int, _frame: object) -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def serve(path: str) -> None:
    """Accept runs on the Unix socket `path` until killed; one forked child per run."""
    import importlib

    for module in _PRELOAD:
        importlib.import_module(module)
    own = _interpreter_settings(os.environ)
    # Reap each child as it ends, so its CPU time is counted as the server's children's (and,
    # once the server is reaped, the test run's), as a subprocess's would be.
    signal.signal(signal.SIGCHLD, _reap)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        try:
            request, fds = _receive(conn)
        except (OSError, EOFError, ValueError):
            conn.close()
            continue
        env = request.get("env")
        if not isinstance(env, dict) or _interpreter_settings(env) != own or len(fds) != 3:
            conn.sendall(_DECLINE)
        elif os.fork() == 0:
            server.close()
            _child(conn, request, fds)
        for fd in fds:
            os.close(fd)
        conn.close()


@contextmanager
def cli_forkserver() -> Iterator[Path]:
    """Start a server; yield the directory of its `lambda-reconciler` shim; stop it."""
    work = Path(tempfile.mkdtemp(prefix="lr-cli-"))
    sock = work / "s"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.cli_forkserver", str(sock)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the CLI fork server did not start")
        bin_dir = work / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "lambda-reconciler"
        shim.write_text(
            SHIM.format(python=sys.executable, real=REAL, path=str(sock), decline=_DECLINE)
        )
        shim.chmod(0o755)
        yield bin_dir
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    serve(sys.argv[1])
