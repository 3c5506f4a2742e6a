"""The pure planner: (desired functions, live state) → Plan. No I/O, no clock, no AWS.

Stages per function:
1. publish  — does `$LATEST` differ from the newest version (code hash, snapshot fields)?
2. resolve  — every selector to a version number, `$LATEST`, or NEW_VERSION (this plan's publish)
3. aliases  — create / update what differs; unmanaged aliases listed, deleted with prune_aliases
4. prune    — retention over the state the plan leads to (contract §3 "Prune")
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter

from deepdiff import DeepDiff

from reconciler.live import LATEST, Canary, LiveFunction, Snapshot
from reconciler.manifest import (
    AliasRef,
    AliasSpec,
    DescriptionRef,
    FunctionTarget,
    RolloutSpec,
    Selector,
    Sha256Ref,
)
from reconciler.plan import (
    NEW_VERSION,
    Action,
    AliasState,
    FunctionPlan,
    Kept,
    Operation,
    Plan,
    RolloutStatus,
    UnmanagedAlias,
)
from reconciler.rollout import RolloutState, decide, tag_key

WEIGHT_DECIMALS = 5
# The manifest bounds no duration: longer than timedelta can hold means "forever".
_MAX_SECONDS = timedelta.max.days * 86400


class PlanError(Exception):
    """A problem that stops planning one function (selector matches nothing, …)."""


@dataclass(frozen=True)
class Observed:
    """What was read for one desired function: its live state, or why it could not be read."""

    target: FunctionTarget
    live: LiveFunction | None
    error: str | None = None
    # CloudWatch alarm states (name → StateValue) in the function's region; read only when a
    # rollout names alarms. A listed alarm missing here does not exist.
    alarms: Mapping[str, str] = field(default_factory=dict)


def fingerprint(live: LiveFunction) -> str:
    """Identifies the live state a plan was computed from (contract §5, saved plans)."""
    h = hashlib.sha256()
    h.update(live.latest.revision_id.encode())
    h.update("".join(f"|a:{a.name}={a.revision_id}" for a in live.aliases).encode())
    h.update("".join(f"|v:{v.number}" for v in live.versions).encode())
    return h.hexdigest()[:16]


def format_weight(weight: float) -> str:
    pct = round(weight * 100, 3)
    return f"{pct:g}%"


def format_state(state: AliasState | None) -> str:
    if state is None:
        return "none"
    text = _version_label(state.version)
    if state.canary:
        text += f" + {_version_label(state.canary.version)} @ {format_weight(state.canary.weight)}"
    return text


def _version_label(version: str) -> str:
    return "new version" if version == NEW_VERSION else version


def _canary_label(canary: Canary | None) -> str:
    if canary is None:
        return "none"
    return f"{_version_label(canary.version)} @ {format_weight(canary.weight)}"


def same_weight(a: float, b: float) -> bool:
    return round(a, WEIGHT_DECIMALS) == round(b, WEIGHT_DECIMALS)


def same_state(live: AliasState, desired: AliasState) -> bool:
    if live.version != desired.version:
        return False
    if desired.description is not None and live.description != desired.description:
        return False
    if (live.canary is None) != (desired.canary is None):
        return False
    if live.canary and desired.canary:
        return live.canary.version == desired.canary.version and same_weight(
            live.canary.weight, desired.canary.weight
        )
    return True


def _diffable(state: AliasState, managed_description: bool) -> dict[str, object]:
    d: dict[str, object] = {
        "version": state.version,
        "canary": None
        if state.canary is None
        else {
            "version": state.canary.version,
            "weight": round(state.canary.weight, WEIGHT_DECIMALS),
        },
    }
    if managed_description:
        d["description"] = state.description or ""
    return d


def describe_changes(before: AliasState, after: AliasState) -> tuple[str, ...]:
    """Field-level differences (computed with deepdiff), as short human lines."""
    managed = after.description is not None
    diff = DeepDiff(
        _diffable(before, managed), _diffable(after, managed), significant_digits=WEIGHT_DECIMALS
    )
    changed: set[str] = set()
    for kind in (
        "values_changed",
        "type_changes",
        "dictionary_item_added",
        "dictionary_item_removed",
    ):
        for path in diff.get(kind, {}):
            changed.add(str(path).split("]")[0].removeprefix("root['").strip("'"))
    lines: list[str] = []
    if "version" in changed:
        lines.append(f"version: {_version_label(before.version)} → {_version_label(after.version)}")
    if "canary" in changed:
        lines.append(f"canary: {_canary_label(before.canary)} → {_canary_label(after.canary)}")
    if "description" in changed:
        lines.append(f"description: {before.description or ''!r} → {after.description or ''!r}")
    return tuple(lines)


def snapshot_differences(latest: Snapshot, newest: Snapshot) -> list[str]:
    diffs: list[str] = []
    if latest.code_sha256 != newest.code_sha256:
        diffs.append(f"code changed: sha256 {newest.code_sha256[:4]}… → {latest.code_sha256[:4]}…")
    changed = [k for k in latest.config if latest.config.get(k) != newest.config.get(k)]
    if changed:
        diffs.append("configuration changed: " + ", ".join(changed))
    return diffs


class _Resolver:
    """Resolves selectors for one function, in the state this plan leads to."""

    def __init__(self, target: FunctionTarget, live: LiveFunction, publishing: bool) -> None:
        self.target = target
        self.live = live
        self.publishing = publishing
        self.numbers = {v.number for v in live.versions}

    def resolve(self, alias: str, selector: Selector, seen: tuple[str, ...] = ()) -> str:
        live = self.live
        if isinstance(selector, bool):  # bool is an int; the manifest model rejects it anyway
            raise PlanError(f"alias {alias}: invalid version {selector!r}")
        if isinstance(selector, int):
            if selector not in self.numbers:
                raise PlanError(
                    f"alias {alias}: version {selector} does not exist "
                    f"(published: {_ranges(sorted(self.numbers))})"
                )
            return str(selector)
        if selector == LATEST:
            return LATEST
        if selector == "latest":
            if self.publishing:
                return NEW_VERSION
            if live.newest is None:
                raise PlanError(
                    f"alias {alias}: version `latest` matches nothing: no version is published"
                )
            return str(live.newest.number)
        if isinstance(selector, AliasRef):
            if selector.alias in seen:
                raise PlanError(f"alias {alias}: alias cycle {' → '.join((*seen, selector.alias))}")
            spec = self.target.spec.aliases.get(selector.alias)
            if spec is None:
                raise PlanError(
                    f"alias {alias}: follows alias {selector.alias}, not in the manifest"
                )
            return self.resolve(alias, spec.version, (*seen, selector.alias))
        if isinstance(selector, Sha256Ref):
            if self.publishing and live.latest.snapshot.code_sha256 == selector.sha256:
                return NEW_VERSION
            for v in reversed(live.versions):
                if v.snapshot.code_sha256 == selector.sha256:
                    return str(v.number)
            raise PlanError(f"alias {alias}: no version has sha256 {selector.sha256}")
        if isinstance(selector, DescriptionRef):
            if self.publishing and live.latest.snapshot.description == selector.description:
                return NEW_VERSION
            for v in reversed(live.versions):
                if v.snapshot.description == selector.description:
                    return str(v.number)
            raise PlanError(f"alias {alias}: no version has description {selector.description!r}")
        raise PlanError(f"alias {alias}: unsupported selector {selector!r}")

    def snapshot(self, version: str) -> Snapshot | None:
        if version in (NEW_VERSION, LATEST):
            return self.live.latest.snapshot
        v = self.live.version(int(version))
        return v.snapshot if v else None


def _ranges(numbers: Sequence[int]) -> str:
    if not numbers:
        return "none"
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


def desired_state(resolver: _Resolver, name: str, spec: AliasSpec) -> AliasState:
    version = resolver.resolve(name, spec.version)
    canary = None
    if spec.canary is not None:
        if version == LATEST:
            raise PlanError(f"alias {name}: a canary cannot route from $LATEST")
        cversion = resolver.resolve(name, spec.canary.version)
        if cversion == LATEST:
            raise PlanError(f"alias {name}: canary version cannot be $LATEST")
        if cversion == version:
            raise PlanError(
                f"alias {name}: canary resolves to version {_version_label(version)}, "
                "the same as the primary"
            )
        a, b = resolver.snapshot(version), resolver.snapshot(cversion)
        if a and b and (a.role != b.role or a.dead_letter_arn != b.dead_letter_arn):
            what = "execution role" if a.role != b.role else "dead-letter configuration"
            raise PlanError(
                f"alias {name}: versions {_version_label(version)} and "
                f"{_version_label(cversion)} have a different {what}; "
                "AWS only routes between versions that share both"
            )
        canary = Canary(version=cversion, weight=spec.canary.weight)
    return AliasState(version=version, canary=canary, description=spec.description)


def plan_function(obs: Observed, *, now: datetime, max_deletions: int) -> FunctionPlan:
    target = obs.target
    base = FunctionPlan(
        key=target.key,
        function=target.name,
        region=target.region or "",
        account=target.account or "",
        source=str(target.location),
    )
    live = obs.live
    if live is None:
        return _replace(base, errors=(obs.error or "could not be read",))
    base = _replace(
        base,
        arn=live.arn,
        region=live.region or base.region,
        account=live.account or base.account,
        fingerprint=fingerprint(live),
        storage_before=sum(v.snapshot.code_size for v in live.versions),
    )
    spec = target.spec
    ops: list[Operation] = []

    # 1. publish
    publishing = False
    if spec.publish:
        newest = live.newest
        reasons = (
            ["no version published yet"]
            if newest is None
            else snapshot_differences(live.latest.snapshot, newest.snapshot)
        )
        if reasons:
            publishing = True
            ops.append(
                Operation(
                    action=Action.PUBLISH_VERSION,
                    version=NEW_VERSION,
                    reason="; ".join(reasons),
                    changes=tuple(reasons),
                    revision_id=live.latest.revision_id,
                    code_sha256=live.latest.snapshot.code_sha256,
                    code_size=live.latest.snapshot.code_size,
                )
            )

    # 2-3. resolve and diff aliases
    resolver = _Resolver(target, live, publishing)
    errors: list[str] = []
    desired: dict[str, AliasState] = {}
    for name, aspec in spec.aliases.items():
        try:
            desired[name] = desired_state(resolver, name, aspec)
        except PlanError as e:
            errors.append(str(e))
    if errors:
        return _replace(base, errors=tuple(errors))

    alias_ops: list[Operation] = []
    rollouts: list[RolloutStatus] = []
    for name, want in list(desired.items()):
        current = live.alias(name)
        rollout = spec.aliases[name].rollout
        if rollout is not None:
            try:
                op, status, after = _rollout(obs, name, rollout, want, now)
            except PlanError as e:
                errors.append(str(e))
                continue
            rollouts.append(status)
            if op is not None:
                alias_ops.append(op)
            # Retention must see the aliases as this plan leaves them, mid-rollout included.
            desired[name] = after
            continue
        if current is None:
            alias_ops.append(
                Operation(
                    action=Action.CREATE_ALIAS,
                    alias=name,
                    after=want,
                    changes=(f"→ {format_state(want)}",),
                )
            )
            continue
        have = AliasState(current.version, current.canary, current.description)
        if not same_state(have, want):
            alias_ops.append(
                Operation(
                    action=Action.UPDATE_ALIAS,
                    alias=name,
                    before=have,
                    after=want,
                    changes=describe_changes(have, want),
                    revision_id=current.revision_id,
                )
            )
    if errors:
        return _replace(base, errors=tuple(errors))
    ops.extend(sorted(alias_ops, key=lambda o: (o.action is Action.UPDATE_ALIAS, o.alias or "")))

    unmanaged = tuple(
        UnmanagedAlias(a.name, AliasState(a.version, a.canary, a.description))
        for a in live.aliases
        if a.name not in spec.aliases
    )
    if spec.prune_aliases:
        for u in unmanaged:
            ops.append(
                Operation(
                    action=Action.DELETE_ALIAS,
                    alias=u.name,
                    before=u.state,
                    changes=(f"{u.name} → {format_state(u.state)} (not in the manifest)",),
                    reason="not in the manifest (prune_aliases: true)",
                )
            )

    # 4. prune — over the aliases as they will be after this plan
    after_aliases: dict[str, AliasState] = dict(desired)
    if not spec.prune_aliases:
        after_aliases.update({u.name: u.state for u in unmanaged})
    deletions, kept = _retention(target, live, after_aliases, publishing, now)
    ops.extend(deletions)
    brake = None
    if len(deletions) > max_deletions:
        brake = (
            f"{len(deletions)} versions would be deleted, more than "
            f"--max-deletions={max_deletions}; apply refuses (check retention, or raise it)"
        )
    return _replace(
        base,
        operations=tuple(ops),
        unmanaged_aliases=unmanaged,
        kept=kept,
        brake=brake,
        rollouts=tuple(rollouts),
    )


def _rollout(
    obs: Observed, name: str, spec: RolloutSpec, want: AliasState, now: datetime
) -> tuple[Operation | None, RolloutStatus, AliasState]:
    """One alias under progressive rollout: at most one step per plan (contract §8)."""
    live = obs.live
    assert live is not None
    if want.version == LATEST:
        raise PlanError(f"alias {name}: a rollout cannot target $LATEST")
    missing = [a for a in spec.alarms if a not in obs.alarms]
    if missing:
        raise PlanError(f"alias {name}: rollout alarm {missing[0]} does not exist in {live.region}")
    current = live.alias(name)
    decision = decide(
        alias=name,
        target=want.version,
        steps=tuple(spec.steps),
        interval=timedelta(seconds=min(spec.interval, _MAX_SECONDS)),
        alarms=tuple(spec.alarms),
        description=want.description,
        live=current,
        state=RolloutState.decode(live.tags.get(tag_key(name))),
        alarm_states=obs.alarms,
        now=now,
    )
    have = AliasState(current.version, current.canary, current.description) if current else None
    after = decision.after or have or want
    if decision.after is None:
        return None, decision.status, after
    state = decision.state.encode() if decision.state else None
    if have is None:
        op = Operation(
            action=Action.CREATE_ALIAS,
            alias=name,
            after=decision.after,
            changes=(f"→ {format_state(decision.after)}",),
            rollout_state=state,
        )
    else:
        op = Operation(
            action=Action.UPDATE_ALIAS,
            alias=name,
            before=have,
            after=decision.after,
            changes=(
                *describe_changes(have, decision.after),
                f"rollout: {decision.status.message}",
            ),
            reason=decision.status.message,
            revision_id=current.revision_id if current else None,
            rollout_state=state,
            rollback_alarm=decision.rollback_alarm,
        )
    return op, decision.status, after


def _retention(
    target: FunctionTarget,
    live: LiveFunction,
    after_aliases: Mapping[str, AliasState],
    publishing: bool,
    now: datetime,
) -> tuple[list[Operation], tuple[Kept, ...]]:
    retention = target.spec.retention
    if retention is None:
        return [], ()
    refs: dict[int, list[str]] = {}
    for name, state in sorted(after_aliases.items()):
        for v in (state.version, state.canary.version if state.canary else None):
            if v is not None and v.isdigit():
                refs.setdefault(int(v), []).append(name)
    in_use = live.in_use or frozenset()
    protect = set(retention.protect)
    # The version this plan publishes is the newest and counts toward keep_last.
    newest_first = sorted(live.versions, key=attrgetter("number"), reverse=True)
    keep_last = retention.keep_last
    window = (keep_last - 1 if publishing else keep_last) if keep_last is not None else None
    deletions: list[Operation] = []
    kept: list[Kept] = []
    # Young: modified at or after `young_since` (age <= keep_days); a keep_days reaching back
    # past the calendar's start makes every version young.
    young_since: datetime | None = None
    if retention.keep_days is not None:
        try:
            young_since = now - timedelta(days=retention.keep_days)
        except OverflowError:
            young_since = datetime.min.replace(tzinfo=now.tzinfo)
    start = max(0, window) if window is not None else 0
    aliased = {n: "aliased by " + ", ".join(names) for n, names in refs.items()}
    outside = f"outside keep_last={keep_last}, " if keep_last is not None else ""
    keep_days = retention.keep_days
    young_text: dict[int, str] = {}  # days old → reason, shared by the versions of that age
    for version in newest_first[start:]:
        number = version.number
        modified = version.snapshot.last_modified
        young = young_since is not None and modified >= young_since
        if not young and number not in aliased and number not in protect and number not in in_use:
            deletions.append(
                Operation(
                    action=Action.DELETE_VERSION,
                    version=str(number),
                    reason=f"{outside}{max(0, (now - modified).days)} days old",
                    code_size=version.snapshot.code_size,
                )
            )
            continue
        why_keep: list[str] = []
        if number in aliased:
            why_keep.append(aliased[number])
        if number in protect:
            why_keep.append("protected")
        if young:
            days = max(0, (now - modified).days)
            text = young_text.get(days)
            if text is None:
                text = young_text[days] = f"young ({days} days old, keep_days={keep_days})"
            if not why_keep and number not in in_use:  # the common case: young, nothing else
                kept.append(Kept(number, text))
                continue
            why_keep.append(text)
        if number in in_use:
            why_keep.append("used by an event source mapping or provisioned concurrency")
        kept.append(Kept(number, "; ".join(why_keep)))
    deletions.reverse()  # oldest first
    return deletions, tuple(kept)


def _replace(fp: FunctionPlan, **changes: object) -> FunctionPlan:
    return replace(fp, **changes)  # type: ignore[arg-type]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Planning allocates many small objects that live as long as the plan; the cyclic
    collector would rescan them and the live state over and over (a third of the CPU time at
    10,000 functions). Garbage with cycles (deepdiff's trees) waits for the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def plan(
    observed: Sequence[Observed],
    *,
    now: datetime,
    max_deletions: int = 100,
    manifests: Sequence[str] = (),
    errors: Sequence[str] = (),
) -> Plan:
    with _no_cycle_collection():
        functions = tuple(plan_function(o, now=now, max_deletions=max_deletions) for o in observed)
    return Plan(
        functions=functions,
        manifests=tuple(manifests),
        max_deletions=max_deletions,
        errors=tuple(errors),
    )
