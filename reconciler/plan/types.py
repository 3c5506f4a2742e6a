"""The plan: inert, frozen, typed data that every renderer and the executor consume.

A plan holds no English. Each write is one of the operation classes below, with exactly the
fields it needs; why a version goes or stays, why `$LATEST` is published and where a rollout
stands are values (enums and numbers). `reconciler.plan.wording` turns them into words for every
output format. Adding an operation means: its dataclass here (and in `Operation`), one planner
function that emits it, one executor arm (`engine/apply.py`), one wording function; mypy then names
every `match` that must handle it (each ends in `assert_never`). The dataclass is also the plan
file's definition of it: its fields are saved under their names (or `Field(alias=...)`), in the
forms their markers (`reconciler.plan.fields`) give, and read back and described (the JSON
Schema) from the same annotations (`reconciler.plan.planfile`).

The versions and routes live in `routes`, the rollout types in `rollout_types` (both are
re-exported here); the whole plan (`Plan`) in `document`.

Invariants (the planner guarantees them, the executor relies on them):
- `FunctionPlan.operations` is in the contract's §4 order: publish, create/update aliases,
  delete aliases, delete versions.
- A version or canary that is `NEW_VERSION` is the version this plan's `PublishVersion`
  creates; the executor substitutes the number AWS returns.
- A function with `errors` has no operations: nothing is written for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, ClassVar, NamedTuple, TypeAlias

from pydantic import Field

from reconciler.aws import AliasTie
from reconciler.plan.attachment_types import (
    ATTACHMENT_ACTIONS,
    ATTACHMENT_OPERATIONS,
    AddPermission,
    AliasBypass,
    AttachmentOperation,
    AttachmentWarning,
    BypassKind,
    CreateFunctionUrl,
    DeleteEventInvokeConfig,
    DeleteFunctionUrl,
    PublicUrlWithoutGrant,
    PutEventInvokeConfig,
    RemovePermission,
    Replicated,
    UpdateFunctionUrl,
)
from reconciler.plan.capacity_types import CapacityReason, SetProvisionedConcurrency
from reconciler.plan.fields import (
    Count,
    Guard,
    Ignoring,
    Number,
    OmitNone,
    Positive,
    Tagged,
    tag,
)
from reconciler.plan.rollout_types import (
    FORWARD,
    ON_SCHEDULE,
    ROLLBACKS,
    STAGES,
    AlarmFired,
    AlarmNoData,
    AliasRecord,
    CapacityAllocating,
    CapacityFailed,
    CauseKind,
    ClockSkew,
    ErrorRateAbove,
    FailedYetServing,
    GateLimits,
    HoldCause,
    HookFailed,
    HookPhase,
    ManualRollback,
    MetricsPending,
    MetricsUnread,
    NoWayBack,
    OtherProblem,
    Record,
    RecordProblem,
    RecordUnparsed,
    RollbackCause,
    RolloutPhase,
    RolloutStage,
    RolloutState,
    RolloutStatus,
    RolloutStep,
    Status,
    Step,
    StepBeyond,
    UnknownPrevious,
    UnknownTarget,
    WaveFailed,
    WaveWaiting,
    WorseThanPrevious,
)
from reconciler.plan.routes import (
    NEW_VERSION,
    Action,
    AliasField,
    AliasState,
    NewVersion,
    Ref,
    Route,
    VersionRef,
    version_label,
)

# re-exported: callers import these from here
__all__ = [
    "ATTACHMENT_ACTIONS",
    "ATTACHMENT_OPERATIONS",
    "FORWARD",
    "NEW_VERSION",
    "ON_SCHEDULE",
    "ROLLBACKS",
    "STAGES",
    "Action",
    "AddPermission",
    "AlarmFired",
    "AlarmNoData",
    "AliasBypass",
    "AliasField",
    "AliasRecord",
    "AliasState",
    "AttachmentOperation",
    "AttachmentWarning",
    "BypassKind",
    "CapacityAllocating",
    "CapacityFailed",
    "CapacityReason",
    "CauseKind",
    "ClockSkew",
    "CreateFunctionUrl",
    "DeleteEventInvokeConfig",
    "DeleteFunctionUrl",
    "ErrorRateAbove",
    "FailedYetServing",
    "GateLimits",
    "HoldCause",
    "HookFailed",
    "HookPhase",
    "ManualRollback",
    "MetricsPending",
    "MetricsUnread",
    "NewVersion",
    "NoWayBack",
    "OtherProblem",
    "PublicUrlWithoutGrant",
    "PutEventInvokeConfig",
    "Record",
    "RecordProblem",
    "RecordUnparsed",
    "Ref",
    "RemovePermission",
    "Replicated",
    "RollbackCause",
    "RolloutPhase",
    "RolloutStage",
    "RolloutState",
    "RolloutStatus",
    "RolloutStep",
    "Route",
    "SetProvisionedConcurrency",
    "Status",
    "Step",
    "StepBeyond",
    "UnknownPrevious",
    "UnknownTarget",
    "UpdateFunctionUrl",
    "VersionRef",
    "WaveFailed",
    "WaveWaiting",
    "WorseThanPrevious",
    "version_label",
]

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
    # `$LATEST` publishes with SnapStart: the new version is Pending until its snapshot is
    # taken, and no alias is moved to it before it is Active (the executor waits, bounded)
    snapstart: bool = False


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
    PublishVersion
    | CreateAlias
    | UpdateAlias
    | DeleteAlias
    | DeleteVersion
    | DeleteLayerVersion
    | AttachmentOperation
    | SetProvisionedConcurrency
)
AliasWrite: TypeAlias = CreateAlias | UpdateAlias
_FUNCTION_OPERATIONS = (
    PublishVersion,
    CreateAlias,
    UpdateAlias,
    DeleteAlias,
    DeleteVersion,
    *ATTACHMENT_OPERATIONS,
    SetProvisionedConcurrency,
)


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


KeepReason: TypeAlias = Aliased | Protected | Previous | Young | InUse | Replicated


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


@dataclass(frozen=True)
class FunctionPlan:
    key: str  # the manifest key (name or ARN)
    function: str  # the function name
    region: str
    account: str
    source: str  # "path/to/manifest.yaml:LINE:COL" of the function key
    arn: str = ""
    fingerprint: str = ""
    # a layer version's deletion is in a LayerPlan only
    operations: tuple[Annotated[Operation, Tagged("action", _FUNCTION_OPERATIONS)], ...] = ()
    unmanaged_aliases: tuple[UnmanagedAlias, ...] = ()
    errors: tuple[str, ...] = ()
    kept: tuple[Annotated[Kept, Ignoring(("reason",))], ...] = ()
    storage_before: Count = 0  # bytes of code storage held by published versions
    rollouts: tuple[Status, ...] = ()
    # of the versions alias writes name
    version_notes: Annotated[tuple[VersionNote, ...], Field(alias="versions")] = ()
    # what the plan warns of about the aliases' attachments and bypasses (None: nothing)
    warnings: Annotated[
        tuple[Annotated[AttachmentWarning, Tagged("kind")], ...] | None, OmitNone
    ] = None
    # published SnapStart versions the alias writes route to: each one's State is read right
    # before the first write to it, and no alias moves to it unless it is Active
    snapstart_versions: tuple[str, ...] = ()

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
    """A rollout's next step, due now, that changes nothing but where traffic goes; or the
    provisioned concurrency that follows a move under way (a promotion's conversion, the old
    version's once complete): not a difference from git by itself."""
    if isinstance(op, SetProvisionedConcurrency):
        return op.why not in (CapacityReason.DECLARED, CapacityReason.MOVE_TARGET)
    if not isinstance(op, UpdateAlias) or op.rollout is None:
        return False
    routing = {AliasField.VERSION, AliasField.CANARY}
    return op.rollout.status.phase in ON_SCHEDULE and set(op.fields) <= routing


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
