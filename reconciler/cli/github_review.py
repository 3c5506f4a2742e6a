"""What `github check-reviewed` and `github post-fresh` check and say: the reviewed plan's
trailer against the merged head, the plan against the review, the commits a merge carries
beyond the reviewed head, and the intro of a fresh plan put up for review."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import click

from reconciler.errors import ReconcilerError
from reconciler.github import GitHubClient, Review, RunContext, trailer_values


def refusal(
    fresh: Review, fields: dict[str, list[str]], number: int, url: str, carried: list[str]
) -> ReconcilerError:
    """The refusal of a plan that differs from the review: what differs, what the merge brings."""
    said = fresh.differences(fields.get("index", [""])[0])
    what = "; ".join(said[:10]) + (f"; and {len(said) - 10} more" if len(said) > 10 else "")
    more = (
        f" The merged commit carries more than #{number} reviewed: {', '.join(carried)}."
        if carried
        else ""
    )
    return ReconcilerError(
        f"the plan changed since the review in #{number} ({url}): "
        f"{what or 'the reviewed commit or the plan differs'}.{more} {REFUSE} Review the "
        "fresh plan, or set allow-unreviewed to apply it anyway."
    )


REFUSE = "Nothing was applied."
FRESH = "fresh"  # the marker kind of the fresh plan posted after a refused apply


def check_posted(
    client: GitHubClient, plan: dict[str, Any], commit: str, number: int, posted: str
) -> None:
    """The plan is the fresh plan posted for review on the pull request, with `posted`."""
    from reconciler.render.markdown import marker_for

    manifests = [str(m) for m in plan.get("manifests") or []]
    found = client.find_comment(number, marker_for(manifests, FRESH))
    url = str(found.get("html_url") or f"#{number}") if found else f"#{number}"
    recorded = trailer_values(str(found.get("body") or "")).get("review") if found else None
    if recorded != [posted]:
        raise ReconcilerError(
            f"{posted} is not the fingerprint of the fresh plan posted for review on #{number} "
            f"({url}). {REFUSE}"
        )
    if Review.of(plan).fingerprint(commit) != posted:
        raise ReconcilerError(
            f"the plan changed since the fresh plan was posted for review on #{number} ({url}): "
            f"live state, the commit or the manifests moved again. {REFUSE}"
        )
    click.echo(f"the plan is the one posted for review on #{number}: {url}", err=True)


def carried(head: str, commit: str, paths: list[str]) -> list[str]:
    """The commits touching `paths` that the merge `commit` brings beyond the reviewed `head`:
    those of its first parent (the branch merged into) that `head` lacks, the same change
    rebased or cherry-picked left out. Empty when git cannot tell (no history, no git)."""
    if not (head and commit and paths):
        return []
    args = ["git", "log", "--no-merges", "--right-only", "--cherry-pick", "--format=%h %s"]
    try:
        run = subprocess.run(
            [*args, f"{head}...{commit}^", "--", *paths],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if run.returncode != 0:
        return []
    return [" ".join(line.split()) for line in run.stdout.splitlines() if line.strip()][:20]


def reviewed_fields(
    comment: dict[str, Any], pr: dict[str, Any], number: int, url: str, label: str = ""
) -> dict[str, list[str]]:
    """The trailer of the plan comment, checked to describe the merged head commit; in a
    comment of several plans, the review and index of the plan `label` names (its manifest set
    and shard)."""
    fields = trailer_values(str(comment.get("body") or ""))
    recorded = [line.split(" ") for line in fields.get("plan", [])]
    if recorded:
        mine = [r for r in recorded if r[0] == label and len(r) == 3]
        if not mine:
            raise ReconcilerError(
                f"the plan comment of #{number} holds no plan of these manifests (and shard): "
                f"{url}. {REFUSE}"
            )
        fields = {**fields, "review": [mine[0][1]], "index": [mine[0][2]]}
    if not fields.get("review") or not fields.get("commit"):
        raise ReconcilerError(
            f"the plan comment of #{number} records no plan (the last plan failed?): {url}. "
            f"{REFUSE}"
        )
    head = str((pr.get("head") or {}).get("sha") or "")
    described = fields["commit"][0]
    if head != described:
        raise ReconcilerError(
            f"the plan comment of #{number} describes commit {described[:7]}, but "
            f"{head[:7] or 'another head'} was merged: the last push was never planned. {REFUSE}"
        )
    return fields


def fresh_intro(
    manifests: tuple[str, ...], review: str, reason: list[str], manifest_set: str | None
) -> str:
    from reconciler.render.markdown import cell, code, marker_for

    workflow = os.environ.get("GITHUB_WORKFLOW") or "the apply workflow"
    why = f" ({cell(reason[0].removeprefix('error: '))})" if reason else ""
    inputs = [f"- `set`: {code(manifest_set)}"] if manifest_set else []
    inputs.append(f"- `reviewed-plan`: {code(review)}")
    return "\n".join(
        [
            marker_for(manifests, FRESH),
            "### 🔁 lambda-reconciler: the merge was not applied; the fresh plan needs a review",
            "",
            f"The apply was refused{why}. Nothing was written. This is what applying now would "
            "do. To apply exactly this plan, run the workflow "
            f"{code(workflow)} (Actions → Run workflow) with:",
            "",
            *inputs,
            "",
            "It is refused, and a new plan posted here, if live state, the commit or the "
            "manifests move before it runs.",
            "",
            "",
        ]
    )


def plans_comment(
    paths: Sequence[str],
) -> tuple[str, RunContext | None, str, Callable[[int], str]]:
    """One comment from several plans (`github comment` with several --plan-json: the shards
    of a manifest set, several sets): the body, the run it describes with each plan's review
    (the apply job of each checks its own), where the full plans are, and the body again
    within a limit."""
    from reconciler.cli.github_context import plan_data, run_context, where_full
    from reconciler.plan.planfile import load_plan_document
    from reconciler.render.markdown import plan_label
    from reconciler.render.several import render_plans

    loaded = [load_plan_document(p) for p in paths]
    plans = [plan for plan, _ in loaded]
    drift = loaded[0][1] == "drift"
    base = run_context()
    sha = base.sha if base is not None else ""
    reviews = []
    for path, plan in zip(paths, plans, strict=True):
        review = Review.of(plan_data(path))
        label = plan_label(plan.manifests, plan.shard)
        reviews.append((label, review.fingerprint(sha), review.index()))
    if len({label for label, _, _ in reviews}) != len(reviews):
        raise ReconcilerError("github comment: the same plan (manifest set and shard) twice")
    ctx = replace(base or RunContext(), plans=tuple(reviews))
    full_at = where_full(ctx)
    try:
        body = render_plans(plans, drift=drift, limit=10**9, full_at=full_at)
    except ValueError as e:
        raise ReconcilerError(f"github comment: {e}") from None
    return (
        body,
        ctx,
        full_at,
        lambda limit: render_plans(plans, drift=drift, limit=limit, full_at=full_at),
    )
