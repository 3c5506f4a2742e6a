"""Progressive rollouts as data: where one stands (`RolloutStatus`, its `RolloutPhase`), why it is
rolled back (`RollbackCause`) or held (`HoldCause`), why its alias record is not trusted
(`RecordProblem`), and the alias record itself. Re-exported by `reconciler.plan.types`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Final, TypeAlias

from pydantic import Field, Strict

from reconciler.plan.fields import (
    Bool,
    Count,
    OmitNone,
    Positive,
    Rate,
    Shape,
    Share,
    Tagged,
    Transient,
    Via,
    Weight,
    Worded,
    WriteOnly,
    tag,
)
from reconciler.plan.routes import (
    AliasState,
    Ref,
    VersionRef,
)

# ---- progressive rollouts -----------------------------------------------------------------


class RolloutPhase(str, Enum):
    """Where a rollout stands at plan time (contract §8); the wording module says each."""

    CREATED = "created"  # the alias does not exist: created at the target directly
    COMPLETE = "complete"  # the target takes all traffic
    FINISHING_ROLLBACK = "finishing_rollback"  # a rollback that did not finish
    FAILED = "failed"  # rolled back earlier; waits for another version in the manifest
    ROLLING_BACK = "rolling_back"  # an alarm fires now
    RETAKING = "retaking"  # the tag says a step the alias does not show: take it again
    WAITING = "waiting"  # at a step, the interval has not passed
    ADVANCING = "advancing"  # to the next step
    PROMOTING = "promoting"  # past the last step: all traffic to the target
    SWITCHING = "switching"  # nothing to shift from ($LATEST, or already there): switch
    HELD = "held"  # an alarm fires before the start: not starting
    STARTING = "starting"  # first step
    BAKING = "baking"  # all traffic on the target, its `bake` period not over: alarms still count
    GATED = "gated"  # the step is due but the new version has too few invocations: holding
    VERIFYING = "verifying"  # at 100 %, the post-traffic hook has not passed yet: run it (again)
    UNVERIFIED = "unverified"  # the alias record does not verify: no traffic moves (reported)
    RECORDING_ROLLBACK = "recording_rollback"  # moved back by hand: the target is marked failed


class HookPhase(str, Enum):
    """When a traffic hook runs: before the first shift, or after 100 %."""

    PRE_TRAFFIC = "pre_traffic"
    POST_TRAFFIC = "post_traffic"


@tag("alarm")
@dataclass(frozen=True)
class AlarmFired:
    """A CloudWatch alarm of the rollout is in `ALARM`."""

    alarm: str


@tag("hook_failed")
@dataclass(frozen=True)
class HookFailed:
    """A traffic hook's invocation failed (`FunctionError`, or `{"status": "Failed"}`)."""

    phase: HookPhase
    function: str  # the hook, as the manifest names it
    reason: str = ""  # the error message or the result's `reason` ("" when it gave none)


@tag("error_rate")
@dataclass(frozen=True)
class ErrorRateAbove:
    """The new version's error rate at this step is above the gate's `max_error_rate`."""

    errors: Count
    invocations: Count
    max_error_rate: Rate


@tag("compare_to_previous")
@dataclass(frozen=True)
class WorseThanPrevious:
    """`compare_to_previous`: the new version's error rate exceeds the previous version's (the
    one traffic moves from, over the same window) by more than `max_error_rate`."""

    errors: Count
    invocations: Count
    previous_errors: Count
    previous_invocations: Count
    max_error_rate: Rate


@tag("manual")
@dataclass(frozen=True)
class ManualRollback:
    """Someone moved the alias back from the rolled-out version: by hand (`hand`: the primary is
    no longer the one the tool set, or the canary was removed) or with `rollback`."""

    by: Annotated[str, Field(pattern="^(hand|rollback)$")]  # "hand" | "rollback"


@tag("capacity_failed")
@dataclass(frozen=True)
class CapacityFailed:
    """The provisioned concurrency the alias declares could not be allocated on the version it
    moves to (`Status: FAILED`; `reason` is Lambda's `StatusReason`): no traffic moved to it."""

    version: str
    reason: str = ""


# Why a rollout is rolled back, or held before it starts: data, worded by `reconciler.plan.wording`,
# kept in the alias record (`reconciler.plan.record`) and written to the JSON plan as `cause`.
RollbackCause: TypeAlias = (
    AlarmFired | HookFailed | ErrorRateAbove | WorseThanPrevious | ManualRollback | CapacityFailed
)


@dataclass(frozen=True)
class ClockSkew:
    """This runner's clock and AWS's (the `Date` of its responses) differ by more than the
    bound: step times cannot be trusted, so no step forward is taken (rollbacks still are)."""

    seconds: float  # AWS's clock minus the runner's
    bound: float


@dataclass(frozen=True)
class MetricsUnread:
    """The gate's metrics could not be read for this function: its steps forward wait."""

    error: str


@dataclass(frozen=True)
class MetricsPending:
    """The step is due, but CloudWatch's metrics of its last minutes are not in yet (they
    arrive minutes late): the gate judges the whole step once they are, at `ready`."""

    ready: datetime


@dataclass(frozen=True)
class AlarmNoData:
    """`rollout.insufficient_data: hold` and these alarms are in INSUFFICIENT_DATA."""

    alarms: tuple[str, ...]


@dataclass(frozen=True)
class WaveWaiting:
    """`waves:`: the rollouts of an earlier wave (`wave`, 1-based) are not all complete yet
    (`rollouts`: "function:alias (region)" of those that are not), so this one waits."""

    wave: int
    rollouts: tuple[str, ...]


@dataclass(frozen=True)
class WaveFailed:
    """`waves:`: a rollout of an earlier wave failed (rolled back or rolling back): the later
    waves do not start until the manifest names another version or attempt."""

    wave: int
    rollouts: tuple[str, ...]


@dataclass(frozen=True)
class CapacityAllocating:
    """The alias declares provisioned concurrency and the version traffic moves to has not got
    it READY yet (`allocated` of `requested` environments; `version` "" when this plan
    publishes it): no traffic moves to it before."""

    version: str
    allocated: int
    requested: int


# Why a step forward that is due waits (not a rollback: nothing failed): data, worded by
# `reconciler.plan.wording`; a hold keeps the rollout where it stands until it clears.
HoldCause: TypeAlias = (
    ClockSkew
    | MetricsUnread
    | MetricsPending
    | AlarmNoData
    | WaveWaiting
    | WaveFailed
    | CapacityAllocating
)


# ---- why an alias record is not trusted (UNVERIFIED) -------------------------------------


@dataclass(frozen=True)
class RecordUnparsed:
    """The record in the alias description does not parse."""

    error: str


@dataclass(frozen=True)
class UnknownTarget:
    """The record names a target version the function does not have."""

    version: VersionRef


@dataclass(frozen=True)
class UnknownPrevious:
    """The record names a previous version the function does not have."""

    version: str


@dataclass(frozen=True)
class StepBeyond:
    """The record's step is past the schedule's end (and 100 %)."""

    step: int
    steps: int


@dataclass(frozen=True)
class FailedYetServing:
    """The record marks the target failed, yet the alias sends it all traffic."""

    version: VersionRef


class CauseKind(str, Enum):
    """What kind of cause fired, as a problem names it (the cause itself is not kept)."""

    ALARM = "alarm"
    HOOK = "hook"
    GATE = "gate"
    MANUAL = "manual"
    CAPACITY = "capacity"


@dataclass(frozen=True)
class NoWayBack:
    """A cause fires at 100 %, but the rollback target the record names is not the version its
    history records."""

    fired: CauseKind
    previous: str
    alarm: str = ""  # the alarm, when an alarm fired


@dataclass(frozen=True)
class OtherProblem:
    """A problem read from a plan file in words this version does not word (never planned)."""

    text: str


# Why a rollout's alias record is not trusted: data, worded by `reconciler.plan.wording` and
# saved in the plan file as those words (`problem`), read back by them.
RecordProblem: TypeAlias = (
    RecordUnparsed
    | UnknownTarget
    | UnknownPrevious
    | StepBeyond
    | FailedYetServing
    | NoWayBack
    | OtherProblem
)


class RolloutStage(str, Enum):
    """A rollout's status as users read it (JSON `status`), derived from its phase alone."""

    PENDING = "pending"  # not started yet (this plan starts it or switches directly)
    IN_PROGRESS = "in_progress"  # traffic is shifting, or baking at 100 %
    HOLDING = "holding"  # an alarm keeps it from starting
    COMPLETE = "complete"  # the target takes all traffic for good
    FAILED = "failed"  # an alarm fires: this plan rolls back (or finishes rolling back)
    ROLLED_BACK = "rolled_back"  # rolled back earlier: git names a version AWS does not serve


STAGES: Final[Mapping[RolloutPhase, RolloutStage]] = {
    RolloutPhase.CREATED: RolloutStage.PENDING,
    RolloutPhase.COMPLETE: RolloutStage.COMPLETE,
    RolloutPhase.FINISHING_ROLLBACK: RolloutStage.FAILED,
    RolloutPhase.FAILED: RolloutStage.ROLLED_BACK,
    RolloutPhase.ROLLING_BACK: RolloutStage.FAILED,
    RolloutPhase.RETAKING: RolloutStage.IN_PROGRESS,
    RolloutPhase.WAITING: RolloutStage.IN_PROGRESS,
    RolloutPhase.ADVANCING: RolloutStage.IN_PROGRESS,
    RolloutPhase.PROMOTING: RolloutStage.IN_PROGRESS,
    RolloutPhase.SWITCHING: RolloutStage.PENDING,
    RolloutPhase.HELD: RolloutStage.HOLDING,
    RolloutPhase.STARTING: RolloutStage.PENDING,
    RolloutPhase.BAKING: RolloutStage.IN_PROGRESS,
    RolloutPhase.GATED: RolloutStage.HOLDING,
    RolloutPhase.VERIFYING: RolloutStage.IN_PROGRESS,
    RolloutPhase.UNVERIFIED: RolloutStage.HOLDING,
    RolloutPhase.RECORDING_ROLLBACK: RolloutStage.ROLLED_BACK,
}
if set(STAGES) != set(RolloutPhase):  # a new phase without its status fails at import
    raise RuntimeError(f"rollout phases without a status: {set(RolloutPhase) - set(STAGES)}")
_SCHEDULED: Final = frozenset(
    {RolloutStage.PENDING, RolloutStage.IN_PROGRESS, RolloutStage.HOLDING}
)
# The steps a healthy rollout takes on its own schedule: not drift (the next apply takes them).
ON_SCHEDULE: Final = frozenset(
    {RolloutPhase.ADVANCING, RolloutPhase.PROMOTING, RolloutPhase.VERIFYING}
)
# The steps that move traffic back to the previous version.
ROLLBACKS: Final = frozenset({RolloutPhase.ROLLING_BACK, RolloutPhase.FINISHING_ROLLBACK})
# The steps that move traffic towards the target: apply re-reads the alarms right before them.
FORWARD: Final = frozenset(
    {
        RolloutPhase.STARTING,
        RolloutPhase.ADVANCING,
        RolloutPhase.RETAKING,
        RolloutPhase.PROMOTING,
        RolloutPhase.SWITCHING,
    }
)


@dataclass(frozen=True)
class GateLimits:
    """A rollout's metric gates as the manifest sets them (what the plan lists it checks)."""

    max_error_rate: Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
    min_invocations: Count = 0
    compare_to_previous: Bool = False  # max_error_rate is the excess over the previous version


@dataclass(frozen=True)
class RolloutState:
    """The rollout part of an alias record (format in `reconciler.plan.record`)."""

    target: VersionRef
    previous: str
    step: int
    since: datetime
    status: str = "running"  # running | verifying | done | failed
    cause: RollbackCause | None = None  # why it failed (status failed)
    attempt: int = 1  # the manifest's `rollout.attempt`: another number starts afresh


@dataclass(frozen=True)
class AliasRecord:
    """What the tool keeps of one alias beyond its routing, at the end of the alias's own
    description, written in the same guarded call as the routing (`reconciler.plan.record`)."""

    at: VersionRef | None = None  # the primary this tool last set
    history: tuple[str, ...] = ()  # the primaries before `at`, most recent first
    rollout: RolloutState | None = None  # a rollout in progress, or its target's failure mark
    from_tags: bool = False  # migrated from an earlier release's function tags: trusted less


@dataclass(frozen=True)
class RolloutStatus:
    """Where a progressive rollout of one alias stands (contract §8)."""

    alias: str
    target: Ref
    step: Count  # 1-based; 0 = not started
    steps: Count
    weight: Weight
    phase: RolloutPhase
    since: datetime | None = None  # when the current step started
    # when the next step may be taken
    due: Annotated[datetime | None, Field(alias="next_at")] = None
    # what holds or rolled back the rollout
    cause: Annotated[RollbackCause, Tagged("kind")] | None = None
    previous: str | None = None  # the version traffic moves from
    alarms: tuple[str, ...] = ()  # the alarms that roll it back (apply re-reads them)
    attempt: Positive = 1
    pre_traffic: str | None = None  # hook invoked before the first shift (function name/ARN)
    post_traffic: str | None = None  # hook invoked after 100 %
    invocations: Count | None = None  # of the target at this step, when gates are set
    errors: Count | None = None
    weights: tuple[Share, ...] = ()  # the whole schedule's canary weights (then 100 %)
    interval: Count = 0  # seconds at each step
    # where the alias routes as read from AWS (None: it does not exist yet)
    live: AliasState | None = None
    # UNVERIFIED: why the alias record is not trusted (saved as its words)
    problem: Annotated[RecordProblem | None, Worded()] = None
    # why a step forward that is due waits (GATED, HELD); apply re-reads it
    hold: Annotated[HoldCause | None, Transient] = None
    # its alarms in INSUFFICIENT_DATA (shown; held on request; apply re-reads them)
    no_data: Annotated[tuple[str, ...], Field(alias="insufficient_data"), WriteOnly(())] = ()
    gates: GateLimits | None = None  # the manifest's metric gates (None: no gates)

    def schedule(self) -> tuple[tuple[float, datetime | None], ...]:
        """Each step from the current one on: its weight and earliest time (then 100 %)."""
        if not self.weights or self.stage not in _SCHEDULED:
            return ()
        first = max(self.step, 1)
        start = self.since
        out: list[tuple[float, datetime | None]] = []
        for k, w in enumerate((*self.weights[first - 1 :], 1.0)):
            at = None if start is None else start + timedelta(seconds=self.interval * k)
            out.append((w, at))
        return tuple(out)

    @property
    def stage(self) -> RolloutStage:
        return STAGES[self.phase]

    @property
    def off_course(self) -> bool:
        """Git names a version AWS does not serve and no apply will move towards it."""
        failed = self.stage in (RolloutStage.ROLLED_BACK, RolloutStage.FAILED)
        held = self.phase is RolloutPhase.UNVERIFIED or (
            self.phase is RolloutPhase.HELD and self.hold is None  # an alarm, not a hold
        )
        return failed or held  # GATED holds a healthy rollout


def _load_status(saved: Any) -> Any:
    """A rollout saved by an earlier release of format 2 names only its alarm."""
    if isinstance(saved, dict) and saved.get("cause") is None and saved.get("alarm") is not None:
        return {**saved, "cause": {"kind": "alarm", "alarm": saved["alarm"]}}
    return saved


def _describe_status(schema: dict[str, Any], resolve: Callable[[Any], Any]) -> None:
    schema["properties"]["alarm"] = {"type": ["string", "null"], "default": None}


Status = Annotated[RolloutStatus, Shape(_load_status, _describe_status)]


@dataclass(frozen=True)
class RolloutStep:
    """What an alias write does for a rollout (the record it writes is the operation's)."""

    status: RolloutStatus

    @property
    def rolls_back(self) -> bool:
        """This write moves the alias back (its cause is `status.cause`)."""
        return self.status.phase in ROLLBACKS


def _load_record(saved: str | None) -> AliasRecord | None:
    from reconciler.plan.record import BadRecord, decode  # the record format uses these types

    try:
        return None if saved is None else decode(saved, new=True)
    except BadRecord as e:
        raise ValueError(str(e)) from None


def _dump_record(record: AliasRecord) -> str:
    from reconciler.plan.record import block

    return block(record)


def _load_step(saved: RolloutStatus | None) -> RolloutStep | None:
    return None if saved is None else RolloutStep(saved)


def _dump_step(step: RolloutStep) -> RolloutStatus:
    return step.status


# An alias write's rollout step: saved as its status (absent without one).
Step = Annotated[RolloutStep | None, OmitNone, Via(Status | None, _load_step, _dump_step)]
# The alias record an alias write sets: saved as its description block.
Record = Annotated[AliasRecord | None, Via(str | None, _load_record, _dump_record)]
