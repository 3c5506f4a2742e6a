"""Provisioned concurrency declared on an alias (`provisioned_concurrency: N`): read with one
ListProvisionedConcurrencyConfigs, planned as its own operation, applied, drift-checked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli, write_manifest

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
