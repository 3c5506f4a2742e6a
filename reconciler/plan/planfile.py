"""The saved plan (JSON, `format_version: 2`, documented in docs/plan-format.md).

`plan --out` writes it and `apply PLAN.json` applies exactly what it says, so every value the
executor needs round-trips: `plan_from_dict(plan_to_dict(p)) == p`. Writing adds the words of
`reconciler.plan.wording` (`changes`, `reason`, `message`) for people and scripts; reading ignores
them and rebuilds the typed plan from the data fields alone.

Reading is strict (pydantic, strict mode) because a saved plan drives writes: a missing guard
(`revision_id`, `code_sha256`), a wrong type or an unknown action is refused with one line
naming the field (`functions[0].operations[1].revision_id: missing`), never half-loaded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError
from typing_extensions import assert_never

from reconciler.aws import AliasTie, CodeStorage
from reconciler.errors import ReconcilerError
from reconciler.plan import wording
from reconciler.plan.record import BadRecord, block
from reconciler.plan.record import decode as decode_record
from reconciler.plan.types import (
    NEW_VERSION,
    Action,
    AlarmFired,
    AliasDeletion,
    Aliased,
    AliasField,
    AliasRecord,
    AliasState,
    CodeChanged,
    ConfigChanged,
    CreateAlias,
    DeleteAlias,
    DeleteLayerVersion,
    DeleteVersion,
    ErrorRateAbove,
    FunctionPlan,
    GateLimits,
    HookFailed,
    HookPhase,
    InUse,
    KeepReason,
    Kept,
    KeptLayer,
    LayerKeepReason,
    LayerPlan,
    ManualRollback,
    NewVersion,
    NothingPublished,
    Operation,
    Plan,
    Previous,
    Protected,
    PublishReason,
    PublishVersion,
    RollbackCause,
    RolloutPhase,
    RolloutStage,
    RolloutStatus,
    RolloutStep,
    Route,
    Shared,
    UnmanagedAlias,
    UpdateAlias,
    UsedBy,
    VersionNote,
    VersionRef,
    WorseThanPrevious,
    Young,
)

FORMAT_VERSION = 2
KINDS = ("plan", "drift")
_NEW = str(NEW_VERSION)

# ---- writing -----------------------------------------------------------------------------


def _version(v: VersionRef) -> str:
    return _NEW if isinstance(v, NewVersion) else v


def _state(s: AliasState | None) -> dict[str, Any] | None:
    if s is None:
        return None
    canary = (
        None
        if s.canary is None
        else {"version": _version(s.canary.version), "weight": s.canary.weight}
    )
    return {"version": _version(s.version), "canary": canary, "description": s.description}


def _time(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _rollout(r: RolloutStatus) -> dict[str, Any]:
    return {
        "alias": r.alias,
        "target": _version(r.target),
        "step": r.step,
        "steps": r.steps,
        "weight": r.weight,
        "phase": r.phase.value,
        "status": r.stage.value,
        "since": _time(r.since),
        "next_at": _time(r.due),
        "alarm": r.cause.alarm if isinstance(r.cause, AlarmFired) else None,
        "cause": None if r.cause is None else _cause(r.cause),
        "previous": r.previous,
        "alarms": list(r.alarms),
        "insufficient_data": list(r.no_data),  # its alarms in INSUFFICIENT_DATA now
        "attempt": r.attempt,
        "pre_traffic": r.pre_traffic,
        "post_traffic": r.post_traffic,
        "invocations": r.invocations,
        "errors": r.errors,
        "weights": list(r.weights),
        "interval": r.interval,
        "live": _state(r.live),
        "problem": r.problem,
        "gates": None if r.gates is None else asdict(r.gates),
        "schedule": [{"weight": w, "at": _time(at)} for w, at in r.schedule()],
        "message": wording.rollout_message(r),
    }


def _cause(c: RollbackCause) -> dict[str, Any]:
    """A rollout's cause as data, with its words (`message`, derived, ignored when read)."""
    match c:
        case AlarmFired():
            data: dict[str, Any] = {"kind": "alarm", "alarm": c.alarm}
        case HookFailed():
            data = {
                "kind": "hook_failed",
                "phase": c.phase.value,
                "function": c.function,
                "reason": c.reason,
            }
        case ErrorRateAbove():
            data = {"kind": "error_rate", "errors": c.errors, "invocations": c.invocations}
            data["max_error_rate"] = c.max_error_rate
        case WorseThanPrevious():
            data = {"kind": "compare_to_previous", "errors": c.errors, "invocations": c.invocations}
            data["previous_errors"] = c.previous_errors
            data["previous_invocations"] = c.previous_invocations
            data["max_error_rate"] = c.max_error_rate
        case ManualRollback():
            data = {"kind": "manual", "by": c.by}
        case _:
            assert_never(c)
    return {**data, "message": wording.cause(c)}


def _publish_reason(r: PublishReason) -> dict[str, Any]:
    match r:
        case NothingPublished():
            return {"kind": "nothing_published"}
        case CodeChanged():
            return {"kind": "code_changed", "before": r.before, "after": r.after}
        case ConfigChanged():
            return {"kind": "config_changed", "fields": list(r.fields)}
        case _:
            assert_never(r)


def _keep_reason(r: KeepReason) -> dict[str, Any]:
    match r:
        case Aliased():
            return {"kind": "aliased", "aliases": list(r.aliases)}
        case Protected():
            return {"kind": "protected"}
        case Previous():
            return {"kind": "previous", "alias": r.alias, "n": r.n}
        case Young():
            return {"kind": "young", "days": r.days, "keep_days": r.keep_days}
        case InUse(what=what):
            return {"kind": "in_use", "what": list(what)}
        case _:
            assert_never(r)


def _op_fields(op: Operation) -> dict[str, Any]:
    """The fields that differ by action (the common ones are written by `_op`)."""
    match op:
        case PublishVersion():
            return {
                "version": _NEW,
                "revision_id": op.revision_id,
                "code_sha256": op.code_sha256,
                "code_size": op.code_size,
                "reasons": [_publish_reason(r) for r in op.reasons],
                "description": op.description,
            }
        case CreateAlias():
            return {
                "alias": op.alias,
                "after": _state(op.after),
                **_step(op.rollout),
                "record": None if op.record is None else block(op.record),
            }
        case UpdateAlias():
            return {
                "alias": op.alias,
                "before": _state(op.before),
                "after": _state(op.after),
                "revision_id": op.revision_id,
                "fields": [f.value for f in op.fields],
                **_step(op.rollout),
                "record": None if op.record is None else block(op.record),
                "untag": list(op.untag),
            }
        case DeleteAlias():
            return {"alias": op.alias, "before": _state(op.before), "why": op.reason.value}
        case DeleteVersion():
            return {
                "version": str(op.version),
                "code_size": op.code_size,
                "age_days": op.age_days,
                "keep_last": op.keep_last,
            }
        case DeleteLayerVersion():
            return {
                "version": str(op.version),
                "layer_version_arn": op.arn,
                "code_size": op.code_size,
                "age_days": op.age_days,
                "keep_last": op.keep_last,
            }
        case _:
            assert_never(op)


def _step(step: RolloutStep | None) -> dict[str, Any]:
    if step is None:
        return {}
    return {
        "rollback_alarm": _rollback_alarm(step),
        "rollout": _rollout(step.status),
    }


def _rollback_alarm(step: RolloutStep) -> str | None:
    """A rollback's alarm, when an alarm caused it (the whole cause is in `rollout.cause`)."""
    c = step.status.cause
    return c.alarm if step.rolls_back and isinstance(c, AlarmFired) else None


_COMMON: Mapping[str, Any] = {
    "action": None,
    "alias": None,
    "version": None,
    "before": None,
    "after": None,
    "changes": [],
    "reason": "",
    "revision_id": None,
    "code_sha256": None,
    "code_size": 0,
    "rollback_alarm": None,
}


def _op(op: Operation) -> dict[str, Any]:
    """Every operation has the same core keys (null where they do not apply), in a fixed order,
    then the keys of its own action."""
    out = {
        **_COMMON,
        "action": op.action.value,
        "changes": list(wording.changes(op)),
        "reason": wording.reason(op),
    }
    out.update(_op_fields(op))
    return out


def _function(fp: FunctionPlan) -> dict[str, Any]:
    return {
        "function": fp.function,
        "key": fp.key,
        "region": fp.region,
        "account": fp.account,
        "arn": fp.arn,
        "source": fp.source,
        "fingerprint": fp.fingerprint,
        "operations": [_op(o) for o in fp.operations],
        "unmanaged_aliases": [u.name for u in fp.unmanaged_aliases],
        "unmanaged_alias_states": {u.name: _state(u.state) for u in fp.unmanaged_aliases},
        "unmanaged_alias_ties": {u.name: [t.value for t in u.ties] for u in fp.unmanaged_aliases},
        "errors": list(fp.errors),
        "kept": [
            {
                "version": k.version,
                "reason": wording.kept(k),
                "reasons": [_keep_reason(r) for r in k.reasons],
            }
            for k in fp.kept
        ],
        "storage_before": fp.storage_before,
        "storage_freed": fp.storage_freed,
        "rollouts": [_rollout(r) for r in fp.rollouts],
        "versions": [
            {"version": n.version, "description": n.description, "age_minutes": n.age_minutes}
            for n in fp.version_notes
        ],
    }


def _layer_keep_reason(r: LayerKeepReason) -> dict[str, Any]:
    match r:
        case Protected():
            return {"kind": "protected"}
        case Young():
            return {"kind": "young", "days": r.days, "keep_days": r.keep_days}
        case UsedBy():
            return {"kind": "used_by", "functions": list(r.functions), "total": r.total}
        case Shared():
            return {"kind": "shared", "grantees": list(r.grantees)}
        case _:
            assert_never(r)


def _layer(lp: LayerPlan) -> dict[str, Any]:
    return {
        "layer": lp.layer,
        "key": lp.key,
        "region": lp.region,
        "source": lp.source,
        "versions": lp.versions,
        "operations": [_op(o) for o in lp.operations],
        "kept": [
            {
                "version": k.version,
                "reason": wording.kept_layer(k),
                "reasons": [_layer_keep_reason(r) for r in k.reasons],
            }
            for k in lp.kept
        ],
        "errors": list(lp.errors),
        "storage_freed": lp.storage_freed,
    }


def _storage(plan: Plan, s: CodeStorage) -> dict[str, Any]:
    freed = plan.storage_freed(s.region)
    warning = wording.storage_warning(s, plan.storage_warn)
    return {
        "region": s.region,
        "used": s.used,
        "limit": s.limit,
        "percent": round(s.used * 100 / s.limit, 1) if s.limit else None,
        "freed": freed,
        "error": s.error or None,
        "message": wording.storage_line(s, freed),
        "warning": warning,
    }


def plan_to_dict(plan: Plan, *, kind: str = "plan") -> dict[str, Any]:
    """The documented JSON object; keys in a fixed order."""
    return {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "manifests": list(plan.manifests),
        "functions": [_function(fp) for fp in plan.functions],
        "summary": dict(plan.summary),
        "max_deletions": plan.max_deletions,
        "brake": None
        if plan.brake is None
        else {
            "deletions": plan.brake.deletions,
            "limit": plan.brake.limit,
            "message": wording.brake(plan.brake),
        },
        "errors": list(plan.errors),
        "layers": [_layer(lp) for lp in plan.layers],
        "code_storage": [_storage(plan, s) for s in plan.storage],
        "storage_warn": plan.storage_warn,
        "housekeeping_is_drift": plan.housekeeping_drift,
    }


def plan_to_json(plan: Plan, *, kind: str = "plan") -> str:
    return json.dumps(plan_to_dict(plan, kind=kind), indent=2, ensure_ascii=False) + "\n"


# ---- reading: the document, strictly -----------------------------------------------------

Guard = Annotated[str, Field(min_length=1)]
# JSON has no time or enum type: these read from strings (strict mode reads only objects).
Time = Annotated[datetime, Strict(False)]
Phase = Annotated[RolloutPhase, Strict(False)]
Stage = Annotated[RolloutStage, Strict(False)]
Why = Annotated[AliasDeletion, Strict(False)]
FieldName = Annotated[AliasField, Strict(False)]
Tie = Annotated[AliasTie, Strict(False)]
Count = Annotated[int, Field(ge=0)]
Rate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False), Strict(False)]


class _Doc(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Route(_Doc):
    version: str
    weight: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]


class _State(_Doc):
    version: str
    canary: _Route | None = None
    description: str | None = None


class _NothingPublished(_Doc):
    kind: Literal["nothing_published"]


class _CodeChanged(_Doc):
    kind: Literal["code_changed"]
    before: str
    after: str


class _ConfigChanged(_Doc):
    kind: Literal["config_changed"]
    fields: list[str]


_PublishReason: TypeAlias = Annotated[
    _NothingPublished | _CodeChanged | _ConfigChanged, Field(discriminator="kind")
]


class _AlarmCause(_Doc):
    kind: Literal["alarm"]
    alarm: str


class _HookCause(_Doc):
    kind: Literal["hook_failed"]
    phase: Annotated[HookPhase, Strict(False)]
    function: str
    reason: str = ""


class _ErrorRateCause(_Doc):
    kind: Literal["error_rate"]
    errors: Count
    invocations: Count
    max_error_rate: Rate


class _CompareCause(_Doc):
    kind: Literal["compare_to_previous"]
    errors: Count
    invocations: Count
    previous_errors: Count
    previous_invocations: Count
    max_error_rate: Rate


class _ManualCause(_Doc):
    kind: Literal["manual"]
    by: Literal["hand", "rollback"]


_Cause: TypeAlias = Annotated[
    _AlarmCause | _HookCause | _ErrorRateCause | _CompareCause | _ManualCause,
    Field(discriminator="kind"),
]


class _Rollout(_Doc):
    alias: str
    target: str
    step: Count
    steps: Count
    weight: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
    phase: Phase
    status: Stage | None = None  # derived from the phase; read for completeness only
    since: Time | None = None
    next_at: Time | None = None
    alarm: str | None = None  # derived from `cause` when written; read only without one
    cause: _Cause | None = None
    previous: str | None = None
    alarms: list[str] = []
    attempt: Annotated[int, Field(ge=1)] = 1
    pre_traffic: str | None = None
    post_traffic: str | None = None
    invocations: Count | None = None
    errors: Count | None = None
    weights: list[Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]] = []
    interval: Count = 0
    live: _State | None = None
    problem: str = ""
    gates: _GateLimits | None = None


class _GateLimits(_Doc):
    max_error_rate: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    min_invocations: Count = 0
    compare_to_previous: bool = False


class _Publish(_Doc):
    action: Literal["publish_version"]
    revision_id: Guard
    code_sha256: Guard
    code_size: Count
    reasons: list[_PublishReason]
    description: str | None = None


class _AliasWrite(_Doc):
    alias: str
    after: _State
    record: str | None = None
    rollback_alarm: str | None = None  # derived from the rollout's cause; ignored when read
    rollout: _Rollout | None = None


class _Create(_AliasWrite):
    action: Literal["create_alias"]


class _Update(_AliasWrite):
    action: Literal["update_alias"]
    before: _State
    revision_id: Guard
    fields: list[FieldName]
    untag: list[Annotated[str, Field(pattern=r"^lambda-reconciler:(rollout|history):")]] = []


class _DeleteAlias(_Doc):
    action: Literal["delete_alias"]
    alias: str
    before: _State
    why: Why


class _DeleteVersion(_Doc):
    action: Literal["delete_version"]
    version: Annotated[str, Field(pattern=r"^[1-9][0-9]*$")]
    code_size: Count
    age_days: Count
    keep_last: Annotated[int, Field(ge=1)] | None


class _DeleteLayerVersion(_Doc):
    action: Literal["delete_layer_version"]
    version: Annotated[str, Field(pattern=r"^[1-9][0-9]*$")]
    layer_version_arn: Annotated[str, Field(pattern=r"^arn:[^:]+:lambda:[^:]+:[0-9]{12}:layer:")]
    code_size: Count
    age_days: Count
    keep_last: Annotated[int, Field(ge=1)] | None


_Op: TypeAlias = Annotated[
    _Publish | _Create | _Update | _DeleteAlias | _DeleteVersion, Field(discriminator="action")
]


class _Aliased(_Doc):
    kind: Literal["aliased"]
    aliases: list[str]


class _Protected(_Doc):
    kind: Literal["protected"]


class _Previous(_Doc):
    kind: Literal["previous"]
    alias: str
    n: Annotated[int, Field(ge=1)]


class _Young(_Doc):
    kind: Literal["young"]
    days: Count
    keep_days: Count


class _InUse(_Doc):
    kind: Literal["in_use"]
    what: list[str] = []


class _Kept(_Doc):
    version: Annotated[int, Field(ge=1)]
    reasons: list[
        Annotated[_Aliased | _Protected | _Previous | _Young | _InUse, Field(discriminator="kind")]
    ]


class _VersionNote(_Doc):
    version: str
    description: str
    age_minutes: Count


class _Function(_Doc):
    function: str
    key: str | None = None
    region: str = ""
    account: str = ""
    arn: str = ""
    source: str = ""
    fingerprint: str
    operations: list[_Op] = []
    unmanaged_aliases: list[str] = []
    unmanaged_alias_states: dict[str, _State] = {}
    unmanaged_alias_ties: dict[str, list[Tie]] = {}
    errors: list[str] = []
    kept: list[_Kept] = []
    storage_before: Count = 0
    rollouts: list[_Rollout] = []
    versions: list[_VersionNote] = []


class _UsedBy(_Doc):
    kind: Literal["used_by"]
    functions: list[str]
    total: Count


class _Shared(_Doc):
    kind: Literal["shared"]
    grantees: list[str]


_LayerReason: TypeAlias = Annotated[
    _Protected | _Young | _UsedBy | _Shared, Field(discriminator="kind")
]


class _KeptLayer(_Doc):
    version: Annotated[int, Field(ge=1)]
    reasons: list[_LayerReason]


class _Layer(_Doc):
    layer: str
    key: str
    region: str = ""
    source: str = ""
    versions: Count = 0
    operations: list[_DeleteLayerVersion] = []
    kept: list[_KeptLayer] = []
    errors: list[str] = []


class _Storage(_Doc):
    region: str
    used: Count
    limit: Count
    error: str | None = None


class _PlanDoc(_Doc):
    format_version: Literal[2]
    kind: Literal["plan", "drift"] = "plan"
    manifests: list[str] = []
    functions: list[_Function]
    max_deletions: Count = 100
    errors: list[str] = []
    layers: list[_Layer] = []
    code_storage: list[_Storage] = []
    storage_warn: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 0.8
    housekeeping_is_drift: bool = False


# ---- reading: document → typed plan ------------------------------------------------------


def _ref(v: str) -> VersionRef:
    return NEW_VERSION if v == _NEW else v


def _to_state(s: _State) -> AliasState:
    canary = None if s.canary is None else Route(_ref(s.canary.version), s.canary.weight)
    return AliasState(_ref(s.version), canary, s.description)


def _to_rollout(r: _Rollout) -> RolloutStatus:
    return RolloutStatus(
        r.alias,
        _ref(r.target),
        r.step,
        r.steps,
        r.weight,
        r.phase,
        r.since,
        r.next_at,
        _to_cause(r),
        r.previous,
        tuple(r.alarms),
        r.attempt,
        r.pre_traffic,
        r.post_traffic,
        r.invocations,
        r.errors,
        tuple(r.weights),
        r.interval,
        None if r.live is None else _to_state(r.live),
        r.problem,
        gates=None
        if r.gates is None
        else GateLimits(
            r.gates.max_error_rate, r.gates.min_invocations, r.gates.compare_to_previous
        ),
    )


def _to_step(w: _AliasWrite) -> RolloutStep | None:
    return None if w.rollout is None else RolloutStep(_to_rollout(w.rollout))


def _to_record(w: _AliasWrite, where: str) -> AliasRecord | None:
    if w.record is None:
        return None
    try:
        return decode_record(w.record, new=True)
    except BadRecord as e:
        raise ReconcilerError(f"malformed plan file: {where}.record: {e}") from None


def _to_cause(r: _Rollout) -> RollbackCause | None:
    match r.cause:
        case None:
            return None if r.alarm is None else AlarmFired(r.alarm)
        case _AlarmCause():
            return AlarmFired(r.cause.alarm)
        case _HookCause():
            return HookFailed(r.cause.phase, r.cause.function, r.cause.reason)
        case _ErrorRateCause():
            c = r.cause
            return ErrorRateAbove(c.errors, c.invocations, c.max_error_rate)
        case _CompareCause():
            c2 = r.cause
            counts = (c2.errors, c2.invocations, c2.previous_errors, c2.previous_invocations)
            return WorseThanPrevious(*counts, c2.max_error_rate)
        case _ManualCause():
            return ManualRollback(r.cause.by)
        case _:
            assert_never(r.cause)


def _to_publish_reason(r: _NothingPublished | _CodeChanged | _ConfigChanged) -> PublishReason:
    match r:
        case _NothingPublished():
            return NothingPublished()
        case _CodeChanged():
            return CodeChanged(r.before, r.after)
        case _ConfigChanged():
            return ConfigChanged(tuple(r.fields))
        case _:
            assert_never(r)


def _to_keep(r: _Aliased | _Protected | _Previous | _Young | _InUse) -> KeepReason:
    match r:
        case _Aliased():
            return Aliased(tuple(r.aliases))
        case _Protected():
            return Protected()
        case _Previous():
            return Previous(r.alias, r.n)
        case _Young():
            return Young(r.days, r.keep_days)
        case _InUse():
            return InUse(tuple(r.what))
        case _:
            assert_never(r)


def _to_op(
    o: _Publish | _Create | _Update | _DeleteAlias | _DeleteVersion, where: str
) -> Operation:
    match o:
        case _Publish():
            reasons = tuple(_to_publish_reason(r) for r in o.reasons)
            return PublishVersion(reasons, o.revision_id, o.code_sha256, o.code_size, o.description)
        case _Create():
            return CreateAlias(o.alias, _to_state(o.after), _to_step(o), _to_record(o, where))
        case _Update():
            return UpdateAlias(
                o.alias,
                _to_state(o.before),
                _to_state(o.after),
                o.revision_id,
                tuple(o.fields),
                _to_step(o),
                _to_record(o, where),
                tuple(o.untag),
            )
        case _DeleteAlias():
            return DeleteAlias(o.alias, _to_state(o.before), o.why)
        case _DeleteVersion():
            return DeleteVersion(int(o.version), o.code_size, o.age_days, o.keep_last)
        case _:
            assert_never(o)


def _to_layer_keep(r: _Protected | _Young | _UsedBy | _Shared) -> LayerKeepReason:
    match r:
        case _Protected():
            return Protected()
        case _Young():
            return Young(r.days, r.keep_days)
        case _UsedBy():
            return UsedBy(tuple(r.functions), r.total)
        case _Shared():
            return Shared(tuple(r.grantees))
        case _:
            assert_never(r)


def _to_layer(d: _Layer) -> LayerPlan:
    ops = tuple(
        DeleteLayerVersion(
            int(o.version), o.layer_version_arn, o.code_size, o.age_days, o.keep_last
        )
        for o in d.operations
    )
    kept = tuple(KeptLayer(k.version, tuple(_to_layer_keep(r) for r in k.reasons)) for k in d.kept)
    return LayerPlan(
        d.key, d.layer, d.region, d.source, ops, kept, tuple(d.errors), versions=d.versions
    )


def _to_function(f: _Function, where: str) -> FunctionPlan:
    unknown = AliasState("?")  # a route the file does not give
    return FunctionPlan(
        key=f.key if f.key is not None else f.function,
        function=f.function,
        region=f.region,
        account=f.account,
        source=f.source,
        arn=f.arn,
        fingerprint=f.fingerprint,
        operations=tuple(_to_op(o, f"{where}.operations[{i}]") for i, o in enumerate(f.operations)),
        unmanaged_aliases=tuple(
            UnmanagedAlias(
                n,
                _to_state(f.unmanaged_alias_states[n])
                if n in f.unmanaged_alias_states
                else unknown,
                tuple(f.unmanaged_alias_ties.get(n, ())),
            )
            for n in f.unmanaged_aliases
        ),
        errors=tuple(f.errors),
        kept=tuple(Kept(k.version, tuple(_to_keep(r) for r in k.reasons)) for k in f.kept),
        storage_before=f.storage_before,
        rollouts=tuple(_to_rollout(r) for r in f.rollouts),
        version_notes=tuple(
            VersionNote(n.version, n.description, n.age_minutes) for n in f.versions
        ),
    )


# ---- errors as one line ------------------------------------------------------------------

_TAGS = frozenset(a.value for a in Action) | {
    "nothing_published",
    "code_changed",
    "config_changed",
    "aliased",
    "protected",
    "previous",
    "young",
    "in_use",
    "used_by",
    "shared",
}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i > 0 and isinstance(loc[i - 1], int) and part in _TAGS:
            continue  # the discriminated union's branch, not a field
        else:
            out += f".{part}" if out else part
    return out


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "datetime_type": "an ISO 8601 time",
}


def _one_line(e: ValidationError) -> str:
    err = e.errors()[0]
    where, kind, ctx = _path(err["loc"]), err["type"], err.get("ctx") or {}
    if kind == "missing":
        return f"{where}: missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field = str(ctx.get("discriminator", "")).strip("'")
        got = f", got {ctx['tag']!r}" if "tag" in ctx else ""
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        return f"{where}.{field}: expected one of {expected}{got}"
    if kind in _EXPECTED:
        return f"{where}: expected {_EXPECTED[kind]}, got {_kind(err['input'])}"
    return f"{where}: {err['msg'][0].lower()}{err['msg'][1:]}, got {err['input']!r}"


def plan_kind(data: object) -> str:
    """ "plan" or "drift": what a loaded JSON plan says it is (plan when it does not say)."""
    kind = data.get("kind", "plan") if isinstance(data, dict) else "plan"
    return kind if kind in KINDS else "plan"


def plan_from_dict(data: object) -> Plan:
    """The Plan a JSON object describes; ReconcilerError naming the field when malformed."""
    if not isinstance(data, dict):
        raise ReconcilerError(f"not a plan file: expected a JSON object, got {_kind(data)}")
    version = data.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ReconcilerError(
            f"unsupported plan format_version {version!r} (this version reads "
            f"{FORMAT_VERSION}); run plan again"
        )
    try:
        doc = _PlanDoc.model_validate(data)
    except ValidationError as e:
        raise ReconcilerError(f"malformed plan file: {_one_line(e)}") from None
    return Plan(
        functions=tuple(_to_function(f, f"functions[{i}]") for i, f in enumerate(doc.functions)),
        manifests=tuple(doc.manifests),
        max_deletions=doc.max_deletions,
        errors=tuple(doc.errors),
        layers=tuple(_to_layer(d) for d in doc.layers),
        storage=tuple(
            CodeStorage(s.region, s.used, s.limit, s.error or "") for s in doc.code_storage
        ),
        storage_warn=doc.storage_warn,
        housekeeping_drift=doc.housekeeping_is_drift,
    )


def load_plan_document(path: str) -> tuple[Plan, str]:
    """A saved plan and its kind ("plan" or "drift"); one-line ReconcilerError otherwise."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ReconcilerError(f"{path}: cannot read: {e.strerror or e}") from None
    except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF-8, absurd nesting
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ReconcilerError(f"{path}: not a JSON plan file: {first}") from None
    try:
        return plan_from_dict(data), plan_kind(data)
    except ReconcilerError as e:
        raise ReconcilerError(f"{path}: {e}") from None


def load_plan_file(path: str) -> Plan:
    """The Plan saved at `path` by `plan --out`; one-line ReconcilerError otherwise."""
    return load_plan_document(path)[0]
