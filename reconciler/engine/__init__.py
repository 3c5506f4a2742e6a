"""A run against live Lambda: read (`reads`), guard and plan (`run`), apply (`apply`, the only
writer; `results`, what it did), wait for rollouts (`waiting`), stop on SIGINT and SIGTERM
between operations (`signals`) and roll back by hand (`rollback`)."""

from reconciler.engine.announce import announce_holds
from reconciler.engine.apply import apply_plan, check_applicable
from reconciler.engine.attachments import read_attachments, with_every_attachment
from reconciler.engine.capacity_reads import read_capacity
from reconciler.engine.reads import (
    AUTO_MIN_FUNCTIONS,
    sweepable,
)
from reconciler.engine.results import ApplyResult, result_to_json
from reconciler.engine.rollback import (
    find_target,
    rollback_plan,
)
from reconciler.engine.run import (
    OnRead,
    ReadProgress,
    aws_now,
    build_plan,
    check_accounts,
    gated_steps,
    read_all,
    recheck_rollouts,
    refuse_if_stale,
    utcnow,
    with_default_region,
)
from reconciler.engine.signals import (
    Terminated,
    stopping_on_signals,
    until_done,
)
from reconciler.engine.waiting import (
    Outcome,
    Stopped,
    Timekeeping,
    VirtualClock,
    Wait,
    Waiter,
    timekeeping,
    wait_for_rollouts,
)

__all__ = [
    "AUTO_MIN_FUNCTIONS",
    "ApplyResult",
    "OnRead",
    "Outcome",
    "ReadProgress",
    "Stopped",
    "Terminated",
    "Timekeeping",
    "VirtualClock",
    "Wait",
    "Waiter",
    "announce_holds",
    "apply_plan",
    "aws_now",
    "build_plan",
    "check_accounts",
    "check_applicable",
    "find_target",
    "gated_steps",
    "read_all",
    "read_attachments",
    "read_capacity",
    "recheck_rollouts",
    "refuse_if_stale",
    "result_to_json",
    "rollback_plan",
    "stopping_on_signals",
    "sweepable",
    "timekeeping",
    "until_done",
    "utcnow",
    "wait_for_rollouts",
    "with_default_region",
    "with_every_attachment",
]
