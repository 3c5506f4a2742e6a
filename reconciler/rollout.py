"""Progressive rollout (contract §8): pure decisions, one step per apply at most.

State lives in AWS as one function tag per alias, `lambda-reconciler:rollout:<alias>`, whose
value is space-separated `key=value` pairs (tag values allow letters, digits, spaces and
`_ . : / = + - @`):

    target=7 previous=5 step=2 since=2026-11-22T12:00:00Z status=running attempt=2
    target=7 previous=5 step=1 since=… status=failed cause=alarm alarm=orders-errors
    target=7 previous=5 step=1 since=… status=failed cause=pre_traffic hook=smoke reason=HTTP 500

- `step` is 1-based: the canary runs at `steps[step-1]`; `status` is running, failed or done
  (`since` of a done rollout is when it reached 100 %: its `bake` period starts there).
- A failed rollout keeps its cause (`RollbackCause`): `cause=` names its kind (`alarm`,
  `pre_traffic`, `post_traffic`, `error_rate`, `compare_to_previous`) and the fields after it its
  data; a hook's `reason=` comes last and takes the rest of the value (spaces included), cut to
  what fits in 256 characters. Characters a tag value does not allow become `_`.
- `attempt` is the manifest's `rollout.attempt` (absent means 1). A tag whose target or attempt
  differs from the manifest's belongs to another rollout: a new attempt of a failed target
  starts afresh at step 1, which is how a rollout is retried after a false alarm.
- A step is taken when its interval has passed, or will pass within `tolerance` (a tenth of the
  interval, at most `MAX_TOLERANCE`): a scheduled run arriving seconds early still takes it.
- The tag is written *before* the alias call it describes. If a run dies between the two, the
  next run sees a tag step that the live weight does not match and takes that step again, so a
  crash never skips a step or shortens an interval below its minimum. A promotion's tag
  (`status=done`) with the canary still live is a promotion cut short: the next run finishes it
  rather than taking the last step again.
- Two runners racing on one step both guard UpdateAlias with the alias RevisionId read at plan
  time: one wins, the other gets 412 and exits 1.

`decide` first classifies where the rollout stands (`_classify`), then one function per phase
says what to write. Decisions carry data (`RolloutStatus` with a `RolloutPhase`); the words are
in `reconciler.wording`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from typing_extensions import assert_never

from reconciler.live import LATEST, LiveAlias
from reconciler.manifest import stored_weight
from reconciler.plan import (
    AlarmFired,
    AliasState,
    ErrorRateAbove,
    GateLimits,
    HookFailed,
    HookPhase,
    RollbackCause,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    Route,
    VersionRef,
    WorseThanPrevious,
)

TAG_PREFIX = "lambda-reconciler:rollout:"
_TAG_SAFE = re.compile(r"[^\w.:/=+\-@]")
_TEXT_SAFE = re.compile(r"[^\w .:/=+\-@]")  # the reason at the end of a tag keeps its spaces
_REASON = " reason="
TAG_LENGTH = 256
_TIME = "%Y-%m-%dT%H:%M:%SZ"
MAX_TOLERANCE = timedelta(seconds=60)


def tolerance(interval: timedelta) -> timedelta:
    """How early a run may take a step: a tenth of the interval, at most a minute."""
    return min(MAX_TOLERANCE, interval / 10)


def tag_key(alias: str) -> str:
    return TAG_PREFIX + alias


HISTORY_PREFIX = "lambda-reconciler:history:"
HISTORY_LENGTH = 10  # versions kept per alias: 10 numbers fit a tag value (256) many times over


def history_key(alias: str) -> str:
    """The tag that records the versions an alias pointed to before, most recent first:
    `lambda-reconciler:history:prod` = `5 3 2`."""
    return HISTORY_PREFIX + alias


def decode_history(value: str | None) -> tuple[str, ...]:
    """The recorded versions, most recent first; anything unreadable is dropped."""
    return tuple(v for v in (value or "").split() if v.isdigit())[:HISTORY_LENGTH]


def moved_history(history: tuple[str, ...], moved_from: str) -> tuple[str, ...]:
    """The history after the alias moves away from `moved_from` (a version number)."""
    rest = tuple(v for v in history if v != moved_from)
    return (moved_from, *rest)[:HISTORY_LENGTH]


def encode(state: RolloutState, new_version: str | None = None) -> str:
    """The tag value; `new_version` is the number a target of NEW_VERSION became."""
    target = state.target if isinstance(state.target, str) else (new_version or "")
    parts = [
        f"target={target}",
        f"previous={state.previous}",
        f"step={state.step}",
        f"since={state.since.astimezone(timezone.utc).strftime(_TIME)}",
        f"status={state.status}",
    ]
    if state.attempt != 1:
        parts.append(f"attempt={state.attempt}")
    if state.cause is not None:
        parts += _cause_fields(state.cause)
    value = " ".join(parts)
    if isinstance(state.cause, HookFailed) and state.cause.reason:
        room = TAG_LENGTH - len(value) - len(_REASON)
        value += _REASON + _TEXT_SAFE.sub("_", state.cause.reason)[: max(room, 0)]
    return value[:TAG_LENGTH]


def _cause_fields(cause: RollbackCause) -> list[str]:
    """The tag fields of a cause, but a hook's reason (which goes last)."""
    match cause:
        case AlarmFired(alarm=alarm):
            return ["cause=alarm", f"alarm={_TAG_SAFE.sub('_', alarm)}"]
        case HookFailed(phase=phase, function=function):
            return [f"cause={phase.value}", f"hook={_TAG_SAFE.sub('_', function)}"]
        case ErrorRateAbove(errors=e, invocations=n, max_error_rate=m):
            return ["cause=error_rate", f"errors={e}", f"invocations={n}", f"max_error_rate={m!r}"]
        case WorseThanPrevious():
            return [
                "cause=compare_to_previous",
                f"errors={cause.errors}",
                f"invocations={cause.invocations}",
                f"previous_errors={cause.previous_errors}",
                f"previous_invocations={cause.previous_invocations}",
                f"max_error_rate={cause.max_error_rate!r}",
            ]
        case _:
            assert_never(cause)


def _decode_cause(fields: Mapping[str, str], reason: str) -> RollbackCause | None:
    """The cause the fields name; None when there is none (or an unknown kind).
    Raises KeyError or ValueError for a known kind with missing or unreadable data."""
    kind = fields.get("cause", "alarm" if "alarm" in fields else "")
    if kind == "alarm":
        return AlarmFired(fields["alarm"])
    if kind in (HookPhase.PRE_TRAFFIC.value, HookPhase.POST_TRAFFIC.value):
        return HookFailed(HookPhase(kind), fields["hook"], reason)
    if kind == "error_rate":
        return ErrorRateAbove(
            int(fields["errors"]), int(fields["invocations"]), float(fields["max_error_rate"])
        )
    if kind == "compare_to_previous":
        keys = ("errors", "invocations", "previous_errors", "previous_invocations")
        e, n, pe, pn = (int(fields[k]) for k in keys)
        return WorseThanPrevious(e, n, pe, pn, float(fields["max_error_rate"]))
    return None


def decode(value: str | None) -> RolloutState | None:
    """The state a tag holds; None for no tag or an unreadable one (no rollout in progress)."""
    if not value:
        return None
    head, _, reason = value.partition(_REASON)
    fields = dict(p.split("=", 1) for p in head.split() if "=" in p)
    try:
        return RolloutState(
            target=fields["target"],
            previous=fields["previous"],
            step=int(fields["step"]),
            since=datetime.strptime(fields["since"], _TIME).replace(tzinfo=timezone.utc),
            status=fields.get("status", "running"),
            cause=_decode_cause(fields, reason),
            attempt=int(fields.get("attempt", "1")),
        )
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class Decision:
    after: AliasState | None  # the alias state to write; None: leave the alias alone
    state: RolloutState | None  # the tag to write before the alias call; None: leave it
    status: RolloutStatus


@dataclass(frozen=True)
class Gates:
    """A rollout's metric gates (the manifest's `gates`)."""

    max_error_rate: float
    min_invocations: int = 0
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
    state: RolloutState | None
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
    ) -> RolloutStatus:
        metrics = self.metrics if self.gates is not None else None
        if previous is None:  # the version traffic moves from, named in every phase
            same = self.state is not None and self.state.target == self.target
            previous = self.state.previous if same and self.state else None
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
        """The target has had fewer invocations at this step than the gate asks for."""
        if self.gates is None:
            return False
        return (self.metrics or (0, 0))[0] < self.gates.min_invocations

    def at(self, primary: str, step: int) -> AliasState:
        """The alias at `step` (1-based): the target gets that step's weight."""
        return AliasState(primary, Route(self.target, self.steps[step - 1]), self.description)

    @property
    def final(self) -> AliasState:
        return AliasState(self.target, None, self.description)

    @property
    def ours(self) -> RolloutState | None:
        """The tag, when it belongs to this rollout (same target and attempt)."""
        s = self.state
        return s if s is not None and (s.target, s.attempt) == (self.target, self.attempt) else None


def _live(r: Rollout) -> LiveAlias:
    assert r.live is not None  # every phase but CREATED has a live alias
    return r.live


def _state(r: Rollout) -> RolloutState:
    state = r.ours
    assert state is not None  # the phases after the start have this rollout's tag
    return state


def _classify(r: Rollout) -> RolloutPhase:
    """Where the rollout stands, from the live alias, the tag and the alarms."""
    live, state = r.live, r.ours
    if live is None:
        return RolloutPhase.CREATED
    if live.version == r.target and live.canary is None:
        return _done_phase(r, state)
    canary_on_target = live.canary is not None and live.canary.version == r.target
    if state is not None:
        if state.status == "failed":
            return RolloutPhase.FINISHING_ROLLBACK if canary_on_target else RolloutPhase.FAILED
        if canary_on_target:
            return _running_phase(r, state)
    if live.version in (r.target, LATEST):
        return RolloutPhase.SWITCHING
    return RolloutPhase.HELD if r.firing else RolloutPhase.STARTING


def _done_phase(r: Rollout, state: RolloutState | None) -> RolloutPhase:
    """All traffic on the target: complete, unless its `bake` period still runs."""
    if state is not None and state.status == "failed":  # a post-traffic hook failed
        return RolloutPhase.FINISHING_ROLLBACK
    if state is None or state.status != "done" or r.now >= _due(state, r.bake):
        return RolloutPhase.COMPLETE
    return RolloutPhase.ROLLING_BACK if r.firing else RolloutPhase.BAKING


def _running_phase(r: Rollout, state: RolloutState) -> RolloutPhase:
    live = _live(r)
    assert live.canary is not None
    if r.firing:
        return RolloutPhase.ROLLING_BACK
    if not r.steps or state.status == "done":
        # an all-at-once rollout's canary, or a promotion whose tag was written but whose alias
        # call was not (a crash in between): finish the promotion, do not retake the last step
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
    except OverflowError:  # past year 9999 (a huge interval, or a hand-edited tag): never
        return datetime.max.replace(tzinfo=timezone.utc)


def _created(r: Rollout) -> Decision:
    return Decision(r.final, None, r.status(RolloutPhase.CREATED, 0, 0.0))


def _complete(r: Rollout) -> Decision:
    return Decision(None, None, r.status(RolloutPhase.COMPLETE, len(r.steps), 1.0))


def _finishing_rollback(r: Rollout) -> Decision:
    state = _state(r)
    back = AliasState(state.previous, None, r.description)
    status = r.status(
        RolloutPhase.FINISHING_ROLLBACK, state.step, 0.0, previous=state.previous, cause=state.cause
    )
    return Decision(back, None, status)


def _failed(r: Rollout) -> Decision:
    state = _state(r)
    status = r.status(
        RolloutPhase.FAILED,
        min(state.step, len(r.steps)),
        0.0,
        cause=state.cause,
        previous=_live(r).version,
    )
    return Decision(None, None, status)


def _rolling_back(r: Rollout) -> Decision:
    """An alarm fires at a step, or while baking at 100 %: all traffic back to the previous."""
    live, state, cause = _live(r), _state(r), r.firing
    assert cause is not None
    previous = live.version if live.canary is not None else state.previous
    back = AliasState(previous, None, r.description)
    failed = replace(state, status="failed", cause=cause, since=r.now)
    step = min(state.step, len(r.steps))
    status = r.status(RolloutPhase.ROLLING_BACK, step, 0.0, cause=cause, previous=previous)
    return Decision(back, failed, status)


def _retaking(r: Rollout) -> Decision:
    """The tag was written but the alias call never happened: take that step again."""
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
    done = replace(_state(r), step=n + 1, since=r.now, status="done")
    return Decision(r.final, done, r.status(RolloutPhase.PROMOTING, n, 1.0))


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
    """Nothing to shift from (or $LATEST, which cannot carry a routing config): switch."""
    return Decision(r.final, None, r.status(RolloutPhase.SWITCHING, len(r.steps), 1.0))


def _held(r: Rollout) -> Decision:
    return Decision(None, None, r.status(RolloutPhase.HELD, 0, 0.0, cause=r.firing))


def _starting(r: Rollout) -> Decision:
    live = _live(r)
    start = RolloutState(
        target=r.target, previous=live.version, step=1, since=r.now, attempt=r.attempt
    )
    if not r.steps:  # all at once: straight to 100 %, the tag says so (its bake starts now)
        status = r.status(RolloutPhase.STARTING, 0, 1.0, since=r.now, previous=live.version)
        return Decision(r.final, replace(start, status="done"), status)
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
}
if set(_PHASES) != set(RolloutPhase):  # a new phase without its function fails at import
    raise RuntimeError(f"rollout phases without a decision: {set(RolloutPhase) - set(_PHASES)}")


def decide(r: Rollout) -> Decision:
    """At most one step of one alias's rollout: what to write, and where it stands."""
    return _PHASES[_classify(r)](r)
