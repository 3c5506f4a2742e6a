"""A rollout on an alias with provisioned concurrency: the new version's capacity is READY
before any traffic moves to it, the version it leaves keeps capacity until the rollout is done,
and a rollback returns to a version with capacity. The emulator allocates on its own clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from emulator.fixtures import create_alarm
from tests.cli_helpers import run_cli, write_manifest

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
ALARM = "orders-errors"
MANIFEST = f"""
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod:
        version: 3
        provisioned_concurrency: 2
        rollout: {{steps: [50%], interval: 10m, alarms: [{ALARM}]}}
"""


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


def _setup(emulator: Any, tmp_path: Path) -> str:
    """orders: prod on 2 with its own READY config of 2 (as `import` finds it)."""
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}])
    emulator.provision("orders", "prod", 2)
    emulator.provisioned_settings(allocation_delay=100)
    create_alarm(emulator.boto3_client("cloudwatch"), ALARM)
    return write_manifest(tmp_path, MANIFEST)


def _writes(emulator: Any) -> list[tuple[str, str, Any]]:
    """The writes of the call log: (operation, the qualifier or the primary an alias write
    sets, the routing it asks for)."""
    return [
        (c["operation"], c.get("alias_version") or c.get("qualifier") or "", c.get("alias_weights"))
        for c in emulator.calls()
        if c.get("write")
    ]


def _configs(emulator: Any) -> dict[str, str]:
    client = emulator.boto3_client("lambda")
    out = client.list_provisioned_concurrency_configs(FunctionName="orders")
    return {
        c["FunctionArn"].rsplit(":", 1)[-1]: c["Status"]
        for c in out["ProvisionedConcurrencyConfigs"]
    }


def _start(emulator: Any, m: str) -> None:
    """Apply until the first step has moved traffic: the capacity on 3 first, held, READY."""
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    assert r.returncode == 0, r.stdout + r.stderr
    assert _writes(emulator) == [("PutProvisionedConcurrencyConfig", "3", None)]
    r = run_cli(emulator, "plan", m, env=at(1))
    assert "allocating 0/2 provisioned concurrency on version 3" in r.stdout, r.stdout
    assert "set_provisioned_concurrency" not in r.stdout  # requested already: not again
    emulator.clock(200)  # the emulator's allocation delay passes: READY
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(2))
    assert r.returncode == 0, r.stdout + r.stderr
    assert _writes(emulator) == [("UpdateAlias", "2", {"3": 0.5})]
    assert _configs(emulator) == {"3": "READY", "prod": "READY"}


def test_traffic_moves_only_to_ready_capacity_and_the_old_is_kept_until_done(
    emulator: Any, tmp_path: Path
) -> None:
    """Put on the new version, held while it allocates; the first UpdateAlias that routes to
    it comes after READY; at the promotion the alias's own config becomes its old version's,
    which is deleted once the rollout is done; then the plan is empty. A `rollback` after that
    moves the alias first, then puts the capacity on the version it returns to."""
    m = _setup(emulator, tmp_path)
    _start(emulator, m)
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(13))
    assert r.returncode == 0, r.stdout + r.stderr
    assert _writes(emulator) == [
        ("DeleteProvisionedConcurrencyConfig", "prod", None),
        ("PutProvisionedConcurrencyConfig", "2", None),
        ("UpdateAlias", "3", {}),
    ]
    assert _configs(emulator) == {"2": "IN_PROGRESS", "3": "READY"}
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(14))
    assert r.returncode == 0, r.stdout + r.stderr
    assert _writes(emulator) == [("DeleteProvisionedConcurrencyConfig", "2", None)]
    r = run_cli(emulator, "plan", m, "--detailed-exitcode", env=at(15))
    assert r.returncode == 0, r.stdout + r.stderr
    # break glass after the rollout is done: traffic first, then the capacity follows
    emulator.clear_calls()
    args = ("--function", "orders", "--alias", "prod", "--auto-approve")
    r = run_cli(emulator, "rollback", m, *args, env=at(16))
    assert r.returncode == 0, r.stdout + r.stderr
    assert _writes(emulator) == [
        ("UpdateAlias", "2", {}),
        ("PutProvisionedConcurrencyConfig", "2", None),
    ]
    assert "2 requested on 2" in r.stdout + r.stderr


def test_a_rollback_keeps_the_old_capacity_and_drops_the_new(emulator: Any, tmp_path: Path) -> None:
    """An alarm mid-rollout: traffic back to 2 first (its capacity never touched), then the
    config on 3 deleted."""
    m = _setup(emulator, tmp_path)
    _start(emulator, m)
    emulator.boto3_client("cloudwatch").set_alarm_state(
        AlarmName=ALARM, StateValue="ALARM", StateReason="errors"
    )
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(5))
    assert r.returncode == 1, r.stdout + r.stderr  # a rollback exits 1
    assert _writes(emulator) == [
        ("UpdateAlias", "2", {}),
        ("DeleteProvisionedConcurrencyConfig", "3", None),
    ]
    assert _configs(emulator) == {"prod": "READY"}


def test_a_failed_allocation_fails_the_rollout_before_any_traffic_moves(
    emulator: Any, tmp_path: Path
) -> None:
    """The new version's allocation ends FAILED: the rollout fails with that cause (exit 1), in
    a write that leaves the routing as it is, then the config on 3 is deleted; the next plan
    says the rollout failed and puts nothing again."""
    m = _setup(emulator, tmp_path)
    emulator.provisioned_settings(fail=("orders", "3"))
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    emulator.clock(200)
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(2))
    assert r.returncode == 1, r.stdout + r.stderr
    said = r.stdout + r.stderr
    assert "provisioned concurrency on version 3 failed to allocate" in said
    assert "FUNCTION_ERROR_INIT_FAILURE" in said
    assert _writes(emulator) == [
        ("UpdateAlias", "2", {}),
        ("DeleteProvisionedConcurrencyConfig", "3", None),
    ]
    assert _configs(emulator) == {"prod": "READY"}
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(3))
    assert _writes(emulator) == []
    assert "failed" in r.stdout, r.stdout


def test_a_plain_version_change_is_a_one_step_move(emulator: Any, tmp_path: Path) -> None:
    """An alias without `rollout` that declares capacity and changes version: N is put on the
    new version and the alias stays until it is READY; then one write moves it, right after
    its own config is deleted (so the version it leaves is on demand), and the plan is empty."""
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}])
    emulator.provision("orders", "prod", 2)
    emulator.provisioned_settings(allocation_delay=100)
    m = write_manifest(
        tmp_path,
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n    aliases:\n"
        "      prod: {version: 3, provisioned_concurrency: 2}\n",
    )
    emulator.clear_calls()
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    assert _writes(emulator) == [("PutProvisionedConcurrencyConfig", "3", None)]
    emulator.clock(200)
    emulator.clear_calls()
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    assert _writes(emulator) == [
        ("DeleteProvisionedConcurrencyConfig", "prod", None),
        ("UpdateAlias", "3", {}),
    ]
    assert _configs(emulator) == {"3": "READY"}
    r = run_cli(emulator, "plan", m, "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr


def test_drift_names_a_declared_change_not_the_capacity_a_move_leaves(
    emulator: Any, tmp_path: Path
) -> None:
    """Once the rollout is complete, deleting the old version's config is housekeeping of the
    move (drift exit 0); a capacity that differs from the manifest is drift (exit 2)."""
    m = _setup(emulator, tmp_path)
    _start(emulator, m)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(13)).returncode == 0
    r = run_cli(emulator, "drift", m, env=at(14))
    assert "provisioned concurrency 2 → 0 on version 2" in r.stdout, r.stdout
    assert r.returncode == 0, r.stdout + r.stderr
    emulator.boto3_client("lambda").put_provisioned_concurrency_config(
        FunctionName="orders", Qualifier="3", ProvisionedConcurrentExecutions=4
    )
    r = run_cli(emulator, "drift", m, env=at(14))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "provisioned concurrency 4 → 2 on version 3" in r.stdout
