"""Provisioned concurrency declared on aliases (`provisioned_concurrency: N`): what differs from
the live configs, as `SetProvisionedConcurrency` operations, and what an alias's move must wait
for. Pure.

Where an alias's capacity lives: its alias-level config if it has one, else the version-level
config of its primary version (`capacity_of`). Outside a move, a change is planned on that
qualifier (a fresh alias: the alias itself), only for an alias without routing (Lambda manages
no provisioned concurrency on an alias with routing). An alias without the key is left alone.

During a move (a rollout, or a plain change of version: a one-step move) capacity lives on
VERSIONS:

1. N is put on the version V the alias moves to, and no traffic moves to V before its config is
   READY: a rollout holds (`CapacityAllocating`, "allocating A/N"), a plain alias's write is
   left for a later plan;
2. an alias-level config (an imported alias, the first move) is replaced by a version-level one
   on the version it leaves, right before the write that moves the primary (AWS's behaviour
   when an alias with a config is repointed to a version with its own is undocumented: one
   config per version, so that case is never made);
3. the version the alias left keeps its config until the rollout is done (bake and post-traffic
   hook passed), so a rollback returns to a version with capacity; then it is deleted;
4. a rolled-back rollout's target loses its config after the traffic is back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.aws import LiveFunction, LiveProvisioned, capacity_of
from reconciler.manifest import FunctionTarget
from reconciler.plan import (
    AliasField,
    AliasRecord,
    AliasState,
    AliasWrite,
    CapacityAllocating,
    CapacityFailed,
    CapacityReason,
    CreateAlias,
    Operation,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    RolloutStep,
    SetProvisionedConcurrency,
    UpdateAlias,
)

_BACK = frozenset(
    {
        RolloutPhase.ROLLING_BACK,
        RolloutPhase.FINISHING_ROLLBACK,
        RolloutPhase.RECORDING_ROLLBACK,
        RolloutPhase.FAILED,
    }
)
_PROMOTES = frozenset({RolloutPhase.PROMOTING, RolloutPhase.SWITCHING, RolloutPhase.STARTING})


def declares_capacity(target: FunctionTarget) -> bool:
    """Whether any alias of the function declares `provisioned_concurrency` (then its configs
    are read: one ListProvisionedConcurrencyConfigs)."""
    return any(a.provisioned_concurrency is not None for a in target.spec.aliases.values())


def _sizing(live: LiveFunction, version: str) -> tuple[int, bool]:
    """The memory (MB) and whether arm64, of a version (else of `$LATEST`): for the cost."""
    snapshot = live.latest.snapshot
    if version.isdigit():
        v = live.version(int(version))
        if v is not None:
            snapshot = v.snapshot
    try:
        memory = int(json.loads(snapshot.config.get("memory", "0")))
    except (TypeError, ValueError):
        memory = 0
    return memory, "arm64" in snapshot.config.get("architectures", "")


def _op(
    live: LiveFunction,
    alias: str,
    qualifier: str,
    before: int,
    after: int,
    why: CapacityReason,
    version: str | None = None,
) -> SetProvisionedConcurrency:
    memory, arm = _sizing(live, version or qualifier)
    return SetProvisionedConcurrency(alias, qualifier, before, after, memory, arm, why)


def _requested(c: LiveProvisioned | None) -> int:
    """What a config provides: a FAILED allocation provides nothing."""
    return 0 if c is None or c.status == "FAILED" else c.requested


def _on_version(configs: Sequence[LiveProvisioned], version: str) -> LiveProvisioned | None:
    return next((c for c in configs if c.qualifier == version and c.on_version), None)


def _ready(configs: Sequence[LiveProvisioned], version: str, want: int) -> bool:
    c = _on_version(configs, version)
    return c is not None and c.status == "READY" and c.requested >= want


def _moving_to(
    target: FunctionTarget, live: LiveFunction, name: str, want: AliasState
) -> str | None:
    """The version an alias declaring N > 0 is to move traffic to (None: no move, or no
    capacity to carry; "" when it is the version this plan publishes)."""
    spec = target.spec.aliases[name]
    current = live.alias(name)
    if not spec.provisioned_concurrency or current is None or live.provisioned is None:
        return None
    version = want.version
    if not isinstance(version, str):
        return ""  # this plan's new version: no config can be on it yet
    if version == current.version and current.canary is None:
        return None
    return version if version.isdigit() else None


def capacity_holds(
    target: FunctionTarget, live: LiveFunction, desired: Mapping[str, AliasState]
) -> dict[str, CapacityAllocating]:
    """Alias → why its move waits: the version it moves to has not got its declared
    provisioned concurrency READY. A rollout holds with it; a plain alias is not written."""
    configs = live.provisioned or ()
    out: dict[str, CapacityAllocating] = {}
    for name, want in desired.items():
        version = _moving_to(target, live, name, want)
        count = target.spec.aliases[name].provisioned_concurrency or 0
        if version is None or (version and _ready(configs, version, count)):
            continue
        c = _on_version(configs, version) if version else None
        out[name] = CapacityAllocating(version, 0 if c is None else c.allocated, count)
    return out


@dataclass
class CapacityPlan:
    """The alias writes with the capacity operations in their places, and the aliases as the
    plan leaves them (a plain alias's move held for capacity stays where it is)."""

    ops: list[Operation] = field(default_factory=list)
    after: dict[str, AliasState] = field(default_factory=dict)


def plan_capacity(
    target: FunctionTarget,
    live: LiveFunction,
    writes: Sequence[AliasWrite],
    rollouts: Sequence[RolloutStatus],
    after: Mapping[str, AliasState],
) -> CapacityPlan:
    """Every write in order, each preceded by the capacity changes that must come before it;
    then the capacity changes that follow the writes."""
    out = CapacityPlan(after=dict(after))
    configs = live.provisioned
    if configs is None:
        out.ops = list(writes)
        return out
    status = {r.alias: r for r in rollouts}
    holds = capacity_holds(target, live, {w.alias: w.after for w in writes})
    later: list[SetProvisionedConcurrency] = []
    for w in writes:
        spec = target.spec.aliases.get(w.alias)
        count = spec.provisioned_concurrency if spec is not None else None
        if not count or not isinstance(w, UpdateAlias) or w.rollout is not None:
            out.ops.append(w)
            continue
        # a plain alias with capacity: a one-step move
        hold = holds.get(w.alias)
        if hold is not None and AliasField.VERSION in w.fields:
            out.after[w.alias] = w.before
            if hold.version:
                later.append(_put_on_target(live, w.alias, hold.version, count, configs))
            continue
        out.ops += _converted(live, w, count, configs, keep_left=False)
        out.ops.append(w)
        left = str(w.before.version)
        c = _on_version(configs, left)
        moved = AliasField.VERSION in w.fields and c is not None
        if moved and c is not None and not _routed(live, left, out.after):
            later.append(_op(live, w.alias, left, c.requested, 0, CapacityReason.MOVED_FROM))
    for name, r in status.items():
        spec = target.spec.aliases.get(name)
        count = spec.provisioned_concurrency if spec is not None else None
        if count:
            later += _rollout_capacity(live, name, r, count, configs, out)
    later += _steady(target, live, writes, out.after)
    later += _left(target, live, status, out.after, configs)
    out.ops += later
    return out


def _put_on_target(
    live: LiveFunction, alias: str, version: str, count: int, configs: Sequence[LiveProvisioned]
) -> SetProvisionedConcurrency:
    c = _on_version(configs, version)
    return _op(live, alias, version, _requested(c), count, CapacityReason.MOVE_TARGET)


def _converted(
    live: LiveFunction,
    w: UpdateAlias,
    count: int,
    configs: Sequence[LiveProvisioned],
    *,
    keep_left: bool = True,
) -> list[SetProvisionedConcurrency]:
    """Before a write that moves the primary of an alias carrying its own config: that config
    deleted, and (a rollout: `keep_left`) the same capacity put on the version it leaves, kept
    until the rollout is done, so that a rollback during its bake returns to capacity."""
    if AliasField.VERSION not in w.fields:
        return []
    own = next((c for c in configs if c.qualifier == w.alias), None)
    if own is None:
        return []
    left = str(w.before.version)
    ops = [_op(live, w.alias, w.alias, own.requested, 0, CapacityReason.CONVERTED, left)]
    if keep_left and left.isdigit() and _on_version(configs, left) is None:
        ops.append(_op(live, w.alias, left, 0, count, CapacityReason.CONVERTED))
    return ops


def _rollout_capacity(
    live: LiveFunction,
    name: str,
    r: RolloutStatus,
    count: int,
    configs: Sequence[LiveProvisioned],
    out: CapacityPlan,
) -> list[SetProvisionedConcurrency]:
    """A rollout's capacity: N on its target while held for it; the alias's own config
    converted right before the promotion; the target's config deleted once rolled back."""
    target = str(r.target)
    if isinstance(r.hold, CapacityAllocating) and r.hold.version:
        c = _on_version(configs, r.hold.version)
        if c is None or c.requested < count or c.status == "FAILED":
            return [_put_on_target(live, name, r.hold.version, count, configs)]
        return []
    if r.phase in _PROMOTES:
        _before_promotion(live, name, count, configs, out)
        return []
    c = _on_version(configs, target) if r.phase in _BACK else None
    if c is not None and not _routed(live, target, out.after):
        return [_op(live, name, target, c.requested, 0, CapacityReason.ROLLED_BACK_FROM)]
    return []


def _before_promotion(
    live: LiveFunction,
    name: str,
    count: int,
    configs: Sequence[LiveProvisioned],
    out: CapacityPlan,
) -> None:
    """Insert the conversion of the alias's own config right before its promoting write."""
    for i, op in enumerate(out.ops):
        if isinstance(op, UpdateAlias) and op.alias == name and op.after.canary is None:
            out.ops[i:i] = _converted(live, op, count, configs)
            return


def _routed(live: LiveFunction, version: str, after: Mapping[str, AliasState]) -> bool:
    """Whether any alias routes to `version` once this plan is applied (live aliases the
    manifest does not name included)."""
    states = dict(after)
    for a in live.aliases:
        states.setdefault(a.name, AliasState.of(a))
    return any(version in {str(v) for v in s.versions()} for s in states.values())


def _left(
    target: FunctionTarget,
    live: LiveFunction,
    status: Mapping[str, RolloutStatus],
    after: Mapping[str, AliasState],
    configs: Sequence[LiveProvisioned],
) -> list[SetProvisionedConcurrency]:
    """The version a rollout with capacity moved from, once it is complete (bake over, the
    post-traffic hook passed): its version-level config is deleted when no alias routes to it
    any more. Until then it stays, so that a rollback returns to a version with capacity."""
    ops: list[SetProvisionedConcurrency] = []
    for name, spec in target.spec.aliases.items():
        r = status.get(name)
        if not spec.provisioned_concurrency or r is None or r.phase is not RolloutPhase.COMPLETE:
            continue
        previous = r.previous
        c = None if previous is None else _on_version(configs, previous)
        if c is not None and previous is not None and not _routed(live, previous, after):
            ops.append(_op(live, name, previous, c.requested, 0, CapacityReason.MOVED_FROM))
    return _unique(ops)


def _unique(ops: list[SetProvisionedConcurrency]) -> list[SetProvisionedConcurrency]:
    seen: set[str] = set()
    out = []
    for op in ops:
        if op.qualifier not in seen:
            seen.add(op.qualifier)
            out.append(op)
    return out


def _steady(
    target: FunctionTarget,
    live: LiveFunction,
    writes: Sequence[AliasWrite],
    after: Mapping[str, AliasState],
) -> list[SetProvisionedConcurrency]:
    """The capacity changes of aliases that do not move: where the declared N differs."""
    configs = live.provisioned or ()
    written = {w.alias: w for w in writes}
    ops: list[SetProvisionedConcurrency] = []
    for name, spec in target.spec.aliases.items():
        want = spec.provisioned_concurrency
        if want is None:
            continue
        write = written.get(name)
        current = live.alias(name)
        if isinstance(write, CreateAlias):
            if want > 0 and write.after.canary is None:
                version = str(write.after.version)
                ops.append(_op(live, name, name, 0, want, CapacityReason.DECLARED, version))
            continue
        state = after.get(name)
        moving = (
            state is not None
            and current is not None
            and (state.version, state.canary) != (current.version, AliasState.of(current).canary)
        )
        if current is None or moving or current.canary is not None:
            continue
        cap = capacity_of(configs, name, current.version)
        have = _requested(cap)
        healthy = cap is None or cap.status != "FAILED"
        if (have == want and healthy) or (want == 0 and cap is None):
            continue
        qualifier = cap.qualifier if cap is not None else name
        ops.append(_op(live, name, qualifier, have, want, CapacityReason.DECLARED, current.version))
    return ops


def with_capacity(
    target: FunctionTarget, live: LiveFunction, desired: Mapping[str, AliasState]
) -> Mapping[str, CapacityAllocating]:
    """The holds to merge into what rollouts wait for (rollouts only: a plain alias's move is
    held by `plan_capacity`)."""
    holds = capacity_holds(target, live, desired)
    return {n: h for n, h in holds.items() if target.spec.aliases[n].rollout is not None}


def capacity_failure(
    target: FunctionTarget,
    live: LiveFunction,
    name: str,
    want: AliasState,
    record: AliasRecord,
    now: datetime,
) -> tuple[UpdateAlias, RolloutStatus] | None:
    """The rollout's target could not get its provisioned concurrency (`FAILED`) before any
    traffic moved to it: the rollout fails there, in a guarded write that leaves the routing as
    it is and marks the target failed (its config is deleted after it, as after a rollback)."""
    spec = target.spec.aliases[name]
    current = live.alias(name)
    version = _moving_to(target, live, name, want)
    if spec.rollout is None or current is None or not version:
        return None
    c = _on_version(live.provisioned or (), version)
    canary = current.canary
    if c is None or c.status != "FAILED" or (canary is not None and canary.version == version):
        return None
    mark = record.rollout
    if mark is not None and (mark.target, mark.status, mark.attempt) == (
        version,
        "failed",
        spec.rollout.attempt,
    ):
        return None  # failed already: the FAILED phase says so
    have = AliasState.of(current)
    cause = CapacityFailed(version, c.reason)
    failed = RolloutState(
        version, current.version, 0, now, "failed", cause, attempt=spec.rollout.attempt
    )
    steps, _ = spec.rollout.schedule
    status = RolloutStatus(
        name,
        version,
        0,
        len(steps),
        0.0,
        RolloutPhase.ROLLING_BACK,
        now,
        cause=cause,
        previous=current.version,
        alarms=tuple(spec.rollout.alarms),
        attempt=spec.rollout.attempt,
        live=have,
    )
    stay = AliasState(have.version, have.canary, want.description)
    marked = AliasRecord(current.version, record.history, failed)
    write = UpdateAlias(name, have, stay, current.revision_id, (), RolloutStep(status), marked)
    return write, status


def rollback_capacity(
    target: FunctionTarget, live: LiveFunction, alias: str, back: str
) -> list[SetProvisionedConcurrency]:
    """`rollback` of an alias that declares N > 0: after the move (traffic first), N on the
    version it returns to, unless that version has it already."""
    spec = target.spec.aliases.get(alias)
    count = spec.provisioned_concurrency if spec is not None else None
    configs = live.provisioned
    if not count or configs is None or not back.isdigit():
        return []
    if any(c.qualifier == alias for c in configs):
        return []  # the alias's own config: Lambda moves it with the alias
    c = _on_version(configs, back)
    if c is not None and c.status != "FAILED" and c.requested >= count:
        return []
    return [_op(live, alias, back, _requested(c), count, CapacityReason.ROLLED_BACK_TO)]
