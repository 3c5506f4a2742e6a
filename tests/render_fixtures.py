"""A realistic multi-function plan for renderer tests."""

from __future__ import annotations

from datetime import datetime, timezone

from reconciler.plan import (
    NEW_VERSION,
    AliasField,
    AliasState,
    CodeChanged,
    CreateAlias,
    DeleteVersion,
    FunctionPlan,
    Kept,
    Plan,
    Protected,
    PublishVersion,
    RolloutPhase,
    RolloutStatus,
    RolloutStep,
    Route,
    UnmanagedAlias,
    UpdateAlias,
)

SINCE = datetime(2026, 11, 1, 12, 10, tzinfo=timezone.utc)
ADVANCING = RolloutStatus("live", "8", 2, 2, 0.5, RolloutPhase.ADVANCING, SINCE)


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
            PublishVersion((CodeChanged("vJ6f", "3kQ1"),), "r1", "3kQ1", 5_000_000),
            CreateAlias("staging", AliasState(NEW_VERSION)),
            UpdateAlias(
                "prod",
                AliasState("5", None, "Production"),
                AliasState("5", Route("6", 0.1), "Production"),
                "r2",
                (AliasField.CANARY,),
            ),
            DeleteVersion(2, 12_300_000, 41, 10),
        ),
        unmanaged_aliases=(UnmanagedAlias("beta", AliasState("3")),),
        kept=(Kept(1, (Protected(),)),),
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
        operations=tuple(DeleteVersion(v, 0, 30, 1) for v in range(1, 4)),
    )
    api = FunctionPlan(
        key="api",
        function="api",
        region="us-east-1",
        account="123456789012",
        source="manifests/prod.yaml:40:3",
        operations=(
            UpdateAlias(
                "live",
                AliasState("7", Route("8", 0.1)),
                AliasState("7", Route("8", 0.5)),
                "r3",
                (AliasField.CANARY,),
                RolloutStep(ADVANCING),
            ),
        ),
        rollouts=(ADVANCING,),
    )
    quiet = FunctionPlan(
        key="quiet", function="quiet", region="us-east-1", account="1", source="m.yaml:1:1"
    )
    return Plan(
        functions=(orders, payments, reports, api, quiet),
        manifests=("manifests/prod.yaml",),
        max_deletions=2,
    )
