"""`lambda-reconciler github …`: what the GitHub Action calls around a plan.

```
lambda-reconciler github comment --pr 42 --body-file plan.md --plan-json plan.json  # sticky comment
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
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from functools import wraps
from typing import Any, TypeVar

import click

from reconciler.errors import ReconcilerError
from reconciler.github import (
    BODY_LIMIT,
    MAX_WAIT,
    GitHubClient,
    GitHubError,
    Review,
    RunContext,
    fit_body,
    trailer_values,
)
from reconciler.plan import Action
from reconciler.plan.planfile import FORMAT_VERSION

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


def _event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        event = json.loads(_read(path))
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _now() -> str:
    from reconciler.cli.testclock import NOW, pinned

    api = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    if pinned(api, lambda line: click.echo(line, err=True)) is not None:
        return os.environ[NOW]  # the test clock: only against a local GitHub (cli/testclock.py)
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _context(plan_json: str | None = None) -> RunContext | None:
    """What the body describes: the pull request's head commit (else GITHUB_SHA), the run."""
    event = _event()
    head = ((event.get("pull_request") or {}).get("head") or {}).get("sha")
    sha = str(head or os.environ.get("GITHUB_SHA", ""))
    run_id = os.environ.get("GITHUB_RUN_ID", "")
    review = Review.of(_plan_dict(plan_json)) if plan_json else None
    if not (sha or run_id or review):
        return None
    return RunContext(
        sha=sha,
        run_id=run_id,
        run_number=os.environ.get("GITHUB_RUN_NUMBER", ""),
        attempt=os.environ.get("GITHUB_RUN_ATTEMPT", ""),
        at=_now(),
        server=os.environ.get("GITHUB_SERVER_URL") or "https://github.com",
        repo=os.environ.get("GITHUB_REPOSITORY", ""),
        review=review.fingerprint(sha) if review else None,
        index=review.index() if review else None,
    )


def _renderer(plan_json: str, full_at: str) -> Callable[[int], str]:
    """The saved plan's Markdown again, within a limit: riskiest sections first when cut."""
    from reconciler.plan.planfile import load_plan_document
    from reconciler.render.markdown import render_markdown

    plan, kind = load_plan_document(plan_json)
    return lambda limit: render_markdown(plan, drift=kind == "drift", limit=limit, full_at=full_at)


def _full_at(ctx: RunContext | None) -> str:
    url = ctx.run_url if ctx else ""
    return f"the [job summary]({url})" if url else "the job summary"


def _plan_dict(path: str) -> dict[str, Any]:
    """A JSON plan (docs/plan-format.md) as plain data, checked only for what is read here."""
    try:
        data = json.loads(_read(path))
    except ValueError as e:
        raise ReconcilerError(f"{path}: not a JSON plan file: {e}") from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        version = data.get("format_version") if isinstance(data, dict) else None
        raise ReconcilerError(
            f"{path}: unsupported plan format_version {version!r} (this version reads "
            f"{FORMAT_VERSION}); run plan again"
        )
    if not isinstance(data.get("functions"), list):
        raise ReconcilerError(f"{path}: malformed plan file: functions: expected a list")
    return data


def _is_fork(event: dict[str, Any]) -> bool:
    pr = event.get("pull_request") or {}
    head = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    base = ((pr.get("base") or {}).get("repo") or {}).get("full_name")
    return bool(head and base and head != base)


def command_text(text: str, *, prop: bool = False) -> str:
    """Text made safe inside a workflow command (`::error …::TEXT`, or a property value)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise ReconcilerError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None


def _event_pr() -> int:
    """The pull request number of the running workflow's event (GITHUB_EVENT_PATH)."""
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        raise ReconcilerError("no pull request: pass --pr N (GITHUB_EVENT_PATH is not set)")
    try:
        event = json.loads(_read(path))
        number = (event.get("pull_request") or event.get("issue") or {}).get("number")
    except (ValueError, AttributeError):
        number = None
    if not isinstance(number, int):
        raise ReconcilerError("no pull request in this workflow's event: pass --pr N")
    return number


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
    type=click.Path(dir_okay=False),
    help="The JSON plan the body shows: its operations fingerprint is recorded in the comment, "
    "for `check-reviewed` on merge.",
)


@github.command()
@click.option(
    "--pr",
    "pr",
    type=click.IntRange(1),
    help="Pull request number (default: the pull request of GITHUB_EVENT_PATH).",
)
@BODY
@MARKER
@PLAN_JSON
@_connection
@_one_line_errors
def comment(
    pr: int | None,
    body_file: str,
    marker: str | None,
    plan_json: str | None,
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
    number = pr or _event_pr()
    client = _client(token, repo, api_url, author, max_wait)
    ctx = _context(plan_json)
    full_at = _full_at(ctx)
    again = _renderer(plan_json, full_at) if plan_json else None
    try:
        ident = client.upsert_comment(number, _read(body_file), marker, ctx, full_at, again)
    except GitHubError as e:
        if e.status == 403 and _is_fork(_event()) and "rate limit" not in str(e):
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
    ctx = _context()
    what = client.sync_drift_issue(_read(body_file), marker, drifted, title, ctx, _full_at(ctx))
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

    log = _read(log_file) if log_file else ""
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
    from reconciler.render.markdown import marker_for

    plan = _plan_dict(plan_file)
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
        _check_posted(client, plan, commit, number, posted)
        return
    found = client.find_comment(number, marker or marker_for(manifests, "plan"))
    if found is None:
        raise ReconcilerError(
            f"pull request #{number} has no plan comment for these manifests. {REFUSE}"
        )
    url = found.get("html_url") or f"#{number}"
    fields = _reviewed(found, pr, number, url)
    head = fields["commit"][0]
    fresh = Review.of(plan)
    if fresh.fingerprint(head) != fields["review"][0]:
        raise _changed(fresh, fields, number, url, _carried(head, commit, manifests))
    click.echo(f"the plan is the one reviewed in #{number}: {url}", err=True)


def _changed(
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


def _check_posted(
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


def _carried(head: str, commit: str, paths: list[str]) -> list[str]:
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


def _reviewed(
    comment: dict[str, Any], pr: dict[str, Any], number: int, url: str
) -> dict[str, list[str]]:
    """The trailer of the plan comment, checked to describe the merged head commit."""
    fields = trailer_values(str(comment.get("body") or ""))
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
    ctx = _context(plan_file)
    if ctx is None or not ctx.review:  # a plan file always gives a review
        raise ReconcilerError(f"{plan_file}: no plan to post")
    reason = _read(reason_file).strip().splitlines()[-1:] if reason_file else []
    intro = _fresh_intro(plan.manifests, ctx.review, reason, manifest_set)
    full_at = _full_at(ctx)

    def body(limit: int) -> str:
        shown = render_markdown(plan, limit=limit - len(intro), full_at=full_at)
        return intro + shown.split("\n", 2)[2]  # its own markers give way to ours

    marker = marker_for(plan.manifests, FRESH)
    client.upsert_comment(number, body(10**9), marker, ctx, full_at, body)
    click.echo(f"{client.last_action} the fresh plan on #{number}: {client.last_url}", err=True)
    click.echo(ctx.review)


def _fresh_intro(
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


def _annotations(plan: dict[str, Any]) -> list[str]:
    lines = [
        f"::error title=lambda-reconciler plan::{command_text(str(err))}"
        for err in plan.get("errors") or []
    ]
    for fp in plan["functions"]:
        source = str(fp.get("source") or "")
        m = re.fullmatch(r"(.+):(\d+):(\d+)", source)
        where = ""
        if m:
            file = command_text(m.group(1), prop=True)
            where = f"file={file},line={m.group(2)},col={m.group(3)},"
        for err in fp.get("errors") or []:
            message = command_text(f"{fp.get('function')}: {err}")
            lines.append(f"::error {where}title=lambda-reconciler plan::{message}")
    return lines


def _outputs(plan: dict[str, Any]) -> list[str]:
    """The `count-…` outputs: the operations of every action, layer deletions included."""
    counts = {a.value: 0 for a in Action}
    for item in [*plan["functions"], *(plan.get("layers") or [])]:
        for op in item.get("operations") or []:
            if op.get("action") in counts:
                counts[op["action"]] += 1
    lines = [f"count-{action.replace('_', '-')}={n}" for action, n in counts.items()]
    return [*lines, f"count-total={sum(counts.values())}"]


@github.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@_one_line_errors
def annotate(plan_file: str) -> None:
    """Each error of a JSON plan as a `::error` workflow command, on its manifest line."""
    for line in _annotations(_plan_dict(plan_file)):
        click.echo(line)


@github.command()
@click.argument("plan_file", type=click.Path(dir_okay=False))
@_one_line_errors
def outputs(plan_file: str) -> None:
    """The Action's `count-…` outputs of a JSON plan, one `name=value` line each."""
    for line in _outputs(_plan_dict(plan_file)):
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

    data = _plan_dict(plan_file)
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
        "outputs.txt": "".join(f"{line}\n" for line in _outputs(data)),
    }
    for name, text in files.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8") as f:
            f.write(text)
    for line in _annotations(data):
        click.echo(line)


from reconciler.github.adopt_pr import adopt_pr as _adopt_pr  # noqa: E402

github.add_command(_adopt_pr)
