"""Markdown for pull-request comments and `$GITHUB_STEP_SUMMARY`.

Two hidden markers open the body: `<!-- lambda-reconciler:plan -->` (or `:drift`) and one naming
the manifest set, so the Action updates its own comment per manifest set instead of adding new
ones. Bodies longer than GitHub's comment limit are cut, with a note saying so.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from reconciler.plan import Action, FunctionPlan, Plan
from reconciler.planner import format_state
from reconciler.render.text import (
    detail,
    human_bytes,
    plural,
    render_text,
    summary_line,
    target,
)

GITHUB_LIMIT = 65536
DEFAULT_LIMIT = 60000
ICON = {
    Action.PUBLISH_VERSION: "🆕 publish",
    Action.CREATE_ALIAS: "➕ create alias",
    Action.UPDATE_ALIAS: "🔁 update alias",
    Action.DELETE_ALIAS: "🗑️ delete alias",
    Action.DELETE_VERSION: "🗑️ delete version",
}


def marker_for(manifests: Sequence[str], kind: str = "plan") -> str:
    digest = hashlib.sha256("\n".join(sorted(manifests)).encode()).hexdigest()[:12]
    return f"<!-- lambda-reconciler:{kind} -->\n<!-- lambda-reconciler:manifests={digest} -->"


def cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'").replace("\n", " ")


def _function_section(fp: FunctionPlan) -> list[str]:
    lines = [f"#### `{fp.function}` ({fp.region or 'default region'})", ""]
    for err in fp.errors:
        lines.append(f"> ❌ **error:** {cell(err)}")
    if fp.errors:
        lines.append("")
    if fp.operations:
        lines += ["| Action | Target | Change |", "|---|---|---|"]
        for op in fp.operations:
            lines.append(f"| {ICON[op.action]} | `{cell(target(op))}` | {cell(detail(op))} |")
        lines.append("")
    notes: list[str] = []
    if fp.unmanaged_aliases:
        names = ", ".join(f"`{u.name}` → {format_state(u.state)}" for u in fp.unmanaged_aliases)
        notes.append(f"⚠️ Unmanaged aliases (not in the manifest): {names}")
    for r in fp.rollouts:
        notes.append(f"⏩ Rollout `{r.alias}`: {cell(r.message)}")
    if fp.storage_freed:
        notes.append(
            f"💾 Frees {human_bytes(fp.storage_freed)} of "
            f"{human_bytes(fp.storage_before)} code storage"
        )
    if fp.brake:
        notes.append(f"🛑 **Brake:** {cell(fp.brake)}")
    lines += [f"- {n}" for n in notes]
    if notes:
        lines.append("")
    return lines


def render_markdown(plan: Plan, *, drift: bool = False, limit: int = DEFAULT_LIMIT) -> str:
    kind = "drift" if drift else "plan"
    head = [marker_for(plan.manifests, kind)]
    s = plan.summary
    errors = plan.has_errors
    if drift:
        title = "Drift detected" if plan.drifted else "No drift"
    elif errors:
        title = "Plan failed"
    else:
        title = "Plan" if plan.has_changes else "No changes"
    icon = "❌" if errors else ("📋" if plan.has_changes or (drift and plan.drifted) else "✅")
    counts = (
        f"{s['publish_version']} to publish · {s['create_alias']} to create · "
        f"{s['update_alias']} to update · {plural(s['delete_alias'], 'alias', 'aliases')} "
        f"to delete · {plural(s['delete_version'], 'version', 'versions')} to delete"
    )
    head.append(f"### {icon} lambda-reconciler {kind}: {title}")
    head.append("")
    head.append(f"**{counts}**")
    head.append("")
    if plan.manifests:
        head.append("Manifests: " + ", ".join(f"`{m}`" for m in plan.manifests))
        head.append("")
    for err in plan.errors:
        head.append(f"> ❌ **error:** {cell(err)}")
    body: list[str] = []
    in_sync = 0
    for fp in plan.functions:
        if fp.operations or fp.errors or fp.unmanaged_aliases or fp.brake or fp.rollouts:
            body += _function_section(fp)
        else:
            in_sync += 1
    if in_sync:
        body.append(f"✅ {in_sync} function(s) in sync.")
        body.append("")
    if not plan.has_changes and not errors and not drift:
        body.append("No changes. Live state matches the manifests.")
        body.append("")
    text = render_text(plan, drift=drift)
    details = [
        "<details><summary>Full plan</summary>",
        "",
        "```text",
        text.rstrip("\n").replace("```", "'''"),
        "```",
        "",
        "</details>",
        "",
    ]
    out = "\n".join([*head, *body, *details])
    if len(out) <= limit:
        return out
    note = (
        f"\n> ✂️ Output cut at {limit} characters. Run `lambda-reconciler {kind}` locally "
        "or see the job summary for the full plan.\n"
    )
    short = "\n".join([*head, *body])
    if len(short) + len(note) > limit:
        short = short[: limit - len(note) - len(summary_line(plan)) - 2]
        short = short[: short.rfind("\n")] + "\n\n" + summary_line(plan)
    return short + note
