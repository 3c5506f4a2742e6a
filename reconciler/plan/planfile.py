"""The saved plan (JSON, `format_version: 2`, documented in docs/plan-format.md; its JSON Schema
is schemas/plan.schema.json).

`plan --out` writes it and `apply PLAN.json` applies exactly what it says, so every value the
executor needs round-trips: `plan_from_dict(plan_to_dict(p)) == p`. The plan's dataclasses are the
one definition of the file: each field is saved under its name (or its `Field(alias=...)`), in the
form its markers say (`reconciler.plan.fields`); one pydantic `TypeAdapter` over `Plan` reads the
file back and generates its JSON Schema. Writing adds the words of `reconciler.plan.wording`
(`changes`, `reason`, `message`, ...) for people and scripts, in a fixed order; reading ignores
them and rebuilds the typed plan from the data fields alone.

Reading is strict about what drives writes: a missing guard (`revision_id`, `code_sha256`), a
wrong type or an unknown action is refused with one line naming the field
(`functions[0].operations[1].revision_id: missing`), never half-loaded.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Annotated, Any, NamedTuple, get_args, get_origin, get_type_hints

from pydantic import TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from reconciler.aws import CodeStorage
from reconciler.errors import ReconcilerError
from reconciler.plan import attachment_wording, wording
from reconciler.plan import types as _types
from reconciler.plan.document import Plan
from reconciler.plan.fields import WORDS, OmitNone, Transient, Via, tag_of
from reconciler.plan.types import (
    NEW_VERSION,
    AlarmFired,
    AliasBypass,
    CreateAlias,
    FunctionPlan,
    Kept,
    KeptLayer,
    LayerPlan,
    NewVersion,
    Operation,
    PublicUrlWithoutGrant,
    PublishVersion,
    RollbackCause,
    RolloutStatus,
    RolloutStep,
    UpdateAlias,
)

FORMAT_VERSION = 2
KINDS = ("plan", "drift")
_NEW = str(NEW_VERSION)
_OPERATIONS = get_args(Operation)
_CAUSES = get_args(RollbackCause)

# ---- writing: each object's saved fields, then the words beside them ----------------------


class _Saved(NamedTuple):
    name: str  # the attribute
    key: str  # the JSON key
    via: Via | None
    omit_none: bool


@cache
def _saved_fields(cls: type) -> tuple[_Saved, ...]:
    """The fields of a plan dataclass or named tuple the file holds, in declaration order."""
    hints = get_type_hints(cls, include_extras=True)
    names = (
        [f.name for f in dataclasses.fields(cls)]
        if dataclasses.is_dataclass(cls)
        else list(getattr(cls, "_fields"))  # noqa: B009 (a named tuple)
    )
    out = []
    for name in names:
        hint = hints[name]
        meta: Sequence[Any] = hint.__metadata__ if get_origin(hint) is Annotated else ()
        if any(m is Transient for m in meta):
            continue
        alias = next((m.alias for m in meta if isinstance(m, FieldInfo) and m.alias), None)
        via = next((m for m in meta if isinstance(m, Via)), None)
        out.append(_Saved(name, alias or name, via, any(m is OmitNone for m in meta)))
    return tuple(out)


_SCALARS = frozenset({type(None), bool, int, float, str})


def _encode(value: Any) -> Any:
    cls: type = type(value)
    return value if cls in _SCALARS else _encoder(cls)(value)


@cache
def _encoder(cls: type) -> Callable[[Any], Any]:
    """How a value of this type is saved (looked up once per type: a plan holds many)."""
    if issubclass(cls, Enum):
        return lambda v: v.value
    if issubclass(cls, datetime):
        return datetime.isoformat
    if issubclass(cls, NewVersion):
        return lambda _: _NEW
    if dataclasses.is_dataclass(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields")):
        return _object
    if issubclass(cls, tuple | list):
        return lambda v: [_encode(x) for x in v]
    if issubclass(cls, bool | int | float | str):
        return lambda v: v
    raise TypeError(f"a plan holds no {cls.__name__}")


@cache
def _tag(cls: type) -> tuple[str, str] | None:
    return tag_of(cls)


def _data(obj: Any) -> dict[str, Any]:
    """An object's saved fields: its tag first (for a member of a tagged union), then its fields."""
    cls: type = type(obj)
    tag = _tag(cls)
    out: dict[str, Any] = {} if tag is None else {tag[0]: tag[1]}
    for f in _saved_fields(cls):
        value = getattr(obj, f.name)
        if value is None:
            if not f.omit_none:
                out[f.key] = None
            continue
        if f.via is not None:
            value = f.via.dump(value)
        out[f.key] = _encode(value)
    return out


def _object(obj: Any) -> dict[str, Any]:
    data = _data(obj)
    words = _WORDS.get(type(obj))
    if words is not None:
        return words(obj, data)
    if isinstance(obj, _OPERATIONS):
        return _operation(obj, data)
    if isinstance(obj, _CAUSES):
        return {**data, "message": wording.cause(obj)}
    return data


def _arrange(
    data: dict[str, Any], order: Iterable[str], derived: Mapping[str, Any]
) -> dict[str, Any]:
    """`order`'s keys first (derived values among them), then any other saved field."""
    out = {k: derived[k] if k in derived else data[k] for k in order}
    out.update((k, v) for k, v in data.items() if k not in out)
    return out


def _time(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _rollout(r: RolloutStatus, data: dict[str, Any]) -> dict[str, Any]:
    derived = {
        "status": r.stage.value,
        "alarm": r.cause.alarm if isinstance(r.cause, AlarmFired) else None,
        "schedule": [{"weight": w, "at": _time(at)} for w, at in r.schedule()],
        "message": wording.rollout_message(r),
        "problem": wording.record_problem(r.problem),
    }
    order = (
        *("alias", "target", "step", "steps", "weight", "phase", "status", "since", "next_at"),
        *("alarm", "cause", "previous", "alarms", "insufficient_data", "attempt"),
        *("pre_traffic", "post_traffic", "invocations", "errors", "weights", "interval", "live"),
        *("problem", "gates", "schedule", "message"),
    )
    return _arrange(data, order, derived)


# Every operation has the same core keys (null where they do not apply), in a fixed order, then
# the keys of its own fields.
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


def _operation(op: Operation, data: dict[str, Any]) -> dict[str, Any]:
    out = {
        **_COMMON,
        "action": data.pop("action"),
        "changes": list(wording.changes(op)),
        "reason": wording.reason(op),
    }
    if isinstance(op, PublishVersion):
        out["version"] = _NEW
    if isinstance(op, CreateAlias | UpdateAlias) and op.rollout is not None:
        out["rollback_alarm"] = _rollback_alarm(op.rollout)
    out.update(data)
    return out


def _rollback_alarm(step: RolloutStep) -> str | None:
    """A rollback's alarm, when an alarm caused it (the whole cause is in `rollout.cause`)."""
    c = step.status.cause
    return c.alarm if step.rolls_back and isinstance(c, AlarmFired) else None


def _function(fp: FunctionPlan, data: dict[str, Any]) -> dict[str, Any]:
    unmanaged = data.pop("unmanaged_aliases")
    derived = {
        "unmanaged_aliases": [u["name"] for u in unmanaged],
        "unmanaged_alias_states": {u["name"]: u["state"] for u in unmanaged},
        "unmanaged_alias_ties": {u["name"]: u["ties"] for u in unmanaged},
        "storage_freed": fp.storage_freed,
    }
    order = (
        *("function", "key", "region", "account", "arn", "source", "fingerprint", "operations"),
        *("unmanaged_aliases", "unmanaged_alias_states", "unmanaged_alias_ties", "errors"),
        *("kept", "storage_before", "storage_freed", "rollouts", "versions"),
    )
    return _arrange(data, order, derived)


def _layer(lp: LayerPlan, data: dict[str, Any]) -> dict[str, Any]:
    order = ("layer", "key", "region", "source", "versions", "operations", "kept", "errors")
    return _arrange(data, (*order, "storage_freed"), {"storage_freed": lp.storage_freed})


def _kept(words: Callable[[Any], str]) -> Callable[[Any, dict[str, Any]], dict[str, Any]]:
    def arranged(k: Any, data: dict[str, Any]) -> dict[str, Any]:
        return _arrange(data, ("version", "reason", "reasons"), {"reason": words(k)})

    return arranged


_WORDS: Mapping[type, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    RolloutStatus: _rollout,
    FunctionPlan: _function,
    LayerPlan: _layer,
    Kept: _kept(wording.kept),
    KeptLayer: _kept(wording.kept_layer),
    AliasBypass: lambda w, data: {**data, "message": attachment_wording.warning(w)},
    PublicUrlWithoutGrant: lambda w, data: {**data, "message": attachment_wording.warning(w)},
}


def _storage(plan: Plan, s: CodeStorage) -> dict[str, Any]:
    freed = plan.storage_freed(s.region)
    return {
        "region": s.region,
        "used": s.used,
        "limit": s.limit,
        "percent": round(s.used * 100 / s.limit, 1) if s.limit else None,
        "freed": freed,
        "error": s.error or None,
        "message": wording.storage_line(s, freed),
        "warning": wording.storage_warning(s, plan.storage_warn),
    }


def plan_to_dict(plan: Plan, *, kind: str = "plan") -> dict[str, Any]:
    """The documented JSON object; keys in a fixed order."""
    data = _data(plan)
    brake = plan.brake
    derived = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "summary": dict(plan.summary),
        "brake": None
        if brake is None
        else {"deletions": brake.deletions, "limit": brake.limit, "message": wording.brake(brake)},
        "code_storage": [_storage(plan, s) for s in plan.storage],
    }
    order = (
        *("format_version", "kind", "manifests", "functions", "summary", "max_deletions"),
        *("brake", "errors", "layers", "code_storage", "storage_warn", "housekeeping_is_drift"),
    )
    if data.get("shard") is None:  # `--shard K/N` only
        data.pop("shard", None)
    return _arrange(data, order, derived)


def plan_to_json(plan: Plan, *, kind: str = "plan") -> str:
    return json.dumps(plan_to_dict(plan, kind=kind), indent=2, ensure_ascii=False) + "\n"


# ---- reading, and the schema -------------------------------------------------------------


@cache
def _adapter() -> TypeAdapter[Plan]:
    return TypeAdapter(Plan)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a plan file's data fields (the words beside them are not read)."""
    schema = _adapter().json_schema(by_alias=True)
    props = schema["properties"]
    for definition in schema.get("$defs", {}).values():  # a value saved as its words
        for field in definition.get("properties", {}).values():
            if field.get("type") == "string" and "default" in field and field["default"] is None:
                field["default"] = ""
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "lambda-reconciler plan file",
        "description": "The JSON plan `plan --out` writes and `apply PLAN.json` applies "
        "(docs/plan-format.md). Only the data fields are listed: the words written beside "
        "them (changes, reason, message, summary, ...) are not read.",
        **{k: v for k, v in schema.items() if k != "title"},
    }
    schema["properties"] = {
        "format_version": {"const": FORMAT_VERSION},
        "kind": {"enum": list(KINDS), "default": "plan"},
        **props,
    }
    schema["required"] = ["format_version", *schema.get("required", [])]
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


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


@cache
def _tags() -> frozenset[str]:
    """The names of the tagged unions' members, which pydantic puts in an error's path."""
    out: set[str] = set()
    for name in dir(_types):
        value = getattr(_types, name)
        tag = getattr(value, "kind", None) if isinstance(value, type) else None
        if isinstance(tag, str):
            out.add(tag)
        action = getattr(value, "action", None) if isinstance(value, type) else None
        if isinstance(action, Enum):
            out.add(action.value)
    return frozenset(out)


def _path(loc: Sequence[int | str]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i > 0 and isinstance(loc[i - 1], int) and part in _tags():
            continue  # the tagged union's member, not a field
        else:
            out += f".{part}" if out else part
    return out


_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "dataclass_type": "an object",
    "arguments_type": "an object",
    "model_attributes_type": "an object",
    "datetime_type": "an ISO 8601 time",
    "datetime_parsing": "an ISO 8601 time",
    "datetime_from_date_parsing": "an ISO 8601 time",
}


def _one_line(e: ValidationError) -> str:
    err = e.errors()[0]
    where, kind, ctx = _path(err["loc"]), err["type"], err.get("ctx") or {}
    if "field" in ctx:  # raised for a field by its object's loader
        where, err["input"] = f"{where}.{ctx['field']}", ctx.get("value")
    if kind == "missing":
        return f"{where}: missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field = str(ctx.get("discriminator", "")).strip("'")
        got = f", got {ctx['tag']!r}" if "tag" in ctx else ""
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        return f"{where}.{field}: expected one of {expected}{got}"
    if kind == "value_error":
        return f"{where}: {ctx.get('error', err['msg'])}"
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
    kind = data.get("kind", "plan")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ReconcilerError(
            f"malformed plan file: kind: input should be 'plan' or 'drift', got {kind!r}"
        )
    try:
        return _adapter().validate_python(data, context={WORDS: wording.record_problem_from})
    except ValidationError as e:
        raise ReconcilerError(f"malformed plan file: {_one_line(e)}") from None


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


if __name__ == "__main__":  # `make schema`: python -m reconciler.plan.planfile > schemas/...
    print(json_schema_text(), end="")
