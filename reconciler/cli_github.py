"""`lambda-reconciler github …`: what the GitHub Action calls after rendering a plan."""

from __future__ import annotations

import os

import click

from reconciler.errors import ReconcilerError
from reconciler.github import GitHubClient


def _client(token: str | None, repo: str | None) -> GitHubClient:
    return GitHubClient(
        token or os.environ.get("GITHUB_TOKEN", ""),
        repo or os.environ.get("GITHUB_REPOSITORY", ""),
    )


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise ReconcilerError(f"{path}: cannot read: {e.strerror or e}") from None


TOKEN = click.option("--token", help="GitHub token (default: GITHUB_TOKEN).")
REPO = click.option("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY).")
BODY = click.option(
    "--body-file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Markdown rendered with --format markdown.",
)


@click.group()
def github() -> None:
    """Post plans to pull requests and keep a drift issue (used by the GitHub Action)."""


@github.command()
@click.option("--pr", "pr", type=int, required=True, help="Pull request number.")
@BODY
@TOKEN
@REPO
def comment(pr: int, body_file: str, token: str | None, repo: str | None) -> None:
    """Create or update the sticky plan comment of this manifest set on a pull request."""
    from reconciler.cli import fail

    try:
        client = _client(token, repo)
        what, ident = client.upsert_comment(pr, _read(body_file))
    except ReconcilerError as e:
        fail(str(e))
        raise SystemExit(1) from None
    click.echo(f"{what} comment {ident} on #{pr}", err=True)


@github.command("drift-issue")
@BODY
@click.option("--drifted/--in-sync", required=True, help="Whether drift was found.")
@click.option("--title", default="Lambda drift detected", show_default=True)
@TOKEN
@REPO
def drift_issue(
    body_file: str, drifted: bool, title: str, token: str | None, repo: str | None
) -> None:
    """Open/update the drift issue while drift persists; close it when back in sync."""
    from reconciler.cli import fail

    try:
        client = _client(token, repo)
        what, number = client.sync_drift_issue(_read(body_file), drifted, title)
    except ReconcilerError as e:
        fail(str(e))
        raise SystemExit(1) from None
    click.echo(f"drift issue: {what}{f' #{number}' if number else ''}", err=True)
