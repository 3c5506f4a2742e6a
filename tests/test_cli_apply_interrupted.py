"""An interrupted apply still reports: `apply --format json` writes what was done when SIGTERM
or SIGINT stops it (a process-boundary test: the signal is what is tested)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import TEST_ENV, write_manifest

FUNCTIONS = 4


@pytest.mark.parametrize(
    ("sig", "code"),
    [(signal.SIGTERM, 143), pytest.param(signal.SIGINT, 130, marks=pytest.mark.slow)],
)
def test_a_signal_mid_apply_still_writes_the_json_result(
    emulator: Any, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    """Four functions applied one at a time against a slow endpoint; the signal lands after the
    first write: exit 130/143, and standard output is the JSON result naming the signal, with
    the operations done and the rest `not attempted` — exactly matching what is live."""
    emulator.seed([{"name": f"fn-{i}", "versions": 2, "aliases": {"live": 1}} for i in range(4)])
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(f"  fn-{i}: {{aliases: {{live: {{version: 2}}}}}}\n" for i in range(4))
    m = write_manifest(tmp_path, body)
    emulator.faults(latency_ms=400)
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "reconciler",
                "apply",
                m,
                "--auto-approve",
                "--format",
                "json",
                "--parallelism",
                "1",
            ],
            env={**os.environ, **emulator.env(), **TEST_ENV},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        while True:  # the first write's progress line: the apply is under way
            line = proc.stderr.readline()
            assert line, "the apply ended before writing"
            if line.startswith("fn-0: ~ update_alias live … done"):
                break
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        emulator.faults()
    assert proc.returncode == code, err
    assert out, err
    doc = json.loads(out)
    assert doc["interrupted"] == sig.name
    statuses = {r["function"]: r["status"] for r in doc["results"]}
    assert statuses["fn-0"] == "done"
    assert "not attempted" in statuses.values()
    client = emulator.boto3_client("lambda")
    live = {
        f"fn-{i}": client.get_alias(FunctionName=f"fn-{i}", Name="live")["FunctionVersion"]
        for i in range(FUNCTIONS)
    }
    for function, status in statuses.items():
        assert (live[function] == "2") == (status == "done"), (function, status, live)
    assert "Traceback" not in err
