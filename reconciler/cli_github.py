"""`lambda-reconciler github …`: what the GitHub Action calls around a plan.

```
lambda-reconciler github comment --pr 42 --body-file plan.md        # sticky PR comment
lambda-reconciler github drift-issue --body-file drift.md --drifted # or --in-sync
lambda-reconciler github render plan.json --format markdown         # a saved plan, re-rendered
lambda-reconciler github failure-body --reason "…" --log run.log m.yaml  # when there is no plan
```

The token, repository and API URL come from `GITHUB_TOKEN`, `GITHUB_REPOSITORY` and
`GITHUB_API_URL` (or the options). The comment and the issue are found by the markers that open
the body, so each manifest set keeps its own. Any failure is one line on standard error and
exit 1: the plan's own result is already in the job summary and the step outputs.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from reconciler.errors import ReconcilerError
from reconciler.github import GitHubClient

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


def _client(token: str | None, repo: str | None, api_url: str | None) -> GitHubClient:
    return GitHubClient(
        token or os.environ.get("GITHUB_TOKEN", ""),
        repo or os.environ.get("GITHUB_REPOSITORY", ""),
        api_url or os.environ.get("GITHUB_API_URL") or None,
    )


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


@github.command()
@click.option(
    "--pr",
    "pr",
    type=click.IntRange(1),
    help="Pull request number (default: the pull request of GITHUB_EVENT_PATH).",
)
@BODY
@MARKER
@_connection
@_one_line_errors
def comment(
    pr: int | None,
    body_file: str,
    marker: str | None,
    token: str | None,
    repo: str | None,
    api_url: str | None,
) -> None:
    """Create or update this manifest set's plan comment on a pull request."""
    number = pr or _event_pr()
    client = _client(token, repo, api_url)
    ident = client.upsert_comment(number, _read(body_file), marker)
    click.echo(f"{client.last_action} comment {ident} on #{number}", err=True)


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
) -> None:
    """Open or update the drift issue while drift persists; close it once back in sync."""
    client = _client(token, repo, api_url)
    what = client.sync_drift_issue(_read(body_file), marker, drifted, title)
    number = f" #{client.last_number}" if client.last_number else ""
    click.echo(f"drift issue: {what}{number}", err=True)


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
    from reconciler.render.json import load_plan_document
    from reconciler.render.markdown import render_markdown
    from reconciler.render.text import render_text

    plan, kind = load_plan_document(plan_file)
    drift = kind == "drift"
    if fmt == "markdown":
        click.echo(render_markdown(plan, drift=drift, limit=limit), nl=False)
    else:
        # click strips ANSI codes when stdout is not a terminal; a CI log wants them kept.
        click.echo(render_text(plan, color=color, drift=drift), nl=False, color=color)


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
    click.echo(render_failure(manifests, reason, kind=kind, log=log), nl=False)


from reconciler.adopt_pr import adopt_pr as _adopt_pr  # noqa: E402

github.add_command(_adopt_pr)
