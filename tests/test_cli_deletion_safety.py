"""Deletion safety through the CLI: aliases that carry something are not pruned, and the
deletion brake counts the whole run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import run_cli, write_manifest, writes


def seed(emulator: Any, names: tuple[str, ...] = ("orders",), versions: int = 3) -> Any:
    emulator.seed([{"name": n, "versions": versions} for n in names])
    return emulator.boto3_client("lambda")


def queue_arn(emulator: Any) -> str:
    sqs = emulator.boto3_client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return arn


def prune_manifest(tmp_path: Path, prune: str = "true") -> str:
    return write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        functions:
          orders:
            prune_aliases: {prune}
            aliases:
              live: {{version: 3}}
        """,
    )


def _provisioned(emulator: Any, client: Any) -> None:
    emulator.provision("orders", "prod", 5)


def _permission(emulator: Any, client: Any) -> None:
    client.add_permission(
        FunctionName="orders",
        Qualifier="prod",
        StatementId="apigw",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
    )


def _mapping(emulator: Any, client: Any) -> None:
    arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    client.create_event_source_mapping(
        EventSourceArn=queue_arn(emulator), FunctionName=f"{arn}:prod"
    )


def _url(emulator: Any, client: Any) -> None:
    client.create_function_url_config(FunctionName="orders", Qualifier="prod", AuthType="NONE")


TIES: list[tuple[str, Callable[[Any, Any], None], str]] = [
    ("provisioned_concurrency", _provisioned, "provisioned concurrency"),
    ("permission", _permission, "a resource-policy statement"),
    ("event_source_mapping", _mapping, "an event source mapping"),
    ("function_url", _url, "a function URL"),
]


@pytest.mark.parametrize(("tie", "attach", "words"), TIES, ids=[t[0] for t in TIES])
def test_an_alias_that_carries_something_is_not_pruned(
    emulator: Any, tmp_path: Path, tie: str, attach: Callable[[Any, Any], None], words: str
) -> None:
    """Renaming prod to live in the manifest would delete prod with what hangs on it: the plan
    refuses that deletion, says why once, and apply leaves prod in place."""
    client = seed(emulator)
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="3")
    attach(emulator, client)
    m = prune_manifest(tmp_path)

    r = run_cli(emulator, "plan", m, "--format", "json")
    assert r.returncode == 0, r.stderr
    f = json.loads(r.stdout)["functions"][0]
    assert [o["action"] for o in f["operations"]] == ["create_alias"]
    assert f["unmanaged_aliases"] == ["prod"]
    assert f["unmanaged_alias_ties"] == {"prod": [tie]}

    text = run_cli(emulator, "plan", m).stdout
    assert text.count("prod") == 1, text
    assert f"prod → 3; not deleted: it carries {words} (prune_aliases: force deletes it)" in text
    assert (
        "set `prune_aliases: true`"
        not in run_cli(emulator, "plan", m, "--format", "markdown").stdout
    )

    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    assert ("DeleteAlias", "orders") not in writes(emulator)
    assert "prod" in {a["Name"] for a in client.list_aliases(FunctionName="orders")["Aliases"]}


def test_force_deletes_an_alias_that_carries_something(emulator: Any, tmp_path: Path) -> None:
    """`prune_aliases: force` is the documented way to delete it anyway."""
    client = seed(emulator)
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="3")
    _provisioned(emulator, client)
    m = prune_manifest(tmp_path, "force")
    r = run_cli(emulator, "plan", m, "--format", "json")
    ops = json.loads(r.stdout)["functions"][0]["operations"]
    assert [(o["action"], o["alias"]) for o in ops] == [
        ("create_alias", "live"),
        ("delete_alias", "prod"),
    ]
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    assert {a["Name"] for a in client.list_aliases(FunctionName="orders")["Aliases"]} == {"live"}


def test_an_alias_that_carries_nothing_is_pruned_once_and_reads_only_for_it(
    emulator: Any, tmp_path: Path
) -> None:
    """A bare alias is deleted as before; the four veto reads are made for that alias only."""
    client = seed(emulator)
    client.create_alias(FunctionName="orders", Name="old", FunctionVersion="2")
    m = prune_manifest(tmp_path)
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m)
    assert r.returncode == 0, r.stderr
    assert "- delete_alias old   routes to 2; not in the manifest (prune_aliases: true)" in r.stdout
    assert "unmanaged alias" not in r.stdout
    veto_reads = [
        c
        for c in emulator.calls()
        if c["operation"]
        in ("GetPolicy", "GetFunctionUrlConfig", "GetProvisionedConcurrencyConfig")
    ]
    assert len(veto_reads) == 3
    assert {c.get("qualifier") for c in veto_reads} == {"old"}, veto_reads


def test_the_brake_counts_every_deletion_of_the_run(emulator: Any, tmp_path: Path) -> None:
    """Three functions each losing two versions stay under a per-function limit of 5 but trip
    a run-wide --max-deletions=5: plan exits 1 (apply would refuse), apply writes nothing."""
    seed(emulator, ("a", "b", "c"), versions=3)
    body = "".join(f"  {n}:\n    retention: {{keep_last: 1}}\n" for n in "abc")
    m = write_manifest(tmp_path, "version: 1\nregion: us-east-1\nfunctions:\n" + body)
    r = run_cli(emulator, "plan", m, "--max-deletions", "5", "--detailed-exitcode")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "6 deletions in this run (versions and aliases), more than --max-deletions=5" in r.stderr
    assert "! brake: 6 deletions in this run" in r.stdout
    r = run_cli(emulator, "apply", m, "--max-deletions", "5", "--auto-approve")
    assert r.returncode == 1
    assert writes(emulator) == []
    r = run_cli(emulator, "plan", m, "--max-deletions", "6", "--detailed-exitcode")
    assert r.returncode == 2, r.stderr


def _version_mapping(emulator: Any, client: Any) -> None:
    arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    client.create_event_source_mapping(EventSourceArn=queue_arn(emulator), FunctionName=f"{arn}:2")


def _version_provisioned(emulator: Any, client: Any) -> None:
    emulator.provision("orders", 2, 5)


VETOES: list[tuple[str, Callable[[Any, Any], None]]] = [
    ("event_source_mapping", _version_mapping),
    ("provisioned_concurrency", _version_provisioned),
]


@pytest.mark.parametrize(("veto", "attach"), VETOES, ids=[v[0] for v in VETOES])
def test_a_version_that_gains_a_veto_after_the_plan_is_not_deleted_by_the_saved_plan(
    emulator: Any, tmp_path: Path, veto: str, attach: Callable[[Any, Any], None]
) -> None:
    """The saved plan deletes versions 1 and 2; version 2 then gains an event source mapping
    (or provisioned concurrency). `apply PLAN.json` reads the vetoes again before its first
    deletion: version 2 is skipped and says why, version 1 goes, and the vetoes are read
    once for the function, not once per deletion."""
    client = seed(emulator, versions=3)
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders: {retention: {keep_last: 1}}
        """,
    )
    saved = str(tmp_path / "plan.json")
    r = run_cli(emulator, "plan", m, "--out", saved)
    assert r.returncode == 0, r.stderr
    ops = json.loads(Path(saved).read_text())["functions"][0]["operations"]
    assert sorted(int(o["version"]) for o in ops if o["action"] == "delete_version") == [1, 2]
    attach(emulator, client)
    emulator.clear_calls()
    r = run_cli(emulator, "apply", saved)
    assert r.returncode == 0, r.stderr
    assert "uses it now" in r.stderr
    versions = [
        v["Version"] for v in client.list_versions_by_function(FunctionName="orders")["Versions"]
    ]
    assert versions == ["$LATEST", "2", "3"]
    reads = [c["operation"] for c in emulator.calls()]
    assert reads.count("ListProvisionedConcurrencyConfigs") == 1
