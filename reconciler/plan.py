"""The plan: inert, frozen data that every renderer and the executor consume.

Invariants (the planner guarantees them, the executor relies on them):
- `FunctionPlan.operations` is in the contract's §4 order: publish, create/update aliases,
  delete aliases, delete versions.
- An alias state whose version (or canary version) is `NEW_VERSION` refers to the version this
  plan's `publish_version` creates; the executor substitutes the number AWS returns.
- A function with `errors` has no operations: nothing is written for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from reconciler.live import Canary

NEW_VERSION = "(new)"


class Action(str, Enum):
    PUBLISH_VERSION = "publish_version"
    CREATE_ALIAS = "create_alias"
    UPDATE_ALIAS = "update_alias"
    DELETE_ALIAS = "delete_alias"
    DELETE_VERSION = "delete_version"


@dataclass(frozen=True)
class AliasState:
    """Where an alias routes. `description` None means "not managed" (desired) or unknown."""

    version: str
    canary: Canary | None = None
    description: str | None = None


@dataclass(frozen=True)
class Operation:
    """One write.

    - publish_version: `reason` names the differing fields; guarded by `code_sha256` and
      `revision_id` of the `$LATEST` that was planned.
    - create_alias: `after` only.
    - update_alias: `before` and `after`; guarded by the alias `revision_id` that was planned.
    - delete_alias: `before` only.
    - delete_version: `version` is the number; `reason` says why it goes; `code_size` is freed.
    """

    action: Action
    alias: str | None = None
    version: str | None = None
    before: AliasState | None = None
    after: AliasState | None = None
    changes: tuple[str, ...] = ()
    reason: str = ""
    revision_id: str | None = None
    code_sha256: str | None = None
    code_size: int = 0
    # Progressive rollout (create/update_alias only): the rollout tag value to write on the
    # function before the alias call, and, for a rollback, the alarm that caused it.
    rollout_state: str | None = None
    rollback_alarm: str | None = None


class Kept(NamedTuple):
    """A version retention keeps although it is outside keep_last, and why (shown with -v).

    A named tuple rather than a frozen dataclass: a plan over a large fleet holds one per kept
    version (a million for 10,000 functions of 100 young versions), and a tuple is built in
    half the time.
    """

    version: int
    reason: str


@dataclass(frozen=True)
class UnmanagedAlias:
    name: str
    state: AliasState


@dataclass(frozen=True)
class RolloutStatus:
    """Where a progressive rollout of one alias stands (contract §8)."""

    alias: str
    target: str
    step: int  # 1-based; 0 = not started
    steps: int
    weight: float
    message: str


@dataclass(frozen=True)
class FunctionPlan:
    key: str  # the manifest key (name or ARN)
    function: str  # the function name
    region: str
    account: str
    source: str  # "path/to/manifest.yaml:LINE:COL" of the function key
    arn: str = ""
    fingerprint: str = ""
    operations: tuple[Operation, ...] = ()
    unmanaged_aliases: tuple[UnmanagedAlias, ...] = ()
    errors: tuple[str, ...] = ()
    kept: tuple[Kept, ...] = ()
    storage_before: int = 0  # bytes of code storage held by published versions
    brake: str | None = None  # set when deletions exceed --max-deletions: apply refuses
    rollouts: tuple[RolloutStatus, ...] = ()

    @property
    def storage_freed(self) -> int:
        return sum(op.code_size for op in self.operations if op.action is Action.DELETE_VERSION)

    def count(self, action: Action) -> int:
        return sum(1 for op in self.operations if op.action is action)


@dataclass(frozen=True)
class Plan:
    functions: tuple[FunctionPlan, ...]
    manifests: tuple[str, ...] = ()
    max_deletions: int = 100
    errors: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for fp in self.functions:
            for op in fp.operations:
                counts[op.action.value] += 1
        counts["total"] = sum(counts.values())
        return counts

    @property
    def has_changes(self) -> bool:
        return any(fp.operations for fp in self.functions)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(fp.errors for fp in self.functions)

    @property
    def drifted(self) -> bool:
        """Anything differs from git: a change to make, or an unmanaged alias."""
        return self.has_changes or any(fp.unmanaged_aliases for fp in self.functions)
