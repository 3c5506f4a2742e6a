"""Orchestration of one run: guard → read live state → plan (pure) → (apply).

Reads are concurrent and bounded by `parallelism`. The only extra reads beyond one
ListVersionsByFunction and one ListAliases per function are: one STS call when a manifest sets
`allowed_account_ids` or names a function by ARN, one GetFunction (the SDK waiter) per
function with `publish: true`, and, only for functions where retention is about to delete
something, the event-source-mapping and provisioned-concurrency listings that can veto a
deletion. What rollouts read beyond live state (alarms, hooks, gate metrics) is in
`rollout_reads`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import partial

from reconciler.aws import CodeStorage, LambdaApi, LambdaReader
from reconciler.engine.accounts import Accounts, at_once, merge_plans
from reconciler.engine.attachments import read_attachments
from reconciler.engine.capacity_reads import read_capacity
from reconciler.engine.edge import with_replicas
from reconciler.engine.reads import read_observed
from reconciler.engine.rollout_reads import (
    hold_all,
    no_data_holds,
    read_alarms,
    read_hooks,
    read_metrics,
)
from reconciler.errors import AwsError, GuardError
from reconciler.manifest import FunctionTarget, LayerTarget, ManifestSet
from reconciler.plan import (
    DEFAULT_STORAGE_WARN,
    FORWARD,
    Action,
    ClockSkew,
    CreateAlias,
    DeleteAlias,
    DeleteVersion,
    FunctionPlan,
    LayerPlan,
    Plan,
    UpdateAlias,
)
from reconciler.plan.wording import rollout_message
from reconciler.planning import (
    Observed,
    ObservedLayer,
    candidates,
    fingerprint,
    plan,
    plan_function,
    plan_layer,
)
from reconciler.planning.waves import hold_waves

Clock = Callable[[], datetime]
# How far this runner's clock may be from AWS's (the `Date` of its responses) before rollout
# steps forward hold (contract §9): well above the estimate's error (about a second) and far
# below the five minutes after which AWS refuses a request's signature.
CLOCK_SKEW_BOUND = 30.0
# From this many functions a run probes first: below it, one function's retries before the
# short-circuit cost less than the probe's call on every run.
PROBE_MIN_FUNCTIONS = 10


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def check_accounts(aws: LambdaReader, targets: Sequence[FunctionTarget | LayerTarget]) -> None:
    """`allowed_account_ids` (contract §6), `target.account`, and function ARNs naming an
    account: one STS call per credential set, before any Lambda call. The account a manifest
    names must be the caller's: the run is planned against the account its credentials are
    for, never silently another."""
    guarded = [t for t in targets if t.allowed_account_ids is not None]
    named = [t for t in targets if t.account is not None]
    if not guarded and not named:
        return
    account = aws.account_id()
    for t in named:
        if t.target is not None and t.account == t.target.account and t.account != account:
            how = f"role {t.target.role_arn}" if t.target.role_arn else "the ambient credentials"
            raise GuardError(
                f"{t.target.location}: target account {t.target.account}: {how} gave "
                f"credentials for account {account}; nothing was read or written"
            )
        if t.account != account:
            raise GuardError(
                f"{t.location}: {t.key} is in account {t.account}, these credentials are for "
                f"{account}; use credentials for {t.account} (nothing was read or written)"
            )
    for t in guarded:
        allowed = t.allowed_account_ids or frozenset()
        if account not in allowed:
            raise GuardError(
                f"{t.manifest}: account {account} is not in allowed_account_ids "
                f"({', '.join(sorted(allowed))}); nothing was read or written"
            )


def _has_rollout(target: FunctionTarget) -> bool:
    return any(a.rollout is not None for a in target.spec.aliases.values())


def _read(aws: LambdaReader, target: FunctionTarget) -> Observed:
    try:
        live = aws.read_function(target.key, target.region, wait=target.spec.publishes)
        if _has_rollout(target):
            tags = aws.function_tags(target.key, target.region, live.arn)
            live = replace(live, tags=tags, tags_read=True)
    except AwsError as e:
        if e.everywhere:
            raise
        if e.code == "ResourceNotFoundException":
            where = target.region or aws.default_region or "the default region"
            return Observed(target, None, f"function {target.name} not found in {where}")
        return Observed(target, None, str(e))
    return Observed(target, live)


@dataclass(frozen=True)
class ReadProgress:
    """One more function's live state read: how far the reads are, in all and in its region."""

    done: int
    total: int
    region: str
    region_done: int
    region_total: int


OnRead = Callable[[ReadProgress], None]


class _Tally:
    """Counts the functions read, per region, for an `OnRead` callback (called from any
    reading thread, one call at a time)."""

    def __init__(self, aws: LambdaReader, targets: Sequence[FunctionTarget], report: OnRead):
        self._regions = [t.region or aws.default_region or "" for t in targets]
        self._totals: dict[str, int] = {}
        for r in self._regions:
            self._totals[r] = self._totals.get(r, 0) + 1
        self._done: dict[str, int] = {}
        self._lock = threading.Lock()
        self._report = report

    def read(self, i: int) -> None:
        region = self._regions[i]
        with self._lock:
            self._done[region] = self._done.get(region, 0) + 1
            done = sum(self._done.values())
            self._report(
                ReadProgress(
                    done, len(self._regions), region, self._done[region], self._totals[region]
                )
            )


def read_all(
    aws: LambdaReader,
    targets: Sequence[FunctionTarget],
    parallelism: int,
    progress: OnRead | None = None,
) -> list[Observed]:
    """Per function, or one ListFunctions sweep per region (`--read-mode`, engine/reads.py).

    A failure that awaits every call (no credentials, an expired token, an unreachable
    endpoint) is raised once: the reads not yet started are skipped, not each one failed.
    `progress` hears of each function read (a progress bar on a terminal)."""
    stop = threading.Event()

    def read(target: FunctionTarget) -> Observed:
        if stop.is_set():
            return Observed(target, None, "not read: the run stopped")
        try:
            return _read(aws, target)
        except AwsError:
            stop.set()
            raise

    tally = None if progress is None else _Tally(aws, targets, progress)
    return read_observed(aws, targets, parallelism, read, None if tally is None else tally.read)


def clock_skew(aws: LambdaReader) -> ClockSkew | None:
    """The runner's clock against AWS's, when they differ by more than `CLOCK_SKEW_BOUND`."""
    offset = aws.clock_offset()
    if offset is None or abs(offset) <= CLOCK_SKEW_BOUND:
        return None
    return ClockSkew(offset, CLOCK_SKEW_BOUND)


def aws_now(aws: LambdaReader) -> datetime:
    """AWS's time: this runner's clock corrected by the offset of AWS's `Date` headers."""
    return utcnow() + timedelta(seconds=aws.clock_offset() or 0.0)


def _enrich(aws: LambdaReader, obs: Observed, fp: FunctionPlan) -> Observed:
    """Read what can veto this function's deletions (event source mappings and provisioned
    concurrency for versions, what hangs on each alias about to be deleted), and its tags: an
    earlier release's alias history, migrated into the records."""
    live = obs.live
    assert live is not None
    if not live.tags_read:
        tags = aws.function_tags(obs.target.key, obs.target.region, live.arn)
        live = replace(live, tags=tags, tags_read=True)
    if fp.count(Action.DELETE_VERSION):
        in_use = aws.versions_in_use(obs.target.key, obs.target.region, live.arn)
        live = replace(live, in_use=in_use)
    doomed = [op.alias for op in fp.operations if isinstance(op, DeleteAlias)]
    if doomed and obs.target.spec.prune_aliases is True:  # `force` deletes whatever hangs on it
        ties = aws.alias_ties(obs.target.key, obs.target.region, live.arn, doomed)
        live = replace(live, alias_ties=ties)
    return replace(obs, live=live)


def _read_layer(aws: LambdaReader, target: LayerTarget, now: datetime) -> ObservedLayer:
    """The layer's versions; then, for the versions retention would delete, their size and
    policy (usage is read per region by `plan_layers`)."""
    region = target.region or aws.default_region or ""
    try:
        versions = aws.list_layer_versions(target.key, target.region)
        obs = ObservedLayer(target, region, versions)
        doomed = {v.number for v in candidates(obs, now)}
        versions = tuple(
            replace(v, code_size=aws.layer_version_size(target.key, target.region, v.number))
            if v.number in doomed
            else v
            for v in versions
        )
        policies = {
            n: p
            for n in sorted(doomed)
            if (p := aws.layer_version_policy(target.key, target.region, n)) is not None
        }
    except AwsError as e:
        return ObservedLayer(target, region, error=str(e))
    return ObservedLayer(target, region, versions, policies=policies)


def _without(usage: dict[str, tuple[str, ...]], gone: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """The layer usage once the function versions `gone` ("name:version") are deleted."""
    if not gone:
        return usage
    left = {arn: tuple(u for u in users if u not in gone) for arn, users in usage.items()}
    return {arn: users for arn, users in left.items() if users}


def deleted_versions(functions: Sequence[FunctionPlan]) -> dict[str, frozenset[str]]:
    """Per region, the function versions ("name:version") a plan deletes."""
    out: dict[str, set[str]] = {}
    for fp in functions:
        for op in fp.operations:
            if isinstance(op, DeleteVersion):
                out.setdefault(fp.region, set()).add(f"{fp.function}:{op.version}")
    return {region: frozenset(users) for region, users in out.items()}


def plan_layers(
    aws: LambdaReader,
    targets: Sequence[LayerTarget],
    now: datetime,
    parallelism: int,
    deleting: Mapping[str, frozenset[str]] | None = None,
) -> tuple[LayerPlan, ...]:
    """Layer retention: list each layer's versions; only in a region where some version could
    be deleted, list the region's function versions once (ListFunctions FunctionVersion=ALL) to
    see which layer versions they use. A use by a function version this same plan deletes
    (`deleting`, per region) does not keep a layer version: apply deletes function versions
    first and lists the usage again before each layer deletion, so retention converges in one
    apply and a function deletion that fails keeps the layer version."""
    deleting = deleting or {}
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        observed = list(pool.map(lambda t: _read_layer(aws, t, now), targets))
    regions = sorted({o.region for o in observed if o.error is None and candidates(o, now)})
    usage: dict[str, dict[str, tuple[str, ...]]] = {}
    errors: dict[str, str] = {}
    for region in regions:
        try:
            usage[region] = _without(
                aws.layer_usage(region or None), deleting.get(region, frozenset())
            )
        except AwsError as e:
            errors[region] = str(e)
    return tuple(
        plan_layer(
            replace(o, usage=usage.get(o.region, {}), error=errors.get(o.region, o.error)), now
        )
        for o in observed
    )


def read_storage(aws: LambdaReader, regions: Sequence[str]) -> tuple[CodeStorage, ...]:
    """GetAccountSettings once per region of the run: code storage used and its quota."""
    return tuple(aws.code_storage(r or None) for r in sorted(set(regions)))


def with_default_region(manifests: ManifestSet, region: str | None) -> ManifestSet:
    """Every function and layer whose manifest names no region gets the run's default one
    (`--region`, else the SDK's: AWS_REGION, the profile), so that the plan names the region
    actually used, even for a function that could not be read. A manifest's region wins."""
    if not region:
        return manifests
    return replace(
        manifests,
        functions=tuple(t if t.region else replace(t, region=region) for t in manifests.functions),
        layers=tuple(t if t.region else replace(t, region=region) for t in manifests.layers),
    )


def build_plan(
    manifests: ManifestSet,
    aws: LambdaReader | Accounts,
    *,
    parallelism: int = 8,
    max_deletions: int = 100,
    clock: Clock | None = None,
    storage_warn: float = DEFAULT_STORAGE_WARN,
    progress: OnRead | None = None,
) -> Plan:
    """Read live state and plan; `progress` hears of each function read. The plan's time is
    `clock` (the test clock), else AWS's (`aws_now`): then a runner whose clock is more than
    `CLOCK_SKEW_BOUND` off AWS's takes no rollout step forward (`ClockSkew`).

    With `Accounts` reaching several accounts, every account is checked before any is read,
    then all are planned at once (engine/accounts.py), each by its own credentials."""
    if isinstance(aws, Accounts):
        if not aws.several:
            aws = aws.ambient
        else:
            groups = check_all(aws, manifests)
            counted = _counted(progress, len(manifests.functions))
            plans = at_once(
                [
                    partial(
                        _build_plan,
                        part,
                        api,
                        parallelism,
                        max_deletions,
                        clock,
                        storage_warn,
                        counted,
                    )
                    for api, part in groups
                ]
            )
            return merge_plans(manifests, plans)
    return _build_plan(
        manifests, aws, parallelism, max_deletions, clock, storage_warn, progress, checked=False
    )


def check_all(accounts: Accounts, manifests: ManifestSet) -> list[tuple[LambdaApi, ManifestSet]]:
    """The manifests per set of credentials, once every set is checked against the accounts
    its manifests name (all of them before any Lambda call in any account)."""
    groups = accounts.split(manifests)
    at_once([partial(check_accounts, api, [*part.functions, *part.layers]) for api, part in groups])
    return groups


def _counted(progress: OnRead | None, total: int) -> OnRead | None:
    """One count of the reads across accounts: each account's reads report to one bar."""
    if progress is None:
        return None
    lock = threading.Lock()
    done = [0]

    def report(p: ReadProgress) -> None:
        with lock:
            done[0] += 1
            progress(replace(p, done=done[0], total=total))

    return report


def _build_plan(
    manifests: ManifestSet,
    aws: LambdaReader,
    parallelism: int,
    max_deletions: int,
    clock: Clock | None,
    storage_warn: float,
    progress: OnRead | None,
    *,
    checked: bool = True,
) -> Plan:
    manifests = with_default_region(manifests, aws.default_region)
    functions = _build_function_plan(
        manifests, aws, parallelism, max_deletions, clock, progress, checked=checked
    )
    deleting = deleted_versions(functions.functions)
    layers = plan_layers(
        aws, manifests.layers, clock() if clock else aws_now(aws), parallelism, deleting
    )
    regions = [fp.region for fp in functions.functions] + [lp.region for lp in layers]
    if not regions and aws.default_region:
        regions = [aws.default_region]
    storage = read_storage(aws, regions)
    return replace(functions, layers=layers, storage=storage, storage_warn=storage_warn)


def _build_function_plan(
    manifests: ManifestSet,
    aws: LambdaReader,
    parallelism: int,
    max_deletions: int,
    clock: Clock | None,
    progress: OnRead | None = None,
    *,
    checked: bool = False,
) -> Plan:
    if not checked:
        check_accounts(aws, [*manifests.functions, *manifests.layers])
    if len(manifests.functions) >= PROBE_MIN_FUNCTIONS:
        # One single-attempt call first: a run-wide failure is reported at once.
        probed = manifests.functions[0]
        aws.probe(probed.key, probed.region)
    observed = read_all(aws, manifests.functions, parallelism, progress)
    observed = read_attachments(aws, observed, parallelism)
    observed = read_capacity(aws, observed, parallelism)
    observed = read_alarms(aws, observed)
    observed = read_hooks(aws, observed, parallelism)
    now = clock() if clock is not None else aws_now(aws)
    observed = read_metrics(aws, observed, now)
    observed = [no_data_holds(o) for o in observed]
    skew = None if clock is not None else clock_skew(aws)
    if skew is not None:  # every rollout waits where it stands; the test clock is exempt
        observed = [hold_all(o, skew) for o in observed]
    first = plan(observed, now=now, max_deletions=max_deletions, manifests=manifests.paths)
    first, observed = hold_waves(first, observed, now)  # `waves:` (planning/waves.py)
    deleting = [i for i, fp in enumerate(first.functions) if fp.deletions]
    if not deleting:
        return first
    # Only functions about to lose versions or aliases pay for the reads that can veto a
    # deletion (and for their tags: an earlier release's alias history, migrated); then they
    # are planned again with them. A move costs no read: its record is in the alias.
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        enriched = list(pool.map(lambda i: _enrich(aws, observed[i], first.functions[i]), deleting))
    enriched = with_replicas(aws, enriched, [first.functions[i] for i in deleting])  # Lambda@Edge
    functions = list(first.functions)
    for i, obs in zip(deleting, enriched, strict=True):
        functions[i] = plan_function(obs, now=now)
    return replace(first, functions=tuple(functions))


def refuse_if_stale(saved: Plan, aws: LambdaReader | Accounts, *, parallelism: int) -> None:
    """A saved plan applies only to the live state it was computed from (contract §5); over
    several accounts, each function's recorded account selects its credentials (all checked
    before any is read)."""
    if isinstance(aws, Accounts):
        groups = aws.split_plan(saved)
        at_once([partial(_check_saved_accounts, part, api) for api, part in groups])
        at_once([partial(_refuse_if_stale, part, api, parallelism) for api, part in groups])
        return
    _check_saved_accounts(saved, aws)
    _refuse_if_stale(saved, aws, parallelism)


def _check_saved_accounts(saved: Plan, aws: LambdaReader) -> None:
    todo = [fp for fp in saved.functions if fp.operations]
    layer_accounts = {op.arn.split(":")[4] for lp in saved.layers for op in lp.operations}
    if not todo and not layer_accounts:
        return
    account = aws.account_id()
    for other in sorted(layer_accounts - {account}):
        raise GuardError(
            f"the plan deletes layer versions in account {other}, these credentials are for "
            f"{account}; nothing was written"
        )
    for fp in todo:
        if fp.account and fp.account != account:
            raise GuardError(
                f"{fp.function}: the plan was made for account {fp.account}, "
                f"these credentials are for {account}; nothing was written"
            )


def _refuse_if_stale(saved: Plan, aws: LambdaReader, parallelism: int) -> None:
    todo = [fp for fp in saved.functions if fp.operations]

    def current(fp_key: tuple[str, str]) -> str:
        return fingerprint(aws.read_function(fp_key[0], fp_key[1] or None))

    keys = [(fp.key, fp.region) for fp in todo]
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        now = list(pool.map(current, keys))
    stale = [fp.function for fp, f in zip(todo, now, strict=False) if f != fp.fingerprint]
    if stale:
        raise GuardError(
            f"the saved plan is stale: {', '.join(stale)} changed since it was planned; "
            "run plan again (nothing was written)"
        )


def gated_steps(saved: Plan) -> list[tuple[FunctionPlan, str]]:
    """The rollout steps of a saved plan that move traffic forward on metric gates: (the
    function's plan, the alias)."""
    return [
        (fp, op.alias)
        for fp in saved.functions
        for op in fp.operations
        if isinstance(op, CreateAlias | UpdateAlias)
        and op.rollout is not None
        and op.rollout.status.phase in FORWARD
        and op.rollout.status.gates is not None
    ]


def recheck_rollouts(
    saved: Plan,
    manifests: ManifestSet,
    aws: LambdaReader | Accounts,
    *,
    parallelism: int,
    clock: Clock | None = None,
) -> list[str]:
    """A saved plan's forward steps on metric gates, planned again now from live state, the
    gates' metrics and the alarms (contract §9, saved plans): one line for each step the fresh
    plan would not take the same way (a gate that now fails or lacks data, an alarm); [] when
    every one stands."""
    steps = gated_steps(saved)
    if not steps:
        return []
    keys = {(fp.key, fp.region) for fp, _ in steps}
    targets = tuple(t for t in manifests.functions if (t.key, t.region or "") in keys)
    missing = keys - {(t.key, t.region or "") for t in targets}
    problems = [
        f"{key}: the saved plan moves it on metric gates, and the manifests do not name it "
        "any more; run plan again"
        for key, _ in sorted(missing)
    ]
    chosen = replace(manifests, functions=targets, layers=())
    if isinstance(aws, Accounts):
        groups = check_all(aws, chosen)
        fresh = [
            fp
            for p in at_once(
                [
                    partial(
                        _build_function_plan,
                        part,
                        api,
                        parallelism,
                        saved.max_deletions,
                        clock,
                        checked=True,
                    )
                    for api, part in groups
                ]
            )
            for fp in p.functions
        ]
    else:
        fresh = list(
            _build_function_plan(chosen, aws, parallelism, saved.max_deletions, clock).functions
        )
    now = {(fp.account, fp.key, fp.region): {s.alias: s for s in fp.rollouts} for fp in fresh}
    for fp, alias in steps:
        then = next(s for s in fp.rollouts if s.alias == alias)
        current = now.get((fp.account, fp.key, fp.region), {}).get(alias)
        if current is None or (current.phase, current.step) != (then.phase, then.step):
            said = "not planned" if current is None else rollout_message(current)
            problems.append(
                f"{fp.function}:{alias}: read again now, the rollout is {said} (the saved plan: "
                f"{rollout_message(then)}); run plan again"
            )
    return problems
