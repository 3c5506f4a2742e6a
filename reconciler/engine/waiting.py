"""`apply --wait`: drive every rollout of the run to its end in one process (contract §9).

Each round plans the whole run again (live state, tags, one DescribeAlarms per region), applies
what is due (a step, a promotion or a rollback) and, when nothing is due, sleeps until the
earliest next step or the next poll, whichever comes first. A one-step `apply` takes a step up to
its tolerance early (`rollout.tolerance`: a scheduled run may arrive seconds early); the driver
can wake on time instead, so a step that a poll finds due only by that tolerance waits for the
due time it last saw (unless something else in the plan must be applied now), and every step
keeps its whole interval. The state stays in AWS (the rollout
tag), exactly as with one step per `apply`, so a run stopped at any point (timeout, SIGINT,
SIGTERM, a crash) is continued by any later `apply`, with or without `--wait`.

On a terminal, a live table (`Display`: `reconciler.render.progress.LiveTable`) shows one row
per rollout, redrawn every round: the rollout, its step, the new version's traffic share and the
time to its next step (or why it holds); the events (a step taken, a rollback) print above it.
Elsewhere (CI, a log file) each event and each change of where a rollout stands is one plain
line.

The clock and the sleep are injected (`Timekeeping`): `timekeeping` gives the wall clock and an
`Event.wait` that a signal interrupts, or, when `LAMBDA_RECONCILER_NOW` pins the time, a virtual
clock whose sleep only advances it (tests and rehearsals take no real time). `wait_for_rollouts`
is the driver `apply --wait` calls: SIGINT and SIGTERM set its stop event while it runs, and the
`Stopped` it raises names the signal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from reconciler.aws import LambdaApi
from reconciler.engine.accounts import Accounts, apply_all
from reconciler.engine.announce import announce_holds
from reconciler.engine.apply import check_applicable
from reconciler.engine.results import ApplyResult, Status
from reconciler.engine.run import Clock, aws_now, build_plan, utcnow
from reconciler.engine.signals import stopping_on_signals
from reconciler.errors import ReconcilerError
from reconciler.manifest import ManifestSet
from reconciler.notify import Notifiers, RunInfo
from reconciler.plan import (
    CreateAlias,
    Plan,
    RolloutPhase,
    RolloutStage,
    UpdateAlias,
    WaveFailed,
)
from reconciler.plan.wording import (
    detail,
    rollout_message,
    target,
    utc_time,
)

Report = Callable[[str], None]
Sleep = Callable[[float], None]


class Display(Protocol):
    """Where the rollouts stand, shown afresh every round (the live table on a terminal)."""

    def update(self, plan: Plan, now: datetime) -> None: ...


class Outcome(int, Enum):
    """How `apply --wait` ends, as its exit code."""

    COMPLETE = 0  # every rollout takes all traffic
    ROLLED_BACK = 1  # at least one rollout was rolled back (or a write failed)
    TIMED_OUT = 3  # --wait-timeout passed: the rollouts stand where they are, resumable


@dataclass
class VirtualClock:
    """Pinned time whose sleep advances it: `apply --wait` under `LAMBDA_RECONCILER_NOW`."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Waiter:
    manifests: ManifestSet
    aws: LambdaApi | Accounts
    clock: Callable[[], datetime]
    sleep: Callable[[float], None]
    report: Report
    poll: timedelta = timedelta(seconds=30)
    timeout: timedelta = timedelta(hours=1)
    parallelism: int = 8
    max_deletions: int = 100
    stop: threading.Event = field(default_factory=threading.Event)
    display: Display | None = None  # a live table: then no line per waiting rollout
    aws_time: bool = False  # plan in AWS's time (the `Date` of its responses), not `clock`'s
    rolled_back: bool = False
    notifiers: Notifiers | None = None  # rollout events (None: none)
    run_info: RunInfo = field(default_factory=RunInfo)
    _said: set[str] = field(default_factory=set)
    _due: dict[tuple[str, str], datetime] = field(default_factory=dict)  # last seen, per alias

    def run(self) -> Outcome:
        """Rounds until every rollout is complete or rolled back, the timeout, or a stop.

        The deadline is checked after every round, applying or not. Rounds that apply one after
        another back off (none, then 1 s, 2 s, 4 s, … up to `poll`), and a round that plans a
        write that an earlier round of the same run of applying rounds already made stops
        the run (`NoProgress`): AWS accepted it, yet the plan asks for it again."""
        deadline = self.clock() + self.timeout
        made: set[str] = set()  # the writes of the applying rounds since the last waiting one
        streak = 0
        while not self.stop.is_set():
            plan = build_plan(
                self.manifests,
                self.aws,
                parallelism=self.parallelism,
                max_deletions=self.max_deletions,
                clock=None if self.aws_time else self.clock,
            )
            check_applicable(plan)
            if self.display is not None:
                self.display.update(plan, self.clock())
            early = self._early(plan)
            if plan.has_changes and early is None:
                writes = planned_writes(plan)
                again = sorted(made.intersection(writes))
                if again:
                    raise NoProgress(again)
                self._apply(plan)
                made.update(writes)
                streak += 1
                now = self.clock()
                if now >= deadline:
                    return Outcome.TIMED_OUT
                if streak > 1:
                    pause = min(2.0 ** (streak - 2), self.poll.total_seconds())
                    self.sleep(min(pause, (deadline - now).total_seconds()))
                    if self.clock() >= deadline:
                        return Outcome.TIMED_OUT
                continue
            made.clear()
            streak = 0
            if self.notifiers:
                announce_holds(plan, self.notifiers, self.clock(), self.run_info)
            if _settled(plan):
                return (
                    Outcome.ROLLED_BACK
                    if self.rolled_back or _any_back(plan)
                    else (Outcome.COMPLETE)
                )
            now = self.clock()
            if now >= deadline:
                return Outcome.TIMED_OUT
            self._say_waiting(plan)
            self._due.update(_waiting_dues(plan))
            wake = min([now + self.poll, deadline, *_dues(plan, now), *([early] if early else [])])
            self.sleep(max((wake - now).total_seconds(), 0.0))
        raise Stopped

    def _early(self, plan: Plan) -> datetime | None:
        """When every change of the plan is a step forward that is due only by its tolerance
        (the due time last seen for that alias is still ahead), the earliest such due time;
        else None: apply the plan now."""
        now = self.clock()
        dues: list[datetime] = []
        for fp in plan.functions:
            for op in fp.operations:
                if not isinstance(op, CreateAlias | UpdateAlias) or op.rollout is None:
                    return None
                due = self._due.get((fp.function, op.alias))
                if op.rollout.status.phase not in _ON_TIME or due is None or due <= now:
                    return None
                dues.append(due)
        if any(lp.operations for lp in plan.layers):
            return None
        return min(dues, default=None)

    def _apply(self, plan: Plan) -> None:
        for fp in plan.functions:
            for r in fp.rollouts:
                if r.phase not in _QUIET:
                    self.report(f"{fp.function}:{r.alias}: {rollout_message(r)}")
        api = self.aws.ambient if isinstance(self.aws, Accounts) else self.aws
        result = apply_all(
            plan,
            self.aws,
            parallelism=self.parallelism,
            progress=self.report,
            clock=(lambda: aws_now(api)) if self.aws_time else self.clock,
            notifiers=self.notifiers,
            run_info=self.run_info,
        )
        _raise_failures(result)
        for line in result.rollbacks:
            self.report(f"rolled back: {line}")
            self.rolled_back = True

    def _say_waiting(self, plan: Plan) -> None:
        """One line per rollout whenever where it stands changes (not one per poll); none when
        the live table shows it."""
        if self.display is not None:
            return
        for fp in plan.functions:
            for r in fp.rollouts:
                line = f"{fp.function}:{r.alias}: {rollout_message(r)}"
                if r.phase in _WAITING and line not in self._said:
                    self._said.add(line)
                    self.report(line)


class NoProgress(ReconcilerError):
    """A round planned again a write an earlier round made: the run would not converge."""

    def __init__(self, writes: list[str]) -> None:
        shown = "; ".join(writes[:3]) + (f"; and {len(writes) - 3} more" if len(writes) > 3 else "")
        super().__init__(
            f"--wait: the plan asks again for writes already made, without progress: {shown}; "
            "stopping (AWS accepted them but the live state does not match)"
        )


def planned_writes(plan: Plan) -> tuple[str, ...]:
    """Each write of the plan as one line: the function, what it acts on and what it does."""
    return tuple(
        f"{fp.function} {target(op)}: {detail(op)}" for fp in plan.functions for op in fp.operations
    ) + tuple(
        f"layer {lp.layer} {target(op)}: {detail(op)}" for lp in plan.layers for op in lp.operations
    )


class Stopped(ReconcilerError):
    """SIGINT or SIGTERM while waiting: stopped between rounds, the state in AWS consistent.
    `signum` is the signal that stopped `wait_for_rollouts` (None: the stop event was set)."""

    def __init__(self, signum: int | None = None) -> None:
        super().__init__(
            "stopped while waiting; the rollouts stand where they are and any later "
            "apply continues them"
        )
        self.signum = signum


_WAITING = frozenset(
    {RolloutPhase.WAITING, RolloutPhase.BAKING, RolloutPhase.HELD, RolloutPhase.GATED}
)
_QUIET = frozenset({RolloutPhase.COMPLETE, RolloutPhase.FAILED, *_WAITING})


def _settled(plan: Plan) -> bool:
    ends = (RolloutStage.COMPLETE, RolloutStage.ROLLED_BACK)
    return all(
        r.stage in ends or isinstance(r.hold, WaveFailed)  # `waves:` after a failed wave
        for fp in plan.functions
        for r in fp.rollouts
    )


def _any_back(plan: Plan) -> bool:
    return any(
        r.stage is RolloutStage.ROLLED_BACK or isinstance(r.hold, WaveFailed)
        for fp in plan.functions
        for r in fp.rollouts
    )


_ON_TIME = frozenset({RolloutPhase.ADVANCING, RolloutPhase.PROMOTING})  # never taken early


def _waiting_dues(plan: Plan) -> dict[tuple[str, str], datetime]:
    """(function, alias) → when its waiting step ends, for the rollouts waiting at a step."""
    return {
        (fp.function, r.alias): r.due
        for fp in plan.functions
        for r in fp.rollouts
        if r.phase is RolloutPhase.WAITING and r.due is not None
    }


def _dues(plan: Plan, now: datetime) -> list[datetime]:
    """When a waiting step or a bake ends: the driver wakes then, not a poll later."""
    return [
        r.due
        for fp in plan.functions
        for r in fp.rollouts
        if r.phase in _WAITING and r.due is not None and r.due > now
    ]


def _raise_failures(result: ApplyResult) -> None:
    failed = [r for r in result.results if r.status is Status.FAILED]
    if failed:
        raise ReconcilerError(
            f"{failed[0].function}: {failed[0].message}; the rollouts stand where they are"
        )


def timeout_message(plan_time: datetime) -> str:
    return (
        f"--wait-timeout reached at {utc_time(plan_time)}: the rollouts stand where they are; "
        "any later apply continues them"
    )


@dataclass(frozen=True)
class Wait:
    """`apply --wait`: how often alarms are read while a step waits, when to stop waiting."""

    poll: int  # seconds
    timeout: int  # seconds


@dataclass(frozen=True)
class Timekeeping:
    """The driver's clock and sleep, and the event that stops it (a signal sets it);
    `aws_time`: plan in AWS's time (the `Date` of its responses), not the clock's."""

    clock: Clock
    sleep: Sleep
    stop: threading.Event
    aws_time: bool


def timekeeping(pinned: Clock | None) -> Timekeeping:
    """Wall time and a sleep that the stop event cuts short; virtual time when the clock is
    pinned (its sleep only advances it)."""
    stop = threading.Event()
    if pinned is not None:
        virtual = VirtualClock(pinned())
        return Timekeeping(virtual, virtual.sleep, stop, aws_time=False)

    def sleep(seconds: float) -> None:
        stop.wait(seconds)

    return Timekeeping(utcnow, sleep, stop, aws_time=True)


def wait_for_rollouts(  # noqa: PLR0913 (the driver's settings, all keyword but the first five)
    manifests: ManifestSet,
    aws: LambdaApi | Accounts,
    wait: Wait,
    time: Timekeeping,
    report: Report,
    *,
    display: Display | None = None,
    parallelism: int = 8,
    max_deletions: int = 100,
    notifiers: Notifiers | None = None,
) -> Outcome:
    """Every rollout of `manifests` to its end (`apply --wait`, after the first apply), within
    `wait.timeout`. SIGINT and SIGTERM set `time.stop` while it runs (the previous handlers are
    restored after): it ends between rounds with `Stopped`, whose `signum` names the signal."""
    waiter = Waiter(
        manifests,
        aws,
        time.clock,
        time.sleep,
        report,
        display=display,
        poll=timedelta(seconds=wait.poll),
        timeout=timedelta(seconds=wait.timeout),
        parallelism=parallelism,
        max_deletions=max_deletions,
        stop=time.stop,
        aws_time=time.aws_time,
        notifiers=notifiers,
        run_info=RunInfo.from_env(),
    )
    caught: list[int] = []
    with stopping_on_signals(time.stop, caught):
        try:
            return waiter.run()
        except Stopped:
            raise Stopped(caught[0] if caught else None) from None
