"""Provisioned concurrency declared on an alias (`provisioned_concurrency: N`): read with one
ListProvisionedConcurrencyConfigs, planned as its own operation, applied, drift-checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli, write_manifest
from tests.test_cli_import_iam import _assert_denied, _run_as, _without

MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {{version: 2, provisioned_concurrency: {n}}}
      staging: {{version: 1}}
"""


def _ops(emulator: Any, m: str) -> list[dict[str, Any]]:
    r = run_cli(emulator, "plan", m, "--format", "json")
    assert r.returncode in (0, 2), r.stderr
    ops: list[dict[str, Any]] = json.loads(r.stdout)["functions"][0]["operations"]
    return ops


def test_declared_capacity_is_put_then_plans_empty(emulator: Any, tmp_path: Path) -> None:
    """A fresh alias with N: created, then N put on the alias; the next plan is empty once
    Lambda has allocated it, and an alias without the key is never read into the diff."""
    emulator.seed([{"name": "orders", "versions": 2}])
    emulator.provisioned_settings(allocation_delay=0)
    m = write_manifest(tmp_path, MANIFEST.format(n=5))
    r = run_cli(emulator, "plan", m)
    assert "provisioned concurrency 0 → 5 on alias prod" in r.stdout, r.stdout
    assert "/month" in r.stdout
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    puts = [c for c in emulator.calls() if c["operation"] == "PutProvisionedConcurrencyConfig"]
    assert [(c["qualifier"]) for c in puts] == ["prod"]
    client = emulator.boto3_client("lambda")
    got = client.get_provisioned_concurrency_config(FunctionName="orders", Qualifier="prod")
    assert got["RequestedProvisionedConcurrentExecutions"] == 5
    assert _ops(emulator, m) == []


def test_import_then_plan_is_empty_drift_apply_and_adopt(emulator: Any, tmp_path: Path) -> None:
    """import writes the capacity of each alias from where it lives (the alias's config, else
    its version's), so plan on it is empty; a hand change is drift that apply undoes on that
    same qualifier, and adopt takes the live value into git instead."""
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2, "staging": 1}}])
    emulator.provision("orders", "prod", 3)  # on the alias
    emulator.provision("orders", 1, 2)  # on staging's version
    r = run_cli(emulator, "import", "orders", "--region", "us-east-1")
    assert r.returncode == 0, r.stderr
    assert "provisioned_concurrency: 3" in r.stdout
    assert "provisioned_concurrency: 2" in r.stdout
    m = tmp_path / "imported.yaml"
    m.write_text(r.stdout)
    r = run_cli(emulator, "plan", str(m), "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr

    client = emulator.boto3_client("lambda")
    client.put_provisioned_concurrency_config(
        FunctionName="orders", Qualifier="1", ProvisionedConcurrentExecutions=7
    )
    r = run_cli(emulator, "drift", str(m))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "provisioned concurrency 7 → 2 on version 1" in r.stdout
    emulator.clear_calls()
    assert run_cli(emulator, "apply", str(m), "--auto-approve").returncode == 0
    puts = [
        (c["qualifier"], c["status"])
        for c in emulator.calls()
        if c["operation"] == "PutProvisionedConcurrencyConfig"
    ]
    assert puts == [("1", 202)]

    client.put_provisioned_concurrency_config(
        FunctionName="orders", Qualifier="prod", ProvisionedConcurrentExecutions=9
    )
    r = run_cli(emulator, "adopt", str(m), "--write")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "-        provisioned_concurrency: 3\n+        provisioned_concurrency: 9" in r.stdout
    assert "provisioned_concurrency: 9" in m.read_text()
    r = run_cli(emulator, "plan", str(m), "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr


def test_zero_removes_and_an_alias_without_the_key_is_left_alone(
    emulator: Any, tmp_path: Path
) -> None:
    """`provisioned_concurrency: 0` deletes the config where it lives; an alias that does not
    declare the key keeps its capacity untouched."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 2, "staging": 1}}])
    emulator.provision("orders", "prod", 4)
    emulator.provision("orders", "staging", 1)
    m = write_manifest(tmp_path, MANIFEST.format(n=0))
    assert [op["action"] for op in _ops(emulator, m)] == ["set_provisioned_concurrency"]
    emulator.clear_calls()
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    ops = [
        (c["operation"], c["qualifier"])
        for c in emulator.calls()
        if "ProvisionedConcurrency" in c["operation"] and c.get("write")
    ]
    assert ops == [("DeleteProvisionedConcurrencyConfig", "prod")]
    left = emulator.boto3_client("lambda").list_provisioned_concurrency_configs(
        FunctionName="orders"
    )["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"].rsplit(":", 1)[-1] for c in left] == ["staging"]
    assert _ops(emulator, m) == []


def test_a_function_without_the_key_is_not_read_for_capacity(emulator: Any, tmp_path: Path) -> None:
    """No provisioned_concurrency in the manifest: no ListProvisionedConcurrencyConfigs."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 2}}])
    m = write_manifest(
        tmp_path, "version: 1\nfunctions:\n  orders:\n    aliases:\n      prod: {version: 2}\n"
    )
    emulator.clear_calls()
    assert run_cli(emulator, "plan", m, "--region", "us-east-1").returncode == 0
    assert not [c for c in emulator.calls() if "Provisioned" in c["operation"]]


def test_capacity_on_latest_or_with_a_canary_is_refused(emulator: Any, tmp_path: Path) -> None:
    """The key needs a published version and an alias without routing: exit 1, located."""
    bad = (
        "version: 1\nfunctions:\n  orders:\n    aliases:\n"
        "      dev: {version: $LATEST, provisioned_concurrency: 2}\n"
        "      prod: {version: 2, canary: {version: 3, weight: 10%}, provisioned_concurrency: 2}\n"
    )
    m = write_manifest(tmp_path, bad)
    r = run_cli(emulator, "validate", m)
    assert r.returncode == 1
    assert f"{m}:5:" in r.stderr
    assert "$LATEST cannot carry it" in r.stderr
    assert f"{m}:6:" in r.stderr
    assert "exclude each other" in r.stderr
    assert "Traceback" not in r.stderr


def test_iam_policy_grants_capacity_actions_and_each_is_needed(
    emulator: Any, tmp_path: Path
) -> None:
    """With the key declared, iam-policy adds ListProvisionedConcurrencyConfigs (on the
    function) and Put/DeleteProvisionedConcurrencyConfig (apply, on its qualified ARNs); under
    that policy apply sets the capacity, and without any one of them it is denied."""
    manifest = MANIFEST.format(n=2) + "      old: {version: 1, provisioned_concurrency: 0}\n"
    m = write_manifest(tmp_path, manifest)
    policy = json.loads(run_cli(emulator, "iam-policy", m, "--account-id", "123456789012").stdout)
    capacity = {
        "lambda:ListProvisionedConcurrencyConfigs",
        "lambda:PutProvisionedConcurrencyConfig",
        "lambda:DeleteProvisionedConcurrencyConfig",
    }
    granted = {a for st in policy["Statement"] for a in st["Action"]}
    assert capacity <= granted
    assert "lambda:GetProvisionedConcurrencyConfig" not in granted
    plain = write_manifest(
        tmp_path, MANIFEST.replace(", provisioned_concurrency: {n}", "").format(), "p.yaml"
    )
    plain_policy = json.loads(run_cli(emulator, "iam-policy", plain).stdout)
    assert not capacity & {a for st in plain_policy["Statement"] for a in st["Action"]}

    def arrange() -> None:
        emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 2, "old": 1}}])
        emulator.provision("orders", "old", 1)

    ok = _run_as(emulator, policy, arrange, "apply", m, "--auto-approve")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for action in sorted(capacity):
        _assert_denied(
            _run_as(emulator, _without(policy, action), arrange, "apply", m, "--auto-approve"),
            action,
        )
