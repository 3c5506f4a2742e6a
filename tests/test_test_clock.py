"""The test clock (`LAMBDA_RECONCILER_NOW`) pins the time only against a local endpoint, or
behind `LAMBDA_RECONCILER_UNSAFE_CLOCK=1` with a warning; against AWS it is refused before any
call, with exit 1 and one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.cli.testclock import is_local
from tests.cli_helpers import lambda_calls, run_cli, run_main, write_manifest

NOW = {"LAMBDA_RECONCILER_NOW": "2026-11-01T12:00:00Z"}
REMOTE_CW = {"AWS_ENDPOINT_URL_CLOUDWATCH": "https://monitoring.us-east-1.amazonaws.com"}
MANIFEST = """
version: 1
region: us-east-1
functions:
  orders: {aliases: {prod: {version: 2}}}
"""


def seed(emulator: Any, tmp_path: Path) -> str:
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    emulator.clear_calls()
    return write_manifest(tmp_path, MANIFEST)


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:4566", True),
        ("http://127.0.0.1:40123", True),
        ("http://127.8.9.10", True),
        ("http://[::1]:4566/", True),
        ("https://lambda.us-east-1.amazonaws.com", False),
        ("http://10.0.0.5:4566", False),
        ("http://127.0.0.1.nip.io:4566", False),
        ("http://localhost.example.com", False),
        (None, False),
    ],
)
def test_local_means_loopback_only(url: str | None, local: bool) -> None:
    """localhost, 127.0.0.0/8 and ::1 are local; a private address, a name that merely starts
    like one, and AWS's own endpoint (None) are not."""
    assert is_local(url) is local


def test_the_test_clock_is_refused_when_an_endpoint_is_aws(emulator: Any, tmp_path: Path) -> None:
    """Lambda on the local endpoint but CloudWatch on AWS's: `apply` with the test clock exits 1
    with one line naming the remote endpoint and the flag, before any Lambda call."""
    m = seed(emulator, tmp_path)
    r = run_cli(emulator, "apply", m, "--auto-approve", env={**NOW, **REMOTE_CW})
    assert r.returncode == 1
    assert r.stderr == (
        "error: LAMBDA_RECONCILER_NOW is a test clock for a local endpoint; refused against "
        "https://monitoring.us-east-1.amazonaws.com (set LAMBDA_RECONCILER_UNSAFE_CLOCK=1 to "
        "pin the time there anyway)\n"
    )
    assert lambda_calls(emulator) == []
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "1"


def test_the_test_clock_is_refused_against_aws_itself(tmp_path: Path) -> None:
    """No endpoint configured at all (AWS): refused, one line, exit 1."""
    m = write_manifest(tmp_path, MANIFEST)
    env = {**NOW, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    r = run_main(["plan", m], env, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.startswith("error: LAMBDA_RECONCILER_NOW is a test clock for a local ")
    assert "refused against AWS" in r.stderr
    assert r.stderr.count("\n") == 1


def test_an_explicit_remote_endpoint_url_is_refused(emulator: Any, tmp_path: Path) -> None:
    """`--endpoint-url` wins over the environment: a remote one refuses the test clock even when
    AWS_ENDPOINT_URL is local."""
    m = seed(emulator, tmp_path)
    remote = "https://lambda.eu-west-1.amazonaws.com"
    r = run_cli(emulator, "plan", m, "--endpoint-url", remote, env=NOW)
    assert r.returncode == 1
    assert f"refused against {remote}" in r.stderr


def test_the_unsafe_flag_pins_the_time_with_one_warning(emulator: Any, tmp_path: Path) -> None:
    """With LAMBDA_RECONCILER_UNSAFE_CLOCK=1 the pinned clock is used against a remote endpoint
    (here CloudWatch's, which this run never calls), and says so once on standard error, even
    for `apply --wait` which reads the clock twice."""
    m = seed(emulator, tmp_path)
    env = {**NOW, **REMOTE_CW, "LAMBDA_RECONCILER_UNSAFE_CLOCK": "1"}
    r = run_cli(emulator, "apply", m, "--auto-approve", "--wait", env=env)
    assert r.returncode == 0, r.stderr
    warnings = [x for x in r.stderr.splitlines() if x.startswith("warning: LAMBDA_RECONCILER_")]
    assert warnings == [
        "warning: LAMBDA_RECONCILER_UNSAFE_CLOCK=1: the time is pinned to 2026-11-01T12:00:00Z "
        "against https://monitoring.us-east-1.amazonaws.com; rollout steps follow that clock, "
        "not AWS's"
    ]
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "2"


def test_the_test_clock_against_the_local_endpoint_says_nothing(
    emulator: Any, tmp_path: Path
) -> None:
    """The ordinary case (the tests, the demo): pinned, no warning, no refusal."""
    m = seed(emulator, tmp_path)
    r = run_cli(emulator, "apply", m, "--auto-approve", env=NOW)
    assert r.returncode == 0, r.stderr
    assert "LAMBDA_RECONCILER" not in r.stderr
