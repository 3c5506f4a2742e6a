"""The rollout tag format of earlier releases, written by tests that check its migration into the
alias record (the reconciler only reads it now: `reconciler.planning.rollout.decode_tag`)."""

from __future__ import annotations

import re
from datetime import timezone

from reconciler.plan import (
    AlarmFired,
    ErrorRateAbove,
    HookFailed,
    ManualRollback,
    RolloutState,
    WorseThanPrevious,
)

_SAFE = re.compile(r"[^\w.:/=+\-@]")


def legacy_tag(state: RolloutState) -> str:
    """An earlier release's `lambda-reconciler:rollout:<alias>` value for `state`."""
    parts = [
        f"target={state.target}",
        f"previous={state.previous}",
        f"step={state.step}",
        f"since={state.since.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"status={state.status}",
    ]
    if state.attempt != 1:
        parts.append(f"attempt={state.attempt}")
    match state.cause:
        case AlarmFired(alarm=alarm):
            parts += ["cause=alarm", f"alarm={_SAFE.sub('_', alarm)}"]
        case HookFailed(phase=phase, function=function, reason=reason):
            parts += [f"cause={phase.value}", f"hook={_SAFE.sub('_', function)}"]
            return (" ".join(parts) + " reason=" + reason)[:256]
        case ErrorRateAbove(errors=e, invocations=n, max_error_rate=m):
            parts += ["cause=error_rate", f"errors={e}", f"invocations={n}", f"max_error_rate={m}"]
        case WorseThanPrevious() | ManualRollback() | None:
            pass
    return " ".join(parts)[:256]
