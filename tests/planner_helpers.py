"""Builders for planner tests: desired targets from plain dicts, planned against a MemLambda."""

from __future__ import annotations

from typing import Any

from reconciler.engine import ApplyResult, apply_plan
from reconciler.manifest import FunctionSpec, FunctionTarget, Location
from reconciler.plan import Plan
from reconciler.planning import Observed, plan
from tests.memlambda import NOW, MemLambda


def target(name: str = "fn", **spec: Any) -> FunctionTarget:
    return FunctionTarget(
        key=name,
        name=name,
        region="us-east-1",
        account=None,
        spec=FunctionSpec.model_validate(spec),
        location=Location("m.yaml", 1, 1),
        manifest="m.yaml",
        allowed_account_ids=None,
        alias_locations={},
    )


def plan_against(
    mem: MemLambda,
    targets: list[FunctionTarget],
    *,
    max_deletions: int = 100,
    alarms: dict[str, str] | None = None,
    now: Any = NOW,
) -> Plan:
    from dataclasses import replace

    observed = []
    for t in targets:
        live = mem.read_function(t.key, t.region)
        live = replace(live, in_use=mem.versions_in_use(t.key, t.region, live.arn))
        live = replace(live, tags=dict(mem.functions[t.key].tags), tags_read=True)
        observed.append(Observed(t, live, alarms=alarms or {}))
    return plan(observed, now=now, max_deletions=max_deletions)


def apply_to(mem: MemLambda, p: Plan, now: Any = NOW) -> ApplyResult:
    """Apply `p` to `mem` with the executor's clock at `now` (a step starts when it is made)."""
    return apply_plan(p, mem, parallelism=1, progress=lambda _line: None, clock=lambda: now)
