"""`lambda-reconciler github …`: what the GitHub Action calls around a plan.

```
lambda-reconciler github comment --pr 42 --body-file plan.md --plan-json plan.json  # sticky comment
lambda-reconciler github comment --pr 42 --plan-json 1.json --plan-json 2.json  # every shard's
lambda-reconciler github drift-issue --body-file drift.md --drifted # or --in-sync
lambda-reconciler github check-reviewed plan.json                   # on merge: the reviewed plan?
lambda-reconciler github render plan.json --format markdown         # a saved plan, re-rendered
lambda-reconciler github annotate plan.json                         # ::error per located error
lambda-reconciler github outputs plan.json                          # count-… step outputs
lambda-reconciler github failure-body --reason "…" --log run.log m.yaml  # when there is no plan
```

The token, repository and API URL come from `GITHUB_TOKEN`, `GITHUB_REPOSITORY` and
`GITHUB_API_URL` (or the options); the commit, run and time a body describes from
`GITHUB_EVENT_PATH`, `GITHUB_SHA`, `GITHUB_RUN_ID`, `GITHUB_RUN_NUMBER`, `GITHUB_RUN_ATTEMPT`,
`GITHUB_SERVER_URL` and `LAMBDA_RECONCILER_NOW`. The comment and the issue are found by the
markers that open the body and by their author, so each manifest set keeps its own. Any failure
is one line on standard error and exit 1: the plan's own result is already in the job summary
and the step outputs.

This module is the commands; what they read of the run and of a saved plan is in
`github_context`, what `check-reviewed` and `post-fresh` check and say in `github_review`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from reconciler.cli.github_context import (
    command_text,
    count_outputs,
    error_annotations,
    event_pr,
    from_fork,
    plan_data,
    read_file,
    run_context,
    where_full,
    workflow_event,
)
from reconciler.cli.github_review import (
    FRESH,
    REFUSE,
    carried,
    check_posted,
    fresh_intro,
    plans_comment,
    refusal,
    reviewed_fields,
)
from reconciler.errors import ReconcilerError
from reconciler.github import (
    BODY_LIMIT,
    MAX_WAIT,
    GitHubClient,
    GitHubError,
    Review,
    fit_body,
)

F = TypeVar("F", bound=Callable[..., Any])
SUMMARY_LIMIT = 250_000  # characters: under the 1 MiB job-summary limit even if all were emoji


def _one_line_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReconcilerError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _client(
    token: str | None,
    repo: str | None,
    api_url: str | None,
    author: str | None = None,
    max_wait: float = MAX_WAIT,
) -> GitHubClient:
    return GitHubClient(
        token or os.environ.get("GITHUB_TOKEN", ""),
        repo or os.environ.get("GITHUB_REPOSITORY", ""),
        api_url or os.environ.get("GITHUB_API_URL") or None,
        author=author or os.environ.get("LAMBDA_RECONCILER_GITHUB_AUTHOR") or None,
        max_wait=max_wait,
        log=lambda line: click.echo(line, err=True),
    )


def _renderer(plan_json: str, full_at: str) -> Callable[[int], str]:
    """The saved plan's Markdown again, within a limit: riskiest sections first when cut."""
    from reconciler.plan.planfile import load_plan_document
    from reconciler.render.markdown import render_markdown

    plan, kind = load_plan_document(plan_json)
    return lambda limit: render_markdown(plan, drift=kind == "drift", limit=limit, full_at=full_at)


def _connection(func: F) -> F:
    for option in reversed(
        [
            click.option("--token", help="GitHub token (default: GITHUB_TOKEN)."),
            click.option("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY)."),
            click.option(
                "--api-url", help="REST API root (default: GITHUB_API_URL, else api.github.com)."
            ),
            click.option(
                "--author",
                help="Login the token writes as, e.g. my-app[bot] for a GitHub App token "
                "(default: LAMBDA_RECONCILER_GITHUB_AUTHOR, else GET /user, else "
                "github-actions[bot]).",
            ),
            click.option(
                "--max-wait",
                type=click.FloatRange(0),
                default=MAX_WAIT,
                show_default=True,
                help="Seconds to wait for GitHub rate limits, in all, before giving up.",
            ),
        ]
    ):
        func = option(func)
    return func


BODY = click.option(
    "--body-file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Markdown written by `plan`/`drift --format markdown` (it opens with the markers).",
)
MARKER = click.option(
    "--marker",
    help="Find the comment or issue by this text instead of the body's opening markers.",
)


@click.group()
def github() -> None:
    """Post plans to pull requests and keep a drift issue (what the GitHub Action runs)."""


PLAN_JSON = click.option(
    "--plan-json",
    "plan_jsons",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="The JSON plan the body shows: its operations fingerprint is recorded in the comment, "
    "for `check-reviewed` on merge. Repeated, one per shard of a matrix (`plan --shard K/N`): "
    "one comment shows every shard's plan (no --body-file) and records each shard's "
    "fingerprint, which the apply job of that shard checks.",
)


@github.command()
@click.option(
    "--pr",
    "pr",
    type=click.IntRange(1),
    help="Pull request number (default: the pull request of GITHUB_EVENT_PATH).",
)
@click.option(
    "--body-file",
    type=click.Path(dir_okay=False),
    help="Markdown written by `plan`/`drift --format markdown` (it opens with the markers); "
    "with several --plan-json the body is rendered from them.",
)
@MARKER
@PLAN_JSON
@_connection
@_one_line_errors
def comment(
    pr: int | None,
    body_file: str | None,
    marker: str | None,
    plan_jsons: tuple[str, ...],
    token: str | None,
    repo: str | None,
    api_url: str | None,
    author: str | None,
    max_wait: float,
) -> None:
    """Create or update this manifest set's plan comment on a pull request.

    Prints the comment's URL. On a pull request from a fork whose token may not write, the
    comment is skipped with a warning (exit 0).
    """
    again: Callable[[int], str] | None
    if len(plan_jsons) > 1:
        if body_file:
            raise click.UsageError("--body-file: with several --plan-json, the body is theirs")
        body, ctx, full_at, again = plans_comment(plan_jsons)
    elif not body_file:
        raise click.UsageError("--body-file is required (with one --plan-json or none)")
    else:
        plan_json = plan_jsons[0] if plan_jsons else None
        ctx = run_context(plan_json)
        full_at = where_full(ctx)
        again = _renderer(plan_json, full_at) if plan_json else None
        body = read_file(body_file)
    number = pr or event_pr()
    client = _client(token, repo, api_url, author, max_wait)
    try:
        ident = client.upsert_comment(number, body, marker, ctx, full_at, again)
    except GitHubError as e:
        if e.status == 403 and from_fork(workflow_event()) and "rate limit" not in str(e):
            click.echo(
                "::warning title=lambda-reconciler::No plan comment: this pull request comes "
                "from a fork and its token may not write to the repository "
                f"({command_text(str(e))}). The plan is in the job summary.",
                err=True,
            )
            return
        raise
    click.echo(f"{client.last_action} comment {ident} on #{number}", err=True)
    if client.last_url:
        click.echo(client.last_url)


@github.command("drift-issue")
@BODY
@click.option(
    "--drifted/--in-sync", required=True, help="Whether drift was found (drift exit code 2)."
)
@click.option("--title", default="Lambda drift detected", show_default=True)
@MARKER
@_connection
@_one_line_errors
def drift_issue(
    body_file: str,
    drifted: bool,
    title: str,
    marker: str | None,
    token: str | None,
    repo: str | None,
    api_url: str | None,
    author: str | None,
    max_wait: float,
) -> None:
    """Open or update the drift issue while drift persists; close it once back in sync.

    Prints the issue's URL. An issue a person closed as "not planned" is not reopened while the
    drift is the same.
    """
    client = _client(token, repo, api_url, author, max_wait)
    ctx = run_context()
    what = client.sync_drift_issue(
        read_file(body_file), marker, drifted, title, ctx, where_full(ctx)
    )
    number = f" #{client.last_number}" if client.last_number else ""
    said = {"ignored": " (closed as not planned; the drift is the same)"}.get(what, "")
    click.echo(f"drift issue: {what}{number}{said}", err=True)
    if client.last_url:
        click.echo(client.last_url)


@github.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["markdown", "text"]),
    default="markdown",
    show_default=True,
)
@click.option(
    "--limit",
    type=click.IntRange(1000),
    default=SUMMARY_LIMIT,
    show_default=True,
    help="Markdown: cut beyond this many characters (a PR comment takes 65,536 at most).",
)
@click.option(
    "--color/--no-color", default=False, help="Text: ANSI colours (GitHub logs show them)."
)
@_one_line_errors
def render(plan_file: str, fmt: str, limit: int, color: bool) -> None:
    """Re-render a saved JSON plan: the job summary, which may be longer than a comment."""
    from reconciler.plan.planfile import load_plan_document
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_text

    plan, kind = load_plan_document(plan_file)
    drift = kind == "drift"
    if fmt == "markdown":
        click.echo(render_markdown(plan, drift=drift, limit=limit), nl=False)
    else:
        # The same text as `plan -v` and the folded full plan of the Markdown. click strips ANSI
        # codes when stdout is not a terminal; a CI log wants them kept.
        text = render_text(plan, verbose=True, color=color, drift=drift)
        click.echo(text, nl=False, color=color)


@github.command("failure-body")
@click.argument("manifests", nargs=-1, required=True)
@click.option("--reason", required=True, help="One sentence: what failed and what was not done.")
@click.option("--log", "log_file", type=click.Path(dir_okay=False), help="Output to quote.")
@click.option("--kind", type=click.Choice(["plan", "drift"]), default="plan", show_default=True)
@_one_line_errors
def failure_body(manifests: tuple[str, ...], reason: str, log_file: str | None, kind: str) -> None:
    """Markdown saying the run failed, with the markers of MANIFEST... (for the sticky comment)."""
    from reconciler.render.markdown import render_failure

    log = read_file(log_file) if log_file else ""
    # The log is cut by the renderer; the reason and the manifest list are not: cut the whole.
    text = render_failure(manifests, reason, kind=kind, log=log)
    click.echo(fit_body(text, BODY_LIMIT, "the job log"), nl=False)


@github.command("check-reviewed")
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option("--sha", help="The merge commit (default: GITHUB_SHA).")
@click.option(
    "--fingerprint",
    "posted",
    help="Apply only the fresh plan `post-fresh` put up for review with this review "
    "fingerprint (a manual run after a refusal), instead of the pull request's plan.",
)
@MARKER
@_connection
@_one_line_errors
def check_reviewed(
    plan_file: str,
    sha: str | None,
    posted: str | None,
    marker: str | None,
    token: str | None,
    repo: str | None,
    api_url: str | None,
    author: str | None,
    max_wait: float,
) -> None:
    """Exit 0 only if PLAN_FILE, planned at the merge, is the plan reviewed in the pull request.

    Finds the pull request merged as the commit and this manifest set's plan comment, reads the
    review the comment's trailer recorded for the pull request's head commit, and compares it
    with the review of PLAN_FILE and the manifests on disk. Exit 1, naming what differs and the
    commits the merge carries beyond the reviewed head, when there is no such pull request or
    comment, when the comment describes another commit than the head merged, or when anything
    the plan will do differs. With --fingerprint, the plan must be the fresh plan posted on the
    pull request for review with that fingerprint, at this very commit.
    """
    from reconciler.render.markdown import FLEET_MARKER, marker_for, plan_label

    plan = plan_data(plan_file)
    commit = sha or os.environ.get("GITHUB_SHA", "")
    if not commit:
        raise ReconcilerError("no commit: pass --sha or set GITHUB_SHA")
    client = _client(token, repo, api_url, author, max_wait)
    pr = client.merged_pull_request(commit)
    if pr is None:
        raise ReconcilerError(
            f"commit {commit[:12]} is not the merge of a pull request, so no plan was reviewed "
            f"for it. {REFUSE}"
        )
    number = int(pr["number"])
    manifests = [str(m) for m in plan.get("manifests") or []]
    if posted:
        check_posted(client, plan, commit, number, posted)
        return
    shard = plan.get("shard")
    markers = [marker] if marker else [marker_for(manifests, "plan", shard)]
    if not marker:  # the set's one comment of every shard, then one of several sets
        markers += [marker_for(manifests, "plan"), FLEET_MARKER] if shard else [FLEET_MARKER]
    found = None
    for m in markers:
        found = found or client.find_comment(number, m)
    if found is None:
        what = f"shard {shard} of these manifests" if shard else "these manifests"
        raise ReconcilerError(f"pull request #{number} has no plan comment for {what}. {REFUSE}")
    url = found.get("html_url") or f"#{number}"
    fields = reviewed_fields(found, pr, number, url, plan_label(manifests, shard))
    head = fields["commit"][0]
    fresh = Review.of(plan)
    if fresh.fingerprint(head) != fields["review"][0]:
        raise refusal(fresh, fields, number, url, carried(head, commit, manifests))
    click.echo(f"the plan is the one reviewed in #{number}: {url}", err=True)


@github.command("post-fresh")
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option(
    "--reason-file",
    type=click.Path(dir_okay=False),
    help="What check-reviewed said: why the apply was refused (its last line is quoted).",
)
@click.option("--manifest-set", help="The manifest set's name, for the manual run's inputs.")
@_connection
@_one_line_errors
def post_fresh(
    plan_file: str,
    reason_file: str | None,
    manifest_set: str | None,
    token: str | None,
    repo: str | None,
    api_url: str | None,
    author: str | None,
    max_wait: float,
) -> None:
    """After a refused apply: put the fresh plan up for review on the merged pull request.

    One comment per manifest set on the pull request merged as GITHUB_SHA, updated in place,
    shows the fresh plan and its review fingerprint, which a manual run of the workflow takes
    (`reviewed-plan`, i.e. `check-reviewed --fingerprint`) to apply exactly that plan at that
    commit. Prints the fingerprint; nothing is applied here.
    """
    from reconciler.plan.planfile import load_plan_document
    from reconciler.render.markdown import marker_for, render_markdown

    commit = os.environ.get("GITHUB_SHA", "")
    if not commit:
        raise ReconcilerError("no commit: set GITHUB_SHA")
    client = _client(token, repo, api_url, author, max_wait)
    pr = client.merged_pull_request(commit)
    if pr is None:
        raise ReconcilerError(
            f"commit {commit[:12]} is not the merge of a pull request: the fresh plan is in the "
            "job summary only"
        )
    number = int(pr["number"])
    plan, _ = load_plan_document(plan_file)
    ctx = run_context(plan_file)
    if ctx is None or not ctx.review:  # a plan file always gives a review
        raise ReconcilerError(f"{plan_file}: no plan to post")
    reason = read_file(reason_file).strip().splitlines()[-1:] if reason_file else []
    intro = fresh_intro(plan.manifests, ctx.review, reason, manifest_set)
    full_at = where_full(ctx)

    def body(limit: int) -> str:
        shown = render_markdown(plan, limit=limit - len(intro), full_at=full_at)
        return intro + shown.split("\n", 2)[2]  # its own markers give way to ours

    marker = marker_for(plan.manifests, FRESH)
    client.upsert_comment(number, body(10**9), marker, ctx, full_at, body)
    click.echo(f"{client.last_action} the fresh plan on #{number}: {client.last_url}", err=True)
    click.echo(ctx.review)


@github.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@_one_line_errors
def annotate(plan_file: str) -> None:
    """Each error of a JSON plan as a `::error` workflow command, on its manifest line."""
    for line in error_annotations(plan_data(plan_file)):
        click.echo(line)


@github.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@_one_line_errors
def outputs(plan_file: str) -> None:
    """The Action's `count-…` outputs of a JSON plan, one `name=value` line each."""
    for line in count_outputs(plan_data(plan_file)):
        click.echo(line)


@github.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="Where to write plan.md, summary.md, plan.txt, plan-color.txt and outputs.txt.",
)
@_one_line_errors
def report(plan_file: str, directory: str) -> None:
    """Everything the Action shows of a saved JSON plan, in one go.

    plan.md: the Markdown, uncut (`github comment` cuts it between functions); summary.md: the
    job summary, at most 250,000 characters, saying where the full plan is when cut; plan.txt
    and plan-color.txt: the text of `plan -v`; outputs.txt: the `count-…` outputs. The errors
    are printed as `::error` workflow commands.
    """
    from reconciler.plan.planfile import load_plan_document
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_text

    data = plan_data(plan_file)
    plan, kind = load_plan_document(plan_file)
    drift = kind == "drift"
    full = render_markdown(plan, drift=drift, limit=10**9)
    where = "the Action's `plan-text` output file (upload it as an artifact to keep it)"
    summary = render_markdown(plan, drift=drift, limit=SUMMARY_LIMIT, full_at=where)
    files = {
        "plan.md": full,
        "summary.md": summary,
        "plan.txt": render_text(plan, verbose=True, drift=drift),
        "plan-color.txt": render_text(plan, verbose=True, color=True, drift=drift),
        "outputs.txt": "".join(f"{line}\n" for line in count_outputs(data)),
    }
    for name, text in files.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
            f.write(text)
    for line in error_annotations(data):
        click.echo(line)


from reconciler.github.adopt_pr import adopt_pr as _adopt_pr  # noqa: E402

github.add_command(_adopt_pr)
