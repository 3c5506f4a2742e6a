"""The Terraform-like text plan (contract §7): one block per function, a one-line summary."""

from __future__ import annotations

from reconciler.plan import NEW_VERSION, Action, FunctionPlan, Operation, Plan
from reconciler.planner import format_state

SYMBOL = {
    Action.PUBLISH_VERSION: "+",
    Action.CREATE_ALIAS: "+",
    Action.UPDATE_ALIAS: "~",
    Action.DELETE_ALIAS: "-",
    Action.DELETE_VERSION: "-",
}
_COLORS = {"+": "32", "~": "33", "-": "31", "!": "35", "✗": "31;1", "»": "36", "=": "2"}


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def target(op: Operation) -> str:
    match op.action:
        case Action.PUBLISH_VERSION:
            return "$LATEST"
        case Action.CREATE_ALIAS | Action.UPDATE_ALIAS | Action.DELETE_ALIAS:
            return op.alias or ""
        case Action.DELETE_VERSION:
            return op.version or ""


def detail(op: Operation) -> str:
    """What an operation changes, in one line."""
    match op.action:
        case Action.PUBLISH_VERSION:
            return f"→ new version ({op.reason})"
        case Action.CREATE_ALIAS:
            return "; ".join(op.changes)
        case Action.UPDATE_ALIAS:
            return "; ".join(op.changes)
        case Action.DELETE_ALIAS:
            return f"{format_state(op.before)} ({op.reason})"
        case Action.DELETE_VERSION:
            return op.reason


def summary_line(plan: Plan, *, drift: bool = False) -> str:
    s = plan.summary
    counts = (
        f"{s['publish_version']} to publish, {s['create_alias']} to create, "
        f"{s['update_alias']} to update, {plural(s['delete_alias'], 'alias', 'aliases')} "
        f"to delete, {plural(s['delete_version'], 'version', 'versions')} to delete."
    )
    errors = sum(len(fp.errors) for fp in plan.functions) + len(plan.errors)
    tail = f" {errors} error(s)." if errors else ""
    return f"{'Drift' if drift else 'Plan'}: {counts}{tail}"


def _paint(line: str, color: bool) -> str:
    if not color:
        return line
    symbol = line.strip()[:1]
    code = _COLORS.get(symbol)
    return f"\033[{code}m{line}\033[0m" if code else line


def function_lines(fp: FunctionPlan, *, verbose: bool) -> list[str]:
    where = fp.region or "default region"
    lines = [f"{fp.function} ({where})"]
    for err in fp.errors:
        lines.append(f"  ✗ error: {err}")
    width = max((len(f"{o.action.value} {target(o)}") for o in fp.operations), default=0)
    for op in fp.operations:
        head = f"{op.action.value} {target(op)}".ljust(width)
        lines.append(f"  {SYMBOL[op.action]} {head}  {detail(op)}")
    for u in fp.unmanaged_aliases:
        lines.append(f"  ! unmanaged alias  {u.name} → {format_state(u.state)}")
    for r in fp.rollouts:
        lines.append(f"  » rollout {r.alias}: {r.message}")
    freed = fp.storage_freed
    if freed:
        lines.append(
            f"  = frees {human_bytes(freed)} of {human_bytes(fp.storage_before)} code storage "
            f"(→ {human_bytes(fp.storage_before - freed)})"
        )
    if fp.brake:
        lines.append(f"  ! brake: {fp.brake}")
    if verbose:
        for k in fp.kept:
            lines.append(f"  = keep {k.version}  {k.reason}")
    return lines


def _interesting(fp: FunctionPlan, verbose: bool) -> bool:
    return bool(
        fp.operations
        or fp.errors
        or fp.unmanaged_aliases
        or fp.brake
        or (fp.rollouts and any(r.step for r in fp.rollouts))
        or (verbose and fp.kept)
    )


def render_text(
    plan: Plan, *, verbose: bool = False, color: bool = False, drift: bool = False
) -> str:
    out: list[str] = []
    if drift:
        n = sum(1 for fp in plan.functions if fp.operations or fp.unmanaged_aliases)
        out.append(
            f"Drift: live state differs from git in {n} function(s)."
            if plan.drifted
            else "No drift: live state matches git."
        )
        out.append("")
    for err in plan.errors:
        out.append(_paint(f"✗ error: {err}", color))
    in_sync: list[str] = []
    for fp in plan.functions:
        if not _interesting(fp, verbose):
            in_sync.append(fp.function)
            continue
        out.extend(_paint(line, color) for line in function_lines(fp, verbose=verbose))
        out.append("")
    if in_sync:
        names = f": {', '.join(in_sync)}" if verbose else ""
        out.append(f"{len(in_sync)} function(s) in sync{names}.")
        out.append("")
    if not plan.has_changes and not plan.has_errors and not drift:
        out.append("No changes. Live state matches the manifests.")
    out.append(summary_line(plan, drift=drift))
    return "\n".join(out).replace(NEW_VERSION, "new version") + "\n"
