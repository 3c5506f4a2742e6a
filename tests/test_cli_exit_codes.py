"""Exit codes as documented: 0 success, 1 every error (usage errors too), 2 only "changes
present" or drift, 130 on Ctrl-C and 143 on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import TEST_ENV, run_cli, write_manifest


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["plan"], "Missing argument 'MANIFESTS...'"),
        (["--formt", "json"], "No such option '--formt'"),
        (["plan", "m.yaml", "--format", "yaml"], "Invalid value for '--format'"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["apply", "m.yaml", "--max-deletions", "-1"], "Invalid value for '--max-deletions'"),
    ],
)
def test_a_usage_error_exits_1_not_2(emulator: Any, args: list[str], says: str) -> None:
    """A typo must not read as "changes present": a cron job that pages on 2 stays quiet."""
    r = run_cli(emulator, *args)
    assert r.returncode == 1, r.stdout + r.stderr
    assert says in r.stderr
    assert "Traceback" not in r.stderr


def test_help_and_version_exit_0(emulator: Any) -> None:
    assert run_cli(emulator, "--help").returncode == 0
    assert run_cli(emulator, "plan", "--help").returncode == 0
    assert run_cli(emulator, "--version").returncode == 0


def test_sigterm_exits_143_and_says_how_to_continue(emulator: Any, tmp_path: Path) -> None:
    """SIGTERM while a run waits on AWS: exit 143 with one line, no traceback (a process
    boundary test: the signal is what is tested)."""
    emulator.seed([{"name": f"fn-{i}", "versions": 2} for i in range(1)])
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(f"  fn-{i}: {{aliases: {{live: {{version: 2}}}}}}\n" for i in range(1))
    m = write_manifest(tmp_path, body)
    emulator.faults(latency_ms=1500)  # every call is slow: the signal lands mid-run
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "plan", m, "--parallelism", "1", "-v"],
            env={**os.environ, **emulator.env(), **TEST_ENV},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        # the first call's -v line: the run is under way (handlers installed) and the next
        # call is waiting on the slow endpoint, however loaded the machine is
        first = proc.stderr.readline()
        assert first.startswith("aws "), first
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        emulator.faults()
    assert proc.returncode == 143, err
    assert "terminated: run the same command again to continue" in err
    assert "Traceback" not in err


def test_output_in_a_legacy_encoding_does_not_crash(emulator: Any, tmp_path: Path) -> None:
    """Standard output in cp1252 (a process setting, hence a new process): the plan is printed
    with `?` for the symbols that encoding lacks, exit 2, no UnicodeEncodeError. (For ASCII,
    click itself writes UTF-8.)"""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"live": 1}}])
    m = write_manifest(
        tmp_path,
        "version: 1\nregion: us-east-1\nfunctions:\n  orders: {aliases: {live: {version: 2}}}\n",
    )
    for encoding in ("cp1252",):
        r = subprocess.run(
            [sys.executable, "-m", "reconciler", "plan", m, "--detailed-exitcode"],
            env={**os.environ, **emulator.env(), **TEST_ENV, "PYTHONIOENCODING": encoding},
            capture_output=True,
            timeout=120,
        )
        out = r.stdout.decode(encoding)
        assert r.returncode == 2, (encoding, r.stderr)
        # each version with its age; the arrow (not in cp1252) as ?
        assert re.search(r"~ update_alias live  version: 1 \(<1 min old\) \? 2 \(<1 min", out), out
        assert b"UnicodeEncodeError" not in r.stderr


def test_the_readme_table_lists_every_exit_code_the_cli_has() -> None:
    """The README's exit-code table names each code `apply --wait` ends with, besides 0, 1, 2
    and the signal codes: a new code cannot ship undocumented."""
    from reconciler.engine import Outcome

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("Exit codes:") :].split("\n\n")[1]
    documented = {int(m) for m in re.findall(r"^\| `(\d+)` \|", table, re.MULTILINE)}
    assert {0, 1, 2, 130, 143} | {o.value for o in Outcome} == documented
