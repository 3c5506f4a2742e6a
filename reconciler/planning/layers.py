"""Layer retention, pure: which layer versions go, and why the others stay.

A layer version is deleted only when retention allows it (outside `keep_last`, older than
`keep_days`, not in `protect`), no version of any function in its region uses it (published or
`$LATEST`, managed here or not: `usage`), and its policy grants no other account or organization
(`grants`): such users cannot be seen from this account, so those versions stay.

The engine reads in two steps (`candidates` first, then the usage and policies of those only);
`plan_layer` is called once everything it needs is read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reconciler.aws import LiveLayerVersion
from reconciler.manifest import LayerTarget
from reconciler.plan import (
    DeleteLayerVersion,
    KeptLayer,
    LayerKeepReason,
    LayerPlan,
    Protected,
    Shared,
    UsedBy,
    Young,
)

SHOWN_USERS = 3  # function versions named per kept layer version; the rest are counted


@dataclass(frozen=True)
class ObservedLayer:
    """What was read for one declared layer. `usage` maps a layer version ARN to the function
    versions using it (the whole region); `policies` the policy JSON of candidates that have
    one. Both are read only when retention would delete something."""

    target: LayerTarget
    region: str
    versions: tuple[LiveLayerVersion, ...] = ()
    error: str | None = None
    usage: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    policies: Mapping[int, str] = field(default_factory=dict)


def _retained(v: LiveLayerVersion, target: LayerTarget, now: datetime) -> LayerKeepReason | None:
    retention = target.spec.retention
    if v.number in retention.protect:
        return Protected()
    days = max(0, (now - v.created).days)
    if retention.keep_days is not None and days < retention.keep_days:
        return Young(days, retention.keep_days)
    return None


def _outside_keep_last(obs: ObservedLayer) -> list[LiveLayerVersion]:
    newest_first = sorted(obs.versions, key=lambda v: v.number, reverse=True)
    keep_last = obs.target.spec.retention.keep_last
    return newest_first[keep_last:] if keep_last is not None else newest_first


def candidates(obs: ObservedLayer, now: datetime) -> list[LiveLayerVersion]:
    """The versions retention alone would delete (before usage and policies are read)."""
    return [v for v in _outside_keep_last(obs) if _retained(v, obs.target, now) is None]


def _principal(statement: Mapping[str, Any], account: str) -> str | None:
    """Whom one Allow statement grants, in words; None for this account itself."""
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        principal = principal.get("AWS")
    names = principal if isinstance(principal, list) else [principal]
    for p in names:
        text = str(p)
        if text == "*":
            condition = statement.get("Condition") or {}
            org = (condition.get("StringEquals") or {}).get("aws:PrincipalOrgID")
            return f"organization {org}" if org else "everyone"
        grantee = text.split(":")[4] if text.startswith("arn:") and text.count(":") >= 5 else text
        if grantee != account:
            return f"account {grantee}"
    return None


def grants(policy: str, account: str) -> tuple[str, ...]:
    """Who other than `account` a layer version policy grants; unreadable counts as everyone."""
    try:
        statements = json.loads(policy).get("Statement", [])
    except (ValueError, AttributeError):
        return ("an unreadable policy",)
    if isinstance(statements, Mapping):
        statements = [statements]
    out: list[str] = []
    for s in statements:
        if isinstance(s, Mapping) and s.get("Effect", "Allow") == "Allow":
            who = _principal(s, account)
            if who is not None and who not in out:
                out.append(who)
    return tuple(out)


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _vetoes(v: LiveLayerVersion, obs: ObservedLayer) -> tuple[LayerKeepReason, ...]:
    reasons: list[LayerKeepReason] = []
    users = obs.usage.get(v.arn, ())
    if users:
        reasons.append(UsedBy(tuple(sorted(users)[:SHOWN_USERS]), len(users)))
    policy = obs.policies.get(v.number)
    if policy is not None:
        grantees = grants(policy, _account(v.arn))
        if grantees:
            reasons.append(Shared(grantees))
    return tuple(reasons)


def plan_layer(obs: ObservedLayer, now: datetime) -> LayerPlan:
    """The layer's deletions and kept versions, from everything read about it."""
    t = obs.target
    base = LayerPlan(t.key, t.name, obs.region, str(t.location), versions=len(obs.versions))
    if obs.error is not None:
        return LayerPlan(base.key, base.layer, base.region, base.source, errors=(obs.error,))
    ops: list[DeleteLayerVersion] = []
    kept: list[KeptLayer] = []
    for v in _outside_keep_last(obs):
        keep = _retained(v, t, now)
        reasons = (keep,) if keep is not None else _vetoes(v, obs)
        if reasons:
            kept.append(KeptLayer(v.number, reasons))
            continue
        age = max(0, (now - v.created).days)
        ops.append(
            DeleteLayerVersion(v.number, v.arn, v.code_size, age, t.spec.retention.keep_last)
        )
    return LayerPlan(
        base.key,
        base.layer,
        base.region,
        base.source,
        operations=tuple(sorted(ops, key=lambda op: op.version)),
        kept=tuple(sorted(kept, key=lambda k: k.version)),
        versions=len(obs.versions),
    )
