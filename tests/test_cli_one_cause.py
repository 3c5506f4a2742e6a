"""One cause, one error: a failure that awaits every call of the run is reported once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli, write_manifest

FLEET = 200


def fleet(tmp_path: Path) -> str:
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(f"  fn-{i:03d}: {{aliases: {{live: {{version: 1}}}}}}\n" for i in range(FLEET))
    return write_manifest(tmp_path, body)


def test_an_unreachable_endpoint_is_one_error_not_one_per_function(
    emulator: Any, tmp_path: Path
) -> None:
    """200 functions against a closed port: exit 1, one error line naming the endpoint, no
    FILE:LINE per function, and the single-attempt probe means no per-function retries."""
    started = time.monotonic()
    r = run_cli(emulator, "plan", fleet(tmp_path), env={"AWS_ENDPOINT_URL": "http://127.0.0.1:1"})
    elapsed = time.monotonic() - started
    print(
        f"\nFIGURE unreachable endpoint, {FLEET} functions: exit {r.returncode} in {elapsed:.1f} s"
    )
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: reaching Lambda in us-east-1: cannot reach the endpoint")
    assert r.stdout == ""


def test_rejected_credentials_are_one_error(emulator: Any, tmp_path: Path) -> None:
    """The endpoint answers, but refuses the key: one line, and only the probe was sent."""
    emulator.enforce_iam(True)
    emulator.clear_calls()
    try:
        r = run_cli(
            emulator,
            "plan",
            fleet(tmp_path),
            env={"AWS_ACCESS_KEY_ID": "AKIANOBODY", "AWS_SECRET_ACCESS_KEY": "x"},
        )
    finally:
        emulator.enforce_iam(False)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "reaching Lambda in us-east-1" in lines[0]
    assert len([c for c in emulator.calls() if c.get("service") == "lambda"]) == 1


def test_verbose_shows_no_traceback_debug_does(emulator: Any, tmp_path: Path) -> None:
    """-v is for AWS call lines, not for stack traces of an ordinary error; --debug adds one."""
    m = fleet(tmp_path)
    closed = {"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}
    verbose = run_cli(emulator, "plan", m, "-v", env=closed)
    debug = run_cli(emulator, "plan", m, "--debug", env=closed)
    assert verbose.returncode == debug.returncode == 1
    assert "Traceback" not in verbose.stderr
    assert "Traceback" in debug.stderr
