"""Stage 4 of the planner: retention over the state the plan leads to (contract §3 "Prune"):
which versions are deleted, and why each of the others stays (`_Keep.reasons`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from operator import attrgetter

from reconciler.aws import LiveFunction, LiveVersion
from reconciler.manifest import FunctionTarget, RetentionSpec
from reconciler.plan import (
    Aliased,
    AliasRecord,
    AliasState,
    DeleteVersion,
    InUse,
    KeepReason,
    Kept,
    Previous,
    Protected,
    Replicated,
    Young,
)
from reconciler.plan.record import moved
from reconciler.planning.rollout import record_of


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
        self.replicated: Mapping[int, tuple[KeepReason, ...]] = {}  # Lambda@Edge
        self._young: dict[int, tuple[KeepReason, ...]] = {}  # days old → shared reasons

    def reasons(self, version: LiveVersion) -> tuple[KeepReason, ...]:
        """Why `version` stays; empty when retention deletes it."""
        number = version.number
        young = self.young_since is not None and version.snapshot.last_modified >= self.young_since
        kept = number in self.aliased or number in self.protect or number in self.previous
        edge = self.replicated.get(number, ())
        if not young and not kept:
            used = (InUse(self.in_use[number]),) if number in self.in_use else ()
            return used + edge
        why: list[KeepReason] = []
        if number in self.aliased:
            why.append(self.aliased[number])
        if number in self.protect:
            why.append(Protected())
        why.extend(self.previous.get(number, ()))
        if young:
            shared = self._young_reasons(self.age(version))
            if not why and number not in self.in_use and not edge:  # the common case
                return shared
            why.extend(shared)
        if number in self.in_use:
            why.append(InUse(self.in_use[number]))
        why.extend(edge)
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


def prune(
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
    rules.replicated = {
        n: tuple(Replicated(d, e) for d, e in uses) for n, uses in (live.replicated or {}).items()
    }
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
