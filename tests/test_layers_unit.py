"""Layer retention without AWS: the policy reading, the plan file round trip, and the engine
and executor over the in-memory Lambda."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from reconciler.engine import apply_plan, build_plan
from reconciler.errors import ReconcilerError
from reconciler.manifest import load_manifest_text
from reconciler.plan import DeleteLayerVersion, Shared, UsedBy
from reconciler.plan.planfile import plan_from_dict, plan_to_dict
from reconciler.planning import grants
from tests.memlambda import NOW, MemLambda, snap

ACCOUNT = "123456789012"
MANIFEST = """
version: 1
region: us-east-1
functions:
  orders: {}
layers:
  deps:
    retention: {keep_last: 1, keep_days: 10}
"""


def _statement(principal: object, condition: object = None) -> dict[str, object]:
    st: dict[str, object] = {"Effect": "Allow", "Principal": principal, "Action": "x"}
    if condition is not None:
        st["Condition"] = condition
    return st


def test_grants_names_other_accounts_organizations_and_everyone() -> None:
    """Another account, an organization and everyone are grantees; this account is not."""
    policy = {
        "Statement": [
            _statement({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
            _statement({"AWS": "arn:aws:iam::210987654321:root"}),
            _statement("*", {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}),
            _statement("*"),
        ]
    }
    expected = ("account 210987654321", "organization o-abc", "everyone")
    assert expected == grants(json.dumps(policy), ACCOUNT)
    own = {"Statement": [_statement({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})]}
    assert grants(json.dumps(own), ACCOUNT) == ()
    assert grants("{not json", ACCOUNT) == ("an unreadable policy",)


def _fleet() -> MemLambda:
    aws = MemLambda()
    aws.add("orders", snap("a"))
    for days in (40, 30, 20, 15, 1):  # versions 1..5
        aws.add_layer_version("deps", NOW - timedelta(days=days), size=1000)
    aws.layer_users = {MemLambda.layer_arn("deps", 1): ("orders:$LATEST", "other:2")}
    shared = {"Statement": [_statement({"AWS": "arn:aws:iam::210987654321:root"})]}
    aws.layer_policies[("deps", 2)] = json.dumps(shared)
    return aws


def test_engine_plans_layer_deletions_and_the_executor_applies_them() -> None:
    """Used (1) and shared (2) versions stay, young (5) and newest stay; 3 and 4 go, the
    storage freed is their size, and the plan round-trips through JSON."""
    aws = _fleet()
    plan = build_plan(load_manifest_text(MANIFEST, "m.yaml"), aws, clock=lambda: NOW)
    (lp,) = plan.layers
    assert [op.version for op in lp.operations] == [3, 4]
    kept = {k.version: k.reasons for k in lp.kept}
    assert (UsedBy(("orders:$LATEST", "other:2"), 2),) == kept[1]
    assert (Shared(("account 210987654321",)),) == kept[2]
    assert plan.storage_freed("us-east-1") == 2000
    assert plan.summary["delete_layer_version"] == 2
    assert plan == plan_from_dict(json.loads(json.dumps(plan_to_dict(plan))))
    result = apply_plan(plan, aws, parallelism=2, progress=lambda _: None)
    assert result.ok
    assert sorted(aws.layers["deps"]) == [1, 2, 5]


def test_the_brake_counts_layer_deletions() -> None:
    """Two layer deletions over --max-deletions 1: the plan is braked and apply refuses it."""
    aws = _fleet()
    manifests = load_manifest_text(MANIFEST, "m.yaml")
    plan = build_plan(manifests, aws, clock=lambda: NOW, max_deletions=1)
    assert plan.brake is not None
    assert plan.brake.deletions == 2
    with pytest.raises(ReconcilerError):
        apply_plan(plan, aws, parallelism=2, progress=lambda _: None)
    assert sorted(aws.layers["deps"]) == [1, 2, 3, 4, 5]


def test_executor_skips_a_version_shared_since_the_plan() -> None:
    """A policy added between plan and apply keeps the version: the executor re-reads it."""
    aws = _fleet()
    plan = build_plan(load_manifest_text(MANIFEST, "m.yaml"), aws, clock=lambda: NOW)
    org = {"Statement": [_statement("*", {"StringEquals": {"aws:PrincipalOrgID": "o-x"}})]}
    aws.layer_policies[("deps", 3)] = json.dumps(org)
    result = apply_plan(plan, aws, parallelism=2, progress=lambda _: None)
    statuses = {
        r.operation.version: r.status.value
        for r in result.results
        if isinstance(r.operation, DeleteLayerVersion)
    }
    assert statuses == {3: "skipped", 4: "done"}
    assert sorted(aws.layers["deps"]) == [1, 2, 3, 5]


def test_a_malformed_layer_operation_is_refused_naming_the_field() -> None:
    """A saved plan whose layer deletion lacks its layer version ARN does not load."""
    aws = _fleet()
    plan = build_plan(load_manifest_text(MANIFEST, "m.yaml"), aws, clock=lambda: NOW)
    data = plan_to_dict(plan)
    del data["layers"][0]["operations"][0]["layer_version_arn"]
    with pytest.raises(
        ReconcilerError, match=r"layers\[0\]\.operations\[0\]\.layer_version_arn: missing"
    ):
        plan_from_dict(data)
