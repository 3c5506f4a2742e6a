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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from reconciler.live import LATEST, Canary, LiveAlias
from reconciler.plan import AliasState, RolloutStatus

TAG_PREFIX = "lambda-reconciler:rollout:"
_TAG_SAFE = re.compile(r"[^\w.:/=+\-@]")


def tag_key(alias: str) -> str:
    return TAG_PREFIX + alias


@dataclass(frozen=True)
class RolloutState:
    target: str
    previous: str
    step: int
    since: datetime
    status: str = "running"  # running | failed | done
    alarm: str = ""

    def encode(self) -> str:
        parts = [
            f"target={self.target}",
            f"previous={self.previous}",
            f"step={self.step}",
            f"since={self.since.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}",
            f"status={self.status}",
        ]
        if self.alarm:
            parts.append(f"alarm={_TAG_SAFE.sub('_', self.alarm)}")
        return " ".join(parts)[:256]

    @staticmethod
    def decode(value: str | None) -> RolloutState | None:
        if not value:
            return None
        fields = dict(p.split("=", 1) for p in value.split() if "=" in p)
        try:
            return RolloutState(
                target=fields["target"],
                previous=fields["previous"],
                step=int(fields["step"]),
                since=datetime.strptime(fields["since"], "%Y-%m-%dT%H:%M:%SZ").replace(
                    tzinfo=timezone.utc
                ),
                status=fields.get("status", "running"),
                alarm=fields.get("alarm", ""),
            )
        except (KeyError, ValueError):
            return None  # an unreadable tag is treated as no rollout in progress


@dataclass(frozen=True)
class Decision:
    after: AliasState | None  # the alias state to write; None: leave the alias alone
    state: RolloutState | None  # the tag to write before the alias call; None: leave it
    status: RolloutStatus
    rollback_alarm: str | None = None


def _pct(w: float) -> str:
    return f"{round(w * 100, 3):g}%"


def _hm(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def decide(
    *,
    alias: str,
    target: str,
    steps: tuple[float, ...],
    interval: timedelta,
    alarms: tuple[str, ...],
    description: str | None,
    live: LiveAlias | None,
    state: RolloutState | None,
    alarm_states: Mapping[str, str],
    now: datetime,
) -> Decision:
    n = len(steps)

    def status(step: int, weight: float, message: str) -> RolloutStatus:
        return RolloutStatus(alias, target, step, n, weight, message)

    final = AliasState(target, None, description)
    if live is None:
        return Decision(final, None, status(0, 0.0, f"new alias: created at {target}"))
    if live.version == target and live.canary is None:
        return Decision(None, None, status(n, 1.0, f"complete: {target} takes all traffic"))
    firing = [a for a in alarms if alarm_states.get(a) == "ALARM"]
    canary_on_target = live.canary is not None and live.canary.version == target
    same_target = state is not None and state.target == target

    if same_target and state is not None and state.status == "failed":
        if canary_on_target:  # a rollback that did not finish: finish it
            back = AliasState(state.previous, None, description)
            return Decision(
                back,
                None,
                status(state.step, 0.0, f"rolling back to {state.previous}"),
                rollback_alarm=state.alarm or "an alarm",
            )
        return Decision(
            None,
            None,
            status(
                state.step,
                0.0,
                f"failed at step {state.step}: alarm {state.alarm or '?'}; "
                "name another version to retry",
            ),
        )

    if canary_on_target and same_target and state is not None and live.canary is not None:
        weight = live.canary.weight
        if firing:
            back = AliasState(live.version, None, description)
            failed = replace(state, status="failed", alarm=firing[0], since=now)
            return Decision(
                back,
                failed,
                status(state.step, 0.0, f"rolling back: alarm {firing[0]} in ALARM"),
                rollback_alarm=firing[0],
            )
        live_step = next(
            (i + 1 for i, w in enumerate(steps) if round(w, 5) == round(weight, 5)), None
        )
        if live_step != state.step:
            # The tag was written but the alias call never happened: take that step again.
            step = min(max(state.step, 1), n)
            redo = AliasState(live.version, Canary(target, steps[step - 1]), description)
            return Decision(
                redo,
                replace(state, step=step, since=now),
                status(
                    step, steps[step - 1], f"retaking step {step}/{n} at {_pct(steps[step - 1])}"
                ),
            )
        try:
            due = state.since + interval
        except OverflowError:  # past year 9999 (a huge interval, or a hand-edited tag): never
            due = datetime.max.replace(tzinfo=timezone.utc)
        if now < due:
            return Decision(
                None,
                None,
                status(
                    state.step,
                    weight,
                    f"step {state.step}/{n} at {_pct(weight)} since {_hm(state.since)}, "
                    f"next at {_hm(due)}",
                ),
            )
        if state.step < n:
            nxt = state.step + 1
            return Decision(
                AliasState(live.version, Canary(target, steps[nxt - 1]), description),
                replace(state, step=nxt, since=now),
                status(
                    nxt, steps[nxt - 1], f"advancing to step {nxt}/{n} at {_pct(steps[nxt - 1])}"
                ),
            )
        return Decision(
            final,
            replace(state, step=n + 1, since=now, status="done"),
            status(n, 1.0, f"promoting {target} to all traffic"),
        )

    # Not yet rolling out to this target.
    if live.version in (target, LATEST):
        # Nothing to shift from (or $LATEST, which cannot carry a routing config): switch.
        return Decision(final, None, status(n, 1.0, f"switching to {target} directly"))
    if firing:
        return Decision(
            None, None, status(0, 0.0, f"waiting: alarm {firing[0]} in ALARM; not starting")
        )
    start = RolloutState(target=target, previous=live.version, step=1, since=now)
    return Decision(
        AliasState(live.version, Canary(target, steps[0]), description),
        start,
        status(1, steps[0], f"starting: step 1/{n} at {_pct(steps[0])}"),
    )
