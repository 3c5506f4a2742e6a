"""The GitHub REST calls of the Action: a sticky PR comment and a drift issue.

Standard-library HTTP only. Every call honours `GITHUB_API_URL` (GitHub Enterprise, and the
tests' local fake). Comments and issues are found again by the hidden markers that open every
body the Markdown renderer writes (kind + manifest set), so each manifest set keeps exactly one
comment per pull request and at most one open drift issue.

A body is only ever matched by its *opening* markers: a human comment that quotes a plan starts
with `>` and is never taken for ours.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from reconciler.errors import ReconcilerError

DRIFT_LABEL = "lambda-drift"
BACK_IN_SYNC = "Back in sync: live state matches git again. Closing."
PAGE = 100
_RETRIES = (0.5, 2.0)  # GET only: seconds to wait before each retry of a 5xx or a network error


class GitHubError(ReconcilerError):
    """A GitHub API call failed; the message is one line: method, path, status, GitHub's text."""


def markers_of(body: str) -> str:
    """The hidden marker lines that open a rendered body (kind and manifest set)."""
    lines = []
    for line in body.splitlines():
        if not line.startswith("<!-- lambda-reconciler:"):
            break
        lines.append(line)
    if not lines:
        raise GitHubError(
            "the body does not start with a lambda-reconciler marker; "
            "render it with --format markdown"
        )
    return "\n".join(lines)


def _ours(item: dict[str, Any], marker: str) -> bool:
    return str(item.get("body") or "").replace("\r\n", "\n").startswith(marker)


class GitHubClient:
    """The few REST calls the Action makes, authenticated with one token for one repository."""

    def __init__(self, token: str, repo: str, api_url: str | None = None) -> None:
        if not token:
            raise GitHubError("no GitHub token: set GITHUB_TOKEN or pass --token")
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise GitHubError(f"repository must be OWNER/NAME (GITHUB_REPOSITORY), got {repo!r}")
        self.token = token
        self.repo = repo
        url = api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com"
        self.api = url.rstrip("/")
        # What the last upsert_comment / sync_drift_issue did, for the CLI to report.
        self.last_action = ""
        self.last_number: int | None = None

    # ---- transport ------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        shown = f"GitHub API {method} {path.split('?')[0]}"
        delays = _RETRIES if method == "GET" else ()
        for attempt in range(len(delays) + 1):
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
                break
            except urllib.error.HTTPError as e:
                if e.code >= 500 and attempt < len(delays):
                    time.sleep(delays[attempt])
                    continue
                raise GitHubError(f"{shown}: {e.code} {_message(e)}") from None
            except (urllib.error.URLError, TimeoutError, OSError) as e:
                if attempt < len(delays):
                    time.sleep(delays[attempt])
                    continue
                reason = getattr(e, "reason", None) or e
                raise GitHubError(f"{shown}: {reason}") from None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise GitHubError(f"{shown}: the answer is not JSON") from None

    def _pages(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        sep = "&" if "?" in path else "?"
        page = 1
        while True:
            batch = self._call("GET", f"{path}{sep}per_page={PAGE}&page={page}")
            if not isinstance(batch, list):
                raise GitHubError(f"GitHub API GET {path.split('?')[0]}: expected a list")
            items += [i for i in batch if isinstance(i, dict)]
            if len(batch) < PAGE:
                return items
            page += 1

    # ---- the sticky comment ---------------------------------------------------------------

    def find_comment(self, issue_number: int, marker: str) -> int | None:
        """The id of the comment on this PR (or issue) that opens with `marker`, if any."""
        for c in self._pages(f"/repos/{self.repo}/issues/{issue_number}/comments"):
            if _ours(c, marker):
                return int(c["id"])
        return None

    def upsert_comment(self, issue_number: int, body: str, marker: str | None = None) -> int:
        """Update the comment that opens with `marker` (default: the body's own), or create one.

        Returns the comment id; `last_action` says "created" or "updated".
        """
        marker = marker or markers_of(body)
        found = self.find_comment(issue_number, marker)
        if found is not None:
            self._call("PATCH", f"/repos/{self.repo}/issues/comments/{found}", {"body": body})
            self.last_action, self.last_number = "updated", found
            return found
        created = self._call(
            "POST", f"/repos/{self.repo}/issues/{issue_number}/comments", {"body": body}
        )
        self.last_action, self.last_number = "created", int(created["id"])
        return self.last_number

    # ---- the drift issue ------------------------------------------------------------------

    def find_drift_issue(self, marker: str) -> int | None:
        """The open issue (not a PR) that opens with `marker`: by label first, then any.

        The label is only a shortcut: GitHub drops labels a token may not set, so an issue
        without it is still found by its body.
        """
        labelled = f"/repos/{self.repo}/issues?state=open&labels={urllib.parse.quote(DRIFT_LABEL)}"
        for path in (labelled, f"/repos/{self.repo}/issues?state=open"):
            for issue in self._pages(path):
                if "pull_request" not in issue and _ours(issue, marker):
                    return int(issue["number"])
        return None

    def sync_drift_issue(
        self,
        body: str,
        marker: str | None,
        drifted: bool,
        title: str = "Lambda drift detected",
    ) -> str:
        """Open or update one issue while drift persists; close it once back in sync.

        `marker` None means the body's own opening markers. Returns "opened", "updated",
        "closed" or "none"; `last_number` is the issue number.
        """
        marker = marker or markers_of(body)
        number = self.find_drift_issue(marker)
        self.last_number = number
        if drifted and number is None:
            created = self._call(
                "POST",
                f"/repos/{self.repo}/issues",
                {"title": title, "body": body, "labels": [DRIFT_LABEL]},
            )
            self.last_number = int(created["number"])
            self.last_action = "opened"
        elif drifted:
            self._call("PATCH", f"/repos/{self.repo}/issues/{number}", {"body": body})
            self.last_action = "updated"
        elif number is not None:
            self._call(
                "POST", f"/repos/{self.repo}/issues/{number}/comments", {"body": BACK_IN_SYNC}
            )
            self._call(
                "PATCH",
                f"/repos/{self.repo}/issues/{number}",
                {"state": "closed", "state_reason": "completed"},
            )
            self.last_action = "closed"
        else:
            self.last_action = "none"
        return self.last_action


def _message(e: urllib.error.HTTPError) -> str:
    """GitHub's own one-line explanation ("Resource not accessible by integration")."""
    try:
        data = json.loads(e.read() or b"{}")
    except (ValueError, OSError):
        data = {}
    text = data.get("message") if isinstance(data, dict) else None
    return " ".join(str(text or e.reason or "").split())
