"""Markdown for pull-request comments, drift issues and `$GITHUB_STEP_SUMMARY`.

Layout, top to bottom:

1. two hidden markers: `<!-- lambda-reconciler:plan -->` (or `:drift`) and one naming the
   manifest set, so the Action updates its own comment per manifest set instead of adding one;
2. a headline with the counts, and the manifests;
3. what blocks an apply: errors (❌) and tripped deletion brakes (🛑);
4. one section per function that has something to say, with one table of its operations and
   unmanaged aliases, then its rollouts and the code storage its deletions free;
5. the functions in sync, in one line;
6. the full text plan in a collapsed `<details>`.

A body longer than `limit` drops the `<details>`, then cuts whole lines of the sections, and
says so: GitHub refuses comments over 65,536 characters.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime

from typing_extensions import assert_never

from reconciler import wording
from reconciler.plan import Action, FunctionPlan, LayerPlan, Plan, RolloutStatus
from reconciler.render.text import (
    UNMANAGED,
    Row,
    counts,
    drifted_where,
    error_count,
    layer_needs_attention,
    needs_attention,
    render_text,
    row,
    rows,
    storage_line,
    summary_line,
)
from reconciler.wording import plural

GITHUB_LIMIT = 65536
DEFAULT_LIMIT = 60000
_IN_SYNC_NAMES = 20  # beyond this many, "N functions in sync" names none of them


def label(row: Row) -> str:
    """The Markdown table's name of a row's action."""
    if row.action == UNMANAGED:
        return "⚠️ unmanaged alias"
    action = Action(row.action)
    match action:
        case Action.PUBLISH_VERSION:
            return "🆕 publish version"
        case Action.CREATE_ALIAS:
            return "➕ create alias"
        case Action.UPDATE_ALIAS:
            return "🔄 update alias"
        case Action.DELETE_ALIAS:
            return "🗑️ delete alias"
        case Action.DELETE_VERSION:
            return "🗑️ delete version"
        case Action.DELETE_LAYER_VERSION:
            return "🗑️ delete layer version"
        case _:
            assert_never(action)


def marker_for(manifests: Sequence[str], kind: str = "plan") -> str:
    """The two hidden lines that open a body and identify its kind and manifest set.

    The set is named by a digest of the sorted paths, so the order on the command line does not
    matter and two manifest sets in one repository keep two comments.
    """
    digest = hashlib.sha256("\n".join(sorted(manifests)).encode()).hexdigest()[:12]
    return f"<!-- lambda-reconciler:{kind} -->\n<!-- lambda-reconciler:manifests={digest} -->"


_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "~": "\\~",
        "[": "\\[",
        "]": "\\]",
        "<": "&lt;",
        "\n": " ",
        "\r": " ",
        "\u2028": " ",
        "\u2029": " ",
    }
)


def cell(text: str) -> str:
    """Plain text made safe for a Markdown table cell or an inline position.

    Values come from manifests and AWS (descriptions, error messages): a `|` must not split the
    cell, a backtick or `*` must not start formatting, `<` must not open HTML (a comment, a
    `<details>`), a line break must not end the line, and the start must not open a block — a
    heading, a quote, a list item, a setext underline — after the `- ` of a list item.
    """
    text = text.translate(_ESCAPES).lstrip(" \t")
    if text[:1] in ("#", ">", "-", "+", "="):
        return "\\" + text
    return _ORDERED.sub(r"\1\\\2", text, count=1)


_ORDERED = re.compile(r"^(\d+)([.)])")


def code(text: str, *, in_table: bool = False) -> str:
    """An inline code span that survives any content, backticks included.

    In a table cell a `|` would end the cell even inside a code span, so it is escaped there
    (GitHub's tables read `\\|` as a literal `|`, in code spans too).
    """
    text = " ".join(text.splitlines()) if text else text
    if in_table:
        text = text.replace("|", "\\|")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _headline(plan: Plan, kind: str) -> list[str]:
    """The headline, and for drift a line with what apply would do about it."""
    nonzero = [words for n, words in counts(plan) if n]
    errors = error_count(plan)
    if errors:
        nonzero.insert(0, plural(errors, "error", "errors"))
    failed = _off_course(plan)
    if kind == "plan":
        icon = "❌" if errors else "🛑" if plan.brake else "📋" if plan.has_changes else "✅"
        icon = "⛔" if failed and icon == "✅" else icon
        what = ", ".join(nonzero) or "no changes"
        if failed:
            what += f"; {wording.off_course_headline(len(plan.off_course))}"
        return [f"### {icon} lambda-reconciler plan: {what}", "", *failed]
    if plan.has_errors:
        return [f"### ❌ lambda-reconciler drift: {', '.join(nonzero)}", ""]
    if not plan.drifted:
        return ["### ✅ lambda-reconciler drift: No drift, live state matches git", ""]
    n = drifted_where(plan)
    if failed:
        n += f"; {wording.off_course_headline(len(plan.off_course))}"
    said = ["Live state differs from git."]
    if nonzero:
        said.append(f"Bringing it back with `apply`: {', '.join(nonzero)}.")
    unmanaged = sum(len(fp.unmanaged_aliases) for fp in plan.functions)
    if unmanaged:
        said.append(
            f"{plural(unmanaged, 'unmanaged alias', 'unmanaged aliases')} "
            "(kept unless `prune_aliases: true`)."
        )
    head = f"### ⚠️ lambda-reconciler drift: Drift detected in {n}"
    return [head, "", *failed, " ".join(said), ""]


def _off_course(plan: Plan) -> list[str]:
    """One line per rollout that failed, was rolled back or cannot start, and a blank line."""
    lines = [f"- ⛔ {cell(wording.off_course(f, r))}" for f, r in plan.off_course]
    return [*lines, ""] if lines else []


def _blockers(plan: Plan) -> list[str]:
    """Errors and a tripped brake first: either means apply refuses the whole plan."""
    lines: list[str] = []
    errors = error_count(plan)
    if errors:
        lines += [
            f"**❌ {plural(errors, 'error', 'errors')}.** `apply` refuses the whole plan while "
            "any error remains: nothing is written. Fix the manifest and push again.",
            "",
        ]
        lines += [f"- {cell(e)}" for e in plan.errors]
        for fp in plan.functions:
            where = f" ({code(fp.source)})" if fp.source else ""
            lines += [f"- {code(fp.function)}{where}: {cell(e)}" for e in fp.errors]
        for lp in plan.layers:
            where = f" ({code(lp.source)})" if lp.source else ""
            lines += [f"- layer {code(lp.layer)}{where}: {cell(e)}" for e in lp.errors]
        lines.append("")
    if plan.brake is not None:
        lines += [f"**🛑 Deletion brake:** {cell(wording.brake(plan.brake))}", ""]
    return lines


def _function_section(fp: FunctionPlan) -> list[str]:
    lines = [f"#### {code(fp.function)} ({cell(fp.region or 'default region')})", ""]
    if fp.source:
        lines += [f"<sub>declared at {cell(fp.source)}</sub>", ""]
    table = rows(fp)
    if table:
        lines += ["| Action | Target | Change / reason |", "|---|---|---|"]
        for r in table:
            where = code(r.target, in_table=True)
            lines.append(f"| {label(r)} | {where} | {cell(r.detail)} |")
        lines.append("")
    notes = [
        f"⏩ Rollout of {code(r.alias)} to version {code(wording.version(r.target))}: "
        f"{cell(wording.rollout_message(r))}{_schedule(r)}"
        for r in fp.rollouts
    ]
    if any(not u.ties for u in fp.unmanaged_aliases):  # prune_aliases is off for this function
        notes.append(
            "⚠️ Unmanaged aliases are left as they are; name them in the manifest, or set "
            "`prune_aliases: true` to delete them."
        )
    storage = storage_line(fp)
    if storage:
        notes.append(f"💾 {cell(storage[0].upper() + storage[1:])}")
    lines += [f"- {n}" for n in notes]
    if notes:
        lines.append("")
    return lines


def _schedule(r: RolloutStatus) -> str:
    """The rest of a rollout's schedule, in words and as a Mermaid chart of traffic share."""
    steps = r.schedule()
    if not steps:
        return ""
    said = " → ".join(f"{wording.weight(w)} {_when(at)}" for w, at in steps)
    start = steps[0][1]
    seconds = [
        0.0 if at is None or start is None else (at - start).total_seconds() for _, at in steps
    ]
    unit, size = ("seconds", 1) if seconds[-1] < 120 else ("minutes", 60)
    ticks = [f"{t / size:g}" for t in seconds]
    chart = [
        "",
        "",
        "  ```mermaid",
        "  xychart-beta",
        f'    title "{r.alias}: share of traffic on {wording.version(r.target)}"',
        f'    x-axis "{unit} from the current step" [{", ".join(ticks)}]',
        '    y-axis "%" 0 --> 100',
        f"    line [{', '.join(f'{w * 100:g}' for w, _ in steps)}]",
        "  ```",
    ]
    return f"<br>Schedule: {cell(said)}" + "\n".join(chart)


def _when(at: datetime | None) -> str:
    return "now" if at is None else f"from {wording.utc_time(at)}"


def _layer_section(lp: LayerPlan) -> list[str]:
    lines = [f"#### layer {code(lp.layer)} ({cell(lp.region or 'default region')})", ""]
    if lp.source:
        lines += [f"<sub>declared at {cell(lp.source)}</sub>", ""]
    table = [row(op) for op in lp.operations]
    table += [Row("=", "keep", str(k.version), wording.kept_layer(k)) for k in lp.vetoed]
    if table:
        lines += ["| Action | Target | Change / reason |", "|---|---|---|"]
        for r in table:
            name = "🔒 keep" if r.action == "keep" else label(r)
            lines.append(f"| {name} | {code(r.target, in_table=True)} | {cell(r.detail)} |")
        lines.append("")
    if lp.storage_freed:
        freed = wording.storage_size(lp.storage_freed)
        lines += [f"- 💾 Frees {cell(freed)} of code storage", ""]
    return lines


def _storage_section(plan: Plan) -> list[str]:
    """Code storage per region: used, the quota, what this plan frees; warnings above it."""
    lines: list[str] = []
    for s in plan.storage:
        text = wording.storage_line(s, plan.storage_freed(s.region))
        lines.append(f"- 💾 {cell(text[0].upper() + text[1:])}")
        warning = wording.storage_warning(s, plan.storage_warn)
        if warning:
            lines.append(f"- ⚠️ **{cell(warning[0].upper() + warning[1:])}**")
    return [*lines, ""] if lines else []


def _in_sync(names: list[str]) -> list[str]:
    if not names:
        return []
    listed = ": " + ", ".join(code(n) for n in names) if len(names) <= _IN_SYNC_NAMES else ""
    return [f"✅ {plural(len(names), 'function', 'functions')} in sync{listed}.", ""]


def render_markdown(plan: Plan, *, drift: bool = False, limit: int = DEFAULT_LIMIT) -> str:
    """A PR comment or drift issue body of at most `limit` characters."""
    kind = "drift" if drift else "plan"
    head = [marker_for(plan.manifests, kind), *_headline(plan, kind)]
    if plan.manifests:
        head += ["Manifests: " + ", ".join(code(m) for m in plan.manifests), ""]

    body = _blockers(plan)
    in_sync: list[str] = []
    for fp in plan.functions:
        if fp.errors and not (fp.operations or fp.unmanaged_aliases):
            continue  # listed with the errors above; nothing else to say
        if needs_attention(fp):
            body += _function_section(fp)
        elif not fp.errors:
            in_sync.append(fp.function)
    body += _in_sync(in_sync)
    for lp in plan.layers:
        if layer_needs_attention(lp) and not (lp.errors and not lp.operations):
            body += _layer_section(lp)
    body += _storage_section(plan)
    if not plan.has_errors and not plan.drifted:
        body += [
            "No drift. Live state matches git."
            if drift
            else "No changes. Live state matches the manifests.",
            "",
        ]
    text = render_text(plan, verbose=True, drift=drift).rstrip("\n")
    fence = "```"
    while fence in text:
        fence += "`"
    details = [
        "<details><summary>Full plan</summary>",
        "",
        f"{fence}text",
        text,
        fence,
        "",
        "</details>",
        "",
    ]
    out = "\n".join([*head, *body, *details])
    if len(out) <= limit:
        return out
    return _cut(head, body, plan, kind, limit)


def _cut(head: list[str], body: list[str], plan: Plan, kind: str, limit: int) -> str:
    """Drop the details, then whole lines of the sections, to fit `limit` with a note."""
    note = (
        f"> ✂️ Output cut at {limit} characters — run `lambda-reconciler {kind}` locally or see "
        "the job summary for the full plan."
    )
    tail = ["", f"**{cell(summary_line(plan, drift=kind == 'drift'))}**", "", note, ""]
    kept = list(head)
    budget = limit - len("\n".join([*kept, *tail])) - 1
    for line in body:
        if len(line) + 1 > budget:
            break
        kept.append(line)
        budget -= len(line) + 1
    out = "\n".join([*kept, *tail])
    if len(out) > limit:  # a huge list of manifests: keep the markers, the count and the note
        out = "\n".join([head[0], head[1], "", *tail])
    return out


def render_failure(
    manifests: Sequence[str],
    reason: str,
    *,
    kind: str = "plan",
    log: str = "",
    limit: int = DEFAULT_LIMIT,
) -> str:
    """The body that replaces a sticky comment when there is no plan to show.

    An invalid manifest or an AWS error leaves no plan; the comment must then say so, or the
    plan of an earlier push would stay on the pull request as if it were still true.
    """
    head = [marker_for(manifests, kind), f"### ❌ lambda-reconciler {kind}: failed", ""]
    head += [cell(reason), ""]
    if manifests:
        head += ["Manifests: " + ", ".join(code(m) for m in manifests), ""]
    if not log.strip():
        return "\n".join(head)
    lines = log.rstrip("\n").splitlines()
    fence = "```"
    while any(fence in line for line in lines):
        fence += "`"
    frame = len("\n".join([*head, f"{fence}text", "…", fence, ""])) + 2
    kept: list[str] = []
    budget = limit - frame
    for line in lines:  # the first lines say what went wrong; later ones repeat it
        if len(line) + 1 > budget:
            kept.append("…")
            break
        kept.append(line)
        budget -= len(line) + 1
    return "\n".join([*head, f"{fence}text", *kept, fence, ""])
