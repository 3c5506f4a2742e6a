"""A run against live Lambda: read (`reads`), guard and plan (`run`), apply (`apply`, the only
writer), wait for rollouts (`waiting`), stop on SIGINT and SIGTERM between operations
(`signals`) and roll back by hand (`rollback`)."""

from reconciler.engine.apply import (
    ApplyResult,
    apply_plan,
    check_applicable,
    result_to_json,
)
from reconciler.engine.capacity_reads import read_capacity
from reconciler.engine.reads import (
    AUTO_MIN_FUNCTIONS,
    sweepable,
)
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
    "apply_plan",
    "aws_now",
    "build_plan",
    "check_accounts",
    "check_applicable",
    "find_target",
    "gated_steps",
    "read_all",
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
]
