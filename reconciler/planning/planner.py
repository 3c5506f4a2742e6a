"""The pure planner: (desired functions, live state) → Plan. No I/O, no clock, no AWS, no words.

Stages per function (`plan_function`):
1. publish  — does `$LATEST` differ from the newest version (code hash, snapshot fields)?
2. resolve  — every selector to a version number, `$LATEST`, or NEW_VERSION (this plan's
              publish): `resolve.py`
3. aliases  — create / update what differs, rollouts one step (`rollout.py` decides each);
              unmanaged aliases listed, deleted with prune_aliases
4. prune    — retention over the state the plan leads to (contract §3 "Prune"): `retention.py`

The planner trusts what manifest validation guarantees (alias references name declared aliases
without cycles; no canary or rollout involves `$LATEST`); it checks only what depends on live
state. Reasons are data (`reconciler.plan`); `reconciler.plan.wording` says them.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from deepdiff import DeepDiff

from reconciler.aws import LATEST, LiveAlias, LiveFunction, Snapshot
from reconciler.manifest import (
    FunctionTarget,
    RolloutSpec,
    stored_weight,
)
from reconciler.plan import (
    AliasField,
    AliasRecord,
    AliasState,
    AliasWrite,
    CodeChanged,
    ConfigChanged,
    CreateAlias,
    DeleteAlias,
    FunctionPlan,
    HoldCause,
    ManualRollback,
    NothingPublished,
    Operation,
    Plan,
    PublishReason,
    PublishVersion,
    RecordProblem,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    RolloutStep,
    UnmanagedAlias,
    UpdateAlias,
    VersionNote,
)
from reconciler.plan.record import describe, moved
from reconciler.planning.attachments import plan_attachments
from reconciler.planning.capacity import capacity_failure, plan_capacity, with_capacity
from reconciler.planning.resolve import PlanError, Resolver, resolve_all
from reconciler.planning.retention import prune
from reconciler.planning.rollout import Gates, Rollout, decide, legacy_keys, record_of

# The manifest bounds no duration: longer than timedelta can hold means "forever".
_MAX_SECONDS = timedelta.max.days * 86400


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
    # gate's metrics could not be read (engine/rollout_reads.py); rollbacks are not held
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
        snapstart=latest.snapstart,
    )


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
    failure = capacity_failure(obs.target, live, name, want, record[0], now)
    if failure is not None:  # the target's provisioned concurrency FAILED: no traffic moves
        return failure[0], failure[1], failure[0].before
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
    desired, errors = resolve_all(Resolver(target, live, publish is not None))
    if errors:
        return replace(base, errors=tuple(errors))
    held = with_capacity(target, live, desired)
    if held:  # a move waits for the new version's provisioned concurrency: rollouts hold
        obs = replace(obs, holds={**held, **obs.holds})
    aliases = _aliases(obs, desired, now)
    if aliases.errors:
        return replace(base, errors=tuple(aliases.errors))
    ops: list[Operation] = [publish] if publish is not None else []
    capacity = plan_capacity(target, live, aliases.writes, aliases.rollouts, aliases.after)
    ops += capacity.ops
    attached = plan_attachments(target, live)
    ops += attached.writes + attached.removals
    deleted, unmanaged = _prune_aliases(target, live)
    ops += deleted
    after = capacity.after
    after.update({u.name: u.state for u in unmanaged})
    written = {
        op.alias: op.record
        for op in capacity.ops
        if isinstance(op, CreateAlias | UpdateAlias) and op.record is not None
    }
    deletions, kept = prune(target, live, after, publish is not None, now, written, desired)
    ops += deletions
    return replace(
        base,
        operations=tuple(ops),
        unmanaged_aliases=unmanaged,
        kept=kept,
        rollouts=tuple(aliases.rollouts),
        version_notes=version_notes(live, ops, now),
        warnings=tuple(attached.warnings) or None,
        snapstart_versions=snapstart_versions(live, ops),
    )


def snapstart_versions(live: LiveFunction, ops: Sequence[Operation]) -> tuple[str, ...]:
    """The published SnapStart versions that the alias writes route to and that no alias
    routes to yet: the executor reads each one's State before moving an alias to it."""
    routed = {v for a in live.aliases for v in (a.version, a.canary.version if a.canary else "")}
    out: set[str] = set()
    for op in ops:
        if isinstance(op, CreateAlias | UpdateAlias):
            for v in op.after.versions():
                name = str(v)
                known = live.version(int(name)) if name.isdigit() else None
                snapstart = known is not None and (known.snapstart or live.latest.snapstart)
                if snapstart and name not in routed:
                    out.add(name)
    return tuple(sorted(out, key=int))


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
