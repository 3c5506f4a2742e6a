"""The JSON plan (contract §7): stable, documented in docs/plan-format.md, and re-loadable.

`apply PLAN.json` loads what `plan --out` wrote, so every field the executor needs (guards,
fingerprints, alias states) round-trips: `plan_from_dict(plan_to_dict(p)) == p`.
"""

from __future__ import annotations

import json
from typing import Any

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


def _load_state(d: Any) -> AliasState | None:
    if d is None:
        return None
    c = d.get("canary")
    canary = None if c is None else Canary(str(c["version"]), float(c["weight"]))
    return AliasState(str(d["version"]), canary, d.get("description"))


def _load_op(d: dict[str, Any]) -> Operation:
    return Operation(
        action=Action(d["action"]),
        alias=d.get("alias"),
        version=d.get("version"),
        before=_load_state(d.get("before")),
        after=_load_state(d.get("after")),
        changes=tuple(d.get("changes", ())),
        reason=str(d.get("reason", "")),
        revision_id=d.get("revision_id"),
        code_sha256=d.get("code_sha256"),
        code_size=int(d.get("code_size", 0)),
        rollout_state=d.get("rollout_state"),
        rollback_alarm=d.get("rollback_alarm"),
    )


def _load_function(d: dict[str, Any]) -> FunctionPlan:
    states = d.get("unmanaged_alias_states", {})
    return FunctionPlan(
        key=str(d.get("key", d["function"])),
        function=str(d["function"]),
        region=str(d.get("region", "")),
        account=str(d.get("account", "")),
        source=str(d.get("source", "")),
        arn=str(d.get("arn", "")),
        fingerprint=str(d.get("fingerprint", "")),
        operations=tuple(_load_op(o) for o in d.get("operations", [])),
        unmanaged_aliases=tuple(
            UnmanagedAlias(n, _load_state(states.get(n)) or AliasState("?"))
            for n in d.get("unmanaged_aliases", [])
        ),
        errors=tuple(d.get("errors", ())),
        kept=tuple(Kept(int(k["version"]), str(k["reason"])) for k in d.get("kept", [])),
        storage_before=int(d.get("storage_before", 0)),
        brake=d.get("brake"),
        rollouts=tuple(
            RolloutStatus(
                r["alias"],
                r["target"],
                int(r["step"]),
                int(r["steps"]),
                float(r["weight"]),
                r["message"],
            )
            for r in d.get("rollouts", [])
        ),
    )


def plan_from_dict(data: object) -> Plan:
    if not isinstance(data, dict):
        raise ReconcilerError("not a plan file: expected a JSON object")
    if data.get("format_version") != FORMAT_VERSION:
        raise ReconcilerError(
            f"unsupported plan format_version {data.get('format_version')!r} "
            f"(this version reads {FORMAT_VERSION})"
        )
    try:
        return Plan(
            functions=tuple(_load_function(f) for f in data["functions"]),
            manifests=tuple(data.get("manifests", ())),
            max_deletions=int(data.get("max_deletions", 100)),
            errors=tuple(data.get("errors", ())),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ReconcilerError(f"malformed plan file: {type(e).__name__}: {e}") from None


def load_plan_file(path: str) -> Plan:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ReconcilerError(f"{path}: cannot read: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ReconcilerError(f"{path}: not a JSON plan file: {e}") from None
    try:
        return plan_from_dict(data)
    except ReconcilerError as e:
        raise ReconcilerError(f"{path}: {e}") from None
