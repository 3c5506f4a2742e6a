"""A realistic multi-function plan for renderer tests."""

from __future__ import annotations

from reconciler.live import Canary
from reconciler.plan import (
    NEW_VERSION,
    Action,
    AliasState,
    FunctionPlan,
    Kept,
    Operation,
    Plan,
    RolloutStatus,
    UnmanagedAlias,
)


def realistic_plan() -> Plan:
    orders = FunctionPlan(
        key="order-processor",
        function="order-processor",
        region="us-east-1",
        account="123456789012",
        source="manifests/prod.yaml:6:3",
        arn="arn:aws:lambda:us-east-1:123456789012:function:order-processor",
        fingerprint="abc123",
        operations=(
            Operation(
                Action.PUBLISH_VERSION,
                version=NEW_VERSION,
                reason="code changed: sha256 vJ6f… → 3kQ1…",
                revision_id="r1",
                code_sha256="3kQ1",
                code_size=5_000_000,
            ),
            Operation(
                Action.CREATE_ALIAS,
                alias="staging",
                after=AliasState(NEW_VERSION),
                changes=("→ new version",),
            ),
            Operation(
                Action.UPDATE_ALIAS,
                alias="prod",
                before=AliasState("5", None, "Production"),
                after=AliasState("5", Canary("6", 0.1), "Production"),
                changes=("canary: none → 6 @ 10%",),
                revision_id="r2",
            ),
            Operation(
                Action.DELETE_VERSION,
                version="2",
                reason="outside keep_last=10, 41 days old",
                code_size=12_300_000,
            ),
        ),
        unmanaged_aliases=(UnmanagedAlias("beta", AliasState("3")),),
        kept=(Kept(1, "protected"),),
        storage_before=80_100_000,
    )
    payments = FunctionPlan(
        key="payment-processor",
        function="payment-processor",
        region="eu-west-1",
        account="123456789012",
        source="manifests/prod.yaml:20:3",
        errors=("alias live: version 9 does not exist (published: 1-4)",),
    )
    reports = FunctionPlan(
        key="reports",
        function="reports",
        region="us-east-1",
        account="123456789012",
        source="manifests/prod.yaml:30:3",
        operations=tuple(
            Operation(Action.DELETE_VERSION, version=str(v), reason="outside keep_last=1")
            for v in range(1, 4)
        ),
        brake="3 versions would be deleted, more than --max-deletions=2; apply refuses",
    )
    api = FunctionPlan(
        key="api",
        function="api",
        region="us-east-1",
        account="123456789012",
        source="manifests/prod.yaml:40:3",
        operations=(
            Operation(
                Action.UPDATE_ALIAS,
                alias="live",
                before=AliasState("7"),
                after=AliasState("7", Canary("8", 0.5)),
                changes=("canary: 8 @ 10% → 8 @ 50%", "rollout: advancing to step 2/2 at 50%"),
                revision_id="r3",
                rollout_state=(
                    "target=8 previous=7 step=2 since=2026-11-01T12:10:00Z status=running"
                ),
            ),
        ),
        rollouts=(RolloutStatus("live", "8", 2, 2, 0.5, "advancing to step 2/2 at 50%"),),
    )
    quiet = FunctionPlan(
        key="quiet", function="quiet", region="us-east-1", account="1", source="m.yaml:1:1"
    )
    return Plan(
        functions=(orders, payments, reports, api, quiet),
        manifests=("manifests/prod.yaml",),
        max_deletions=2,
    )
