"""Provisioned concurrency declared on aliases (`provisioned_concurrency: N`): what differs from
the live configs, as `SetProvisionedConcurrency` operations. Pure.

Where an alias's capacity lives: its alias-level config if it has one, else the version-level
config of its primary version (`capacity_of`). A change is planned on that qualifier (a fresh
alias: the alias itself), and only for an alias that this plan does not move and that has no
routing: Lambda manages no provisioned concurrency on an alias with routing, and repointing an
alias moves its alias-level config by itself. An alias without the key is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from reconciler.aws import LiveFunction, LiveProvisioned, capacity_of
from reconciler.manifest import FunctionTarget
from reconciler.plan import (
    AliasField,
    AliasWrite,
    CreateAlias,
    SetProvisionedConcurrency,
    UpdateAlias,
)


def declares_capacity(target: FunctionTarget) -> bool:
    """Whether any alias of the function declares `provisioned_concurrency` (then its configs
    are read: one ListProvisionedConcurrencyConfigs)."""
    return any(a.provisioned_concurrency is not None for a in target.spec.aliases.values())


def _sizing(live: LiveFunction, version: str) -> tuple[int, bool]:
    """The memory (MB) and whether arm64, of a version (else of `$LATEST`): for the cost."""
    snapshot = live.latest.snapshot
    if version.isdigit():
        v = live.version(int(version))
        if v is not None:
            snapshot = v.snapshot
    try:
        memory = int(json.loads(snapshot.config.get("memory", "0")))
    except (TypeError, ValueError):
        memory = 0
    return memory, "arm64" in snapshot.config.get("architectures", "")


def _requested(c: LiveProvisioned | None) -> int:
    """What a config provides: a FAILED allocation provides nothing."""
    return 0 if c is None or c.status == "FAILED" else c.requested


def capacity_ops(
    target: FunctionTarget, live: LiveFunction, writes: Sequence[AliasWrite]
) -> list[SetProvisionedConcurrency]:
    """The capacity changes of the function's aliases that declare `provisioned_concurrency`."""
    configs = live.provisioned
    if configs is None:
        return []
    written = {w.alias: w for w in writes}
    ops: list[SetProvisionedConcurrency] = []
    for name, spec in target.spec.aliases.items():
        want = spec.provisioned_concurrency
        if want is None:
            continue
        write = written.get(name)
        current = live.alias(name)
        if isinstance(write, CreateAlias):
            version = str(write.after.version)
            if want > 0 and write.after.canary is None:
                memory, arm = _sizing(live, version)
                ops.append(SetProvisionedConcurrency(name, name, 0, want, memory, arm))
            continue
        moving = isinstance(write, UpdateAlias) and (
            AliasField.VERSION in write.fields or AliasField.CANARY in write.fields
        )
        if current is None or moving or current.canary is not None:
            continue
        cap = capacity_of(configs, name, current.version)
        have = _requested(cap)
        if have == want and (cap is None or cap.status != "FAILED"):
            continue
        if want == 0 and cap is None:
            continue
        memory, arm = _sizing(live, current.version)
        qualifier = cap.qualifier if cap is not None else name
        ops.append(SetProvisionedConcurrency(name, qualifier, have, want, memory, arm))
    return ops
