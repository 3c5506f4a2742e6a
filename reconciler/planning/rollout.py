"""Progressive rollout (contract §8): pure decisions, one step per apply at most.

State lives in the alias's own record, at the end of its description, written in the same
guarded `UpdateAlias` as the routing it describes (`reconciler.plan.record`,
docs/design/rollout-state.md): the target, the version traffic moves from, the step, when it
began, the status (running, verifying, done, failed) with its cause, and the attempt.

- `step` is 1-based: the canary runs at `steps[step-1]`; `steps + 1` once promoted (`since` of a
  done rollout is when it reached 100 %: its `bake` period starts there).
- `attempt` is the manifest's `rollout.attempt`. A record whose target or attempt differs from
  the manifest's belongs to another rollout: a new attempt of a failed target starts afresh.
- A step is taken when its interval has passed, or will pass within `tolerance` (a tenth of the
  interval, at most `MAX_TOLERANCE`): a scheduled run arriving seconds early still takes it.
- State that does not verify (a record that does not parse, a version that does not exist, a
  failure mark on an alias that serves its target, a rollback target the history does not
  hold) moves no traffic: the phase is UNVERIFIED and the status says why.
- A hand move back to the previous version (or a canary removed by hand) marks the target
  failed, as an alarm does (RECORDING_ROLLBACK): a rollback sticks.
- Two runners racing on one step both guard UpdateAlias with the alias RevisionId read at plan
  time: one wins, the other gets 412 and stops for that function.

`decide` first classifies where the rollout stands (`_classify`), then one function per phase
says what to write. Decisions carry data (`RolloutStatus` with a `RolloutPhase`); the words are
in `reconciler.plan.wording`. Earlier releases kept the state in function tags (`decode_tag`): read
only to migrate it into the record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from typing_extensions import assert_never

from reconciler.aws import LATEST, LiveAlias
from reconciler.manifest import stored_weight
from reconciler.plan import (
    FORWARD,
    AlarmFired,
    AliasRecord,
    AliasState,
    CapacityFailed,
    CauseKind,
    ErrorRateAbove,
    FailedYetServing,
    GateLimits,
    HoldCause,
    HookFailed,
    ManualRollback,
    NoWayBack,
    RecordProblem,
    RollbackCause,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    Route,
    StepBeyond,
    UnknownPrevious,
    UnknownTarget,
    VersionRef,
    WorseThanPrevious,
)
from reconciler.planning.alias_record import (
    HISTORY_PREFIX,
    TAG_PREFIX,
    decode_history,
    decode_tag,
    history_key,
    legacy_keys,
    record_of,
    state_of,
    tag_key,
)

# re-exported: callers import these from here
__all__ = [
    "HISTORY_PREFIX",
    "TAG_PREFIX",
    "decode_history",
    "decode_tag",
    "history_key",
    "legacy_keys",
    "record_of",
    "state_of",
    "tag_key",
]

MAX_TOLERANCE = timedelta(seconds=60)
NO_DATA = "INSUFFICIENT_DATA"  # an alarm's state without enough data to decide


def tolerance(interval: timedelta) -> timedelta:
    """How early a run may take a step: a tenth of the interval, at most a minute."""
    return min(MAX_TOLERANCE, interval / 10)


@dataclass(frozen=True)
class Decision:
    after: AliasState | None  # the alias state to write; None: leave the alias alone
    state: RolloutState | None  # the rollout part of the record that write leaves
    status: RolloutStatus


@dataclass(frozen=True)
class Gates:
    """A rollout's metric gates (the manifest's `gates`)."""

    max_error_rate: float
    min_invocations: int = 1  # at least 1 whatever the manifest says: no data never passes
    compare_to_previous: bool = False  # max_error_rate is then the excess over the previous


@dataclass(frozen=True)
class Rollout:
    """One alias under rollout, as the manifest and live state say at plan time."""

    alias: str
    target: VersionRef
    steps: tuple[float, ...]
    interval: timedelta
    alarms: tuple[str, ...]
    description: str | None
    live: LiveAlias | None
    record: AliasRecord
    alarm_states: Mapping[str, str]
    now: datetime
    attempt: int = 1
    bake: timedelta = timedelta(0)
    hooks: tuple[str | None, str | None] = (None, None)  # pre-traffic, post-traffic
    gates: Gates | None = None
    metrics: tuple[int, int] | None = None  # invocations, errors of the target at this step
    # invocations, errors of the previous version (traffic moves from) over the same window;
    # read only with `compare_to_previous`
    previous_metrics: tuple[int, int] | None = None
    versions: frozenset[str] = frozenset()  # the function's published versions
    problem: RecordProblem | None = None  # why the record is not trusted (it did not parse)
    hold: HoldCause | None = None  # a step forward waits for it to clear (rollbacks do not)

    def status(
        self,
        phase: RolloutPhase,
        step: int,
        weight: float,
        *,
        since: datetime | None = None,
        due: datetime | None = None,
        cause: RollbackCause | None = None,
        previous: str | None = None,
        problem: RecordProblem | None = None,
    ) -> RolloutStatus:
        metrics = self.metrics if self.gates is not None else None
        ours = self.ours
        if previous is None and ours is not None:
            previous = ours.previous
        unstarted = phase in (RolloutPhase.HELD, RolloutPhase.SWITCHING)
        if previous is None and unstarted and self.live is not None:
            previous = self.live.version  # not started: what serves now
        return RolloutStatus(
            self.alias,
            self.target,
            step,
            len(self.steps),
            weight,
            phase,
            since,
            due,
            cause,
            previous,
            alarms=self.alarms,
            attempt=self.attempt,
            pre_traffic=self.hooks[0],
            post_traffic=self.hooks[1],
            invocations=None if metrics is None else metrics[0],
            errors=None if metrics is None else metrics[1],
            weights=self.steps,
            interval=int(min(self.interval.total_seconds(), 10**9)),
            live=None if self.live is None else AliasState.of(self.live),
            problem=problem,
            no_data=tuple(a for a in self.alarms if self.alarm_states.get(a) == NO_DATA),
            gates=None
            if self.gates is None
            else GateLimits(
                self.gates.max_error_rate,
                self.gates.min_invocations,
                self.gates.compare_to_previous,
            ),
        )

    @property
    def firing(self) -> RollbackCause | None:
        """The first alarm in ALARM, else the error-rate gate when the target breaks it."""
        alarm = next((a for a in self.alarms if self.alarm_states.get(a) == "ALARM"), None)
        if alarm is not None:
            return AlarmFired(alarm)
        if self.gates is None or self.metrics is None or not self.metrics[0]:
            return None
        (invocations, errors), most = self.metrics, self.gates.max_error_rate
        if not self.gates.compare_to_previous:
            above = errors / invocations > most
            return ErrorRateAbove(errors, invocations, most) if above else None
        before, before_errors = self.previous_metrics or (0, 0)
        baseline = before_errors / before if before else 0.0
        if errors / invocations - baseline <= most:
            return None
        return WorseThanPrevious(errors, invocations, before_errors, before, most)

    @property
    def short(self) -> bool:
        """The target has had fewer invocations in the gate's window than the gate asks for,
        and never none: a gate without data holds the step rather than pass it."""
        if self.gates is None:
            return False
        return (self.metrics or (0, 0))[0] < max(1, self.gates.min_invocations)

    def at(self, primary: str, step: int) -> AliasState:
        """The alias at `step` (1-based): the target gets that step's weight."""
        return AliasState(primary, Route(self.target, self.steps[step - 1]), self.description)

    @property
    def final(self) -> AliasState:
        return AliasState(self.target, None, self.description)

    @property
    def promoted(self) -> str:
        """The status a promotion to 100 % writes: verifying while a post-traffic hook must
        still pass (it is run again after a crash), else done."""
        return "verifying" if self.hooks[1] else "done"

    @property
    def ours(self) -> RolloutState | None:
        """The record's rollout, when it belongs to this one (same target and attempt)."""
        s = self.record.rollout
        return s if s is not None and (s.target, s.attempt) == (self.target, self.attempt) else None


def _live(r: Rollout) -> LiveAlias:
    assert r.live is not None  # every phase but CREATED has a live alias
    return r.live


def _state(r: Rollout) -> RolloutState:
    state = r.ours
    assert state is not None  # the phases after the start have this rollout's record
    return state


def _problem(r: Rollout) -> RecordProblem | None:
    """Why this rollout's record does not verify (None when it does, or there is none)."""
    if r.problem is not None:
        return r.problem
    state, live = r.ours, _live(r)
    if state is None:
        return None
    if not isinstance(state.target, str) or state.target not in r.versions:
        return UnknownTarget(state.target)
    if state.previous != LATEST and state.previous not in r.versions:
        return UnknownPrevious(state.previous)
    if state.step > len(r.steps) + 1:
        return StepBeyond(state.step, len(r.steps))
    if state.status == "failed" and live.version == r.target and live.canary is None:
        return FailedYetServing(state.target)
    return None


def _moved_back(r: Rollout, state: RolloutState | None) -> bool:
    """The alias is back on the version the rollout moved from, or its canary on the target is
    gone while the record says a step runs, though the record does not say it failed: someone
    rolled it back by hand (wherever they moved the primary)."""
    live = _live(r)
    if state is None or state.status == "failed" or live.canary is not None:
        return False
    if live.version == r.target:
        return False
    # a running record is written in the same call as its canary; an earlier release's tag was
    # written before its alias call, so a tag alone does not say the canary was ever set
    return live.version == state.previous or (state.status == "running" and not r.record.from_tags)


def _classify(r: Rollout) -> RolloutPhase:
    """Where the rollout stands, from the live alias, its record and the alarms."""
    live, state = r.live, r.ours
    if live is None:
        return RolloutPhase.CREATED
    if _problem(r) is not None:
        return RolloutPhase.UNVERIFIED
    if _moved_back(r, state):
        return RolloutPhase.RECORDING_ROLLBACK
    if live.version == r.target and live.canary is None:
        return _done_phase(r, state)
    canary_on_target = live.canary is not None and live.canary.version == r.target
    if state is not None:
        if state.status == "failed":
            return RolloutPhase.FINISHING_ROLLBACK if canary_on_target else RolloutPhase.FAILED
        if canary_on_target:
            return _running_phase(r, state)
    if live.version == r.target:  # a canary of another version beside the target: clear it
        return RolloutPhase.SWITCHING
    if r.firing:
        return RolloutPhase.HELD
    return RolloutPhase.SWITCHING if live.version == LATEST else RolloutPhase.STARTING


def _done_phase(r: Rollout, state: RolloutState | None) -> RolloutPhase:
    """All traffic on the target: complete, unless its post-traffic hook has not passed yet or
    its `bake` period still runs."""
    if state is None or state.status not in ("done", "verifying"):
        return RolloutPhase.COMPLETE
    if state.status == "done" and r.now >= _due(state, r.bake):
        return RolloutPhase.COMPLETE
    if r.firing:
        return RolloutPhase.ROLLING_BACK
    return RolloutPhase.VERIFYING if state.status == "verifying" else RolloutPhase.BAKING


def _running_phase(r: Rollout, state: RolloutState) -> RolloutPhase:
    live = _live(r)
    assert live.canary is not None
    if r.firing:
        return RolloutPhase.ROLLING_BACK
    if not r.steps or state.status in ("done", "verifying"):
        # an all-at-once rollout's canary, or an earlier release's promotion whose tag was
        # written but whose alias call was not: finish the promotion
        return RolloutPhase.PROMOTING
    if _live_step(r, live.canary.weight) != state.step:
        return RolloutPhase.RETAKING
    if r.now < _due(state, r.interval) - tolerance(r.interval):
        return RolloutPhase.WAITING
    if r.short:
        return RolloutPhase.GATED
    return RolloutPhase.ADVANCING if state.step < len(r.steps) else RolloutPhase.PROMOTING


def _live_step(r: Rollout, weight: float) -> int | None:
    w = stored_weight(weight)
    return next((i + 1 for i, s in enumerate(r.steps) if stored_weight(s) == w), None)


def _due(state: RolloutState, interval: timedelta) -> datetime:
    try:
        return state.since + interval
    except OverflowError:  # past year 9999 (a huge interval, or a hand-edited record): never
        return datetime.max.replace(tzinfo=timezone.utc)


def _created(r: Rollout) -> Decision:
    return Decision(r.final, None, r.status(RolloutPhase.CREATED, 0, 0.0))


def _complete(r: Rollout) -> Decision:
    return Decision(None, None, r.status(RolloutPhase.COMPLETE, len(r.steps), 1.0))


def _share(r: Rollout) -> float:
    """The target's share of the alias's traffic as read: what a status that moves nothing
    says, whether the target is the canary or the primary beside another canary."""
    live = _live(r)
    canary = live.canary
    if live.version == r.target:
        return 1.0 - (canary.weight if canary is not None else 0.0)
    return canary.weight if canary is not None and canary.version == r.target else 0.0


def _unverified(r: Rollout) -> Decision:
    status = r.status(RolloutPhase.UNVERIFIED, 0, _share(r), problem=_problem(r))
    return Decision(None, None, status)


def _finishing_rollback(r: Rollout) -> Decision:
    """A failure mark with the canary still on the target: all traffic to the live primary
    (never to a version named only by state)."""
    live, state = _live(r), _state(r)
    back = AliasState(live.version, None, r.description)
    status = r.status(
        RolloutPhase.FINISHING_ROLLBACK, state.step, 0.0, previous=live.version, cause=state.cause
    )
    return Decision(back, state, status)


def _failed(r: Rollout) -> Decision:
    state = _state(r)
    status = r.status(
        RolloutPhase.FAILED,
        min(state.step, len(r.steps)),
        _share(r),
        cause=state.cause,
        previous=_live(r).version,
    )
    return Decision(None, None, status)


def _recording_rollback(r: Rollout) -> Decision:
    """Rolled back by hand: the alias stays where it was put, and the record marks the
    target failed, as an alarm rollback does."""
    live, state = _live(r), _state(r)
    cause = ManualRollback("hand")
    failed = replace(state, status="failed", cause=cause, since=r.now)
    step = min(state.step, len(r.steps))
    status = r.status(
        RolloutPhase.RECORDING_ROLLBACK, step, 0.0, cause=cause, previous=live.version
    )
    return Decision(AliasState(live.version, None, r.description), failed, status)


def _back_target(r: Rollout, state: RolloutState) -> str | None:
    """Where an alias that is all on the target rolls back to: the record's previous version,
    when the record's own history says the alias came from it (None: not verified)."""
    if r.record.from_tags or r.record.history[:1] != (state.previous,):
        return None
    return state.previous


def _rolling_back(r: Rollout) -> Decision:
    """An alarm or gate fires at a step, or at 100 % while verifying or baking: all traffic
    back to the previous version."""
    live, state, cause = _live(r), _state(r), r.firing
    assert cause is not None
    previous = live.version if live.canary is not None else _back_target(r, state)
    if previous is None:
        alarm = cause.alarm if isinstance(cause, AlarmFired) else ""
        problem = NoWayBack(cause_kind(cause), state.previous, alarm)
        return Decision(None, None, r.status(RolloutPhase.UNVERIFIED, 0, 1.0, problem=problem))
    back = AliasState(previous, None, r.description)
    failed = replace(state, status="failed", cause=cause, since=r.now)
    step = min(state.step, len(r.steps))
    status = r.status(RolloutPhase.ROLLING_BACK, step, 0.0, cause=cause, previous=previous)
    return Decision(back, failed, status)


def cause_kind(cause: RollbackCause) -> CauseKind:
    """The kind of a cause, as a problem names it."""
    match cause:
        case AlarmFired():
            return CauseKind.ALARM
        case HookFailed():
            return CauseKind.HOOK
        case ErrorRateAbove() | WorseThanPrevious():
            return CauseKind.GATE
        case ManualRollback():
            return CauseKind.MANUAL
        case CapacityFailed():
            return CauseKind.CAPACITY
        case _:
            assert_never(cause)


def _retaking(r: Rollout) -> Decision:
    """The record's step and the live weight disagree (a weight changed by hand): take the
    record's step again."""
    live, state = _live(r), _state(r)
    step = min(max(state.step, 1), len(r.steps))
    retaken = replace(state, step=step, since=r.now)
    status = r.status(
        RolloutPhase.RETAKING, step, r.steps[step - 1], since=r.now, due=_due(retaken, r.interval)
    )
    return Decision(r.at(live.version, step), retaken, status)


def _waiting(r: Rollout) -> Decision:
    live, state = _live(r), _state(r)
    assert live.canary is not None
    status = r.status(
        RolloutPhase.WAITING,
        state.step,
        live.canary.weight,
        since=state.since,
        due=_due(state, r.interval),
    )
    return Decision(None, None, status)


def _advancing(r: Rollout) -> Decision:
    live, state = _live(r), _state(r)
    advanced = replace(state, step=state.step + 1, since=r.now)
    status = r.status(
        RolloutPhase.ADVANCING,
        advanced.step,
        r.steps[advanced.step - 1],
        since=r.now,
        due=_due(advanced, r.interval),
    )
    return Decision(r.at(live.version, advanced.step), advanced, status)


def _promoting(r: Rollout) -> Decision:
    n = len(r.steps)
    done = replace(_state(r), step=n + 1, since=r.now, status=r.promoted)
    return Decision(r.final, done, r.status(RolloutPhase.PROMOTING, n, 1.0))


def _verifying(r: Rollout) -> Decision:
    """All traffic on the target, its post-traffic hook not passed yet (a run stopped between
    the promotion and the hook): the hook runs again, and its pass writes `done`."""
    state = _state(r)
    done = replace(state, status="done")
    status = r.status(RolloutPhase.VERIFYING, len(r.steps), 1.0, since=state.since)
    return Decision(r.final, done, status)


def _baking(r: Rollout) -> Decision:
    state = _state(r)
    status = r.status(
        RolloutPhase.BAKING, len(r.steps), 1.0, since=state.since, due=_due(state, r.bake)
    )
    return Decision(None, None, status)


def _gated(r: Rollout) -> Decision:
    live, state = _live(r), _state(r)
    assert live.canary is not None
    status = r.status(RolloutPhase.GATED, state.step, live.canary.weight, since=state.since)
    return Decision(None, None, status)


def _switching(r: Rollout) -> Decision:
    """No weights from `$LATEST` (AWS allows none): switch at once, after the alarms and the
    pre-traffic hook, with the post-traffic hook and `bake` after it and `$LATEST` as the
    rollback target. A canary of another version beside the target is simply cleared."""
    live = _live(r)
    status = r.status(RolloutPhase.SWITCHING, len(r.steps), 1.0, previous=live.version)
    if live.version != LATEST:
        return Decision(r.final, None, status)
    state = RolloutState(r.target, LATEST, len(r.steps) + 1, r.now, r.promoted, attempt=r.attempt)
    return Decision(r.final, state, replace(status, since=r.now))


def _held(r: Rollout) -> Decision:
    return Decision(None, None, r.status(RolloutPhase.HELD, 0, _share(r), cause=r.firing))


def _starting(r: Rollout) -> Decision:
    live = _live(r)
    start = RolloutState(
        target=r.target, previous=live.version, step=1, since=r.now, attempt=r.attempt
    )
    if not r.steps:  # all at once: straight to 100 %, the record says so (its bake starts now)
        status = r.status(RolloutPhase.STARTING, 0, 1.0, since=r.now, previous=live.version)
        return Decision(r.final, replace(start, status=r.promoted), status)
    status = r.status(
        RolloutPhase.STARTING,
        1,
        r.steps[0],
        since=r.now,
        due=_due(start, r.interval),
        previous=live.version,
    )
    return Decision(r.at(live.version, 1), start, status)


_PHASES: Mapping[RolloutPhase, Callable[[Rollout], Decision]] = {
    RolloutPhase.CREATED: _created,
    RolloutPhase.COMPLETE: _complete,
    RolloutPhase.FINISHING_ROLLBACK: _finishing_rollback,
    RolloutPhase.FAILED: _failed,
    RolloutPhase.ROLLING_BACK: _rolling_back,
    RolloutPhase.RETAKING: _retaking,
    RolloutPhase.WAITING: _waiting,
    RolloutPhase.ADVANCING: _advancing,
    RolloutPhase.PROMOTING: _promoting,
    RolloutPhase.SWITCHING: _switching,
    RolloutPhase.HELD: _held,
    RolloutPhase.STARTING: _starting,
    RolloutPhase.BAKING: _baking,
    RolloutPhase.GATED: _gated,
    RolloutPhase.VERIFYING: _verifying,
    RolloutPhase.UNVERIFIED: _unverified,
    RolloutPhase.RECORDING_ROLLBACK: _recording_rollback,
}
if set(_PHASES) != set(RolloutPhase):  # a new phase without its function fails at import
    raise RuntimeError(f"rollout phases without a decision: {set(RolloutPhase) - set(_PHASES)}")


_HELD_TOO = frozenset({RolloutPhase.WAITING, RolloutPhase.GATED})  # a hold names its reason


def decide(r: Rollout) -> Decision:
    """At most one step of one alias's rollout: what to write, and where it stands. A hold
    (`Rollout.hold`) turns a step forward, or the wait for one, into holding where it stands
    with its reason: GATED mid-rollout, HELD before the start; rollbacks go ahead."""
    phase = _classify(r)
    if r.hold is not None and (phase in FORWARD or phase in _HELD_TOO):
        live = r.live
        if phase is RolloutPhase.STARTING or live is None or live.canary is None:
            return Decision(None, None, replace(r.status(RolloutPhase.HELD, 0, 0.0), hold=r.hold))
        state = r.ours
        step = min(state.step, len(r.steps)) if state is not None else 0
        since = state.since if state is not None else None
        held = r.status(RolloutPhase.GATED, step, live.canary.weight, since=since)
        return Decision(None, None, replace(held, hold=r.hold))
    return _PHASES[phase](r)
