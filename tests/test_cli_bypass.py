"""The alias-bypass audit: while a managed alias has a canary, what reaches the function
around it (its own policy, mappings on the function or `$LATEST`) and a mapping on the
weighted alias itself are warned of in every output format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_helpers import lambda_calls, run_cli, write_manifest

CANARY = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: 1, canary: {version: 2, weight: 10%}}
"""
QUEUE = "arn:aws:sqs:us-east-1:123456789012:orders"


def test_a_canary_alias_is_warned_of_what_bypasses_it(emulator: Any, tmp_path: Path) -> None:
    """A statement on the unqualified function, a mapping on $LATEST and one on the weighted
    alias: three warnings, named in text, Markdown and JSON; the plan's operations unchanged."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    sqs = emulator.boto3_client("sqs")
    queue = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    client = emulator.boto3_client("lambda")
    client.add_permission(
        FunctionName="orders",
        StatementId="api-gateway",
        Principal="apigateway.amazonaws.com",
        Action="lambda:InvokeFunction",
    )
    fn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    latest = client.create_event_source_mapping(EventSourceArn=arn, FunctionName=fn)["UUID"]
    on_alias = client.create_event_source_mapping(EventSourceArn=arn, FunctionName=f"{fn}:prod")
    m = write_manifest(tmp_path, CANARY)
    r = run_cli(emulator, "plan", m)
    assert r.returncode == 0, r.stderr
    assert "invocations through the function's own policy (api-gateway) bypass alias prod's " in (
        r.stdout
    )
    assert f"1 event source mapping ({latest}) invoke the unqualified function" in r.stdout
    assert "whether mappings follow alias weights is not documented by AWS" in r.stdout
    md = run_cli(emulator, "plan", m, "--format", "markdown").stdout
    assert md.count("⚠️ warning") == 3, md
    doc = json.loads(run_cli(emulator, "plan", m, "--format", "json").stdout)
    fp = doc["functions"][0]
    assert [(w["kind"], w["via"], w["what"]) for w in fp["warnings"]] == [
        ("alias_bypass", "function_policy", ["api-gateway"]),
        ("alias_bypass", "mapping_unqualified", [latest]),
        ("alias_bypass", "mapping_on_weighted_alias", [on_alias["UUID"]]),
    ]
    assert [op["action"] for op in fp["operations"]] == ["update_alias"]
    saved = tmp_path / "plan.json"
    assert run_cli(emulator, "plan", m, "--out", str(saved)).returncode == 0
    r = run_cli(emulator, "apply", str(saved), "--auto-approve")  # the warnings read back
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_canary_no_audit_read(emulator: Any, tmp_path: Path) -> None:
    """An alias without a canary or rollout costs no read of the function's policy or
    mappings, and a plan without warnings keeps its JSON as before (no `warnings` key)."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    m = write_manifest(tmp_path, CANARY.replace(", canary: {version: 2, weight: 10%}", ""))
    r = run_cli(emulator, "plan", m, "--format", "json")
    assert "warnings" not in json.loads(r.stdout)["functions"][0]
    reads = {c["operation"] for c in lambda_calls(emulator)}
    assert not reads & {"GetPolicy", "ListEventSourceMappings"}
