"""`drift`: the plan framed as "live differs from git", exit 2 when it does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli, write_manifest

MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: 2, canary: {version: 3, weight: 10%}, description: Production}
"""


def in_sync(emulator: Any, tmp_path: Path) -> tuple[Any, str]:
    emulator.seed([{"name": "orders", "versions": 3}])
    m = write_manifest(tmp_path, MANIFEST)
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    return emulator.boto3_client("lambda"), m


def test_no_drift_exits_0(emulator: Any, tmp_path: Path) -> None:
    _, m = in_sync(emulator, tmp_path)
    r = run_cli(emulator, "drift", m)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("No drift: live state matches git.")


def test_hand_change_is_reported_field_by_field(emulator: Any, tmp_path: Path) -> None:
    """A change made outside git: exit 2 and each differing field, live → git."""
    client, m = in_sync(emulator, tmp_path)
    client.update_alias(
        FunctionName="orders",
        Name="prod",
        FunctionVersion="1",
        Description="hotfix",
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.5}},
    )
    r = run_cli(emulator, "drift", m)
    assert r.returncode == 2, r.stderr
    assert "Drift: live state differs from git in 1 function." in r.stdout
    # each version with its age (the emulator's versions have no description)
    assert re.search(r"version: 1 \(\S+ min old\) → 2 \(\S+ min old\)", r.stdout), r.stdout
    assert "canary: 3 @ 50% → 3 @ 10%" in r.stdout
    assert "description: 'hotfix' → 'Production'" in r.stdout
    data = json.loads(run_cli(emulator, "drift", m, "--format", "json").stdout)
    assert data["kind"] == "drift"
    op = data["functions"][0]["operations"][0]
    assert op["before"]["version"] == "1"
    assert op["after"]["version"] == "2"
    md = run_cli(emulator, "drift", m, "--format", "markdown").stdout
    assert md.startswith("<!-- lambda-reconciler:drift -->")
    assert "Drift detected" in md


def test_unmanaged_alias_alone_is_drift(emulator: Any, tmp_path: Path) -> None:
    client, m = in_sync(emulator, tmp_path)
    client.create_alias(FunctionName="orders", Name="manual", FunctionVersion="1")
    r = run_cli(emulator, "drift", m)
    assert r.returncode == 2
    assert "! unmanaged alias  manual → 1" in r.stdout
    data = json.loads(run_cli(emulator, "drift", m, "--format", "json").stdout)
    assert data["functions"][0]["unmanaged_aliases"] == ["manual"]


def test_drift_on_bad_manifest_exits_1_without_aws_calls(emulator: Any, tmp_path: Path) -> None:
    m = write_manifest(tmp_path, "version: 1\nfunctions:\n  orders:\n    alias: {}\n")
    emulator.clear_calls()
    r = run_cli(emulator, "drift", m)
    assert r.returncode == 1
    assert f"{m}:4:5:" in r.stderr
    assert "Traceback" not in r.stderr
    assert emulator.calls() == []
