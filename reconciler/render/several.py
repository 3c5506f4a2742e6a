"""Several plans in one pull-request comment: the shards of one manifest set (`--shard K/N`)
and the plans of other sets (a matrix by account), each applied by its own job."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.plan import Plan
from reconciler.render.markdown import (
    DEFAULT_LIMIT,
    FLEET_MARKER,
    code,
    marker_for,
    render_markdown,
)


def _set_line(plans: Sequence[Plan]) -> str:
    """What one manifest set's plans are: its manifests, and its shards (or the whole set)."""
    first = plans[0]
    files = ", ".join(code(m) for m in first.manifests) or "(no manifest)"
    labels = [p.shard for p in plans]
    if labels == [None]:
        return f"- {files}: the whole set"
    if any(label is None for label in labels):
        raise ValueError(f"{files}: a plan of the whole set given with plans of its shards")
    counts_ = {str(label).split("/")[1] for label in labels}
    if len(counts_) != 1:
        raise ValueError(
            f"{files}: plans of shards of different counts: {', '.join(map(str, labels))}"
        )
    if len(set(labels)) != len(labels):
        raise ValueError(f"{files}: the same shard given twice")
    n = int(counts_.pop())
    have = sorted(int(str(label).split("/")[0]) for label in labels)
    line = f"- {files}: shards {', '.join(code(f'{k}/{n}') for k in have)}"
    missing = [f"{k}/{n}" for k in range(1, n + 1) if k not in have]
    if missing:
        line += f"; not shown (no plan given): {', '.join(code(m) for m in missing)}"
    return line


def merge_plans(plans: Sequence[Plan]) -> tuple[Plan, list[str], str]:
    """Several plans (the shards of one manifest set, `--shard K/N`, and the plans of other
    sets, each job's) as one plan, the lines saying which plans it holds, and the marker of
    their comment: the set's when one set, else `FLEET_MARKER`. Refused (ValueError): a set's
    shards of different counts or given twice, or with the whole set."""
    sets: dict[tuple[str, ...], list[Plan]] = {}
    for p in plans:
        sets.setdefault(tuple(sorted(p.manifests)), []).append(p)
    lines = ["Plans shown together, each applied by its own job:", ""]
    lines += [_set_line(group) for group in sets.values()]
    manifests = tuple(dict.fromkeys(m for p in plans for m in p.manifests))
    storage = {s.region: s for p in plans for s in p.storage}
    merged = Plan(
        functions=tuple(fp for p in plans for fp in p.functions),
        manifests=manifests,
        max_deletions=plans[0].max_deletions,
        errors=tuple(e for p in plans for e in p.errors),
        layers=tuple(lp for p in plans for lp in p.layers),
        storage=tuple(storage.values()),
        storage_warn=plans[0].storage_warn,
        housekeeping_drift=plans[0].housekeeping_drift,
    )
    marker = marker_for(next(iter(sets))) if len(sets) == 1 else FLEET_MARKER
    return merged, lines, marker


def render_plans(
    plans: Sequence[Plan],
    *,
    drift: bool = False,
    limit: int = DEFAULT_LIMIT,
    full_at: str = "the job summary",
) -> str:
    """One body with several plans (`merge_plans`), as if one job had planned them all, under
    the marker of their set (or of the fleet), with the plans it holds named under the
    headline."""
    merged, said, marker = merge_plans(plans)
    room = max(limit - sum(len(x) + 1 for x in said) - 2, 1000)
    lines = render_markdown(merged, drift=drift, limit=room, full_at=full_at).split("\n")
    lines[:2] = marker.split("\n")
    at = next((i for i, x in enumerate(lines) if x.startswith("Manifests: ")), 3)
    lines[at + 1 : at + 1] = ["", *said]
    return "\n".join(lines)
