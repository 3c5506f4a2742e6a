"""The pure planner: (desired functions, live state) → Plan. No I/O, no clock, no AWS, no words.

Stages per function (`plan_function`):
1. publish  — does `$LATEST` differ from the newest version (code hash, snapshot fields)?
2. resolve  — every selector to a version number, `$LATEST`, or NEW_VERSION (this plan's publish)
3. aliases  — create / update what differs, rollouts one step; unmanaged aliases listed, deleted
              with prune_aliases
4. prune    — retention over the state the plan leads to (contract §3 "Prune")

The planner trusts what manifest validation guarantees (alias references name declared aliases
without cycles; no canary or rollout involves `$LATEST`); it checks only what depends on live
state. Reasons are data (`reconciler.plan`); `reconciler.plan.wording` says them.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from operator import attrgetter

from deepdiff import DeepDiff

from reconciler.aws import LATEST, LiveAlias, LiveFunction, LiveVersion, Snapshot
from reconciler.manifest import (
    AliasRef,
    AliasSpec,
    DescriptionRef,
    FunctionTarget,
    RetentionSpec,
    RolloutSpec,
    Selector,
    Sha256Ref,
    stored_weight,
)
from reconciler.plan import (
    NEW_VERSION,
    Aliased,
    AliasField,
    AliasRecord,
    AliasState,
    AliasWrite,
    CodeChanged,
    ConfigChanged,
    CreateAlias,
    DeleteAlias,
    DeleteVersion,
    FunctionPlan,
    HoldCause,
    InUse,
    KeepReason,
    Kept,
    ManualRollback,
    NewVersion,
    NothingPublished,
    Operation,
    Plan,
    Previous,
    Protected,
    PublishReason,
    PublishVersion,
    RecordProblem,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    RolloutStep,
    Route,
    UnmanagedAlias,
    UpdateAlias,
    VersionNote,
    VersionRef,
    Young,
    version_label,
)
from reconciler.plan.record import describe, moved
from reconciler.planning.rollout import Gates, Rollout, decide, legacy_keys, record_of

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
    # alias → (invocations, errors) of its rollout target since the current step began; read
    # only for rollouts with `gates`, one GetMetricData per region
    metrics: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # alias → (invocations, errors) of the version its rollout moves from, over the same window;
    # read only for gates with `compare_to_previous`, in the same GetMetricData
    previous_metrics: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    # alias → why its rollout's steps forward wait: the runner's clock is off AWS's, or its
    # gate's metrics could not be read (engine/run.py); rollbacks are not held
    holds: Mapping[str, HoldCause] = field(default_factory=dict)
    # traffic hooks (as named) of this function's rollouts that do not exist (GetFunction 404)
    missing_hooks: frozenset[str] = frozenset()


def fingerprint(live: LiveFunction) -> str:
    """Identifies the live state a plan was computed from (contract §5, saved plans)."""
    h = hashlib.sha256()
    h.update(live.latest.revision_id.encode())
    h.update("".join(f"|a:{a.name}={a.revision_id}" for a in live.aliases).encode())
    h.update("".join(f"|v:{v.number}" for v in live.versions).encode())
    return h.hexdigest()[:16]


def same_weight(a: float, b: float) -> bool:
    return stored_weight(a) == stored_weight(b)


def same_state(live: AliasState, desired: AliasState) -> bool:
    if live.version != desired.version:
        return False
    if desired.description is not None and live.description != desired.description:
        return False
    if live.canary is None or desired.canary is None:
        return live.canary is desired.canary
    return live.canary.version == desired.canary.version and same_weight(
        live.canary.weight, desired.canary.weight
    )


# ---- 1. publish --------------------------------------------------------------------------


def publish_reasons(latest: Snapshot, newest: Snapshot) -> tuple[PublishReason, ...]:
    reasons: list[PublishReason] = []
    if latest.code_sha256 != newest.code_sha256:
        reasons.append(CodeChanged(newest.code_sha256, latest.code_sha256))
    changed = tuple(k for k in latest.config if latest.config.get(k) != newest.config.get(k))
    if changed:
        reasons.append(ConfigChanged(changed))
    return tuple(reasons)


def _publish(target: FunctionTarget, live: LiveFunction) -> PublishVersion | None:
    if not target.spec.publishes:
        return None
    newest = live.newest
    latest = live.latest
    reasons: tuple[PublishReason, ...] = (
        (NothingPublished(),)
        if newest is None
        else publish_reasons(latest.snapshot, newest.snapshot)
    )
    if not reasons:
        return None
    return PublishVersion(
        reasons=reasons,
        revision_id=latest.revision_id,
        code_sha256=latest.snapshot.code_sha256,
        code_size=latest.snapshot.code_size,
        description=target.spec.publish_description,
    )


# ---- 2. resolve --------------------------------------------------------------------------


class Resolver:
    """Resolves selectors for one function, in the state this plan leads to."""

    def __init__(self, target: FunctionTarget, live: LiveFunction, publishing: bool) -> None:
        self.target = target
        self.live = live
        self.publishing = publishing
        self.numbers = {v.number for v in live.versions}
        # The version this plan publishes: `$LATEST` as it is, with the description that
        # `publish: {description:}` gives it (PublishVersion's Description overrides $LATEST's).
        described = target.spec.publish_description
        latest = live.latest.snapshot
        self.new = latest if described is None else replace(latest, description=described)

    def resolve(self, alias: str, selector: Selector) -> VersionRef:
        if isinstance(selector, AliasRef):  # validation guarantees a declared alias, no cycle
            return self.resolve(alias, self.target.spec.aliases[selector.alias].version)
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
            return self._latest(alias)
        if isinstance(selector, Sha256Ref):
            return self._match(
                alias, lambda s: s.code_sha256 == selector.sha256, f"sha256 {selector.sha256}"
            )
        if isinstance(selector, DescriptionRef):
            return self._match(
                alias,
                lambda s: s.description == selector.description,
                f"description {selector.description!r}",
            )
        raise PlanError(f"alias {alias}: unsupported selector {selector!r}")

    def _latest(self, alias: str) -> VersionRef:
        if self.publishing:
            return NEW_VERSION
        if self.live.newest is None:
            raise PlanError(
                f"alias {alias}: version `latest` matches nothing: no version is published"
            )
        return str(self.live.newest.number)

    def _match(self, alias: str, test: Callable[[Snapshot], bool], what: str) -> VersionRef:
        """The newest version whose snapshot passes `test`, the one being published first."""
        if self.publishing and test(self.new):
            return NEW_VERSION
        for v in reversed(self.live.versions):
            if test(v.snapshot):
                return str(v.number)
        raise PlanError(f"alias {alias}: no version has {what}")

    def snapshot(self, version: VersionRef) -> Snapshot | None:
        if isinstance(version, NewVersion):
            return self.new
        if version == LATEST:
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


def desired_state(resolver: Resolver, name: str, spec: AliasSpec) -> AliasState:
    version = resolver.resolve(name, spec.version)
    if spec.canary is None:
        return AliasState(version=version, canary=None, description=spec.description)
    cversion = resolver.resolve(name, spec.canary.version)
    if cversion == version:
        raise PlanError(
            f"alias {name}: canary resolves to version {version_label(version)}, "
            "the same as the primary"
        )
    a, b = resolver.snapshot(version), resolver.snapshot(cversion)
    if a and b and (a.role != b.role or a.dead_letter_arn != b.dead_letter_arn):
        what = "execution role" if a.role != b.role else "dead-letter configuration"
        raise PlanError(
            f"alias {name}: versions {version_label(version)} and "
            f"{version_label(cversion)} have a different {what}; "
            "AWS only routes between versions that share both"
        )
    return AliasState(version, Route(cversion, spec.canary.weight), spec.description)


def _resolve_all(resolver: Resolver) -> tuple[dict[str, AliasState], list[str]]:
    desired: dict[str, AliasState] = {}
    errors: list[str] = []
    for name, aspec in resolver.target.spec.aliases.items():
        try:
            desired[name] = desired_state(resolver, name, aspec)
        except PlanError as e:
            errors.append(str(e))
    return desired, errors


# ---- 3. aliases --------------------------------------------------------------------------


def _diffable(state: AliasState, managed_description: bool) -> dict[str, object]:
    d: dict[str, object] = {
        "version": str(state.version),
        "canary": None
        if state.canary is None
        else {
            "version": str(state.canary.version),
            "weight": stored_weight(state.canary.weight),
        },
    }
    if managed_description:
        d["description"] = state.description or ""
    return d


_PATH = re.compile(r"root\['((?:[^'\\]|\\.)*)'\]\['(\w+)'\]")


def changed_fields(
    pairs: Mapping[str, tuple[AliasState, AliasState]],
) -> dict[str, tuple[AliasField, ...]]:
    """Field-level differences of every alias update of one function, with one deepdiff."""
    if not pairs:
        return {}
    before = {a: _diffable(b, w.description is not None) for a, (b, w) in pairs.items()}
    after = {a: _diffable(w, w.description is not None) for a, (_, w) in pairs.items()}
    diff = DeepDiff(before, after)
    found: dict[str, set[str]] = {a: set() for a in pairs}
    for kind in ("values_changed", "type_changes", "dictionary_item_added"):
        for path in diff.get(kind, {}):
            m = _PATH.match(str(path))
            if m and m.group(1) in found:
                found[m.group(1)].add(m.group(2))
    return {a: tuple(f for f in AliasField if f.value in names) for a, names in found.items()}


@dataclass
class _Aliases:
    """What stage 3 produces for one function."""

    writes: list[AliasWrite] = field(default_factory=list)
    rollouts: list[RolloutStatus] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # the aliases as this plan leaves them (mid-rollout included): what retention must keep
    after: dict[str, AliasState] = field(default_factory=dict)


def _plain_alias(
    name: str, current: LiveAlias | None, want: AliasState, record: AliasRecord, now: datetime
) -> tuple[AliasWrite | None, RolloutStatus | None]:
    """An alias without `rollout`: create or update what differs, unless the version the
    manifest names was rolled back (`rollback`, or by hand): that sticks until the manifest
    names another version (or gives the alias a `rollout` with a new `attempt`)."""
    if current is None:
        return CreateAlias(name, want, None, _record(None, want, AliasRecord())), None
    have = AliasState.of(current)
    mark = record.rollout
    held = mark is not None and mark.status == "failed" and mark.attempt == 1
    if held and mark is not None and want.version == mark.target != current.version:
        return None, _rolled_back(name, want, mark, have, RolloutPhase.FAILED)
    back = record.history[:1] == (current.version,) and current.canary is None
    if back and record.at not in (None, current.version) and want.version == record.at:
        # moved back by hand from the version the manifest names: stay, and mark it failed
        assert record.at is not None
        cause = ManualRollback("hand")
        failed = RolloutState(record.at, current.version, 0, now, "failed", cause)
        status = _rolled_back(name, want, failed, have, RolloutPhase.RECORDING_ROLLBACK)
        stay = replace(have, description=want.description)
        marked = AliasRecord(current.version, record.history[1:], failed)
        update = UpdateAlias(name, have, stay, current.revision_id, (), RolloutStep(status), marked)
        return update, status
    if same_state(have, want):
        return None, None
    written = _record(have, want, replace(record, rollout=None))
    return UpdateAlias(name, have, want, current.revision_id, (), None, written), None


def _rolled_back(
    name: str, want: AliasState, mark: RolloutState, live: AliasState, phase: RolloutPhase
) -> RolloutStatus:
    return RolloutStatus(
        name,
        want.version,
        0,
        0,
        0.0,
        phase,
        mark.since,
        cause=mark.cause,
        previous=str(live.version),
        live=live,
    )


def _rollout(
    obs: Observed,
    name: str,
    spec: RolloutSpec,
    want: AliasState,
    now: datetime,
    record: tuple[AliasRecord, RecordProblem | None],
) -> tuple[AliasWrite | None, RolloutStatus, AliasState]:
    """One alias under progressive rollout: at most one step per plan (contract §8)."""
    live = obs.live
    assert live is not None
    missing = [a for a in spec.alarms if a not in obs.alarms]
    if missing:
        raise PlanError(f"alias {name}: rollout alarm {missing[0]} does not exist in {live.region}")
    hooks = (spec.hooks.pre_traffic, spec.hooks.post_traffic) if spec.hooks else (None, None)
    for phase, hook in zip(("pre_traffic", "post_traffic"), hooks, strict=True):
        if hook is not None and hook in obs.missing_hooks:
            raise PlanError(f"alias {name}: {phase} hook {hook} does not exist in {live.region}")
    current = live.alias(name)
    steps, interval = spec.schedule
    decision = decide(
        Rollout(
            alias=name,
            target=want.version,
            steps=tuple(steps),
            interval=timedelta(seconds=min(interval, _MAX_SECONDS)),
            alarms=tuple(spec.alarms),
            description=want.description,
            live=current,
            record=record[0],
            alarm_states=obs.alarms,
            now=now,
            attempt=spec.attempt,
            bake=timedelta(seconds=min(spec.bake or 0, _MAX_SECONDS)),
            hooks=(spec.hooks.pre_traffic, spec.hooks.post_traffic) if spec.hooks else (None, None),
            gates=_gates(spec),
            metrics=obs.metrics.get(name),
            previous_metrics=obs.previous_metrics.get(name),
            versions=live.version_numbers,
            problem=record[1],
            hold=obs.holds.get(name),
        )
    )
    have = AliasState.of(current) if current else None
    if decision.after is None:
        return None, decision.status, have or want
    step = RolloutStep(decision.status)
    rollout = _carried(record[0]) if decision.state is None else decision.state
    if current is None or have is None:
        create = CreateAlias(name, decision.after, step, _record(None, decision.after, record[0]))
        return create, decision.status, decision.after
    keep = decision.state is not None or decision.status.phase is RolloutPhase.FINISHING_ROLLBACK
    written = _record(have, decision.after, replace(record[0], rollout=rollout if keep else None))
    update = UpdateAlias(name, have, decision.after, current.revision_id, (), step, written)
    return update, decision.status, decision.after


def _record(before: AliasState | None, after: AliasState, record: AliasRecord) -> AliasRecord:
    """The record a write leaves: the primary it sets, the history extended when the primary
    moves, and the rollout part given."""
    history = record.history
    if before is not None and before.version != after.version:
        history = moved(history, before.version)
    return AliasRecord(after.version, history, record.rollout)


def _gates(spec: RolloutSpec) -> Gates | None:
    g = spec.gates
    return None if g is None else Gates(g.max_error_rate, g.min_invocations, g.compare_to_previous)


def _aliases(obs: Observed, desired: Mapping[str, AliasState], now: datetime) -> _Aliases:
    live = obs.live
    assert live is not None
    out = _Aliases(after=dict(desired))
    for name, want in desired.items():
        rollout = obs.target.spec.aliases[name].rollout
        record = record_of(live, name)
        if rollout is None:
            write, status = _plain_alias(name, live.alias(name), want, record[0], now)
            if status is not None:
                out.rollouts.append(status)
                out.after[name] = status.live or want
        else:
            try:
                write, status, out.after[name] = _rollout(obs, name, rollout, want, now, record)
            except PlanError as e:
                out.errors.append(str(e))
                continue
            out.rollouts.append(status)
        untag = legacy_keys(live.tags, name) if live.tags_read else ()
        current = live.alias(name)
        if untag and write is None and current is not None:
            unverified = status is not None and status.phase is RolloutPhase.UNVERIFIED
            trusted = not unverified and _exists(record[0], live)
            write = _migration(name, current, record[0], trusted)
        if isinstance(write, UpdateAlias) and untag:
            write = replace(write, untag=untag)
        if write is not None:
            problem = _too_long(name, write)
            if problem:
                out.errors.append(problem)
                continue
            out.writes.append(write)
    out.writes = _with_fields(out.writes)
    out.writes.sort(key=lambda w: (isinstance(w, UpdateAlias), w.alias))
    return out


def _carried(record: AliasRecord) -> RolloutState | None:
    """The rollout state a write carries on into the record. From an earlier release's tags
    (which `TagResource` alone could write), only what can hold traffic or send it back to the
    live primary is carried: a failure mark, or a running step. A `done` or `verifying` state
    would make its `previous` a rollback target the record trusts; it is dropped instead (a
    bake in progress at the upgrade is watched no more)."""
    state = record.rollout
    if state is not None and record.from_tags and state.status in ("done", "verifying"):
        return None
    return state


def _exists(record: AliasRecord, live: LiveFunction) -> bool:
    """The rollout state folded from tags names versions that exist. State that does not is
    not written into the description by a migration (it is dropped with the tags)."""
    s = record.rollout
    versions = live.version_numbers
    return s is None or (str(s.target) in versions and s.previous in versions | {LATEST})


def _migration(name: str, current: LiveAlias, record: AliasRecord, trusted: bool) -> UpdateAlias:
    """An earlier release's tags, with no other write planned for the alias: a write that
    moves nothing and records their state in the description (then the tags are removed).
    State that did not verify is not carried over."""
    have = AliasState.of(current)
    rollout = _carried(record) if trusted else None
    written = AliasRecord(current.version, record.history, rollout)
    return UpdateAlias(name, have, have, current.revision_id, (), None, written)


def _too_long(name: str, write: AliasWrite) -> str:
    """The description a write would leave does not fit (the user's text leaves no room)."""
    user = write.after.description
    if user is None and isinstance(write, UpdateAlias):
        user = write.before.description
    if write.record is None:
        return ""
    try:
        describe(user or "", write.record)
    except ValueError as e:
        return f"alias {name}: {e}"
    return ""


def _with_fields(writes: list[AliasWrite]) -> list[AliasWrite]:
    """Fill in the changed fields of every update, from one field-level diff per function."""
    pairs = {w.alias: (w.before, w.after) for w in writes if isinstance(w, UpdateAlias)}
    fields = changed_fields(pairs)
    return [replace(w, fields=fields[w.alias]) if isinstance(w, UpdateAlias) else w for w in writes]


def _previous(
    target: FunctionTarget,
    live: LiveFunction,
    after_aliases: Mapping[str, AliasState],
    written: Mapping[str, AliasRecord],
) -> dict[int, list[KeepReason]]:
    """The last `keep_previous` versions of each managed alias, as the plan leaves it; and,
    whatever `keep_previous` says, the version a rollout in progress (or verifying, or baking)
    would roll back to, in the record as this plan leaves it (`written`: the records its alias
    writes leave)."""
    retention = target.spec.retention
    keep = retention.keep_previous if retention is not None else 0
    found: dict[int, list[KeepReason]] = {}
    for name in sorted(target.spec.aliases):
        record = record_of(live, name)[0]
        history = record.history
        current, after = live.alias(name), after_aliases.get(name)
        moves = current is not None and after is not None and after.version != current.version
        if current is not None and moves:
            history = moved(history, current.version)  # the plan moves it away
        numbers = [v for v in history if v.isdigit()]
        for n, version in enumerate(numbers[:keep], start=1):
            found.setdefault(int(version), []).append(Previous(name, n))
        state = written[name].rollout if name in written else record.rollout
        if state is not None and state.status != "failed" and state.previous.isdigit():
            reasons = found.setdefault(int(state.previous), [])
            if not any(isinstance(r, Previous) and r.alias == name for r in reasons):
                reasons.append(Previous(name, 1))
    return found


def _prune_aliases(
    target: FunctionTarget, live: LiveFunction
) -> tuple[list[DeleteAlias], tuple[UnmanagedAlias, ...]]:
    """The live aliases the manifest does not name: deleted with `prune_aliases`, unless
    something hangs on them (refused, unless `prune_aliases: force`); else left and listed."""
    prune = target.spec.prune_aliases
    deleted: list[DeleteAlias] = []
    kept: list[UnmanagedAlias] = []
    ties = live.alias_ties or {}
    for a in live.aliases:
        if a.name in target.spec.aliases:
            continue
        state = AliasState.of(a)
        tied = ties.get(a.name, ())
        if prune == "force" or (prune and not tied):
            deleted.append(DeleteAlias(a.name, state))
        else:
            kept.append(UnmanagedAlias(a.name, state, tied if prune else ()))
    return deleted, tuple(kept)


# ---- 4. prune ----------------------------------------------------------------------------


class _Keep:
    """Retention's rules for one function, over the aliases as the plan leaves them."""

    def __init__(
        self,
        retention: RetentionSpec,
        after_aliases: Mapping[str, AliasState],
        in_use: Mapping[int, tuple[str, ...]],
        now: datetime,
        previous: Mapping[int, list[KeepReason]],
        named: Mapping[str, AliasState],
    ) -> None:
        self.previous = previous
        self.retention = retention
        self.now = now
        self.in_use = in_use
        self.protect = frozenset(retention.protect)
        refs: dict[int, list[str]] = {}
        # the aliases as the plan leaves them, and as the manifest names them: a target that
        # is held, or failed and waits for a new attempt, stays
        for states in (after_aliases, named):
            for name, state in sorted(states.items()):
                for v in state.versions():
                    if isinstance(v, str) and v.isdigit() and name not in refs.get(int(v), ()):
                        refs.setdefault(int(v), []).append(name)
        self.aliased = {n: Aliased(tuple(names)) for n, names in refs.items()}
        self.young_since = _young_since(retention.keep_days, now)
        self._young: dict[int, tuple[KeepReason, ...]] = {}  # days old → shared reasons

    def reasons(self, version: LiveVersion) -> tuple[KeepReason, ...]:
        """Why `version` stays; empty when retention deletes it."""
        number = version.number
        young = self.young_since is not None and version.snapshot.last_modified >= self.young_since
        kept = number in self.aliased or number in self.protect or number in self.previous
        if not young and not kept:
            return (InUse(self.in_use[number]),) if number in self.in_use else ()
        why: list[KeepReason] = []
        if number in self.aliased:
            why.append(self.aliased[number])
        if number in self.protect:
            why.append(Protected())
        why.extend(self.previous.get(number, ()))
        if young:
            shared = self._young_reasons(self.age(version))
            if not why and number not in self.in_use:  # the common case: young, nothing else
                return shared
            why.extend(shared)
        if number in self.in_use:
            why.append(InUse(self.in_use[number]))
        return tuple(why)

    def age(self, version: LiveVersion) -> int:
        return max(0, (self.now - version.snapshot.last_modified).days)

    def _young_reasons(self, days: int) -> tuple[KeepReason, ...]:
        reasons = self._young.get(days)
        if reasons is None:
            reasons = self._young[days] = (Young(days, self.retention.keep_days or 0),)
        return reasons


def _young_since(keep_days: int | None, now: datetime) -> datetime | None:
    """Young: modified at or after this (age <= keep_days); None without keep_days."""
    if keep_days is None:
        return None
    try:
        return now - timedelta(days=keep_days)
    except OverflowError:  # reaching back past the calendar's start: every version is young
        return datetime.min.replace(tzinfo=now.tzinfo)


def _retention(
    target: FunctionTarget,
    live: LiveFunction,
    after_aliases: Mapping[str, AliasState],
    publishing: bool,
    now: datetime,
    written: Mapping[str, AliasRecord],
    desired: Mapping[str, AliasState],
) -> tuple[list[DeleteVersion], tuple[Kept, ...]]:
    retention = target.spec.retention
    if retention is None:
        return [], ()
    previous = _previous(target, live, after_aliases, written)
    rules = _Keep(retention, after_aliases, live.in_use or {}, now, previous, desired)
    keep_last = retention.keep_last
    # The version this plan publishes is the newest and counts toward keep_last.
    window = 0 if keep_last is None else max(0, keep_last - 1 if publishing else keep_last)
    newest_first = sorted(live.versions, key=attrgetter("number"), reverse=True)
    deletions: list[DeleteVersion] = []
    kept: list[Kept] = []
    for version in newest_first[window:]:
        reasons = rules.reasons(version)
        if reasons:
            kept.append(Kept(version.number, reasons))
            continue
        deletions.append(
            DeleteVersion(version.number, version.snapshot.code_size, rules.age(version), keep_last)
        )
    deletions.reverse()  # oldest first
    return deletions, tuple(kept)


# ---- one function, and the whole plan ----------------------------------------------------


def _base(obs: Observed) -> FunctionPlan:
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
        return replace(base, errors=(obs.error or "could not be read",))
    return replace(
        base,
        arn=live.arn,
        region=live.region or base.region,
        account=live.account or base.account,
        fingerprint=fingerprint(live),
        storage_before=sum(v.snapshot.code_size for v in live.versions),
    )


def plan_function(obs: Observed, *, now: datetime) -> FunctionPlan:
    base = _base(obs)
    live, target = obs.live, obs.target
    if live is None:
        return base
    publish = _publish(target, live)
    desired, errors = _resolve_all(Resolver(target, live, publish is not None))
    if errors:
        return replace(base, errors=tuple(errors))
    aliases = _aliases(obs, desired, now)
    if aliases.errors:
        return replace(base, errors=tuple(aliases.errors))
    ops: list[Operation] = [publish] if publish is not None else []
    ops += aliases.writes
    deleted, unmanaged = _prune_aliases(target, live)
    ops += deleted
    after = aliases.after
    after.update({u.name: u.state for u in unmanaged})
    written = {w.alias: w.record for w in aliases.writes if w.record is not None}
    deletions, kept = _retention(target, live, after, publish is not None, now, written, desired)
    ops += deletions
    return replace(
        base,
        operations=tuple(ops),
        unmanaged_aliases=unmanaged,
        kept=kept,
        rollouts=tuple(aliases.rollouts),
        version_notes=version_notes(live, ops, now),
    )


def version_notes(
    live: LiveFunction, ops: Sequence[Operation], now: datetime
) -> tuple[VersionNote, ...]:
    """The description and age of each published version an alias's primary moves to or from
    (the versions the plan's words name; a canary's change is said by its weight)."""
    named: set[int] = set()
    for op in ops:
        if isinstance(op, UpdateAlias) and AliasField.VERSION in op.fields:
            states: tuple[AliasState, ...] = (op.before, op.after)
        elif isinstance(op, CreateAlias):
            states = (op.after,)
        else:
            continue
        named.update(
            int(s.version) for s in states if isinstance(s.version, str) and s.version.isdigit()
        )
    notes = []
    for number in sorted(named):
        v = live.version(number)
        if v is not None:
            age = max(0, int((now - v.snapshot.last_modified).total_seconds() // 60))
            notes.append(VersionNote(str(number), v.snapshot.description, age))
    return tuple(notes)


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
        functions = tuple(plan_function(o, now=now) for o in observed)
    return Plan(
        functions=functions,
        manifests=tuple(manifests),
        max_deletions=max_deletions,
        errors=tuple(errors),
    )
