"""The plan: inert, frozen, typed data that every renderer and the executor consume.

A plan holds no English. Each write is one of the operation classes below, with exactly the
fields it needs; why a version goes or stays, why `$LATEST` is published and where a rollout
stands are values (enums and numbers). `reconciler.plan.wording` turns them into words for every
output format. Adding an operation means: its dataclass here (and in `Operation`), one planner
function that emits it, one executor arm (`engine/apply.py`), one wording function; mypy then names
every `match` that must handle it (each ends in `assert_never`).

Invariants (the planner guarantees them, the executor relies on them):
- `FunctionPlan.operations` is in the contract's §4 order: publish, create/update aliases,
  delete aliases, delete versions.
- A version or canary that is `NEW_VERSION` is the version this plan's `PublishVersion`
  creates; the executor substitutes the number AWS returns.
- A function with `errors` has no operations: nothing is written for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Annotated, Any, ClassVar, Final, NamedTuple, TypeAlias

from pydantic import Field, Strict
from pydantic_core import PydanticCustomError

from reconciler.aws import AliasTie, CodeStorage, LiveAlias
from reconciler.plan.fields import (
    Bool,
    Count,
    Guard,
    Ignoring,
    Number,
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


@dataclass(frozen=True)
class NewVersion:
    """The version this plan publishes: its number is known only after `PublishVersion`."""

    def __str__(self) -> str:
        return "(new)"


NEW_VERSION: Final = NewVersion()
# A version an alias routes to in a plan: digits, "$LATEST", or the version being published.
VersionRef: TypeAlias = str | NewVersion


def _load_ref(value: str) -> VersionRef:
    return NEW_VERSION if value == str(NEW_VERSION) else value


# A version as the plan file saves it: its number, "$LATEST", or "(new)".
Ref = Annotated[VersionRef, Via(str, _load_ref, str)]


def version_label(v: VersionRef) -> str:
    """A version as plan lines and refusals name it: its number, `$LATEST`, or "new version"."""
    return "new version" if isinstance(v, NewVersion) else v


class Action(str, Enum):
    PUBLISH_VERSION = "publish_version"
    CREATE_ALIAS = "create_alias"
    UPDATE_ALIAS = "update_alias"
    DELETE_ALIAS = "delete_alias"
    DELETE_VERSION = "delete_version"
    DELETE_LAYER_VERSION = "delete_layer_version"


@dataclass(frozen=True)
class Route:
    """The additional version of a weighted alias and its share of traffic (0 < weight < 1)."""

    version: Ref
    weight: Share


@dataclass(frozen=True)
class AliasState:
    """Where an alias routes. `description` None means "not managed" (desired) or unknown."""

    version: Ref
    canary: Route | None = None
    description: str | None = None

    @staticmethod
    def of(alias: LiveAlias) -> AliasState:
        canary = None if alias.canary is None else Route(alias.canary.version, alias.canary.weight)
        return AliasState(alias.version, canary, alias.description)

    def versions(self) -> tuple[VersionRef, ...]:
        """The versions this state routes to: primary, then canary."""
        return (self.version,) if self.canary is None else (self.version, self.canary.version)


class AliasField(str, Enum):
    """A field of an alias that an update changes (field-level diff, computed with deepdiff)."""

    VERSION = "version"
    CANARY = "canary"
    DESCRIPTION = "description"


# ---- why $LATEST is published ------------------------------------------------------------


@tag("nothing_published")
@dataclass(frozen=True)
class NothingPublished:
    """No version exists yet."""


@tag("code_changed")
@dataclass(frozen=True)
class CodeChanged:
    before: str  # CodeSha256 of the newest version
    after: str  # CodeSha256 of $LATEST


@tag("config_changed")
@dataclass(frozen=True)
class ConfigChanged:
    fields: tuple[str, ...]  # names of the differing configuration fields, never their values


PublishReason: TypeAlias = NothingPublished | CodeChanged | ConfigChanged


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
    reason: str  # the error message or the result's `reason` ("" when it gave none)


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


# Why a rollout is rolled back, or held before it starts: data, worded by `reconciler.plan.wording`,
# kept in the alias record (`reconciler.plan.record`) and written to the JSON plan as `cause`.
RollbackCause: TypeAlias = (
    AlarmFired | HookFailed | ErrorRateAbove | WorseThanPrevious | ManualRollback
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


# Why a step forward that is due waits (not a rollback: nothing failed): data, worded by
# `reconciler.plan.wording`; a hold keeps the rollout where it stands until it clears.
HoldCause: TypeAlias = ClockSkew | MetricsUnread | MetricsPending | AlarmNoData


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
_ON_SCHEDULE: Final = frozenset(
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


# ---- operations --------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishVersion:
    """PublishVersion of `$LATEST`, guarded by the CodeSha256 and RevisionId that were planned;
    `description` (from `publish: {description:}`) is the new version's, None: `$LATEST`'s."""

    action: ClassVar[Action] = Action.PUBLISH_VERSION
    reasons: tuple[Annotated[PublishReason, Tagged("kind")], ...]
    revision_id: Guard
    code_sha256: Guard
    code_size: Count
    description: str | None = None


@dataclass(frozen=True)
class CreateAlias:
    action: ClassVar[Action] = Action.CREATE_ALIAS
    alias: str
    after: AliasState
    rollout: Step = None
    record: Record = None  # written into the description with the routing


@dataclass(frozen=True)
class UpdateAlias:
    """UpdateAlias, guarded by the alias RevisionId read at plan time (always sent)."""

    action: ClassVar[Action] = Action.UPDATE_ALIAS
    alias: str
    before: AliasState
    after: AliasState
    revision_id: Guard
    fields: tuple[AliasField, ...]
    rollout: Step = None
    # The record written into the description in the same call: the primary set, the history
    # of earlier primaries, the rollout's state. None only in plans that carry no record.
    record: Record = None
    # Function tags of an earlier release's rollout state, folded into `record`: removed right
    # after the alias call succeeds (migration, docs/design/rollout-state.md).
    untag: tuple[Annotated[str, Field(pattern=r"^lambda-reconciler:(rollout|history):")], ...] = ()


class AliasDeletion(str, Enum):
    NOT_IN_MANIFEST = "not_in_manifest"  # prune_aliases: true


@dataclass(frozen=True)
class DeleteAlias:
    action: ClassVar[Action] = Action.DELETE_ALIAS
    alias: str
    before: AliasState
    reason: Annotated[AliasDeletion, Field(alias="why")] = AliasDeletion.NOT_IN_MANIFEST


@dataclass(frozen=True)
class DeleteVersion:
    """DeleteFunction with a version qualifier: retention found it outside every keep rule."""

    action: ClassVar[Action] = Action.DELETE_VERSION
    version: Number
    code_size: Count
    age_days: Count
    keep_last: Positive | None  # the keep_last it falls outside of, if any


@dataclass(frozen=True)
class DeleteLayerVersion:
    """DeleteLayerVersion: layer retention found it outside every keep rule, no function version
    of the region uses it and its policy shares it with no other account (re-checked before the
    call). Only in a `LayerPlan`."""

    action: ClassVar[Action] = Action.DELETE_LAYER_VERSION
    version: Number
    # the layer version ARN
    arn: Annotated[
        str,
        Field(alias="layer_version_arn", pattern=r"^arn:[^:]+:lambda:[^:]+:[0-9]{12}:layer:"),
    ]
    code_size: Count
    age_days: Count
    keep_last: Positive | None


Operation: TypeAlias = (
    PublishVersion | CreateAlias | UpdateAlias | DeleteAlias | DeleteVersion | DeleteLayerVersion
)
AliasWrite: TypeAlias = CreateAlias | UpdateAlias


# ---- why retention keeps a version -------------------------------------------------------


@tag("protected")
class Protected(NamedTuple):
    """Listed in `protect`."""


@tag("in_use")
class InUse(NamedTuple):
    """Bound to an event source mapping or provisioned concurrency: `what` says which
    ("event source mapping 2f1c…", "provisioned concurrency"; empty: not known)."""

    what: tuple[str, ...] = ()


@tag("aliased")
class Aliased(NamedTuple):
    aliases: tuple[str, ...]


@tag("previous")
class Previous(NamedTuple):
    """One of the last `keep_previous` versions an alias pointed to: a rollback target."""

    alias: str
    n: Positive  # 1: the version it pointed to just before the current one


@tag("young")
class Young(NamedTuple):
    days: Count
    keep_days: Count


KeepReason: TypeAlias = Aliased | Protected | Previous | Young | InUse


class Kept(NamedTuple):
    """A version retention keeps although it is outside keep_last, and why (shown with -v).

    A named tuple rather than a frozen dataclass: a plan over a large fleet holds one per kept
    version (a million for 10,000 functions of 100 young versions), and a tuple is built in
    half the time; the common reasons are shared tuples.
    """

    version: Positive
    reasons: tuple[Annotated[KeepReason, Tagged("kind")], ...]


@dataclass(frozen=True)
class UnmanagedAlias:
    """A live alias the manifest does not name, left as it is. `ties` are set when
    `prune_aliases: true` would delete it but something hangs on it (the deletion is refused)."""

    name: str
    state: AliasState
    ties: tuple[AliasTie, ...] = ()


@dataclass(frozen=True)
class Brake:
    """The run's deletions (versions and aliases) exceed `--max-deletions`: apply refuses the
    whole plan."""

    deletions: int
    limit: int


@dataclass(frozen=True)
class VersionNote:
    """A version an alias write routes to or away from, as the version listing shows it: its
    description, and its age at plan time (from its LastModified), for the plan's words."""

    version: str
    description: str
    age_minutes: Count


def _required(saved: dict[str, Any], *names: str) -> None:
    for name in names:
        if name not in saved:
            raise PydanticCustomError("missing", "Field required", {"field": name})


def _load_function(saved: Any) -> Any:
    """A saved function plan's fields: its key defaults to its name, and its unmanaged aliases
    are saved as their names, with their states and ties beside them by name."""
    if not isinstance(saved, dict):
        return saved
    _required(saved, "function", "fingerprint")
    name = saved["function"] if isinstance(saved["function"], str) else ""
    out = {"key": name, "region": "", "account": "", "source": "", **saved}
    if out["key"] is None:
        out["key"] = name
    names, states = saved.get("unmanaged_aliases", []), saved.get("unmanaged_alias_states", {})
    ties = saved.get("unmanaged_alias_ties", {})
    if isinstance(names, list) and isinstance(states, dict) and isinstance(ties, dict):
        out["unmanaged_aliases"] = [
            {"name": n, "state": states.get(n, {"version": "?"}), "ties": ties.get(n, [])}
            if isinstance(n, str)
            else n
            for n in names
        ]
    return out


def _describe_function(schema: dict[str, Any], resolve: Callable[[Any], Any]) -> None:
    props = schema["properties"]
    unmanaged = resolve(props["unmanaged_aliases"]["items"])["properties"]
    props["unmanaged_aliases"] = {"type": "array", "items": {"type": "string"}}
    props["unmanaged_alias_states"] = {"type": "object", "additionalProperties": unmanaged["state"]}
    props["unmanaged_alias_ties"] = {"type": "object", "additionalProperties": unmanaged["ties"]}
    schema["required"] = ["function", "fingerprint"]


def _load_layer(saved: Any) -> Any:
    if not isinstance(saved, dict):
        return saved
    return {"region": "", "source": "", **saved}


def _describe_layer(schema: dict[str, Any], resolve: Callable[[Any], Any]) -> None:
    schema["required"] = ["key", "layer"]


def _load_storage(saved: Any) -> Any:
    if isinstance(saved, dict) and saved.get("error", "") is None:
        return {**saved, "error": ""}
    return saved


def _describe_storage(schema: dict[str, Any], resolve: Callable[[Any], Any]) -> None:
    schema["properties"]["error"] = {"type": ["string", "null"]}
    for name in ("used", "limit"):
        schema["properties"][name]["minimum"] = 0


@dataclass(frozen=True)
class FunctionPlan:
    key: str  # the manifest key (name or ARN)
    function: str  # the function name
    region: str
    account: str
    source: str  # "path/to/manifest.yaml:LINE:COL" of the function key
    arn: str = ""
    fingerprint: str = ""
    operations: tuple[Annotated[Operation, Tagged("action")], ...] = ()
    unmanaged_aliases: tuple[UnmanagedAlias, ...] = ()
    errors: tuple[str, ...] = ()
    kept: tuple[Annotated[Kept, Ignoring(("reason",))], ...] = ()
    storage_before: Count = 0  # bytes of code storage held by published versions
    rollouts: tuple[Status, ...] = ()
    # of the versions alias writes name
    version_notes: Annotated[tuple[VersionNote, ...], Field(alias="versions")] = ()

    def notes(self) -> dict[str, VersionNote]:
        return {n.version: n for n in self.version_notes}

    @property
    def storage_freed(self) -> int:
        return sum(op.code_size for op in self.operations if isinstance(op, DeleteVersion))

    def count(self, action: Action) -> int:
        return sum(1 for op in self.operations if op.action is action)

    @property
    def deletions(self) -> int:
        return sum(1 for op in self.operations if isinstance(op, DeleteVersion | DeleteAlias))

    @property
    def drifted(self) -> bool:
        """Live state differs from git other than by a healthy rollout's scheduled step (§8) or
        by housekeeping (retention deletions that became due: not a difference from git)."""
        return (
            bool(self.unmanaged_aliases)
            or any(
                not _on_schedule(op) and op.action is not Action.DELETE_VERSION
                for op in self.operations
            )
            or any(r.off_course for r in self.rollouts)
        )

    @property
    def housekeeping(self) -> int:
        """Retention deletions that became due (versions aged out or pushed out of keep_last)."""
        return self.count(Action.DELETE_VERSION)


def _on_schedule(op: Operation) -> bool:
    """A rollout's next step, due now, that changes nothing but where traffic goes."""
    if not isinstance(op, UpdateAlias) or op.rollout is None:
        return False
    routing = {AliasField.VERSION, AliasField.CANARY}
    return op.rollout.status.phase in _ON_SCHEDULE and set(op.fields) <= routing


# ---- layers and code storage -------------------------------------------------------------


@tag("used_by")
class UsedBy(NamedTuple):
    """Function versions of the region use the layer version ("orders:3", "orders:$LATEST")."""

    functions: tuple[str, ...]  # the first few, sorted
    total: Count  # how many in all


@tag("shared")
class Shared(NamedTuple):
    """Its policy grants accounts or organizations this account cannot see."""

    grantees: tuple[str, ...]  # "account 210987654321", "organization o-abc", "everyone"


LayerKeepReason: TypeAlias = Protected | Young | UsedBy | Shared


class KeptLayer(NamedTuple):
    """A layer version outside keep_last that stays, and why."""

    version: Positive
    reasons: tuple[Annotated[LayerKeepReason, Tagged("kind")], ...]


@dataclass(frozen=True)
class LayerPlan:
    key: str  # the manifest key (name or layer ARN)
    layer: str  # the layer name
    region: str
    source: str  # "path/to/manifest.yaml:LINE:COL" of the layer key
    operations: tuple[DeleteLayerVersion, ...] = ()
    kept: tuple[Annotated[KeptLayer, Ignoring(("reason",))], ...] = ()
    errors: tuple[str, ...] = ()
    versions: Count = 0  # how many versions the layer has

    @property
    def storage_freed(self) -> int:
        return sum(op.code_size for op in self.operations)

    @property
    def deletions(self) -> int:
        return len(self.operations)

    @property
    def vetoed(self) -> tuple[KeptLayer, ...]:
        """Versions retention would delete but a user (seen or not) keeps."""
        return tuple(k for k in self.kept if any(isinstance(r, UsedBy | Shared) for r in k.reasons))


DEFAULT_STORAGE_WARN = 0.8


def summary_counts(
    functions: tuple[FunctionPlan, ...], layers: tuple[LayerPlan, ...] = ()
) -> Mapping[str, int]:
    counts = {a.value: 0 for a in Action}
    for fp in functions:
        for op in fp.operations:
            counts[op.action.value] += 1
    counts[Action.DELETE_LAYER_VERSION.value] += sum(lp.deletions for lp in layers)
    counts["total"] = sum(counts.values())
    return counts


@dataclass(frozen=True)
class Plan:
    functions: tuple[Annotated[FunctionPlan, Shape(_load_function, _describe_function)], ...]
    manifests: tuple[str, ...] = ()
    max_deletions: Count = 100
    errors: tuple[str, ...] = field(default=())
    layers: tuple[Annotated[LayerPlan, Shape(_load_layer, _describe_layer)], ...] = ()
    # one per region the run touches
    storage: Annotated[
        tuple[Annotated[CodeStorage, Shape(_load_storage, _describe_storage)], ...],
        Field(alias="code_storage"),
    ] = ()
    # warn above this share of the quota
    storage_warn: Annotated[float, Strict(), Field(gt=0, le=1, allow_inf_nan=False)] = (
        DEFAULT_STORAGE_WARN
    )
    # `drift --housekeeping-is-drift`: due deletions count
    housekeeping_drift: Annotated[bool, Strict(), Field(alias="housekeeping_is_drift")] = False

    @property
    def summary(self) -> Mapping[str, int]:
        return summary_counts(self.functions, self.layers)

    @property
    def has_changes(self) -> bool:
        return any(fp.operations for fp in self.functions) or any(
            lp.operations for lp in self.layers
        )

    @property
    def has_errors(self) -> bool:
        return (
            bool(self.errors)
            or any(fp.errors for fp in self.functions)
            or any(lp.errors for lp in self.layers)
        )

    def storage_freed(self, region: str) -> int:
        """Bytes of code storage this plan frees in `region` (function and layer versions)."""
        return sum(fp.storage_freed for fp in self.functions if fp.region == region) + sum(
            lp.storage_freed for lp in self.layers if lp.region == region
        )

    @property
    def brake(self) -> Brake | None:
        """Set when the whole run would delete more than `max_deletions` things."""
        total = sum(fp.deletions for fp in self.functions) + sum(lp.deletions for lp in self.layers)
        return Brake(total, self.max_deletions) if total > self.max_deletions else None

    @property
    def refused(self) -> bool:
        """`apply` refuses this plan whole: it has errors or trips the brake."""
        return self.has_errors or self.brake is not None

    @property
    def drifted(self) -> bool:
        """Anything differs from git: a change to make other than a healthy rollout's next step
        or housekeeping, an unmanaged alias, or a rollout that failed or cannot start (§8).
        Housekeeping (function and layer versions retention deletes) counts only with
        `housekeeping_drift`."""
        return any(fp.drifted for fp in self.functions) or (
            self.housekeeping_drift and any(self.housekeeping)
        )

    @property
    def housekeeping(self) -> tuple[int, int]:
        """(function versions, layer versions) retention deletes: due, not drift."""
        return (
            sum(fp.housekeeping for fp in self.functions),
            sum(lp.deletions for lp in self.layers),
        )

    @property
    def off_course(self) -> tuple[tuple[str, RolloutStatus], ...]:
        """(function, rollout) of every rollout that failed, rolled back or cannot start."""
        return tuple((fp.function, r) for fp in self.functions for r in fp.rollouts if r.off_course)
