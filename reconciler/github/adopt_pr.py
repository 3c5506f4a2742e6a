"""The adoption pull request: one per manifest set, on a branch of its own, kept up to date.

Only GitHub's REST API, no git binary: the adopted manifests become one commit on top of the
commit they were read from (GITHUB_SHA under Actions, else the base's head: a tree built from
that commit's tree with the files' new contents, then a commit), the branch
`lambda-reconciler/adopt-<digest of the manifest set>` points at it, and one open pull request
from that branch into the base (the workflow's branch, else the default branch) carries the
description. On later runs:

- the same adoption (same tree on the same base): nothing is written; the description is
  refreshed only if it changed;
- a different adoption: a new commit replaces the branch's (force-moved: the branch is ours and
  always holds exactly one commit on top of the base) and the description is updated;
- nothing to adopt any more (live state matches git again, or the pull request was merged):
  an open adoption pull request is closed with a comment.

The token needs `contents: write` (blobs, trees, commits, the branch) and `pull-requests: write`.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import click

from reconciler.errors import ReconcilerError
from reconciler.github.client import GitHubClient
from reconciler.github.http import GitHubError

BRANCH_PREFIX = "lambda-reconciler/adopt-"
TITLE = "Adopt Lambda aliases changed outside git"
IN_SYNC = (
    "Live state matches git again (the adoption was merged, or the change was reverted): "
    "nothing left to adopt. Closing."
)


def branch_for(manifests: Sequence[str]) -> str:
    """The branch of a manifest set: the same digest as its comment and issue markers."""
    return BRANCH_PREFIX + hashlib.sha256("\n".join(sorted(manifests)).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class PullRequest:
    action: str  # opened, updated, unchanged, closed, none
    number: int | None = None
    url: str = ""
    branch: str = ""


def _api(client: GitHubClient, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One REST call through the client's transport (its authentication, retries, errors)."""
    return client._call(method, f"/repos/{client.repo}{path}", body)


def _quote(ref: str) -> str:
    return urllib.parse.quote(ref, safe="/")


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise GitHubError(f"GitHub API: unexpected answer for {what}")
    return value


def sync_adopt_pr(
    client: GitHubClient,
    files: Mapping[str, str],
    body: str,
    manifests: Sequence[str],
    *,
    base: str | None = None,
    parent: str | None = None,
    title: str = TITLE,
) -> PullRequest:
    """Open, update or close the adoption pull request of `manifests`.

    `files` maps each repository path to the file's adopted text. The commit goes on top of
    `parent` (the commit the files were read from, so that a change merged into the base in
    the meantime shows as a conflict rather than being undone), else on the base's head.
    """
    branch = branch_for(manifests)
    if base is None:
        base = str(_dict(_api(client, "GET", ""), "the repository")["default_branch"])
    if parent is None:
        base_ref = _dict(_api(client, "GET", f"/git/ref/heads/{_quote(base)}"), "the base")
        parent = str(base_ref["object"]["sha"])
    base_tree, tree_sha = _tree(client, parent, files)
    owner = client.repo.split("/")[0]
    head = urllib.parse.quote(f"{owner}:{branch}", safe="")
    found = _api(client, "GET", f"/pulls?state=open&head={head}&per_page=100")
    open_pr = next((p for p in found or [] if isinstance(p, dict)), None)
    if tree_sha == base_tree:  # the base already holds these contents: nothing to adopt
        if open_pr is None:
            return PullRequest("none", branch=branch)
        number = int(open_pr["number"])
        _api(client, "POST", f"/issues/{number}/comments", {"body": IN_SYNC})
        _api(client, "PATCH", f"/pulls/{number}", {"state": "closed"})
        return PullRequest("closed", number, str(open_pr.get("html_url", "")), branch)
    moved = _move_branch(client, branch, tree_sha, parent, _message(body, title))
    if open_pr is None:
        pr = _dict(
            _api(
                client,
                "POST",
                "/pulls",
                {"title": title, "head": branch, "base": base, "body": body},
            ),
            "a pull request",
        )
        return PullRequest("opened", int(pr["number"]), str(pr.get("html_url", "")), branch)
    number = int(open_pr["number"])
    if moved or open_pr.get("body") != body:
        _api(client, "PATCH", f"/pulls/{number}", {"title": title, "body": body})
        return PullRequest("updated", number, str(open_pr.get("html_url", "")), branch)
    return PullRequest("unchanged", number, str(open_pr.get("html_url", "")), branch)


def _tree(client: GitHubClient, parent: str, files: Mapping[str, str]) -> tuple[str, str]:
    """(the parent commit's tree, the tree with the adopted files on top of it)."""
    base_commit = _dict(_api(client, "GET", f"/git/commits/{parent}"), "the base commit")
    base_tree = str(base_commit["tree"]["sha"])
    entries = [
        {"path": path, "mode": "100644", "type": "blob", "content": text}
        for path, text in sorted(files.items())
    ]
    tree = _dict(
        _api(client, "POST", "/git/trees", {"base_tree": base_tree, "tree": entries}), "a tree"
    )
    return base_tree, str(tree["sha"])


def _move_branch(
    client: GitHubClient, branch: str, tree_sha: str, parent: str, message: str
) -> bool:
    """Point `branch` at a commit of `tree_sha` on `parent`, unless it already is one; whether
    it moved."""
    refs = _api(client, "GET", f"/git/matching-refs/heads/{_quote(branch)}")
    current = next(
        (r for r in refs or [] if isinstance(r, dict) and r.get("ref") == f"refs/heads/{branch}"),
        None,
    )
    if current is not None:
        sha = str(current["object"]["sha"])
        commit = _dict(_api(client, "GET", f"/git/commits/{sha}"), "the branch's commit")
        parents = [str(p.get("sha")) for p in commit.get("parents", [])]
        if commit["tree"]["sha"] == tree_sha and parents == [parent]:
            return False
    commit = _dict(
        _api(
            client,
            "POST",
            "/git/commits",
            {"message": message, "tree": tree_sha, "parents": [parent]},
        ),
        "a commit",
    )
    if current is None:
        _api(client, "POST", "/git/refs", {"ref": f"refs/heads/{branch}", "sha": commit["sha"]})
    else:
        ref = {"sha": commit["sha"], "force": True}
        _api(client, "PATCH", f"/git/refs/heads/{_quote(branch)}", ref)
    return True


def _message(body: str, title: str) -> str:
    """The commit message: the title and the list of changes (the body without its markers)."""
    lines = [line for line in body.splitlines() if line.startswith(("- ", "  - "))]
    return "\n".join([title, "", *lines]) if lines else title


# -- `lambda-reconciler github adopt-pr` -----------------------------------------------------


def _repo_paths(manifests: Sequence[str], root: str) -> dict[str, str]:
    """Each manifest's adopted text by its path in the repository (relative to `root`)."""
    files: dict[str, str] = {}
    top = os.path.realpath(root)
    for m in manifests:
        full = os.path.realpath(m)
        rel = os.path.relpath(full, top)
        if rel.startswith(os.pardir) or os.path.isabs(rel):
            raise ReconcilerError(f"{m}: outside the repository root {root} (--root)")
        try:
            with open(full, encoding="utf-8") as f:
                files[rel.replace(os.sep, "/")] = f.read()
        except (OSError, UnicodeDecodeError) as e:
            raise ReconcilerError(
                f"{m}: cannot read: {getattr(e, 'strerror', None) or e}"
            ) from None
    return files


def _workflow_branch() -> str | None:
    """The branch the workflow runs on (GITHUB_REF refs/heads/…), whose commit is GITHUB_SHA."""
    ref = os.environ.get("GITHUB_REF", "")
    return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None


@click.command("adopt-pr")
@click.argument("manifests", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--body-file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Markdown written by `adopt --format markdown`.",
)
@click.option(
    "--base",
    help="Branch to adopt into (default: the branch of GITHUB_REF, else the default branch).",
)
@click.option(
    "--root",
    help="Repository root the manifest paths are relative to (default: GITHUB_WORKSPACE, else .).",
)
@click.option(
    "--parent",
    help="Commit the manifests were read from (default: GITHUB_SHA, else the base's head).",
)
@click.option("--title", default=TITLE, show_default=True)
@click.option("--token", help="GitHub token (default: GITHUB_TOKEN).")
@click.option("--repo", help="OWNER/NAME (default: GITHUB_REPOSITORY).")
@click.option("--api-url", help="REST API root (default: GITHUB_API_URL, else api.github.com).")
def adopt_pr(
    manifests: tuple[str, ...],
    body_file: str,
    base: str | None,
    root: str | None,
    parent: str | None,
    title: str,
    token: str | None,
    repo: str | None,
    api_url: str | None,
) -> None:
    """Open or update the pull request that adopts live state into MANIFEST... (as rewritten by
    `adopt --write`); close it once there is nothing left to adopt. Prints its URL."""
    try:
        with open(body_file, encoding="utf-8") as f:
            body = f.read()
        files = _repo_paths(manifests, root or os.environ.get("GITHUB_WORKSPACE") or ".")
        client = GitHubClient(
            token or os.environ.get("GITHUB_TOKEN", ""),
            repo or os.environ.get("GITHUB_REPOSITORY", ""),
            api_url or os.environ.get("GITHUB_API_URL") or None,
        )
        pr = sync_adopt_pr(
            client,
            files,
            body,
            manifests,
            base=base or _workflow_branch(),
            parent=parent or os.environ.get("GITHUB_SHA") or None,
            title=title,
        )
    except OSError as e:
        click.echo(f"error: {body_file}: cannot read: {e.strerror or e}", err=True)
        sys.exit(1)
    except ReconcilerError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    number = f" #{pr.number}" if pr.number else ""
    click.echo(f"adoption pull request: {pr.action}{number} ({pr.branch})", err=True)
    if pr.url and pr.action != "closed":
        click.echo(pr.url)
