"""Renderers: pure functions of a Plan; the CLI picks one per `--format`.

- `text.render_text`: the Terraform-like plan for terminals and logs (contract §7);
- `markdown.render_markdown`: PR comments, drift issues and job summaries (`several`: the
  plans of several shards or manifest sets in one comment);
- `reconciler.plan.plan_to_json`: the JSON plan, also the saved plan `apply PLAN.json` reads.

`progress` is the terminal's view of a run under way (not a plan's rendering): the reading and
applying bars and the live rollout table of `apply --wait`.
"""

from __future__ import annotations

from typing import Literal, get_args

from reconciler.plan import Plan
from reconciler.plan.planfile import plan_to_json
from reconciler.render.markdown import render_markdown
from reconciler.render.text import render_text

Format = Literal["text", "markdown", "json"]
FORMATS: tuple[str, ...] = get_args(Format)


def render(
    plan: Plan,
    fmt: Format | str,
    *,
    verbose: bool = False,
    color: bool = False,
    drift: bool = False,
) -> str:
    """The plan in one of `FORMATS`; `drift` frames it as "live state differs from git"."""
    match fmt:
        case "json":
            return plan_to_json(plan, kind="drift" if drift else "plan")
        case "markdown":
            return render_markdown(plan, drift=drift)
        case "text":
            return render_text(plan, verbose=verbose, color=color, drift=drift)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "Format", "plan_to_json", "render", "render_markdown", "render_text"]
