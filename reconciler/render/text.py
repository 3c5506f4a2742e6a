"""The Terraform-like text plan (contract §7): one block per function, a one-line summary.

```
order-processor (us-east-1)
  + publish_version    $LATEST → new version (code changed: sha256 vJ6f… → 3kQ1…)
  ~ update_alias prod  canary: none → 6 @ 10%
  - delete_version 2   outside keep_last=10, 41 days old
  ! unmanaged alias    beta → 3

Plan: 1 to publish, 0 to create, 1 to update, 0 aliases to delete, 1 version to delete.
```

The helpers here (`rows`, `summary_line`, `human_bytes`, …) are shared with the Markdown
renderer so that both say the same thing in the same words.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from typing_extensions import assert_never

from reconciler.plan import (
    Action,
    FunctionPlan,
    Kept,
    KeptLayer,
    LayerPlan,
    Operation,
    Plan,
    Young,
    attachment_wording,
    wording,
)
from reconciler.plan.wording import plural

UNMANAGED = "unmanaged alias"
WARNING = "warning"  # a warning about an alias's attachments or what bypasses it

_RESET = "\033[0m"
_COLORS = {"+": "32", "~": "33", "-": "31", "!": "35", "✗": "1;31", "»": "36", "=": "2"}
_BOLD = "1"


def symbol(action: Action) -> str:
    """+ for what is added, ~ changed, - deleted."""
    match action:
        case Action.PUBLISH_VERSION | Action.CREATE_ALIAS:
            return "+"
        case Action.UPDATE_ALIAS | Action.SET_PROVISIONED_CONCURRENCY:
            return "~"
        case Action.DELETE_ALIAS | Action.DELETE_VERSION | Action.DELETE_LAYER_VERSION:
            return "-"
        case (
            Action.CREATE_FUNCTION_URL
            | Action.UPDATE_FUNCTION_URL
            | Action.DELETE_FUNCTION_URL
            | Action.PUT_EVENT_INVOKE_CONFIG
            | Action.DELETE_EVENT_INVOKE_CONFIG
            | Action.ADD_PERMISSION
            | Action.REMOVE_PERMISSION
        ):
            return attachment_wording.symbol(action)
        case _:
            assert_never(action)


@dataclass(frozen=True)
class Row:
    """One line of a function's block: an operation, or an unmanaged alias left alone."""

    symbol: str  # + ~ - !
    action: str  # "publish_version", …, or "unmanaged alias"
    target: str  # "$LATEST", an alias name or a version number
    detail: str  # what changes, or why


def human_bytes(n: int) -> str:
    """Decimal units, as the Lambda console shows code size: 12_300_000 → "12.3 MB"."""
    if n < 1000:
        return f"{n} B"
    size = n / 1000
    for unit in ("KB", "MB"):
        if round(size, 1) < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def row(op: Operation, notes: wording.Notes | None = None) -> Row:
    return Row(symbol(op.action), op.action.value, wording.target(op), wording.detail(op, notes))


def rows(fp: FunctionPlan) -> list[Row]:
    """The operations in order (each version an alias moves to or from with its description or
    age), then the unmanaged aliases that stay as they are."""
    notes = fp.notes()
    out = [row(op, notes) for op in fp.operations]
    out += [Row("!", UNMANAGED, u.name, wording.unmanaged(u)) for u in fp.unmanaged_aliases]
    out += [Row("!", WARNING, w.alias, attachment_wording.warning(w)) for w in fp.warnings or ()]
    return out


def storage_line(fp: FunctionPlan) -> str | None:
    freed = fp.storage_freed
    if not freed:
        return None
    before = max(fp.storage_before, freed)
    return (
        f"frees {human_bytes(freed)} of {human_bytes(before)} code storage "
        f"(→ {human_bytes(before - freed)})"
    )


def needs_attention(fp: FunctionPlan, *, verbose: bool = False) -> bool:
    """Whether a function gets its own block, rather than a place in "N functions in sync"."""
    return bool(
        fp.operations
        or fp.errors
        or fp.unmanaged_aliases
        or fp.warnings
        or fp.rollouts  # finished ones too: plan and drift say where each one stands (§8)
        or (verbose and fp.kept)
    )


def error_count(plan: Plan) -> int:
    return (
        len(plan.errors)
        + sum(len(fp.errors) for fp in plan.functions)
        + sum(len(lp.errors) for lp in plan.layers)
    )


def first_error(plan: Plan) -> str:
    errors = [
        *plan.errors,
        *(e for fp in plan.functions for e in fp.errors),
        *(e for lp in plan.layers for e in lp.errors),
    ]
    return errors[0] if errors else ""


def layer_needs_attention(lp: LayerPlan, *, verbose: bool = False) -> bool:
    """A layer gets a block when it loses versions, has errors, or keeps one that a user keeps
    (used by a function version, or shared by its policy); with -v for any kept version."""
    return bool(lp.operations or lp.errors or lp.vetoed or (verbose and lp.kept))


def layer_lines(lp: LayerPlan, *, verbose: bool = False) -> list[str]:
    """The block of one layer, uncoloured, without a trailing blank line."""
    lines = [f"layer {lp.layer} ({lp.region or 'default region'})"]
    lines += [f"  ✗ error: {err}" for err in lp.errors]
    heads = [f"{op.action.value} {op.version}" for op in lp.operations]
    width = max(map(len, heads), default=0)
    for op, head in zip(lp.operations, heads, strict=True):
        lines.append(f"  - {head.ljust(width)}  {wording.detail(op)}")
    shown = lp.kept if verbose else lp.vetoed
    lines += keep_lines(shown, wording.kept_layer)
    if lp.storage_freed:
        lines.append(f"  = frees {wording.storage_size(lp.storage_freed)} of code storage")
    return lines


def storage_lines(plan: Plan) -> list[str]:
    """One line per region: code storage used, the quota, what this plan frees; and warnings."""
    out = []
    for s in plan.storage:
        out.append(wording.storage_line(s, plan.storage_freed(s.region)))
        warning = wording.storage_warning(s, plan.storage_warn)
        if warning:
            out.append(f"! warning: {warning}")
    return out


def counts(plan: Plan) -> list[tuple[int, str]]:
    """The summary counts with their wording, in the contract's order."""
    s = plan.summary
    shown = [
        a
        for a in Action
        if (a is not Action.DELETE_LAYER_VERSION or plan.layers)
        and a.value in s  # attachments: counted only when planned
        and (a is not Action.SET_PROVISIONED_CONCURRENCY or s[a.value])
    ]
    return [(s[a.value], wording.count(a, s[a.value])) for a in shown]


def summary_line(plan: Plan, *, drift: bool = False) -> str:
    text = ", ".join(words for _, words in counts(plan))
    errors = error_count(plan)
    tail = f" {plural(errors, 'error', 'errors')}." if errors else ""
    return f"{'Drift' if drift else 'Plan'}: {text}.{tail}"


def drifted_functions(plan: Plan) -> int:
    kept = plan.housekeeping_drift
    return sum(1 for fp in plan.functions if fp.drifted or (kept and fp.housekeeping))


def drifted_where(plan: Plan) -> str:
    """ "2 functions", "1 function and 1 layer", or "1 layer" (layer versions to delete)."""
    functions = drifted_functions(plan)
    text = plural(functions, "function", "functions")
    layers = sum(1 for lp in plan.layers if lp.operations) if plan.housekeeping_drift else 0
    if not layers:
        return text
    layer_text = plural(layers, "layer", "layers")
    return f"{text} and {layer_text}" if functions else layer_text


def is_grouped(plan: Plan) -> bool:
    """Whether the plan covers several accounts (a run of `target:` manifests): its functions
    are then shown under a heading per account and region, in (account, region) order."""
    return len({fp.account for fp in plan.functions}) > 1


def place(fp: FunctionPlan, *, grouped: bool = False) -> str:
    """Where a function is: its region, and in a plan over several accounts (`grouped`) its
    account too (`account 111111111111, us-east-1`), for the Markdown headings: their sections
    go by risk, not by account, so each says its account."""
    region = fp.region or "default region"
    return f"account {fp.account or 'of the ambient credentials'}, {region}" if grouped else region


def group_heading(fp: FunctionPlan) -> str:
    """`── account 111111111111, us-east-1 ──`."""
    return f"── account {fp.account or 'of the ambient credentials'}, {fp.region} ──"


def function_lines(fp: FunctionPlan, *, verbose: bool = False) -> list[str]:
    """The block of one function, uncoloured, without a trailing blank line."""
    lines = [f"{fp.function} ({fp.region or 'default region'})"]
    lines += [f"  ✗ error: {err}" for err in fp.errors]
    table = rows(fp)
    # As in the contract: `publish_version   $LATEST → …` and `unmanaged alias   beta → 3`
    # carry their target in the detail column; the others name it beside the action.
    inline = ("publish_version", UNMANAGED)
    heads = [r.action if r.action in inline else f"{r.action} {r.target}" for r in table]
    width = max(map(len, heads), default=0)
    for r, head in zip(table, heads, strict=True):
        text = f"{r.target} {r.detail}" if r.action in inline else r.detail
        lines.append(f"  {r.symbol} {head.ljust(width)}  {text}")
    for s in fp.rollouts:
        said = (wording.rollout_message(s), wording.no_data(s))
        lines += [f"  » rollout {s.alias}: {line}" for line in said if line]
        checks = wording.rollout_checks(s)
        if checks:
            lines.append(f"      checks: {checks}")
    storage = storage_line(fp)
    if storage:
        lines.append(f"  = {storage}")
    if verbose:
        lines += keep_lines(fp.kept, wording.kept)
    return lines


K = TypeVar("K", Kept, KeptLayer)
_RUN = 3  # from this many young versions in a row, one line says them all


def keep_lines(kept: Sequence[K], words: Callable[[K], str]) -> list[str]:
    """One `= keep` line per kept version, except that a run of versions kept only for being
    young is one line ("keep 12–211 (200 versions)  young (0–29 days old, keep_days=30)"):
    `plan -v` of a layer published daily is not 200 lines of the same reason."""
    out: list[str] = []
    run: list[tuple[int, Young]] = []

    def flush() -> None:
        if len(run) >= _RUN:
            days = [y.days for _, y in run]
            out.append(
                f"  = keep {run[0][0]}–{run[-1][0]} ({len(run)} versions)  "
                f"{wording.young_run(min(days), max(days), run[0][1].keep_days)}"
            )
        else:
            out.extend(f"  = keep {v}  {wording.keep_reason(y)}" for v, y in run)
        run.clear()

    for k in kept:
        young = k.reasons[0] if len(k.reasons) == 1 else None
        if isinstance(young, Young):
            if run and run[-1][1].keep_days != young.keep_days:
                flush()
            run.append((k.version, young))
            continue
        flush()
        out.append(f"  = keep {k.version}  {words(k)}")
    flush()
    return out


def _paint(line: str, color: bool, *, bold: bool = False) -> str:
    if not color or not line:
        return line
    if bold:
        code: str | None = _BOLD
    elif line.lstrip().startswith("! brake"):
        code = _COLORS["✗"]
    else:
        code = _COLORS.get(line.lstrip()[:1])
    return f"\033[{code}m{line}{_RESET}" if code else line


def _preamble(plan: Plan, *, color: bool, drift: bool) -> list[str]:
    """What comes before the functions: the drift headline, rollouts off course, plan-level
    errors and the brake."""
    out: list[str] = []
    if drift:
        if plan.drifted:
            headline = f"Drift: live state differs from git in {drifted_where(plan)}."
        elif plan.has_errors:  # what could not be read is never "No drift"
            headline = wording.drift_unknown(error_count(plan), first_error(plan))
        else:
            headline = "No drift: live state matches git."
        out.append(_paint(headline, color, bold=True))
        due = None if plan.drifted else wording.housekeeping(*plan.housekeeping)
        out += [due, ""] if due else [""]
    if plan.off_course:
        out.append(_paint(f"! {wording.off_course_headline(len(plan.off_course))}:", color))
        out += [_paint(f"! {wording.off_course(f, r)}", color) for f, r in plan.off_course]
        out.append("")
    out += [_paint(f"✗ error: {err}", color) for err in plan.errors]
    if plan.brake is not None:
        out.append(_paint(f"! brake: {wording.brake(plan.brake)}", color))
    if plan.errors or plan.brake is not None:
        out.append("")
    return out


def render_text(
    plan: Plan, *, verbose: bool = False, color: bool = False, drift: bool = False
) -> str:
    """The plan for a terminal or a log; ANSI colour only when `color` is set."""
    out = _preamble(plan, color=color, drift=drift)
    in_sync: list[str] = []
    grouped = is_grouped(plan)
    group: tuple[str, str] | None = None
    for fp in plan.functions:
        if not needs_attention(fp, verbose=verbose):
            in_sync.append(fp.function)
            continue
        if grouped and (fp.account, fp.region) != group:
            group = (fp.account, fp.region)
            out += [_paint(group_heading(fp), color, bold=True), ""]
        block = function_lines(fp, verbose=verbose)
        out.append(_paint(block[0], color, bold=True))
        out += [_paint(line, color) for line in block[1:]]
        out.append("")
    if in_sync:
        head = f"{plural(len(in_sync), 'function', 'functions')} in sync"
        if verbose:  # the names, wrapped: 250 of them are not one line
            names = textwrap.wrap(", ".join(in_sync) + ".", width=96, break_on_hyphens=False)
            out += [f"{head}:", *(f"  {line}" for line in names), ""]
        else:
            out += [f"{head}.", ""]
    for lp in plan.layers:
        if layer_needs_attention(lp, verbose=verbose):
            block = layer_lines(lp, verbose=verbose)
            out += [_paint(block[0], color, bold=True), *(_paint(x, color) for x in block[1:]), ""]
    storage = storage_lines(plan)
    if storage:
        out += [_paint(line, color) for line in storage] + [""]
    if not drift and not plan.has_changes and not plan.has_errors:
        out.append(
            "No changes to make; see the rollouts above."
            if plan.off_course
            else "No changes. Live state matches the manifests."
        )
    out.append(_paint(summary_line(plan, drift=drift), color, bold=True))
    return "\n".join(out) + "\n"
