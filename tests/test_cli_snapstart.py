"""SnapStart: a published version is Pending until its snapshot is taken; no alias is ever
pointed at it before it is Active. The emulator keeps versions Pending on its own clock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator.fixtures import update_code
from reconciler.engine import capacity as executor
from tests.cli_helpers import run_cli, write_manifest

MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    publish: true
    aliases:
      prod: {version: latest}
"""


def _release(emulator: Any, tmp_path: Path) -> str:
    """orders with SnapStart on its published versions, prod on 2, and new code in $LATEST."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 2}}])
    client = emulator.boto3_client("lambda")
    client.update_function_configuration(
        FunctionName="orders", SnapStart={"ApplyOn": "PublishedVersions"}
    )
    update_code(client, "orders", "next")
    return write_manifest(tmp_path, MANIFEST)


def _calls(emulator: Any) -> list[tuple[str, str]]:
    """PublishVersion, the State reads and the alias writes, in order."""
    out = []
    for c in emulator.calls():
        if c["operation"] == "GetFunctionConfiguration":
            out.append(("GetFunctionConfiguration", c.get("qualifier") or ""))
        elif c["operation"] in ("PublishVersion", "UpdateAlias"):
            out.append((c["operation"], c.get("alias_version") or ""))
    return out


def test_publish_waits_for_the_snapshot_before_moving_the_alias(
    emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The executor polls the new version's State (its pauses advance the emulator's clock
    here) and moves prod only once it is Active."""
    m = _release(emulator, tmp_path)
    emulator.snapstart_settings(snapshot_delay=2)
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        emulator.clock(sum(waited))

    monkeypatch.setattr(executor, "_sleep", sleep)
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _calls(emulator) == [
        ("PublishVersion", ""),
        ("GetFunctionConfiguration", "3"),
        ("GetFunctionConfiguration", "3"),
        ("GetFunctionConfiguration", "3"),
        ("UpdateAlias", "3"),
    ]
    assert waited == [1.0, 2.0]


def test_an_alias_never_points_at_a_pending_version(
    emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Still Pending at the bound: the alias write is skipped with a line saying why (exit 0,
    as a hold), and so is the next apply's; once Active, the next apply moves prod."""
    m = _release(emulator, tmp_path)
    emulator.snapstart_settings(snapshot_delay=1000)
    monkeypatch.setattr(executor, "SNAPSHOT_WAIT_S", 0.0)
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "version 3 is still Pending (SnapStart snapshot); the next apply moves the alias" in (
        r.stdout + r.stderr
    )
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "still Pending" in r.stdout + r.stderr
    assert not [c for c in _calls(emulator) if c[0] == "UpdateAlias"]
    emulator.clock(1001)
    emulator.clear_calls()
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    assert _calls(emulator)[-2:] == [("GetFunctionConfiguration", "3"), ("UpdateAlias", "3")]


def test_a_failed_snapshot_moves_no_alias(emulator: Any, tmp_path: Path) -> None:
    """The snapshot fails: apply exits 1 naming the version and StateReasonCode; prod stays."""
    m = _release(emulator, tmp_path)
    emulator.snapstart_settings(snapshot_delay=0, fail="orders")
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "version 3 failed its SnapStart snapshot (FunctionError)" in r.stdout + r.stderr
    assert not [c for c in _calls(emulator) if c[0] == "UpdateAlias"]
