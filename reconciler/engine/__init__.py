"""A run against live Lambda: read (`reads`), guard and plan (`run`), apply (`apply`, the only
writer), wait for rollouts (`waiting`) and roll back by hand (`rollback`)."""

from reconciler.engine.apply import (
    ApplyResult,
    apply_plan,
    check_applicable,
    result_to_json,
)
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
from reconciler.engine.waiting import (
    LiveTable,
    Outcome,
    Stopped,
    VirtualClock,
    Waiter,
)

__all__ = [
    "AUTO_MIN_FUNCTIONS",
    "ApplyResult",
    "LiveTable",
    "OnRead",
    "Outcome",
    "ReadProgress",
    "Stopped",
    "VirtualClock",
    "Waiter",
    "apply_plan",
    "aws_now",
    "build_plan",
    "check_accounts",
    "check_applicable",
    "find_target",
    "gated_steps",
    "read_all",
    "recheck_rollouts",
    "refuse_if_stale",
    "result_to_json",
    "rollback_plan",
    "sweepable",
    "utcnow",
    "with_default_region",
]
