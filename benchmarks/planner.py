"""CPU time of the pure planner: 10,000 functions x 100 versions, built in memory.

No I/O and no AWS: the `Observed` inputs are constructed directly (as the planner tests do) and
`reconciler.planning.planner.plan` is timed with `time.process_time`. Every function gets its own
`LiveFunction`, target, aliases and revision ids; the 100 `LiveVersion`s are one shared tuple,
which the planner only reads, so building the input stays fast and small.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from reconciler.aws.live import LiveAlias, LiveFunction, LiveLatest, LiveVersion, Snapshot
from reconciler.manifest import FunctionSpec, FunctionTarget, Location
from reconciler.planning import Observed, plan

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
ACCOUNT = "123456789012"
REGION = "us-east-1"
CONFIG = {"runtime": '"python3.12"', "handler": '"index.handler"', "memory": "128"}


@dataclass(frozen=True)
class PlannerResult:
    scenario: str
    functions: int
    versions: int
    operations: int
    cpu_s: float


@dataclass(frozen=True)
class Scenario:
    name: str
    aliases: dict[str, Any]
    retention: dict[str, Any] | None


def scenarios(versions: int) -> list[Scenario]:
    v = versions
    pinned = {"live": {"version": v}, "prev": {"version": v - 1}, "stable": {"version": 1}}
    moved = {**pinned, "prev": {"version": v - 2}}
    return [
        Scenario("in sync, keep_last covers all", pinned, {"keep_last": v}),
        Scenario("one alias moved per function", moved, {"keep_last": v}),
        Scenario("retention keeps (keep_days)", pinned, {"keep_last": 10, "keep_days": 3650}),
        Scenario("retention deletes (keep_last 10)", pinned, {"keep_last": 10}),
    ]


def _snapshot(number: int, versions: int) -> Snapshot:
    return Snapshot(
        code_sha256=f"sha-{number}",
        code_size=1000 + number,
        last_modified=NOW - timedelta(days=versions - number + 1),
        description="",
        role=f"arn:aws:iam::{ACCOUNT}:role/fn",
        dead_letter_arn=None,
        config=CONFIG,
    )


def build(scenario: Scenario, functions: int, versions: int) -> list[Observed]:
    shared = tuple(LiveVersion(n, _snapshot(n, versions)) for n in range(1, versions + 1))
    latest_snapshot = _snapshot(versions, versions)
    live_routes = {"live": str(versions), "prev": str(versions - 1), "stable": "1"}
    spec = FunctionSpec.model_validate(
        {"aliases": scenario.aliases, "retention": scenario.retention}
    )
    observed: list[Observed] = []
    for i in range(functions):
        name = f"bench-{i:05d}"
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        live = LiveFunction(
            name=name,
            arn=arn,
            region=REGION,
            account=ACCOUNT,
            latest=LiveLatest(latest_snapshot, f"rev-{i}"),
            versions=shared,
            aliases=tuple(
                LiveAlias(a, v, None, "", f"rev-{i}-{a}") for a, v in sorted(live_routes.items())
            ),
        )
        target = FunctionTarget(
            key=name,
            name=name,
            region=REGION,
            account=None,
            spec=spec,
            location=Location("bench.yaml", i + 4, 3),
            manifest="bench.yaml",
            allowed_account_ids=None,
        )
        observed.append(Observed(target, live))
    return observed


def time_plan(observed: list[Observed]) -> tuple[float, int]:
    gc.collect()
    start = time.process_time()
    result = plan(observed, now=NOW)
    cpu = time.process_time() - start
    return cpu, sum(len(fp.operations) for fp in result.functions)


def run_planner_benchmarks(functions: int = 10_000, versions: int = 100) -> list[PlannerResult]:
    out: list[PlannerResult] = []
    for s in scenarios(versions):
        observed = build(s, functions, versions)
        cpu, operations = time_plan(observed)
        out.append(PlannerResult(s.name, functions, versions, operations, cpu))
        del observed
    return out
