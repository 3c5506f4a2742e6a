"""Progressive rollout (contract §8): pure decisions, one step per apply at most.

State lives in AWS as one function tag per alias, `lambda-reconciler:rollout:<alias>`, whose
value is space-separated `key=value` pairs (tag values allow letters, digits, spaces and
`_ . : / = + - @`):

    target=7 previous=5 step=2 since=2026-11-22T12:00:00Z status=running

- `step` is 1-based: the canary runs at `steps[step-1]`; `status` is running, failed or done.
- The tag is written *before* the alias call it describes. If a run dies between the two, the
  next run sees a tag step that the live weight does not match and takes that step again, so a
  crash never skips a step or shortens an interval below its minimum.
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

from reconciler.live import LATEST, LiveAlias
from reconciler.manifest import stored_weight
from reconciler.plan import (
    AliasState,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    Route,
    VersionRef,
)

TAG_PREFIX = "lambda-reconciler:rollout:"
_TAG_SAFE = re.compile(r"[^\w.:/=+\-@]")
_TIME = "%Y-%m-%dT%H:%M:%SZ"


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
    if state.alarm:
        parts.append(f"alarm={_TAG_SAFE.sub('_', state.alarm)}")
    return " ".join(parts)[:256]


def decode(value: str | None) -> RolloutState | None:
    """The state a tag holds; None for no tag or an unreadable one (no rollout in progress)."""
    if not value:
        return None
    fields = dict(p.split("=", 1) for p in value.split() if "=" in p)
    try:
        return RolloutState(
            target=fields["target"],
            previous=fields["previous"],
            step=int(fields["step"]),
            since=datetime.strptime(fields["since"], _TIME).replace(tzinfo=timezone.utc),
            status=fields.get("status", "running"),
            alarm=fields.get("alarm", ""),
        )
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class Decision:
    after: AliasState | None  # the alias state to write; None: leave the alias alone
    state: RolloutState | None  # the tag to write before the alias call; None: leave it
    status: RolloutStatus
    rollback_alarm: str | None = None


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

    def status(
        self,
        phase: RolloutPhase,
        step: int,
        weight: float,
        *,
        since: datetime | None = None,
        due: datetime | None = None,
        alarm: str | None = None,
        previous: str | None = None,
    ) -> RolloutStatus:
        return RolloutStatus(
            self.alias,
            self.target,
            step,
            len(self.steps),
            weight,
            phase,
            since,
            due,
            alarm,
            previous,
        )

    @property
    def firing(self) -> str | None:
        return next((a for a in self.alarms if self.alarm_states.get(a) == "ALARM"), None)

    def at(self, primary: str, step: int) -> AliasState:
        """The alias at `step` (1-based): the target gets that step's weight."""
        return AliasState(primary, Route(self.target, self.steps[step - 1]), self.description)

    @property
    def final(self) -> AliasState:
        return AliasState(self.target, None, self.description)


def _live(r: Rollout) -> LiveAlias:
    assert r.live is not None  # every phase but CREATED has a live alias
    return r.live


def _state(r: Rollout) -> RolloutState:
    assert r.state is not None  # the phases after the start have a tag
    return r.state


def _classify(r: Rollout) -> RolloutPhase:
    """Where the rollout stands, from the live alias, the tag and the alarms."""
    live, state = r.live, r.state
    if live is None:
        return RolloutPhase.CREATED
    if live.version == r.target and live.canary is None:
        return RolloutPhase.COMPLETE
    canary_on_target = live.canary is not None and live.canary.version == r.target
    if state is not None and state.target == r.target:
        if state.status == "failed":
            return RolloutPhase.FINISHING_ROLLBACK if canary_on_target else RolloutPhase.FAILED
        if canary_on_target:
            return _running_phase(r, state)
    if live.version in (r.target, LATEST):
        return RolloutPhase.SWITCHING
    return RolloutPhase.HELD if r.firing else RolloutPhase.STARTING


def _running_phase(r: Rollout, state: RolloutState) -> RolloutPhase:
    live = _live(r)
    assert live.canary is not None
    if r.firing:
        return RolloutPhase.ROLLING_BACK
    if _live_step(r, live.canary.weight) != state.step:
        return RolloutPhase.RETAKING
    if r.now < _due(state, r.interval):
        return RolloutPhase.WAITING
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
        RolloutPhase.FINISHING_ROLLBACK, state.step, 0.0, previous=state.previous, alarm=state.alarm
    )
    return Decision(back, None, status, rollback_alarm=state.alarm or "an alarm")


def _failed(r: Rollout) -> Decision:
    state = _state(r)
    status = r.status(RolloutPhase.FAILED, state.step, 0.0, alarm=state.alarm or None)
    return Decision(None, None, status)


def _rolling_back(r: Rollout) -> Decision:
    live, state, alarm = _live(r), _state(r), r.firing
    assert alarm is not None
    back = AliasState(live.version, None, r.description)
    failed = replace(state, status="failed", alarm=alarm, since=r.now)
    status = r.status(
        RolloutPhase.ROLLING_BACK, state.step, 0.0, alarm=alarm, previous=live.version
    )
    return Decision(back, failed, status, rollback_alarm=alarm)


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


def _switching(r: Rollout) -> Decision:
    """Nothing to shift from (or $LATEST, which cannot carry a routing config): switch."""
    return Decision(r.final, None, r.status(RolloutPhase.SWITCHING, len(r.steps), 1.0))


def _held(r: Rollout) -> Decision:
    return Decision(None, None, r.status(RolloutPhase.HELD, 0, 0.0, alarm=r.firing))


def _starting(r: Rollout) -> Decision:
    live = _live(r)
    start = RolloutState(target=r.target, previous=live.version, step=1, since=r.now)
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
}
if set(_PHASES) != set(RolloutPhase):  # a new phase without its function fails at import
    raise RuntimeError(f"rollout phases without a decision: {set(RolloutPhase) - set(_PHASES)}")


def decide(r: Rollout) -> Decision:
    """At most one step of one alias's rollout: what to write, and where it stands."""
    return _PHASES[_classify(r)](r)
