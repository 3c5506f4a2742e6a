"""Provisioned concurrency in the plan: the operation that sets it on an alias or a version,
and why (re-exported by `reconciler.plan.types`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, ClassVar

from pydantic import Field

from reconciler.plan.fields import Count
from reconciler.plan.routes import Action


class CapacityReason(str, Enum):
    """Why provisioned concurrency is set: the manifest's value differs (`declared`), or an
    alias with provisioned concurrency moves to another version (the others)."""

    DECLARED = "declared"  # the alias's capacity differs from `provisioned_concurrency`
    MOVE_TARGET = "move_target"  # the version the alias moves to: READY before traffic moves
    CONVERTED = "converted"  # the alias's own config, replaced by its version's before a promotion
    MOVED_FROM = "moved_from"  # the version the alias left, its move done: no longer needed
    ROLLED_BACK_FROM = "rolled_back_from"  # the version a rollout was rolled back from
    ROLLED_BACK_TO = "rolled_back_to"  # `rollback` moved the alias there first: capacity follows


@dataclass(frozen=True)
class SetProvisionedConcurrency:
    """Put (`after` > 0) or Delete (`after` 0) the provisioned concurrency of an alias, on the
    qualifier where its capacity lives (the alias itself, or its primary version).

    `memory_mb` and `arm64` are the version's, for the approximate monthly cost the words give.
    Planned only for an alias that is not moving and has no routing (Lambda manages no
    provisioned concurrency on an alias with routing)."""

    action: ClassVar[Action] = Action.SET_PROVISIONED_CONCURRENCY
    alias: str
    qualifier: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$")]  # never $LATEST
    before: Count
    after: Count
    memory_mb: Count = 0
    arm64: bool = False
    why: CapacityReason = CapacityReason.DECLARED
