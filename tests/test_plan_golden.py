"""The saved plan's bytes are pinned: a plan with every operation, reason, cause, hold, phase,
layer plan and code storage writes exactly the checked-in JSON (`format_version: 2` promises
scripts that), and reads back to the same typed plan."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reconciler.aws import AliasTie, CodeStorage
from reconciler.plan import (
    NEW_VERSION,
    AlarmFired,
    AlarmNoData,
    Aliased,
    AliasField,
    AliasRecord,
    AliasState,
    ClockSkew,
    CodeChanged,
    ConfigChanged,
    CreateAlias,
    DeleteAlias,
    DeleteLayerVersion,
    DeleteVersion,
    ErrorRateAbove,
    FunctionPlan,
    GateLimits,
    HoldCause,
    HookFailed,
    HookPhase,
    InUse,
    Kept,
    KeptLayer,
    LayerPlan,
    ManualRollback,
    MetricsPending,
    MetricsUnread,
    NothingPublished,
    Plan,
    Previous,
    Protected,
    PublishVersion,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    RolloutStep,
    Route,
    Shared,
    UnknownTarget,
    UnmanagedAlias,
    UpdateAlias,
    UsedBy,
    VersionNote,
    WorseThanPrevious,
    Young,
)
from reconciler.plan.planfile import load_plan_file, plan_from_dict, plan_to_json

GOLDEN = Path(__file__).resolve().parent / "golden"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
LIVE = AliasState("7", Route("8", 0.25), "Production")
GATES = GateLimits(0.05, 20, True)
CAUSES = (
    AlarmFired("orders-errors"),
    HookFailed(HookPhase.PRE_TRAFFIC, "orders-smoke", "status 500"),
    HookFailed(HookPhase.POST_TRAFFIC, "orders-smoke", ""),
    ErrorRateAbove(7, 40, 0.05),
    WorseThanPrevious(9, 50, 1, 60, 0.02),
    ManualRollback("hand"),
    ManualRollback("rollback"),
)
HOLDS: tuple[HoldCause, ...] = (
    ClockSkew(95.5, 60.0),
    MetricsUnread("AccessDenied"),
    MetricsPending(T0 + timedelta(minutes=7)),
    AlarmNoData(("orders-latency",)),
)


def _status(phase: RolloutPhase, n: int) -> RolloutStatus:
    """A rollout at `phase`, its fields varied by `n` so each form of each field is written."""
    cause = CAUSES[n % len(CAUSES)] if n % 3 else None
    return RolloutStatus(
        alias=f"live{n}",
        target="8" if n % 4 else NEW_VERSION,
        step=n % 3,
        steps=2,
        weight=(0.0, 0.1, 0.5, 1.0)[n % 4],
        phase=phase,
        since=None if n % 5 == 4 else T0 + timedelta(minutes=n),
        due=None if n % 2 else T0 + timedelta(minutes=n + 10),
        cause=cause,
        previous=None if n % 6 == 5 else "7",
        alarms=("orders-errors", "orders-latency")[: n % 3],
        attempt=1 + n % 2,
        pre_traffic="orders-smoke" if n % 2 else None,
        post_traffic="arn:aws:lambda:us-east-1:123456789012:function:check" if n % 3 else None,
        invocations=None if n % 4 == 0 else 10 * n,
        errors=None if n % 4 == 0 else n % 3,
        weights=(0.1, 0.5) if n % 5 else (),
        interval=600 if n % 5 else 0,
        live=None if n % 7 == 6 else LIVE,
        problem=UnknownTarget("9") if phase is RolloutPhase.UNVERIFIED else None,
        no_data=("orders-latency",) if n % 4 == 1 else (),
        gates=GATES if n % 2 else (GateLimits(0.1) if n % 3 else None),
    )


STATUSES = tuple(_status(phase, n) for n, phase in enumerate(RolloutPhase))
HELD = tuple(
    replace(STATUSES[0], alias=f"held{i}", phase=RolloutPhase.GATED, hold=h, cause=None)
    for i, h in enumerate(HOLDS)
)
RECORD = AliasRecord(
    "7",
    ("6", "5"),
    RolloutState(NEW_VERSION, "7", 1, T0, "running", None, 2),
)
FAILED_RECORD = AliasRecord(
    "7", ("6",), RolloutState("8", "7", 2, T0, "failed", CAUSES[4], 1), from_tags=True
)


def _operations() -> tuple[object, ...]:
    by_phase = {s.phase: s for s in STATUSES}
    return (
        PublishVersion((NothingPublished(),), "rev-1", "sha-a", 5_000_000),
        PublishVersion(
            (CodeChanged("sha-a", "sha-b"), ConfigChanged(("MemorySize", "Timeout"))),
            "rev-2",
            "sha-b",
            6_000_000,
            "release 2026-11-01 — ünïcode",
        ),
        CreateAlias("staging", AliasState(NEW_VERSION)),
        CreateAlias(
            "canary",
            AliasState("7", Route(NEW_VERSION, 0.1), "Canary"),
            RolloutStep(by_phase[RolloutPhase.STARTING]),
            RECORD,
        ),
        UpdateAlias(
            "prod",
            AliasState("5", None, "Production"),
            AliasState("5", Route("6", 0.1), "Production"),
            "r2",
            (AliasField.CANARY,),
        ),
        UpdateAlias(
            "live",
            LIVE,
            AliasState("7", None, "Production"),
            "r3",
            (AliasField.VERSION, AliasField.CANARY, AliasField.DESCRIPTION),
            RolloutStep(replace(by_phase[RolloutPhase.ROLLING_BACK], cause=CAUSES[0])),
            FAILED_RECORD,
            ("lambda-reconciler:rollout:live", "lambda-reconciler:history:live"),
        ),
        UpdateAlias(
            "live2",
            LIVE,
            AliasState("7", None, "Production"),
            "r4",
            (AliasField.VERSION, AliasField.CANARY),
            RolloutStep(replace(by_phase[RolloutPhase.FINISHING_ROLLBACK], cause=CAUSES[1])),
            RECORD,
        ),
        UpdateAlias(
            "live3",
            LIVE,
            AliasState("8", Route("9", 0.5), None),
            "r5",
            (AliasField.CANARY,),
            RolloutStep(by_phase[RolloutPhase.ADVANCING]),
        ),
        DeleteAlias("old", AliasState("3", Route("4", 0.2), None)),
        DeleteVersion(2, 12_300_000, 41, 10),
        DeleteVersion(3, 1, 0, None),
    )


def golden_plan() -> Plan:
    """Every operation, keep reason, publish reason, rollback cause, hold and rollout phase."""
    orders = FunctionPlan(
        key="arn:aws:lambda:us-east-1:123456789012:function:orders",
        function="orders",
        region="us-east-1",
        account="123456789012",
        source="manifests/prod.yaml:6:3",
        arn="arn:aws:lambda:us-east-1:123456789012:function:orders",
        fingerprint="abc123",
        operations=_operations(),  # type: ignore[arg-type]
        unmanaged_aliases=(
            UnmanagedAlias("beta", AliasState("3")),
            UnmanagedAlias(
                "gamma",
                AliasState("4", Route("5", 0.3), "team gamma"),
                (AliasTie.PROVISIONED_CONCURRENCY, AliasTie.PERMISSION),
            ),
            UnmanagedAlias(
                "delta",
                AliasState("$LATEST"),
                (AliasTie.EVENT_SOURCE_MAPPING, AliasTie.FUNCTION_URL),
            ),
        ),
        kept=(
            Kept(1, (Protected(),)),
            Kept(4, (Aliased(("beta", "prod")), Previous("prod", 1))),
            Kept(
                5, (Young(3, 14), InUse(("event source mapping 2f1c", "provisioned concurrency")))
            ),
            Kept(6, (InUse(),)),
        ),
        storage_before=80_100_000,
        rollouts=STATUSES + HELD,
        version_notes=(VersionNote("5", "release five", 3000), VersionNote("6", "", 0)),
    )
    broken = FunctionPlan(
        key="payments",
        function="payments",
        region="eu-west-1",
        account="123456789012",
        source="manifests/prod.yaml:30:3",
        errors=("selector matches no version", "another error"),
    )
    layer = LayerPlan(
        key="shared-libs",
        layer="shared-libs",
        region="us-east-1",
        source="manifests/prod.yaml:50:3",
        operations=(
            DeleteLayerVersion(
                3, "arn:aws:lambda:us-east-1:123456789012:layer:shared-libs:3", 4_000, 90, 5
            ),
            DeleteLayerVersion(
                4, "arn:aws:lambda:us-east-1:123456789012:layer:shared-libs:4", 5_000, 80, None
            ),
        ),
        kept=(
            KeptLayer(5, (Protected(), Young(2, 7))),
            KeptLayer(6, (UsedBy(("orders:3", "orders:$LATEST"), 5),)),
            KeptLayer(7, (Shared(("account 210987654321", "organization o-abc", "everyone")),)),
        ),
        versions=9,
    )
    broken_layer = LayerPlan("gone", "gone", "eu-west-1", "manifests/prod.yaml:60:3", errors=("x",))
    return Plan(
        functions=(orders, broken),
        manifests=("manifests/prod.yaml", "manifests/other.yaml"),
        max_deletions=3,
        errors=("a run-wide error",),
        layers=(layer, broken_layer),
        storage=(
            CodeStorage("us-east-1", 70_000_000_000, 75_000_000_000),
            CodeStorage("eu-west-1", 0, 0, "AccessDenied: no GetAccountSettings"),
            CodeStorage("eu-central-1", 1_000, 75_000_000_000),
        ),
        storage_warn=0.9,
        housekeeping_drift=True,
    )


def small_plan() -> Plan:
    """A plan without brake, errors or rollouts: the forms of the common case."""
    fp = FunctionPlan("fn", "fn", "us-east-1", "123456789012", "m.yaml:1:1", fingerprint="f")
    return Plan(functions=(fp,), storage=(CodeStorage("us-east-1", 10, 100),))


def _read_back(p: Plan) -> Plan:
    """What a saved plan keeps: a hold and the alarms without data are shown but not read back
    (apply re-reads what holds), nor is a record's mark of an earlier release's tags."""

    def status(r: RolloutStatus) -> RolloutStatus:
        return replace(r, hold=None, no_data=())

    def op(o: object) -> object:
        if not isinstance(o, CreateAlias | UpdateAlias):
            return o
        record = None if o.record is None else replace(o.record, from_tags=False)
        step = None if o.rollout is None else RolloutStep(status(o.rollout.status))
        return replace(o, record=record, rollout=step)

    functions = tuple(
        replace(
            fp,
            rollouts=tuple(status(r) for r in fp.rollouts),
            operations=tuple(op(o) for o in fp.operations),  # type: ignore[misc]
        )
        for fp in p.functions
    )
    return replace(p, functions=functions)


CASES = {
    "full": (golden_plan, "plan"),
    "small": (small_plan, "plan"),
    "drift": (small_plan, "drift"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_plan_file_bytes_are_pinned(name: str, tmp_path: Path) -> None:
    build, kind = CASES[name]
    text = plan_to_json(build(), kind=kind)
    assert text == (GOLDEN / f"plan-{name}.json").read_text(encoding="utf-8")
    saved = tmp_path / "plan.json"
    saved.write_text(text, encoding="utf-8")
    assert load_plan_file(str(saved)) == _read_back(build())
    assert plan_from_dict(json.loads(text)) == _read_back(build())


def test_the_golden_plan_covers_every_case() -> None:
    p = golden_plan()
    phases = {r.phase for r in p.functions[0].rollouts}
    assert phases == set(RolloutPhase)
    causes = {r.cause for r in p.functions[0].rollouts} | {
        op.rollout.status.cause
        for op in p.functions[0].operations
        if isinstance(op, CreateAlias | UpdateAlias) and op.rollout is not None
    }
    assert set(CAUSES) <= causes
    assert {type(r.hold) for r in p.functions[0].rollouts} >= {type(h) for h in HOLDS}
    assert p.brake is not None
