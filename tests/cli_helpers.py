"""Run the real CLI against the emulator, and read what it did.

`run_cli` runs the CLI in this process (click's test runner around `reconciler.cli.main.main`): the
same command line, over the same HTTP wire protocol to the emulator, with the environment made
exactly what a fresh process would get and restored afterwards. Standard input is never a
terminal, standard output and standard error are captured separately, and an exception that
escapes the CLI becomes a traceback on standard error and exit 1, as the interpreter would do.

`run_cli_subprocess` starts `python -m reconciler` instead: only for the tests where the process
boundary is what is tested (a kill, a signal, the prompt on a terminal, the console script).
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from click.testing import CliRunner

from emulator.client import EmulatorClient

WRITES = {
    "PublishVersion",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "DeleteFunction",
    "TagResource",
    "UntagResource",
}

# What click names the program in usage lines when it runs as `python -m reconciler`.
PROG_NAME = "python -m reconciler"

# The CLI paces Lambda calls at the real quota (15/s) by default; the emulator has no quota
# unless a test sets one, so against it the pacer runs at this rate instead. A test that is about
# pacing passes --max-rate (which wins over the variable) or sets the variable itself.
TEST_ENV = {"LAMBDA_RECONCILER_MAX_RATE": "1000"}

# One in-process run at a time: the environment, the working directory and the standard
# streams are process-wide.
_IN_PROCESS = threading.Lock()


@dataclass(frozen=True)
class CliResult:
    """What a run of the CLI left behind: its exit code and its two output streams."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@contextmanager
def exact_environment(env: Mapping[str, str], cwd: str | Path | None = None) -> Iterator[None]:
    """Make os.environ exactly `env` (and the working directory `cwd`) for the block only.

    Everything the CLI reads from the environment (AWS_*, LAMBDA_RECONCILER_*, NO_COLOR, CI,
    GITHUB_*, proxies) is read when it runs, so this is what a new process would see.
    """
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("the CLI runs in process from the main thread only; use a subprocess")
    with _IN_PROCESS:
        saved = dict(os.environ)
        saved_cwd = os.getcwd()
        os.environ.clear()
        os.environ.update(env)
        try:
            if cwd is not None:
                os.chdir(cwd)
            yield
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@contextmanager
def _fresh_process_streams() -> Iterator[None]:
    """Warnings and log records reach standard error as in a new interpreter, not pytest's
    capture: the filters are Python's defaults and the root logger has no handler (so
    `logging.lastResort` prints WARNING and above to standard error)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers = []
    root.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # The filters of a fresh interpreter (no -W option), in the same order.
            warnings.resetwarnings()
            warnings.simplefilter("ignore", ResourceWarning)
            warnings.simplefilter("ignore", ImportWarning)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
            warnings.showwarning = _show_warning
            yield
    finally:
        root.handlers = handlers
        root.setLevel(level)


@functools.cache
def _service_data(search_path: str | None) -> Any:
    """One botocore loader per data path for all in-process runs (see `_shared_service_data`)."""
    import botocore.loaders

    return botocore.loaders.create_loader(search_path)


@contextmanager
def _shared_service_data() -> Iterator[None]:
    """The run's botocore sessions read the installed service models through one shared
    loader, as the clients of one session do, instead of parsing the same JSON again for each
    run's new session (about 60 ms of CPU per client). The models are data: the same files
    give the same clients, and `AWS_DATA_PATH` still chooses its own loader."""
    import botocore.session

    own = botocore.session.create_loader
    botocore.session.create_loader = _service_data
    try:
        yield
    finally:
        botocore.session.create_loader = own


def invoke(args: Sequence[str], input: str | None = None) -> CliResult:
    """`python -m reconciler ARGS` in this process, in the current environment."""
    from reconciler.cli.main import main

    runner = CliRunner()
    with _fresh_process_streams(), _shared_service_data():
        result = runner.invoke(main, list(args), input=input, prog_name=PROG_NAME, color=False)
    stderr = result.stderr
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # Uncaught: the interpreter would print the traceback and exit 1.
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
        code = 1
    return CliResult(tuple(args), code, result.stdout, stderr)


def run_main(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    input: str | None = None,
    cwd: str | Path | None = None,
) -> CliResult:
    """The CLI in process with exactly `env` as its environment (nothing inherited)."""
    with exact_environment(env, cwd):
        return invoke(args, input)


def run_subprocess(
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    input: str | None = None,
    cwd: str | Path | None = None,
    timeout: float = 180,
) -> CliResult:
    """`python -m reconciler ARGS` as a new process with exactly `env`."""
    r = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        input=input,
        cwd=cwd,
        timeout=timeout,
    )
    return CliResult(tuple(args), r.returncode, r.stdout, r.stderr)


def run_cli(
    emu: EmulatorClient, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> CliResult:
    """The CLI in process against the emulator (its endpoint and dummy credentials, the pacer
    at TEST_ENV's rate), `env` on top."""
    return run_main(args, {**emu.env(), **TEST_ENV, **(env or {})}, input=input)


def run_cli_subprocess(
    emu: EmulatorClient, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> CliResult:
    """As `run_cli`, in a new interpreter: for tests of the process boundary itself."""
    return run_subprocess(args, {**emu.env(), **TEST_ENV, **(env or {})}, input=input)


def write_manifest(tmp_path: Path, body: str, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip())
    return str(path)


def lambda_calls(emu: EmulatorClient) -> list[dict[str, Any]]:
    return [c for c in emu.calls() if c.get("service") == "lambda"]


def writes(emu: EmulatorClient) -> list[tuple[str, str | None]]:
    """(operation, function) of every successful write, in order."""
    return [
        (c["operation"], c.get("function"))
        for c in emu.calls()
        if c.get("write") and not c.get("throttled") and int(c.get("status", 0)) < 300
    ]


def run_cli_interfered(
    emu: EmulatorClient, after: str, change: Callable[[], Any], *args: str
) -> CliResult:
    """Run the CLI; as soon as the emulator has answered its first `after` call, make
    `change` (someone else's change) — then check the change really happened."""
    done = threading.Event()

    def interfere() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(c["operation"] == after for c in emu.calls()):
                change()
                done.set()
                return
            time.sleep(0.02)

    # The watcher starts inside the CLI's environment, so it never sees it being swapped.
    with exact_environment({**emu.env(), **TEST_ENV}):
        thread = threading.Thread(target=interfere)
        thread.start()
        try:
            result = invoke(args)
        finally:
            thread.join()
    assert done.is_set(), f"no {after} call was seen"
    return result
