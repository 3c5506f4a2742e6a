"""`waves:`: a planning gate that orders a manifest's rollouts by region (or account).

A function of wave k (its manifest's `waves`, `FunctionTarget.wave`) takes no rollout step
forward while a rollout of an earlier wave of the same manifest is not complete: its rollouts
hold where they stand (`WaveWaiting`), as a clock-skew hold does (rollbacks still go ahead).
When a rollout of an earlier wave failed (it rolls back now, or rolled back earlier), the later
waves hold with `WaveFailed`, and a run that sees it fails (`wave_failures`). Nothing is
stored: every plan (and each round of `apply --wait`) reads where the earlier waves stand from
their alias records, as it reads any rollout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from reconciler.plan import (
    FunctionPlan,
    HoldCause,
    Plan,
    RolloutStage,
    RolloutStatus,
    WaveFailed,
    WaveWaiting,
)
from reconciler.planning.planner import Observed, plan_function

_FAILED = frozenset({RolloutStage.FAILED, RolloutStage.ROLLED_BACK})


def _name(fp: FunctionPlan, alias: str) -> str:
    return f"{fp.function}:{alias} ({fp.region})" if fp.region else f"{fp.function}:{alias}"


def wave_holds(
    observed: Sequence[Observed], functions: Sequence[FunctionPlan]
) -> dict[int, HoldCause]:
    """Index of each function (of `observed`, planned as `functions`) whose rollouts an earlier
    wave holds, and why: the first earlier wave with a failed rollout, else the first with one
    not complete."""
    holds: dict[int, HoldCause] = {}
    for i, obs in enumerate(observed):
        wave = obs.target.wave
        if wave is None or wave == 1 or not functions[i].rollouts:
            continue
        failed: dict[int, list[str]] = {}
        waiting: dict[int, list[str]] = {}
        for j, other in enumerate(observed):
            earlier = other.target.wave
            if earlier is None or earlier >= wave or other.target.manifest != obs.target.manifest:
                continue
            for r in functions[j].rollouts:
                if r.stage in _FAILED:
                    failed.setdefault(earlier, []).append(_name(functions[j], r.alias))
                elif r.stage is not RolloutStage.COMPLETE:
                    waiting.setdefault(earlier, []).append(_name(functions[j], r.alias))
        if failed:
            first = min(failed)
            holds[i] = WaveFailed(first, tuple(failed[first]))
        elif waiting:
            first = min(waiting)
            holds[i] = WaveWaiting(first, tuple(waiting[first]))
    return holds


def hold_waves(
    first: Plan, observed: Sequence[Observed], now: datetime
) -> tuple[Plan, list[Observed]]:
    """The plan with the functions an earlier wave holds planned again, held (`wave_holds`),
    and what was observed with those holds (for any later planning of the same run)."""
    out = list(observed)
    holds = wave_holds(observed, first.functions)
    if not holds:
        return first, out
    functions = list(first.functions)
    for i, why in holds.items():
        o = out[i]
        held = {name: why for name, a in o.target.spec.aliases.items() if a.rollout is not None}
        out[i] = replace(o, holds={**held, **o.holds})
        functions[i] = plan_function(out[i], now=now)
    return replace(first, functions=tuple(functions)), out


def wave_failures(plan: Plan) -> list[tuple[FunctionPlan, RolloutStatus]]:
    """The rollouts that a failed earlier wave holds (a run fails while any does)."""
    return [(fp, r) for fp in plan.functions for r in fp.rollouts if isinstance(r.hold, WaveFailed)]
