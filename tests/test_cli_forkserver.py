"""The fork server's `lambda-reconciler` (tests/cli_forkserver.py) behaves as the console script."""

from __future__ import annotations

import subprocess
from pathlib import Path

from emulator.client import EmulatorClient
from tests.cli_forkserver import REAL
from tests.cli_helpers import TEST_ENV

MANIFEST = """version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: 2}
"""


def _run(
    exe: str, args: list[str], env: dict[str, str], cwd: Path, stdin: str = ""
) -> tuple[int, str, str]:
    r = subprocess.run(
        [exe, *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120
    )
    return r.returncode, r.stdout, r.stderr


def test_the_shim_gives_what_the_console_script_gives(
    emulator: EmulatorClient, cli_bin: Path, tmp_path: Path
) -> None:
    """Exit code, standard output and standard error agree for a plan with changes read from
    standard input, an invalid manifest named relative to the working directory, a setting
    read from the environment, and --version."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    (tmp_path / "bad.yaml").write_text("version: 1\nfunctions: {orders: {publish: maybe}}\n")
    env = {**emulator.env(), **TEST_ENV}
    cases: list[tuple[list[str], dict[str, str], str]] = [
        (["plan", "-", "--detailed-exitcode", "--no-color"], env, MANIFEST),
        (["validate", "bad.yaml"], env, ""),
        (["plan", "-"], {**env, "LAMBDA_RECONCILER_NOW": "yesterday"}, MANIFEST),
        (["--version"], env, ""),
    ]
    shim = str(cli_bin / "lambda-reconciler")
    results = []
    for args, run_env, stdin in cases:
        real = _run(REAL, args, run_env, tmp_path, stdin)
        assert _run(shim, args, run_env, tmp_path, stdin) == real, args
        results.append(real[0])
    assert results == [2, 1, 1, 0]


def test_another_interpreter_setting_runs_the_console_script_itself(
    emulator: EmulatorClient, cli_bin: Path, tmp_path: Path
) -> None:
    """A PYTHON* variable the server did not start with (here the output encoding) is honoured:
    the shim hands the run to the real console script."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    env = {**emulator.env(), **TEST_ENV, "PYTHONIOENCODING": "cp1252"}
    shim = str(cli_bin / "lambda-reconciler")
    code, out, err = _run(shim, ["plan", "-", "--no-color"], env, tmp_path, MANIFEST)
    assert (code, out, err) == _run(REAL, ["plan", "-", "--no-color"], env, tmp_path, MANIFEST)
    assert code == 0, err
    # cp1252 has no arrow: it prints as ?, where the server's own UTF-8 output would have it
    assert "update_alias prod" in out
    assert ("→" not in out, "? 2" in out) == (True, True)
