"""Pure planning: observed state and manifests in, a `Plan` out, no I/O (`planner`; selectors in
`resolve`, version retention in `retention`, progressive rollouts in `rollout`, layer retention
in `layers`)."""

from reconciler.planning.attachments import (
    desired_async,
    desired_permission,
    desired_url,
    guarded_aliases,
)
from reconciler.planning.capacity import declares_capacity, rollback_capacity
from reconciler.planning.layers import (
    ObservedLayer,
    candidates,
    grants,
    plan_layer,
)
from reconciler.planning.planner import (
    Observed,
    fingerprint,
    plan,
    plan_function,
    same_weight,
)
from reconciler.planning.resolve import PlanError, Resolver
from reconciler.planning.rollout import (
    HISTORY_PREFIX,
    NO_DATA,
    TAG_PREFIX,
    record_of,
    state_of,
    tolerance,
)

__all__ = [
    "HISTORY_PREFIX",
    "NO_DATA",
    "TAG_PREFIX",
    "Observed",
    "ObservedLayer",
    "PlanError",
    "Resolver",
    "candidates",
    "declares_capacity",
    "desired_async",
    "desired_permission",
    "desired_url",
    "fingerprint",
    "grants",
    "guarded_aliases",
    "plan",
    "plan_function",
    "plan_layer",
    "record_of",
    "rollback_capacity",
    "same_weight",
    "state_of",
    "tolerance",
]
