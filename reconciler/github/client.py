"""The GitHub REST calls of the Action: a sticky PR comment, a drift issue, the reviewed plan.

Standard-library HTTP only. Every call honours `GITHUB_API_URL` (GitHub Enterprise, and the
tests' local fake) and follows GitHub's documented rules for REST clients:

- lists are read by following the `Link: <…>; rel="next"` header, never by guessing from a short
  page, and at most `max_pages` pages are read;
- a rate limit (403 or 429) waits as GitHub says — `Retry-After` seconds, else until
  `x-ratelimit-reset` when `x-ratelimit-remaining` is 0, else at least a minute — then retries,
  on every method (a refused request did nothing); the waits of one client add up to at most
  `max_wait` seconds, after which the error says when the limit resets;
- a 5xx or a network error is retried on GET and PATCH (both idempotent here), never blindly on
  POST: `upsert_comment` looks again for the comment before posting a second time;
- a 422 shows GitHub's reasons (`errors[].message`), not only "Validation Failed";
- bodies are cut to GitHub's 65,536 characters with a visible note, titles to 256.

A comment or issue is ours when it *opens* with our hidden markers (kind + manifest set) **and**
was written by the identity the token acts as: `GET /user` for a user token; an installation
token (`GITHUB_TOKEN`, a GitHub App) cannot read `/user`, so its identity is the bot login
`github-actions[bot]`, or the `author` given (`my-app[bot]`); a comment made through an app
also matches by its `performed_via_github_app.slug`. A comment by anyone else, markers or not,
is never edited.

Sleeping and the clock are injected, so the waits are tested without real time passing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.github.bodies import (
    BODY_LIMIT,
    RunContext,
    _normal,
    content_digest,
    cut_at_functions,
    decorate,
    fit_body,
    fit_title,
    markers_of,
)
from reconciler.github.http import MAX_PAGES, MAX_WAIT, GitHubError, Rest

DRIFT_LABEL = "lambda-drift"
BACK_IN_SYNC = "Back in sync: live state matches git again. Closing."
APP_BOT = "github-actions[bot]"  # who GITHUB_TOKEN writes as


@dataclass(frozen=True)
class Identity:
    """Who the token writes as: a user's login, or a bot login for an installation token."""

    login: str
    source: str  # "GET /user", "installation token" or "given"


class GitHubClient(Rest):
    """The few REST calls the Action makes, authenticated with one token for one repository."""

    def __init__(  # noqa: PLR0913 - the keyword-only ones are injected clock, sleep and limits
        self,
        token: str,
        repo: str,
        api_url: str | None = None,
        *,
        author: str | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
        max_wait: float = MAX_WAIT,
        max_pages: int = MAX_PAGES,
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(
            token,
            repo,
            api_url,
            sleep=sleep,
            clock=clock,
            max_wait=max_wait,
            max_pages=max_pages,
            log=log,
        )
        self._identity = Identity(author, "given") if author else None
        # What the last upsert_comment / sync_drift_issue did, for the CLI to report.
        self.last_action = ""
        self.last_number: int | None = None
        self.last_url = ""

    # ---- who we are -----------------------------------------------------------------------

    def identity(self) -> Identity:
        """The login the token writes as; read once."""
        if self._identity is None:
            try:
                me = self._call("GET", "/user")
                self._identity = Identity(str(me["login"]), "GET /user")
            except GitHubError as e:
                if e.status not in (403, 404):
                    raise
                # An installation token: "Resource not accessible by integration".
                self._identity = Identity(APP_BOT, "installation token")
        return self._identity

    def _ours(self, item: Mapping[str, Any], marker: str) -> bool:
        if not _normal(str(item.get("body") or "")).startswith(marker):
            return False
        login = self.identity().login
        user = item.get("user") or {}
        if user.get("login") == login:
            return True
        app = item.get("performed_via_github_app") or {}
        return bool(app.get("slug")) and f"{app['slug']}[bot]" == login

    # ---- the sticky comment ---------------------------------------------------------------

    def find_comment(self, issue_number: int, marker: str) -> dict[str, Any] | None:
        """Our comment on this PR (or issue) that opens with `marker`, if any."""
        for c in self._pages(f"/repos/{self.repo}/issues/{issue_number}/comments"):
            if self._ours(c, marker):
                return c
        return None

    def prepare(
        self,
        body: str,
        context: RunContext | None,
        previous: str | None,
        full_at: str = "the job summary",
        render: Callable[[int], str] | None = None,
    ) -> str:
        """The body to send: decorated with `context`, within GitHub's limit.

        `render(limit)` renders the same plan again within a limit (riskiest sections first,
        one line per section cut); without it the body is cut between functions.
        """
        shrink = render or (lambda room: cut_at_functions(body, room, full_at))
        if context is None:
            return fit_body(
                body if len(body) <= BODY_LIMIT else shrink(BODY_LIMIT), BODY_LIMIT, full_at
            )
        out = decorate(body, context, previous)
        room = BODY_LIMIT - (len(out) - len(body)) - 64
        while len(out) > BODY_LIMIT and room > 1000:
            smaller = shrink(room)
            out = decorate(smaller, context, previous)
            room -= max(len(out) - BODY_LIMIT, 0) + 256
        return fit_body(out, BODY_LIMIT, full_at)

    def upsert_comment(
        self,
        issue_number: int,
        body: str,
        marker: str | None = None,
        context: RunContext | None = None,
        full_at: str = "the job summary",
        render: Callable[[int], str] | None = None,
    ) -> int:
        """Update our comment that opens with `marker` (default: the body's own), or create one.

        With a `context`, the body names the commit and run it describes and keeps the list of
        earlier runs. It is cut to GitHub's limit between functions. An unchanged body is not
        sent again. A POST that fails with a 5xx may still have landed: the comments are read
        again before a second attempt, so a comment is never posted twice. `last_action` says
        "created", "updated" or "unchanged"; `last_url` is the comment's address.
        """
        marker = marker or markers_of(body)
        found = self.find_comment(issue_number, marker)
        previous = str(found.get("body") or "") if found else None
        text = self.prepare(body, context, previous, full_at, render)
        action = ""
        if found is None:
            try:
                found = self._create_comment(issue_number, text)
                action = "created"
            except GitHubError as e:
                if e.status is None or e.status < 500:
                    raise
                self.log(f"{e}: looking for the comment again before posting once more")
                found = self.find_comment(issue_number, marker)
                if found is None:
                    found = self._create_comment(issue_number, text)
                action = "created"
        if not action:
            if _normal(str(found.get("body") or "")) == _normal(text):
                action = "unchanged"
            else:
                found = self._call(
                    "PATCH", f"/repos/{self.repo}/issues/comments/{found['id']}", {"body": text}
                )
                action = "updated"
        self.last_action = action
        self.last_number = int(found["id"])
        self.last_url = str(found.get("html_url") or "")
        return self.last_number

    def _create_comment(self, issue_number: int, body: str) -> dict[str, Any]:
        created: dict[str, Any] = self._call(
            "POST", f"/repos/{self.repo}/issues/{issue_number}/comments", {"body": body}
        )
        self._check_author(created)
        return created

    def _check_author(self, created: Mapping[str, Any]) -> None:
        """Say so when GitHub shows another author than the identity we match comments by."""
        login = (created.get("user") or {}).get("login")
        if login and self._identity and login != self._identity.login:
            self.log(
                f"this token writes as {login}, not {self._identity.login}: pass --author "
                f"{login} (LAMBDA_RECONCILER_GITHUB_AUTHOR) so the next run finds what it wrote"
            )

    # ---- the drift issue ------------------------------------------------------------------

    def find_drift_issues(self, marker: str) -> list[dict[str, Any]]:
        """Our drift issues for this manifest set, open and closed, newest first.

        The label is the contract: one labelled query finds them (one request while there are
        at most 100), and the repository's other issues are never listed. An issue that lost
        its label is not ours any more.
        """
        labelled = self._pages(
            f"/repos/{self.repo}/issues",
            {"state": "all", "labels": DRIFT_LABEL, "sort": "created", "direction": "desc"},
        )
        return [i for i in labelled if "pull_request" not in i and self._ours(i, marker)]

    def find_drift_issue(self, marker: str) -> int | None:
        """The number of our open drift issue for this manifest set, if any."""
        for issue in self.find_drift_issues(marker):
            if issue.get("state") == "open":
                return int(issue["number"])
        return None

    def sync_drift_issue(
        self,
        body: str,
        marker: str | None,
        drifted: bool,
        title: str = "Lambda drift detected",
        context: RunContext | None = None,
        full_at: str = "the job summary",
    ) -> str:
        """Open or update one issue while drift persists; close it once back in sync.

        `marker` None means the body's own opening markers. A person who closed the issue as
        "not planned" has seen this drift and chosen to live with it: while the drift is the
        same (same content digest) it is not reported again. Returns "opened", "updated",
        "unchanged", "closed", "ignored" or "none"; `last_number` is the issue number.
        """
        marker = marker or markers_of(body)
        issues = self.find_drift_issues(marker)
        current = next((i for i in issues if i.get("state") == "open"), None)
        body = self.prepare(
            body, context, str(current.get("body") or "") if current else None, full_at
        )
        self.last_number = int(current["number"]) if current else None
        self.last_url = str(current.get("html_url") or "") if current else ""
        digest = content_digest(body)
        if drifted and current is None:
            dismissed = next((i for i in issues if i.get("state") == "closed"), None)
            self.last_action = self._open_drift_issue(body, title, digest, dismissed)
        elif drifted and current is not None:
            if content_digest(str(current.get("body") or "")) == digest:
                self.last_action = "unchanged"
            else:
                self._call(
                    "PATCH", f"/repos/{self.repo}/issues/{current['number']}", {"body": body}
                )
                self.last_action = "updated"
        elif current is not None:
            self._close_drift_issue(int(current["number"]))
            self.last_action = "closed"
        else:
            self.last_action = "none"
        return self.last_action

    def _open_drift_issue(
        self, body: str, title: str, digest: str, dismissed: dict[str, Any] | None
    ) -> str:
        """Open the issue, unless a person closed the same drift as "not planned"."""
        if (
            dismissed is not None
            and dismissed.get("state_reason") == "not_planned"
            and content_digest(str(dismissed.get("body") or "")) == digest
        ):
            self.last_number = int(dismissed["number"])
            self.last_url = str(dismissed.get("html_url") or "")
            return "ignored"
        created = self._call(
            "POST",
            f"/repos/{self.repo}/issues",
            {"title": fit_title(title), "body": body, "labels": [DRIFT_LABEL]},
        )
        self.last_number = int(created["number"])
        self.last_url = str(created.get("html_url") or "")
        self._check_author(created)
        if DRIFT_LABEL not in [_label(x) for x in created.get("labels") or []]:
            raise GitHubError(
                f"GitHub opened issue #{self.last_number} without the label {DRIFT_LABEL!r} "
                "(the token may not set labels: it needs issues: write); later runs find the "
                "drift issue by that label only, so label it by hand or fix the token"
            )
        return "opened"

    def _close_drift_issue(self, number: int) -> None:
        self._call("POST", f"/repos/{self.repo}/issues/{number}/comments", {"body": BACK_IN_SYNC})
        self._call(
            "PATCH",
            f"/repos/{self.repo}/issues/{number}",
            {"state": "closed", "state_reason": "completed"},
        )

    # ---- the pull request a commit came from ------------------------------------------------

    def merged_pull_request(self, sha: str) -> dict[str, Any] | None:
        """The pull request merged as commit `sha` (merge, squash or rebase), if any."""
        pulls = self._call("GET", f"/repos/{self.repo}/commits/{sha}/pulls")
        if not isinstance(pulls, list):
            raise GitHubError(f"GitHub API GET /repos/{self.repo}/commits/{sha}/pulls: no list")
        merged = [p for p in pulls if isinstance(p, dict) and p.get("merged_at")]
        exact = [p for p in merged if p.get("merge_commit_sha") == sha]
        chosen: list[dict[str, Any]] = exact or merged
        return chosen[0] if chosen else None


def _label(label: Any) -> str:
    return str(label.get("name") if isinstance(label, dict) else label)
