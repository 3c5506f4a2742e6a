"""The event buses `apply` sends rollout events to (`defaults.notifications.eventbridge`), as
the ARNs an IAM policy grants `events:PutEvents` on."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reconciler.manifest import FunctionTarget


def event_buses(
    targets: Sequence[FunctionTarget],
    region: str | None,
    account: str | None,
    partition: Callable[[str], str],
) -> list[str]:
    """Each configured bus's ARN, once, in manifest order: an ARN as written, a name in the
    bus's region (else the function's, else `region`) and the run's account (else `*`)."""
    out: list[str] = []
    for t in targets:
        eb = t.notifications.eventbridge if t.notifications is not None else None
        if eb is None:
            continue
        arn = eb.bus
        if not arn.startswith("arn:"):
            reg = eb.bus_region or t.region or region or "*"
            acct = t.account or account
            if (
                acct is None
                and t.allowed_account_ids is not None
                and len(t.allowed_account_ids) == 1
            ):
                acct = next(iter(t.allowed_account_ids))
            arn = f"arn:{partition(reg)}:events:{reg}:{acct or '*'}:event-bus/{eb.bus}"
        if arn not in out:
            out.append(arn)
    return out
