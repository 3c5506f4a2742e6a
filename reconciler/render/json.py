"""The JSON plan (contract §7): stable, documented in docs/plan-format.md, and re-loadable.

`apply PLAN.json` loads what `plan --out` wrote, so every field the executor needs (guards,
fingerprints, alias states) round-trips: `plan_from_dict(plan_to_dict(p)) == p`.

Loading is strict about types, because a saved plan drives writes: a malformed file is refused
with one line naming the field (`functions[0].operations[1].action: expected one of …`), never
with a traceback and never half-loaded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

from reconciler.errors import ReconcilerError
from reconciler.live import Canary
from reconciler.plan import (
    Action,
    AliasState,
    FunctionPlan,
    Kept,
    Operation,
    Plan,
    RolloutStatus,
    UnmanagedAlias,
)

FORMAT_VERSION = 1
KINDS = ("plan", "drift")
T = TypeVar("T")


# ---- writing -----------------------------------------------------------------------------


def _state(s: AliasState | None) -> dict[str, Any] | None:
    if s is None:
        return None
    canary = None if s.canary is None else {"version": s.canary.version, "weight": s.canary.weight}
    return {"version": s.version, "canary": canary, "description": s.description}


def _op(op: Operation) -> dict[str, Any]:
    return {
        "action": op.action.value,
        "alias": op.alias,
        "version": op.version,
        "before": _state(op.before),
        "after": _state(op.after),
        "changes": list(op.changes),
        "reason": op.reason,
        "revision_id": op.revision_id,
        "code_sha256": op.code_sha256,
        "code_size": op.code_size,
        "rollout_state": op.rollout_state,
        "rollback_alarm": op.rollback_alarm,
    }


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
        "errors": list(fp.errors),
        "kept": [{"version": k.version, "reason": k.reason} for k in fp.kept],
        "storage_before": fp.storage_before,
        "storage_freed": fp.storage_freed,
        "brake": fp.brake,
        "rollouts": [
            {
                "alias": r.alias,
                "target": r.target,
                "step": r.step,
                "steps": r.steps,
                "weight": r.weight,
                "message": r.message,
            }
            for r in fp.rollouts
        ],
    }


def plan_to_dict(plan: Plan, *, kind: str = "plan") -> dict[str, Any]:
    """The documented JSON object; keys in a fixed order."""
    return {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "manifests": list(plan.manifests),
        "functions": [_function(fp) for fp in plan.functions],
        "summary": plan.summary,
        "max_deletions": plan.max_deletions,
        "errors": list(plan.errors),
    }


def plan_to_json(plan: Plan, *, kind: str = "plan") -> str:
    return json.dumps(plan_to_dict(plan, kind=kind), indent=2, ensure_ascii=False) + "\n"


# ---- reading -----------------------------------------------------------------------------


class _Malformed(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string"}.get(
        type(value), "a list" if isinstance(value, list) else "an object"
    )


def _expect(value: object, typ: type[T], what: str, where: str) -> T:
    # bool is an int in Python, not in JSON: true is no version number.
    if isinstance(value, typ) and not (isinstance(value, bool) and typ is not bool):
        return value
    raise _Malformed(where, f"expected {what}, got {_kind(value)}")


class _Obj:
    """A JSON object being read, with its path for messages."""

    def __init__(self, value: object, where: str) -> None:
        self.d: dict[str, Any] = _expect(value, dict, "an object", where)
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def has(self, key: str) -> bool:
        return self.d.get(key) is not None

    def text(self, key: str, default: str | None = None) -> str:
        if key not in self.d and default is not None:
            return default
        return _expect(self.d.get(key), str, "a string", self.at(key))

    def opt_text(self, key: str) -> str | None:
        value = self.d.get(key)
        return None if value is None else _expect(value, str, "a string or null", self.at(key))

    def count(self, key: str, default: int | None = None) -> int:
        if key not in self.d and default is not None:
            return default
        value = _expect(self.d.get(key), int, "an integer", self.at(key))
        if value < 0:
            raise _Malformed(self.at(key), f"expected a non-negative integer, got {value}")
        return value

    def number(self, key: str) -> float:
        value = self.d.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        number = _expect(value, float, "a number", self.at(key))
        if not math.isfinite(number):
            raise _Malformed(self.at(key), "expected a finite number")
        return number

    def items(self, key: str, item: Callable[[object, str], T]) -> tuple[T, ...]:
        if key not in self.d:
            return ()
        items = _expect(self.d[key], list, "a list", self.at(key))
        return tuple(item(v, f"{self.at(key)}[{i}]") for i, v in enumerate(items))

    def child(self, key: str) -> _Obj:
        return _Obj(self.d.get(key, {}), self.at(key))


def _string(value: object, where: str) -> str:
    return _expect(value, str, "a string", where)


def _load_state(value: object, where: str) -> AliasState | None:
    if value is None:
        return None
    o = _Obj(value, where)
    canary = None
    if o.has("canary"):
        c = o.child("canary")
        weight = c.number("weight")
        if not 0 < weight < 1:
            raise _Malformed(c.at("weight"), f"expected 0 < weight < 1, got {weight}")
        canary = Canary(c.text("version"), weight)
    return AliasState(o.text("version"), canary, o.opt_text("description"))


def _load_op(value: object, where: str) -> Operation:
    o = _Obj(value, where)
    name = o.text("action")
    try:
        action = Action(name)
    except ValueError:
        choices = ", ".join(a.value for a in Action)
        raise _Malformed(o.at("action"), f"expected one of {choices}, got {name!r}") from None
    return Operation(
        action=action,
        alias=o.opt_text("alias"),
        version=o.opt_text("version"),
        before=_load_state(o.d.get("before"), o.at("before")),
        after=_load_state(o.d.get("after"), o.at("after")),
        changes=o.items("changes", _string),
        reason=o.text("reason", ""),
        revision_id=o.opt_text("revision_id"),
        code_sha256=o.opt_text("code_sha256"),
        code_size=o.count("code_size", 0),
        rollout_state=o.opt_text("rollout_state"),
        rollback_alarm=o.opt_text("rollback_alarm"),
    )


def _load_kept(value: object, where: str) -> Kept:
    o = _Obj(value, where)
    return Kept(o.count("version"), o.text("reason"))


def _load_rollout(value: object, where: str) -> RolloutStatus:
    o = _Obj(value, where)
    return RolloutStatus(
        alias=o.text("alias"),
        target=o.text("target"),
        step=o.count("step"),
        steps=o.count("steps"),
        weight=o.number("weight"),
        message=o.text("message"),
    )


def _load_function(value: object, where: str) -> FunctionPlan:
    o = _Obj(value, where)
    function = o.text("function")
    states = o.child("unmanaged_alias_states")

    def unmanaged(name: object, at: str) -> UnmanagedAlias:
        alias = _string(name, at)
        # The contract's minimal form lists names only; the route is then unknown.
        state = _load_state(states.d.get(alias), states.at(alias)) or AliasState("?")
        return UnmanagedAlias(alias, state)

    return FunctionPlan(
        key=o.text("key", function),
        function=function,
        region=o.text("region", ""),
        account=o.text("account", ""),
        source=o.text("source", ""),
        arn=o.text("arn", ""),
        fingerprint=o.text("fingerprint", ""),
        operations=o.items("operations", _load_op),
        unmanaged_aliases=o.items("unmanaged_aliases", unmanaged),
        errors=o.items("errors", _string),
        kept=o.items("kept", _load_kept),
        storage_before=o.count("storage_before", 0),
        brake=o.opt_text("brake"),
        rollouts=o.items("rollouts", _load_rollout),
    )


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
            f"unsupported plan format_version {version!r} (this version reads {FORMAT_VERSION})"
        )
    try:
        o = _Obj(data, "")
        if "kind" in data and o.text("kind") not in KINDS:
            raise _Malformed("kind", f"expected plan or drift, got {data['kind']!r}")
        if "functions" not in data:
            raise _Malformed("functions", "missing")
        return Plan(
            functions=o.items("functions", _load_function),
            manifests=o.items("manifests", _string),
            max_deletions=o.count("max_deletions", 100),
            errors=o.items("errors", _string),
        )
    except _Malformed as e:
        raise ReconcilerError(f"malformed plan file: {e}") from None


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
