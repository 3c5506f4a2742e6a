"""Renderers: pure functions of a Plan; the CLI picks one per `--format`."""

from __future__ import annotations

from typing import Literal

from reconciler.plan import Plan

Format = Literal["text", "markdown", "json"]


def render(
    plan: Plan, fmt: str, *, verbose: bool = False, color: bool = False, drift: bool = False
) -> str:
    from reconciler.render.json import plan_to_json
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_text

    if fmt == "json":
        return plan_to_json(plan, kind="drift" if drift else "plan")
    if fmt == "markdown":
        return render_markdown(plan, drift=drift)
    return render_text(plan, verbose=verbose, color=color, drift=drift)
