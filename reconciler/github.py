"""The GitHub REST calls of the Action: a sticky PR comment and a drift issue.

Standard-library HTTP only. Every call honours `GITHUB_API_URL` (GitHub Enterprise, and the
tests' local fake). Comments and issues are found again by the hidden markers the markdown
renderer writes, so each manifest set keeps exactly one comment and one drift issue.
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.error
import urllib.request
from typing import Any

from reconciler.errors import ReconcilerError

DRIFT_LABEL = "lambda-drift"


class GitHubError(ReconcilerError):
    pass


def markers_of(body: str) -> str:
    """The hidden marker lines that open a rendered body (kind and manifest set)."""
    lines = [ln for ln in body.splitlines()[:4] if ln.startswith("<!-- lambda-reconciler:")]
    if not lines:
        raise GitHubError(
            "the body has no lambda-reconciler marker; render it with --format markdown"
        )
    return "\n".join(lines)


class GitHubClient:
    def __init__(self, token: str, repo: str, api_url: str | None = None) -> None:
        if not token:
            raise GitHubError("no GitHub token: set GITHUB_TOKEN or pass --token")
        if "/" not in repo:
            raise GitHubError(f"repository must be OWNER/NAME, got {repo!r}")
        self.token = token
        self.repo = repo
        self.api = (api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com").rstrip(
            "/"
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.api + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "lambda-reconciler",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            detail = ""
            with contextlib.suppress(ValueError):
                detail = str(json.loads(e.read() or b"{}").get("message", ""))
            raise GitHubError(
                f"GitHub API {method} {path.split('?')[0]}: {e.code} {detail or e.reason}"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            raise GitHubError(f"GitHub API {method} {path.split('?')[0]}: {e}") from None
        return json.loads(raw) if raw else None

    def _pages(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        sep = "&" if "?" in path else "?"
        while True:
            batch = self._call("GET", f"{path}{sep}per_page=100&page={page}")
            if not isinstance(batch, list):
                raise GitHubError(f"GitHub API GET {path}: expected a list")
            items.extend(batch)
            if len(batch) < 100:
                return items
            page += 1

    def upsert_comment(self, issue_number: int, body: str) -> tuple[str, int]:
        """Update the comment that carries this body's markers, or create one."""
        marker = markers_of(body)
        base = f"/repos/{self.repo}/issues/{issue_number}/comments"
        for c in self._pages(base):
            if marker in str(c.get("body", "")):
                self._call("PATCH", f"/repos/{self.repo}/issues/comments/{c['id']}", {"body": body})
                return "updated", int(c["id"])
        created = self._call("POST", base, {"body": body})
        return "created", int(created["id"])

    def sync_drift_issue(
        self, body: str, drifted: bool, title: str = "Lambda drift detected"
    ) -> tuple[str, int | None]:
        """Open or update one issue while drift persists; close it once back in sync."""
        marker = markers_of(body)
        issues = self._pages(f"/repos/{self.repo}/issues?state=open&labels={DRIFT_LABEL}")
        current = next(
            (i for i in issues if marker in str(i.get("body", "")) and "pull_request" not in i),
            None,
        )
        if drifted:
            if current is None:
                created = self._call(
                    "POST",
                    f"/repos/{self.repo}/issues",
                    {"title": title, "body": body, "labels": [DRIFT_LABEL]},
                )
                return "opened", int(created["number"])
            self._call("PATCH", f"/repos/{self.repo}/issues/{current['number']}", {"body": body})
            return "updated", int(current["number"])
        if current is None:
            return "none", None
        number = int(current["number"])
        self._call(
            "POST",
            f"/repos/{self.repo}/issues/{number}/comments",
            {"body": "Back in sync: live state matches git again."},
        )
        self._call("PATCH", f"/repos/{self.repo}/issues/{number}", {"state": "closed"})
        return "closed", number
