"""A rollout event as JSON: the EventBridge `Detail` and the webhook's body.

The keys, always all present and in this order (`FORMAT` is `detail_version`):

    detail_version  1
    kind            started | step | holding | rolled_back | complete
    function, region, account, alias, alias_arn
    from_version    the version traffic moves from (null: none recorded)
    to_version      the rollout's target
    weight          the target's share of traffic after the write, 0.0 to 1.0
    step, steps     where the schedule stands (steps + 1: past the last step)
    attempt         the manifest's `rollout.attempt`
    phase           the plan's rollout phase (`complete` for a completion)
    cause           null, or {"kind": ..., its fields...}: alarm, hook_failed, error_rate,
                    compare_to_previous, manual (as the JSON plan names them), clock_skew,
                    metrics_unread, metrics_pending, alarm_no_data, wave_waiting,
                    wave_failed (`wave`, `rollouts`)
    time            AWS's time of the write, ISO 8601 UTC with seconds
    run_id, commit  the CI run and the commit (null when unknown)
    message         the plan's sentence for it (`reconciler.plan.wording`)

No credential or secret is ever part of an event: it holds names, versions, numbers and the
plan's words.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from typing_extensions import assert_never

from reconciler.notify.events import Cause, RolloutEvent
from reconciler.plan import (
    AlarmFired,
    AlarmNoData,
    CapacityAllocating,
    CapacityFailed,
    ClockSkew,
    ErrorRateAbove,
    HoldCause,
    HookFailed,
    ManualRollback,
    MetricsPending,
    MetricsUnread,
    WaveFailed,
    WaveWaiting,
    WorseThanPrevious,
)

FORMAT = 1


def _time(t: datetime) -> str:
    utc = t.astimezone(timezone.utc) if t.tzinfo else t.replace(tzinfo=timezone.utc)
    return utc.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def cause_data(c: Cause) -> dict[str, Any]:
    """A cause as data, with the JSON plan's `kind` names for the rollback causes."""
    match c:
        case AlarmFired():
            return {"kind": "alarm", "alarm": c.alarm}
        case HookFailed():
            return {
                "kind": "hook_failed",
                "phase": c.phase.value,
                "function": c.function,
                "reason": c.reason,
            }
        case ErrorRateAbove():
            return {
                "kind": "error_rate",
                "errors": c.errors,
                "invocations": c.invocations,
                "max_error_rate": c.max_error_rate,
            }
        case WorseThanPrevious():
            return {
                "kind": "compare_to_previous",
                "errors": c.errors,
                "invocations": c.invocations,
                "previous_errors": c.previous_errors,
                "previous_invocations": c.previous_invocations,
                "max_error_rate": c.max_error_rate,
            }
        case ManualRollback():
            return {"kind": "manual", "by": c.by}
        case CapacityFailed():
            return {"kind": "capacity_failed", "version": c.version, "reason": c.reason}
        case _:
            return _hold_data(c)


def _hold_data(c: HoldCause) -> dict[str, Any]:
    """Why a rollout holds, as data."""
    match c:
        case ClockSkew():
            return {"kind": "clock_skew", "seconds": c.seconds, "bound": c.bound}
        case MetricsUnread():
            return {"kind": "metrics_unread", "error": c.error}
        case MetricsPending():
            return {"kind": "metrics_pending", "ready": _time(c.ready)}
        case AlarmNoData():
            return {"kind": "alarm_no_data", "alarms": list(c.alarms)}
        case WaveWaiting():
            return {"kind": "wave_waiting", "wave": c.wave, "rollouts": list(c.rollouts)}
        case WaveFailed():
            return {"kind": "wave_failed", "wave": c.wave, "rollouts": list(c.rollouts)}
        case CapacityAllocating():
            return {
                "kind": "capacity_allocating",
                "version": c.version,
                "allocated": c.allocated,
                "requested": c.requested,
            }
        case _:
            assert_never(c)


def event_data(e: RolloutEvent) -> dict[str, Any]:
    """The event as a JSON object, keys in the documented order."""
    return {
        "detail_version": FORMAT,
        "kind": e.kind.value,
        "function": e.function,
        "region": e.region,
        "account": e.account,
        "alias": e.alias,
        "alias_arn": e.alias_arn,
        "from_version": e.from_version,
        "to_version": e.to_version,
        "weight": e.weight,
        "step": e.step,
        "steps": e.steps,
        "attempt": e.attempt,
        "phase": e.phase.value,
        "cause": None if e.cause is None else cause_data(e.cause),
        "time": _time(e.at),
        "run_id": e.run.run_id,
        "commit": e.run.commit,
        "message": e.message,
    }


def event_json(e: RolloutEvent) -> str:
    """The event as compact JSON text (UTF-8 safe, no trailing newline)."""
    return json.dumps(event_data(e), ensure_ascii=False, separators=(",", ":"))


def summary_line(e: RolloutEvent) -> str:
    """One line for chat (the Slack-compatible `text`): where, then the plan's sentence."""
    return f"{e.function}:{e.alias} ({e.account} {e.region}): {e.message}"
