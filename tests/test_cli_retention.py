"""Retention and unmanaged aliases, end to end: the real CLI against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli, run_cli_interfered, write_manifest, writes

OLD = "2025-01-01T00:00:00Z"


def seed_many(emulator: Any, name: str = "orders", versions: int = 60, age: bool = True) -> Any:
    """A function with many versions, created in bulk, all of them old."""
    emulator.seed([{"name": name, "versions": versions}])
    if age:
        for v in range(1, versions + 1):
            emulator.age(name, v, OLD)
    return emulator.boto3_client("lambda")


def live_versions(emulator: Any, name: str = "orders") -> list[int]:
    return sorted(int(v) for v in emulator.state(name)["versions"])


def manifest(tmp_path: Path, body: str) -> str:
    return write_manifest(tmp_path, "version: 1\nregion: us-east-1\nfunctions:\n" + body)


def test_prune_past_one_page_keeps_aliased_protected_and_canary(
    emulator: Any, tmp_path: Path
) -> None:
    """60 versions (two ListVersionsByFunction pages): keep_last, protect, managed, unmanaged
    and canary-routed versions all stay; everything else goes; the next plan is empty."""
    client = seed_many(emulator)
    client.create_alias(FunctionName="orders", Name="legacy", FunctionVersion="7")
    m = manifest(
        tmp_path,
        """  orders:
    aliases:
      prod: {version: 58, canary: {version: 12, weight: 0.05}}
    retention: {keep_last: 3, protect: [1]}
""",
    )
    r = run_cli(emulator, "plan", m, "--format", "json")
    assert r.returncode == 0, r.stderr
    ops = json.loads(r.stdout)["functions"][0]["operations"]
    deleted = sorted(int(o["version"]) for o in ops if o["action"] == "delete_version")
    expected = sorted(set(range(1, 61)) - {1, 7, 12, 58, 59, 60})
    assert deleted == expected
    assert json.loads(r.stdout)["functions"][0]["unmanaged_aliases"] == ["legacy"]
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert live_versions(emulator) == [1, 7, 12, 58, 59, 60]
    assert run_cli(emulator, "plan", m, "--detailed-exitcode").returncode == 0


def test_age_and_count_rules_combined(emulator: Any, tmp_path: Path) -> None:
    """A version goes only when it is outside keep_last AND older than keep_days."""
    seed_many(emulator, versions=6, age=False)
    for v in (1, 2, 3):
        emulator.age("orders", v, OLD)
    m = manifest(tmp_path, "  orders:\n    retention: {keep_last: 2, keep_days: 30}\n")
    r = run_cli(emulator, "plan", m, "-v")
    assert "outside keep_last=2" in r.stdout
    assert "young (0 days old, keep_days=30)" in r.stdout
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert live_versions(emulator) == [4, 5, 6]


def test_provisioned_concurrency_keeps_a_version(emulator: Any, tmp_path: Path) -> None:
    """A version with provisioned concurrency is never pruned; the extra reads happen only
    because something was about to be pruned."""
    seed_many(emulator, versions=5)
    emulator.provision("orders", 2)
    m = manifest(tmp_path, "  orders:\n    retention: {keep_last: 1}\n")
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert live_versions(emulator) == [2, 5]
    ops = {c["operation"] for c in emulator.calls()}
    assert "ListProvisionedConcurrencyConfigs" in ops
    assert run_cli(emulator, "plan", m, "--detailed-exitcode").returncode == 0
    # With nothing outside keep_last there is nothing to veto: no extra reads at all.
    roomy = manifest(tmp_path, "  orders:\n    retention: {keep_last: 5}\n")
    emulator.clear_calls()
    assert run_cli(emulator, "plan", roomy, "--detailed-exitcode").returncode == 0
    reads = sorted(c["operation"] for c in emulator.calls())
    assert reads == ["GetAccountSettings", "ListAliases", "ListVersionsByFunction"]


def test_event_source_mapping_keeps_a_version(emulator: Any, tmp_path: Path) -> None:
    """A version an event source mapping uses stays, and `plan -v` names the mapping."""
    client = seed_many(emulator, versions=4)
    sqs = emulator.boto3_client("sqs")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    client.create_event_source_mapping(EventSourceArn=qarn, FunctionName=f"{arn}:2")
    m = manifest(tmp_path, "  orders:\n    retention: {keep_last: 1}\n")
    uuid = client.list_event_source_mappings()["EventSourceMappings"][0]["UUID"]
    r = run_cli(emulator, "plan", m, "-v")
    assert f"= keep 2  used by event source mapping {uuid}" in r.stdout
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert live_versions(emulator) == [2, 4]


def test_mass_deletion_brake(emulator: Any, tmp_path: Path) -> None:
    """More deletions than --max-deletions: the plan shows the brake, apply writes nothing."""
    seed_many(emulator, versions=12)
    m = manifest(tmp_path, "  orders:\n    retention: {keep_last: 1}\n")
    r = run_cli(emulator, "plan", m, "--max-deletions", "5")
    assert "brake: 11 deletions in this run" in r.stdout
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", "--max-deletions", "5")
    assert r.returncode == 1
    assert "nothing was written" in r.stderr
    assert writes(emulator) == []
    r = run_cli(emulator, "apply", m, "--auto-approve", "--max-deletions", "11")
    assert r.returncode == 0, r.stderr
    assert live_versions(emulator) == [12]


def test_prune_aliases_on_and_off(emulator: Any, tmp_path: Path) -> None:
    """Unmanaged aliases are listed, deleted only with prune_aliases, and before the pruning,
    so the version they held can go in the same run."""
    client = seed_many(emulator, versions=4)
    client.create_alias(FunctionName="orders", Name="beta", FunctionVersion="1")
    off = manifest(tmp_path, "  orders:\n    retention: {keep_last: 1}\n")
    r = run_cli(emulator, "apply", off, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert live_versions(emulator) == [1, 4]
    assert "beta" in json.dumps(client.list_aliases(FunctionName="orders")["Aliases"])

    on = manifest(tmp_path, "  orders:\n    prune_aliases: true\n    retention: {keep_last: 1}\n")
    emulator.clear_calls()
    r = run_cli(emulator, "apply", on, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert [w[0] for w in writes(emulator)] == ["DeleteAlias", "DeleteFunction"]
    assert client.list_aliases(FunctionName="orders")["Aliases"] == []
    assert live_versions(emulator) == [4]
    assert run_cli(emulator, "plan", on, "--detailed-exitcode").returncode == 0


def test_alias_appearing_during_apply_is_respected(emulator: Any, tmp_path: Path) -> None:
    """Someone points an alias at version 2 after our read: the deletion is skipped, the
    rest of the run goes on, and the run still succeeds."""
    client = seed_many(emulator, versions=3)
    m = manifest(tmp_path, "  orders:\n    retention: {keep_last: 1}\n")
    emulator.faults(latency_ms=500)
    r = run_cli_interfered(
        emulator,
        "ListAliases",
        lambda: client.create_alias(FunctionName="orders", Name="pin", FunctionVersion="2"),
        "apply",
        m,
        "--auto-approve",
    )
    emulator.faults()
    assert r.returncode == 0, r.stderr
    assert "delete_version 2 … skipped" in r.stderr
    assert live_versions(emulator) == [2, 3]
