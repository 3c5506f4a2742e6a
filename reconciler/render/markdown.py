"""Markdown for pull-request comments, drift issues and `$GITHUB_STEP_SUMMARY`.

Layout, top to bottom:

1. two hidden markers: `<!-- lambda-reconciler:plan -->` (or `:drift`) and one naming the
   manifest set, so the Action updates its own comment per manifest set instead of adding one;
2. a headline with the counts, and the manifests;
3. what blocks an apply: errors (❌) and tripped deletion brakes (🛑); then code storage per
   region against its quota;
4. one section per function (or layer) that has something to say, riskiest first (`RISKS`:
   rolled-back or failed rollouts, rollouts, alias moves, alias deletions, version deletions,
   other changes, layers), each with one table of its operations, then its rollouts and the
   code storage its deletions free;
5. the functions in sync, in one line;
6. the full text plan in a collapsed `<details>`.

A body longer than `limit` drops the `<details>`, then whole sections from the least risky
end; the headline, the blockers and the quota lines always stay, and each risk section that lost
functions gets one line saying how many, what they would do and the first names. GitHub refuses
comments over 65,536 characters. Every string from a manifest or AWS goes through `cell` or
`code`, so it cannot open HTML, a comment, a fence, a table cell or a block.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from typing_extensions import assert_never

from reconciler.plan import (
    FORWARD,
    Action,
    FunctionPlan,
    LayerPlan,
    Plan,
    RolloutStatus,
    attachment_wording,
    version_label,
    wording,
)
from reconciler.plan.wording import plural
from reconciler.render.text import (
    UNMANAGED,
    WARNING,
    Row,
    counts,
    drifted_where,
    error_count,
    is_grouped,
    layer_needs_attention,
    needs_attention,
    place,
    render_text,
    row,
    rows,
    storage_line,
)

GITHUB_LIMIT = 65536
DEFAULT_LIMIT = 60000
_IN_SYNC_NAMES = 20  # beyond this many, "N functions in sync" names none of them


def label(row: Row) -> str:
    """The Markdown table's name of a row's action."""
    if row.action == UNMANAGED:
        return "⚠️ unmanaged alias"
    if row.action == WARNING:
        return "⚠️ warning"
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
        case (
            Action.CREATE_FUNCTION_URL
            | Action.UPDATE_FUNCTION_URL
            | Action.DELETE_FUNCTION_URL
            | Action.PUT_EVENT_INVOKE_CONFIG
            | Action.DELETE_EVENT_INVOKE_CONFIG
            | Action.ADD_PERMISSION
            | Action.REMOVE_PERMISSION
        ):
            return attachment_wording.label(action)
        case Action.SET_PROVISIONED_CONCURRENCY:
            return "⚙️ provisioned concurrency"
        case _:
            assert_never(action)


def plan_label(manifests: Sequence[str], shard: str | None = None) -> str:
    """The name of a manifest set (and shard) in markers and trailers: a digest of the sorted
    paths (and `--shard K/N`)."""
    named = "\n".join(sorted(manifests)) + (f"\n--shard {shard}" if shard else "")
    return hashlib.sha256(named.encode()).hexdigest()[:12]


# The marker of one comment with the plans of several manifest sets (`github comment` with
# their plan files): `check-reviewed` looks for it after the set's own.
FLEET_MARKER = "<!-- lambda-reconciler:plan -->\n<!-- lambda-reconciler:manifests=fleet -->"


def marker_for(manifests: Sequence[str], kind: str = "plan", shard: str | None = None) -> str:
    """The two hidden lines that open a body and identify its kind and manifest set.

    The set is named by a digest of the sorted paths, so the order on the command line does not
    matter and two manifest sets in one repository keep two comments; a plan of one shard
    (`--shard K/N`) has its own, so that each job of a matrix keeps its own comment too.
    """
    digest = plan_label(manifests, shard)
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
        due = wording.housekeeping(*plan.housekeeping)
        head = "### ✅ lambda-reconciler drift: No drift, live state matches git"
        return [head, "", due, ""] if due else [head, ""]
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


def _function_section(fp: FunctionPlan, grouped: bool = False) -> list[str]:
    lines = [f"#### {code(fp.function)} ({cell(place(fp, grouped=grouped))})", ""]
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
        f"⏩ Rollout of {code(r.alias)} to version {code(version_label(r.target))}: "
        f"{cell(wording.rollout_message(r))}{_checks(r)}{_schedule(r)}"
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


def _checks(r: RolloutStatus) -> str:
    checks = wording.rollout_checks(r)
    return f"<br>Checks: {cell(checks)}" if checks else ""


def _schedule(r: RolloutStatus) -> str:
    """The rest of a rollout's schedule, in words and as a Mermaid chart of traffic share."""
    steps = r.schedule()
    if not steps:
        return ""
    start = steps[0][1]
    if r.phase in FORWARD:
        # this plan takes the current step: it starts when the plan is applied, not at review
        said = " → ".join(
            f"{wording.weight(w)} "
            + (
                "when applied"
                if at is None or start is None or at == start
                else f"{wording.duration((at - start).total_seconds())} later"
            )
            for w, at in steps
        )
    else:
        said = " → ".join(f"{wording.weight(w)} {_when(at)}" for w, at in steps)
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
        f'    title "{r.alias}: share of traffic on {version_label(r.target)}"',
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


# The sections of a plan, riskiest first: a function goes in the first one it belongs to.
RISKS = (
    "rolled-back or failed rollouts",
    "rollouts",
    "alias moves",
    "alias deletions",
    "version deletions",
    "other changes",
    "layers",
)
_NAMED = 10  # functions named in the summary line of a section that was cut


@dataclass(frozen=True)
class _Block:
    """One function's (or layer's) section of the body, and what it would count."""

    name: str
    lines: list[str]
    plan: Plan  # the function or layer alone, for the counts of a cut section


def _risk(fp: FunctionPlan) -> int:
    actions = {op.action for op in fp.operations}
    if any(r.off_course for r in fp.rollouts):
        return 0
    if fp.rollouts or any(getattr(op, "rollout", None) for op in fp.operations):
        return 1
    if actions & {Action.CREATE_ALIAS, Action.UPDATE_ALIAS, Action.PUBLISH_VERSION}:
        return 2
    if Action.DELETE_ALIAS in actions:
        return 3
    if Action.DELETE_VERSION in actions:
        return 4
    return 5


def _sections(plan: Plan) -> tuple[list[list[_Block]], list[str]]:
    """The function and layer sections by risk, and the names of the functions in sync."""
    sections: list[list[_Block]] = [[] for _ in RISKS]
    in_sync: list[str] = []
    grouped = is_grouped(plan)  # sections go by risk: each function's heading names its account
    for fp in plan.functions:
        if fp.errors and not (fp.operations or fp.unmanaged_aliases):
            continue  # listed with the errors above; nothing else to say
        if needs_attention(fp):
            alone = Plan(functions=(fp,))
            sections[_risk(fp)].append(_Block(fp.function, _function_section(fp, grouped), alone))
        elif not fp.errors:
            in_sync.append(fp.function)
    for lp in plan.layers:
        if layer_needs_attention(lp) and not (lp.errors and not lp.operations):
            alone = Plan(functions=(), layers=(lp,))
            sections[-1].append(_Block(f"layer {lp.layer}", _layer_section(lp), alone))
    return sections, in_sync


def render_markdown(
    plan: Plan,
    *,
    drift: bool = False,
    limit: int = DEFAULT_LIMIT,
    full_at: str = "the job summary",
) -> str:
    """A PR comment or drift issue body of at most `limit` characters.

    The sections come riskiest first (`RISKS`). A body over `limit` drops the folded text plan,
    then whole sections from the least risky end; the headline, the blockers, the code storage
    and quota lines stay, and each section that lost functions says so in one line.
    """
    kind = "drift" if drift else "plan"
    head = [marker_for(plan.manifests, kind, plan.shard), *_headline(plan, kind)]
    if plan.manifests:
        head += ["Manifests: " + ", ".join(code(m) for m in plan.manifests), ""]
    if plan.shard:
        head += [f"Shard {code(plan.shard)}: the functions a CI job of the matrix plans.", ""]
    head += _blockers(plan) + _storage_section(plan)
    sections, in_sync = _sections(plan)
    tail = _in_sync(in_sync)
    if not plan.has_errors and not plan.drifted:
        tail += [
            "No drift. Live state matches git."
            if drift
            else "No changes. Live state matches the manifests.",
            "",
        ]
    text = render_text(plan, verbose=True, drift=drift).rstrip("\n")
    fence = "```"
    while fence in text:
        fence += "`"
    details = ["<details><summary>Full plan</summary>", "", f"{fence}text", text, fence, ""]
    details += ["</details>", ""]
    body = [x for blocks in sections for b in blocks for x in b.lines]
    out = "\n".join([*head, *body, *tail, *details])
    if len(out) <= limit:
        return out
    shorter = "\n".join([*head, *body, *tail, *_note(kind, [], full_at)])
    if len(shorter) <= limit:
        return shorter
    return _cut(head, sections, tail, kind, limit, full_at)


def _note(kind: str, cut: list[int], full_at: str) -> list[str]:
    what = "the folded text plan" if not cut else "the text plan and the sections above"
    return [
        f"> ✂️ Cut to fit GitHub's limit: {what} left out. The full {kind} is in {full_at}.",
        "",
    ]


def _cut_line(section: int, cut: list[_Block], total: int) -> str:
    """One line for a section that lost functions: how many, what they do, the first names."""
    plan = Plan(
        functions=tuple(f for b in cut for f in b.plan.functions),
        layers=tuple(lp for b in cut for lp in b.plan.layers),
    )
    what = ", ".join(words for n, words in counts(plan) if n) or "nothing to change"
    names = ", ".join(code(b.name) for b in cut[:_NAMED])
    more = f" and {len(cut) - _NAMED} more" if len(cut) > _NAMED else ""
    return (
        f"- ✂️ **{RISKS[section][0].upper()}{RISKS[section][1:]}**: {len(cut)} of {total} left "
        f"out ({what}): {names}{more}."
    )


def _cut(
    head: list[str],
    sections: list[list[_Block]],
    tail: list[str],
    kind: str,
    limit: int,
    full_at: str,
) -> str:
    """Keep the head, then whole sections riskiest first, and one line per section cut."""
    order = [(i, b) for i, blocks in enumerate(sections) for b in blocks]
    kept = len(order)
    while kept >= 0:
        shown: list[str] = []
        for _, b in order[:kept]:
            shown += b.lines
        lost: dict[int, list[_Block]] = {}
        for i, b in order[kept:]:
            lost.setdefault(i, []).append(b)
        lines = [_cut_line(i, bs, len(sections[i])) for i, bs in sorted(lost.items())]
        summary = [*lines, ""] if lines else []
        out = "\n".join([*head, *shown, *summary, *tail, *_note(kind, sorted(lost), full_at)])
        if len(out) <= limit:
            return out
        kept -= 1
    # The head alone is too long (thousands of errors): its first whole lines, then the note.
    note = "\n".join(["", *_note(kind, [0], full_at)])
    text = "\n".join(head)[: max(0, limit - len(note) - 1)]
    return text.rsplit("\n", 1)[0] + "\n" + note


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
