"""Rollout events: what changed in a rollout, as typed data, derived from what the executor wrote.

Two pure derivations, one per place the engine knows a rollout's state:

- `events_for_write(fp, status, written)`: after each successful alias write of a rollout (the
  planned write, a pre-traffic hook's failure mark, a post-traffic hook's `done` or its move
  back). `written` is what the call actually sent: the resolved target, the routing, the
  rollout state of the alias record, and the AWS time the executor stamped.
- `events_for_status(fp, status, at)`: for a rollout this run writes nothing for, which is
  news only while it holds (held by an alarm before its start, gated, unverified).
- `events_for_mark(fp, written)`: the `rollback` command's write, which has no rollout step
  but leaves a failure mark.

The event holds values (enums, numbers, the typed cause); its one sentence, `message`, is
`reconciler.plan.wording`'s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Final, TypeAlias

from reconciler.plan import (
    FORWARD,
    ROLLBACKS,
    AlarmFired,
    CapacityFailed,
    ErrorRateAbove,
    FunctionPlan,
    HoldCause,
    HookFailed,
    ManualRollback,
    RollbackCause,
    RolloutPhase,
    RolloutStage,
    RolloutState,
    RolloutStatus,
    WorseThanPrevious,
    version_label,
    wording,
)


class EventKind(str, Enum):
    """What happened to the rollout (the EventBridge `DetailType` and the JSON `kind`)."""

    STARTED = "started"  # the first traffic moved to the target (or the switch was made)
    STEP = "step"  # the target's share changed along the schedule (a step, a retake, 100 %)
    HOLDING = "holding"  # a step forward is due or the start is, and something holds it
    ROLLED_BACK = "rolled_back"  # the target was marked failed and traffic went back (or stayed)
    COMPLETE = "complete"  # the target takes all traffic and nothing is left to verify


# Why the rollout rolled back or holds: the plan's typed causes, never words.
Cause: TypeAlias = RollbackCause | HoldCause
_ROLLBACK_CAUSES = (
    AlarmFired,
    HookFailed,
    ErrorRateAbove,
    WorseThanPrevious,
    ManualRollback,
    CapacityFailed,
)
# The phases whose write changes the rollout; a write in any other phase (a description edit
# while waiting, an earlier release's tags folded into the record) is no news.
_MOVES: Final = (
    FORWARD
    | ROLLBACKS
    | {
        RolloutPhase.CREATED,
        RolloutPhase.VERIFYING,
        RolloutPhase.RECORDING_ROLLBACK,
    }
)


@dataclass(frozen=True)
class RunInfo:
    """Which run wrote: the CI run's id and the commit, when the environment says them."""

    run_id: str | None = None
    commit: str | None = None

    @staticmethod
    def from_env(environ: Mapping[str, str] | None = None) -> RunInfo:
        """GitHub Actions' `GITHUB_RUN_ID` (with `GITHUB_RUN_ATTEMPT`) and `GITHUB_SHA`."""
        env = os.environ if environ is None else environ
        run = env.get("GITHUB_RUN_ID") or None
        if run is not None and env.get("GITHUB_RUN_ATTEMPT"):
            run = f"{run}/{env['GITHUB_RUN_ATTEMPT']}"
        return RunInfo(run, env.get("GITHUB_SHA") or None)


@dataclass(frozen=True)
class Written:
    """One successful alias write, as sent: `version` and `weights` are the routing (primary,
    additional version → weight), `record` the rollout state written into the alias record
    (None: none), `at` the AWS time the executor stamped the write with."""

    alias: str
    target: str  # the rollout's target, resolved (a published version's number)
    version: str
    weights: Mapping[str, float]
    record: RolloutState | None
    at: datetime


@dataclass(frozen=True)
class RolloutEvent:
    """A change of one alias's rollout. `weight` is the target's share of traffic after the
    write (0.0 to 1.0); `step` of `steps` is where the schedule stands (`steps + 1`: past the
    last step, all traffic); `at` is AWS's time of the write (of the plan for `holding`)."""

    kind: EventKind
    function: str
    region: str
    account: str
    alias: str
    alias_arn: str
    from_version: str | None
    to_version: str
    weight: float
    step: int
    steps: int
    attempt: int
    phase: RolloutPhase
    cause: Cause | None
    at: datetime
    message: str
    run: RunInfo = RunInfo()


def alias_arn(fp: FunctionPlan, alias: str) -> str:
    """The alias's ARN: the function's ARN as read (its partition included), qualified."""
    if fp.arn:
        base = fp.arn if fp.arn.count(":") == 6 else ":".join(fp.arn.split(":")[:7])
        return f"{base}:{alias}"
    return f"arn:aws:lambda:{fp.region}:{fp.account}:function:{fp.function}:{alias}"


def _share(target: str, version: str, weights: Mapping[str, float]) -> float:
    """The target's share of an alias's traffic given its routing."""
    if version == target:
        return round(1.0 - sum(w for v, w in weights.items() if v != target), 6)
    return weights.get(target, 0.0)


def _kinds(status: RolloutStatus, written: Written) -> tuple[EventKind, ...]:
    """The kinds one write means, in the order they happened."""
    state = written.record
    starts = status.phase in (RolloutPhase.STARTING, RolloutPhase.SWITCHING)
    if state is not None and state.status == "failed":
        return (EventKind.ROLLED_BACK,)
    if state is None or state.status == "done":
        if _share(written.target, written.version, written.weights) < 1.0:
            return (EventKind.STEP,)  # no record, yet not all on the target: a plain move
        return (EventKind.STARTED, EventKind.COMPLETE) if starts else (EventKind.COMPLETE,)
    return (EventKind.STARTED,) if starts else (EventKind.STEP,)


def _message(kind: EventKind, status: RolloutStatus, cause: Cause | None) -> str:
    """`wording`'s sentence for the event (`status` carries the resolved target)."""
    if kind is EventKind.COMPLETE:
        return wording.rollout_message(replace(status, phase=RolloutPhase.COMPLETE))
    if kind is EventKind.ROLLED_BACK:
        rollback = cause if isinstance(cause, _ROLLBACK_CAUSES) else None
        return wording.rolled_back(replace(status, cause=rollback, hold=None))
    return wording.rollout_message(status)


def events_for_write(
    fp: FunctionPlan, status: RolloutStatus, written: Written, run: RunInfo = RunInfo()
) -> tuple[RolloutEvent, ...]:
    """The events one successful rollout write means (most often one; a start that goes to all
    traffic at once is `started` then `complete`; a write in a phase that moves nothing, none)."""
    if status.phase not in _MOVES:
        return ()
    state = written.record
    cause: Cause | None = state.cause if state is not None and state.cause else status.cause
    previous = state.previous if state is not None else status.previous
    step = state.step if state is not None else status.step
    weight = _share(written.target, written.version, written.weights)
    said = replace(status, target=written.target)
    return tuple(
        RolloutEvent(
            kind=kind,
            function=fp.function,
            region=fp.region,
            account=fp.account,
            alias=written.alias,
            alias_arn=alias_arn(fp, written.alias),
            from_version=previous,
            to_version=written.target,
            weight=weight,
            step=step,
            steps=status.steps,
            attempt=state.attempt if state is not None else status.attempt,
            phase=RolloutPhase.COMPLETE if kind is EventKind.COMPLETE else status.phase,
            cause=cause if kind is EventKind.ROLLED_BACK else None,
            at=written.at,
            message=_message(kind, said, cause),
            run=run,
        )
        for kind in _kinds(status, written)
    )


def events_for_status(
    fp: FunctionPlan, status: RolloutStatus, at: datetime, run: RunInfo = RunInfo()
) -> tuple[RolloutEvent, ...]:
    """A rollout this run writes nothing for: `holding` while it holds, else nothing (a
    rollout waiting out its interval, baking or complete has no news)."""
    if status.stage is not RolloutStage.HOLDING:
        return ()
    cause: Cause | None = status.hold if status.hold is not None else status.cause
    return (
        RolloutEvent(
            kind=EventKind.HOLDING,
            function=fp.function,
            region=fp.region,
            account=fp.account,
            alias=status.alias,
            alias_arn=alias_arn(fp, status.alias),
            from_version=status.previous,
            to_version=version_label(status.target),
            weight=status.weight,
            step=status.step,
            steps=status.steps,
            attempt=status.attempt,
            phase=status.phase,
            cause=cause,
            at=at,
            message=wording.rollout_message(status),
            run=run,
        ),
    )


def events_for_mark(
    fp: FunctionPlan, written: Written, run: RunInfo = RunInfo()
) -> tuple[RolloutEvent, ...]:
    """An alias write with no rollout step that leaves a fresh failure mark (the `rollback`
    command's move back): `rolled_back`, cause `manual`. Nothing for any other write."""
    state = written.record
    if state is None or state.status != "failed":
        return ()
    status = RolloutStatus(
        alias=written.alias,
        target=written.target,
        step=state.step,
        steps=0,
        weight=0.0,
        phase=RolloutPhase.RECORDING_ROLLBACK,
        previous=state.previous,
        cause=state.cause,
        attempt=state.attempt,
    )
    return events_for_write(fp, status, written, run)
