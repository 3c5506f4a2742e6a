"""The whole plan of a run: its functions, layers, code storage and settings, and the counts
of its summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, Strict

from reconciler.aws import CodeStorage
from reconciler.plan.attachment_types import (
    ATTACHMENT_ACTIONS,
)
from reconciler.plan.fields import (
    Count,
    Shape,
    describe_function,
    describe_layer,
    describe_storage,
    load_function,
    load_layer,
    load_storage,
)
from reconciler.plan.rollout_types import (
    RolloutStatus,
)
from reconciler.plan.routes import (
    Action,
)
from reconciler.plan.types import (
    Brake,
    FunctionPlan,
    LayerPlan,
)

DEFAULT_STORAGE_WARN = 0.8


def summary_counts(
    functions: tuple[FunctionPlan, ...], layers: tuple[LayerPlan, ...] = ()
) -> Mapping[str, int]:
    counts = {a.value: 0 for a in Action if a not in ATTACHMENT_ACTIONS}
    for fp in functions:
        for op in fp.operations:
            counts[op.action.value] = counts.get(op.action.value, 0) + 1
    counts[Action.DELETE_LAYER_VERSION.value] += sum(lp.deletions for lp in layers)
    counts["total"] = sum(counts.values())
    return counts


@dataclass(frozen=True)
class Plan:
    functions: tuple[Annotated[FunctionPlan, Shape(load_function, describe_function)], ...]
    manifests: tuple[str, ...] = ()
    max_deletions: Count = 100
    errors: tuple[str, ...] = field(default=())
    layers: tuple[Annotated[LayerPlan, Shape(load_layer, describe_layer)], ...] = ()
    # one per region the run touches
    storage: Annotated[
        tuple[Annotated[CodeStorage, Shape(load_storage, describe_storage)], ...],
        Field(alias="code_storage"),
    ] = ()
    # warn above this share of the quota
    storage_warn: Annotated[float, Strict(), Field(gt=0, le=1, allow_inf_nan=False)] = (
        DEFAULT_STORAGE_WARN
    )
    # `drift --housekeeping-is-drift`: due deletions count
    housekeeping_drift: Annotated[bool, Strict(), Field(alias="housekeeping_is_drift")] = False
    # `--shard K/N`: the share of the manifests' functions this plan covers (None: all)
    shard: Annotated[str | None, Field(pattern=r"^[0-9]+/[0-9]+$")] = None

    @property
    def summary(self) -> Mapping[str, int]:
        return summary_counts(self.functions, self.layers)

    @property
    def has_changes(self) -> bool:
        return any(fp.operations for fp in self.functions) or any(
            lp.operations for lp in self.layers
        )

    @property
    def has_errors(self) -> bool:
        return (
            bool(self.errors)
            or any(fp.errors for fp in self.functions)
            or any(lp.errors for lp in self.layers)
        )

    def storage_freed(self, region: str) -> int:
        """Bytes of code storage this plan frees in `region` (function and layer versions)."""
        return sum(fp.storage_freed for fp in self.functions if fp.region == region) + sum(
            lp.storage_freed for lp in self.layers if lp.region == region
        )

    @property
    def brake(self) -> Brake | None:
        """Set when the whole run would delete more than `max_deletions` things."""
        total = sum(fp.deletions for fp in self.functions) + sum(lp.deletions for lp in self.layers)
        return Brake(total, self.max_deletions) if total > self.max_deletions else None

    @property
    def refused(self) -> bool:
        """`apply` refuses this plan whole: it has errors or trips the brake."""
        return self.has_errors or self.brake is not None

    @property
    def drifted(self) -> bool:
        """Anything differs from git: a change to make other than a healthy rollout's next step
        or housekeeping, an unmanaged alias, or a rollout that failed or cannot start (§8).
        Housekeeping (function and layer versions retention deletes) counts only with
        `housekeeping_drift`."""
        return any(fp.drifted for fp in self.functions) or (
            self.housekeeping_drift and any(self.housekeeping)
        )

    @property
    def housekeeping(self) -> tuple[int, int]:
        """(function versions, layer versions) retention deletes: due, not drift."""
        return (
            sum(fp.housekeeping for fp in self.functions),
            sum(lp.deletions for lp in self.layers),
        )

    @property
    def off_course(self) -> tuple[tuple[str, RolloutStatus], ...]:
        """(function, rollout) of every rollout that failed, rolled back or cannot start."""
        return tuple((fp.function, r) for fp in self.functions for r in fp.rollouts if r.off_course)
