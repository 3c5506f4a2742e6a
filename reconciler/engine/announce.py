"""Rollout notifications from the executor: after each successful rollout write, the events it
means (`reconciler.notify.events_for_write`; the `rollback` command's failure mark,
`events_for_mark`), and for each rollout that holds with nothing written, `holding`. A
notifier never raises: a failed notification is a warning line, never a failed write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from reconciler.errors import ReconcilerError
from reconciler.notify import (
    Notifier,
    Notifiers,
    RunInfo,
    Written,
    events_for_mark,
    events_for_status,
    events_for_write,
)
from reconciler.plan import (
    AliasRecord,
    CreateAlias,
    FunctionPlan,
    Plan,
    RolloutStep,
    UpdateAlias,
    VersionRef,
)


@dataclass(frozen=True)
class Write:
    """One alias write as sent: its rollout step (None: the `rollback` command's), the
    routing, and the record written (its versions resolved)."""

    alias: str
    step: RolloutStep | None
    version: str
    weights: Mapping[str, float]
    record: AliasRecord | None


@dataclass(frozen=True)
class Announcer:
    """A function's notifier and the run it reports."""

    notifier: Notifier
    run: RunInfo

    @staticmethod
    def of(notifiers: Notifiers | None, fp: FunctionPlan, run: RunInfo | None) -> Announcer | None:
        """`fp`'s, or None when no sink hears of it."""
        notifier = notifiers.of(fp.key, fp.region) if notifiers else None
        return Announcer(notifier, run or RunInfo()) if notifier else None

    def write(
        self,
        fp: FunctionPlan,
        write: Write,
        resolve: Callable[[VersionRef], str],
        now: Callable[[], datetime],
    ) -> None:
        """The events of `write`; `resolve` names a new version's number, `now` stamps a write
        whose record carries no time."""
        state = write.record.rollout if write.record is not None else None
        if state is not None:
            to = resolve(state.target)
        elif write.step is not None:
            try:
                to = resolve(write.step.status.target)
            except ReconcilerError:
                to = str(write.step.status.target)
        else:
            return
        at = state.since if state is not None and state.since is not None else now()
        written = Written(write.alias, to, write.version, dict(write.weights), state, at)
        if write.step is not None:
            self.notifier.notify(events_for_write(fp, write.step.status, written, self.run))
        else:
            self.notifier.notify(events_for_mark(fp, written, self.run))


def announce_holds(
    plan: Plan,
    notifiers: Notifiers | None,
    at: datetime | Callable[[], datetime],
    run_info: RunInfo | None = None,
) -> None:
    """`holding` for each rollout of the plan that holds and that no write of the plan moves
    (a notifier sends the same hold once); nothing without notifiers. `at`: the time, or the
    clock to read it from."""
    if not notifiers:
        return
    if callable(at):
        at = at()
    for fp in plan.functions:
        notifier = notifiers.of(fp.key, fp.region)
        if not notifier:
            continue
        written = {
            op.alias
            for op in fp.operations
            if isinstance(op, CreateAlias | UpdateAlias) and op.rollout is not None
        }
        for status in fp.rollouts:
            if status.alias not in written:
                notifier.notify(events_for_status(fp, status, at, run_info or RunInfo()))
