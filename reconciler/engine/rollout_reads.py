"""What a run reads for its rollouts beyond the functions' live state: the alarms they name
(one DescribeAlarms per region), their traffic hooks (one GetFunction each), their gates'
metrics (one GetMetricData per region), and the holds these imply (contract §9)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from reconciler.aws import LambdaReader, MetricQuery
from reconciler.errors import AwsError
from reconciler.plan import AlarmNoData, HoldCause, MetricsPending, MetricsUnread
from reconciler.planning import NO_DATA, Observed, state_of, tolerance

# How long before the plan's time a gate's metric window ends: CloudWatch publishes Lambda's
# one-minute metrics about two minutes after the minute ends (reference, "CloudWatch metrics
# for rollouts"); a due step waits until its whole interval is in.
METRICS_DELAY = timedelta(minutes=3)
_LOOKBACK = 86400  # seconds: the previous step is read back at most a day (huge intervals)


def read_alarms(aws: LambdaReader, observed: list[Observed]) -> list[Observed]:
    """One batched DescribeAlarms per region, for the alarms that rollouts name."""
    by_region: dict[str, set[str]] = {}
    for o in observed:
        if o.live is None:
            continue
        for a in o.target.spec.aliases.values():
            if a.rollout is not None and a.rollout.alarms:
                by_region.setdefault(o.live.region, set()).update(a.rollout.alarms)
    if not by_region:
        return observed
    states = {region: aws.alarm_states(region, names) for region, names in by_region.items()}
    return [
        replace(o, alarms=states.get(o.live.region, {})) if o.live is not None else o
        for o in observed
    ]


def _hooks(o: Observed) -> set[str]:
    """The traffic hooks (as named) of the function's rollouts."""
    out: set[str] = set()
    for a in o.target.spec.aliases.values():
        hooks = a.rollout.hooks if a.rollout is not None else None
        if hooks is not None:
            out |= {h for h in (hooks.pre_traffic, hooks.post_traffic) if h}
    return out


def read_hooks(aws: LambdaReader, observed: list[Observed], parallelism: int) -> list[Observed]:
    """One GetFunction per distinct traffic hook of the run and region: a hook that does not
    exist is a planning error at plan time, as a missing alarm is, not a failed apply."""
    wanted = sorted({(o.live.region, h) for o in observed if o.live is not None for h in _hooks(o)})
    if not wanted:
        return observed
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        found = list(pool.map(lambda rh: aws.function_exists(rh[1], rh[0] or None), wanted))
    missing = {rh for rh, ok in zip(wanted, found, strict=True) if not ok}
    return [
        replace(o, missing_hooks=frozenset(h for h in _hooks(o) if (o.live.region, h) in missing))
        if o.live is not None
        else o
        for o in observed
    ]


_TARGET, _PREVIOUS = "target", "previous"  # whose counts a metric query reads


def _metric_queries(
    o: Observed, now: datetime
) -> tuple[list[tuple[str, MetricQuery]], dict[str, HoldCause]]:
    """Invocations and Errors of each gated rollout's target over the gate's window, and of
    the version it moves from over the same window when the gates `compare_to_previous`; and
    the holds the window implies (a step time after `now`; a due step whose end CloudWatch
    has not published yet).

    The window runs from the start of the step before the current one (so the step just
    finished is judged again during the next one, and a bake re-reads the last step) to
    `METRICS_DELAY` before `now` (CloudWatch publishes Lambda's metrics minutes late)."""
    if o.live is None:
        return [], {}
    out: list[tuple[str, MetricQuery]] = []
    holds: dict[str, HoldCause] = {}
    for name, a in o.target.spec.aliases.items():
        if a.rollout is None or a.rollout.gates is None:
            continue
        state = state_of(o.live, name)
        if state is None or state.status == "failed" or not isinstance(state.target, str):
            continue
        if state.since > now:  # written by a clock ahead of this plan's: no window to read
            at = state.since.strftime("%Y-%m-%d %H:%M:%S UTC")
            holds[name] = MetricsUnread(f"its step began at {at}, after the plan's time")
            continue
        interval = timedelta(seconds=min(a.rollout.schedule[1], _LOOKBACK))
        due = _step_due(state.since, a.rollout.schedule[1])
        if state.status == "running" and due - tolerance(interval) <= now < due + METRICS_DELAY:
            holds[name] = MetricsPending(due + METRICS_DELAY)
        back = state.step > 1 or state.status == "done"
        start, end = (state.since - interval if back else state.since), now - METRICS_DELAY
        if start >= end:
            continue  # nothing published yet: no data, which holds a due step
        versions = [(_TARGET, state.target)]
        if a.rollout.gates.compare_to_previous:
            versions.append((_PREVIOUS, state.previous))
        out += [
            (whose, MetricQuery(f"{name}|{whose}|{m}", o.target.name, name, v, m, start, end))
            for whose, v in versions
            for m in ("Invocations", "Errors")
        ]
    return out, holds


def _step_due(since: datetime, seconds: int) -> datetime:
    try:
        return since + timedelta(seconds=min(seconds, 10**12))
    except OverflowError:  # past year 9999: never due
        return datetime.max.replace(tzinfo=timezone.utc) - METRICS_DELAY


def no_data_holds(o: Observed) -> Observed:
    """`rollout.insufficient_data: hold`: a rollout whose alarms lack data takes no step."""
    for name, a in o.target.spec.aliases.items():
        if a.rollout is None or a.rollout.insufficient_data != "hold":
            continue
        empty = tuple(x for x in a.rollout.alarms if o.alarms.get(x) == NO_DATA)
        if empty:
            o = _hold(o, name, AlarmNoData(empty))
    return o


def read_metrics(aws: LambdaReader, observed: list[Observed], now: datetime) -> list[Observed]:
    """One GetMetricData per region, for every gated rollout of the run (contract §9).

    A failure is one function's alone: a step time after `now` (from a clock ahead of AWS's)
    is not sent, and when a region's call fails each function's queries
    are sent again on their own; a function whose metrics cannot be read holds its gated
    rollouts (`MetricsUnread`), and every other function, rollbacks included, goes on."""
    by_region: dict[str, list[tuple[int, str, MetricQuery]]] = {}
    out = list(observed)
    for i, o in enumerate(observed):
        queries, holds = _metric_queries(o, now)
        for name, why in holds.items():
            out[i] = _hold(out[i], name, why)
        for whose, q in queries:
            assert o.live is not None
            keyed = replace(q, key=f"{i}|{q.key}")
            by_region.setdefault(o.live.region, []).append((i, whose, keyed))
    for region, items in by_region.items():
        sums = _metric_sums(aws, region, items, out)
        counts: dict[tuple[int, str], dict[str, list[int]]] = {}
        for i, whose, q in items:
            if q.key not in sums:
                continue
            pair = counts.setdefault((i, whose), {}).setdefault(q.alias, [0, 0])
            pair[0 if q.metric == "Invocations" else 1] = int(sums.get(q.key, 0))
        for (i, whose), per_alias in counts.items():
            pairs = {a: (p[0], p[1]) for a, p in per_alias.items()}
            if whose == _TARGET:
                out[i] = replace(out[i], metrics=pairs)
            else:
                out[i] = replace(out[i], previous_metrics=pairs)
    return out


def _metric_sums(
    aws: LambdaReader, region: str, items: list[tuple[int, str, MetricQuery]], out: list[Observed]
) -> dict[str, float]:
    """The region's sums in one call; if it fails, one call per function, and a function whose
    call fails too holds its gated rollouts with the error (in `out`)."""
    try:
        return aws.metric_sums(region, [q for _, _, q in items])
    except AwsError:
        pass
    sums: dict[str, float] = {}
    for i in sorted({i for i, _, _ in items}):
        mine = [q for j, _, q in items if j == i]
        try:
            sums.update(aws.metric_sums(region, mine))
        except AwsError as e:
            for q in mine:
                out[i] = _hold(out[i], q.alias, MetricsUnread(str(e)))
    return sums


def hold_all(o: Observed, why: HoldCause) -> Observed:
    for name, a in o.target.spec.aliases.items():
        if a.rollout is not None:
            o = _hold(o, name, why)
    return o


def _hold(o: Observed, alias: str, why: HoldCause) -> Observed:
    """`o` with `alias`'s rollout held by `why` (a hold already there stays)."""
    return replace(o, holds={alias: why, **o.holds})
