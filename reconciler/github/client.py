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

import hashlib
import itertools
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.message import Message
from http.client import HTTPMessage
from typing import Any

from reconciler.errors import ReconcilerError

DRIFT_LABEL = "lambda-drift"
BACK_IN_SYNC = "Back in sync: live state matches git again. Closing."
BODY_LIMIT = 65536  # characters GitHub accepts in a comment, issue or pull request body
TITLE_LIMIT = 256
PER_PAGE = 100
MAX_PAGES = 30  # 3,000 comments or issues: beyond that, refuse rather than guess
MAX_WAIT = 300.0  # seconds one client may spend waiting for rate limits, in all
APP_BOT = "github-actions[bot]"  # who GITHUB_TOKEN writes as
_BACKOFF = (1.0, 4.0)  # 5xx / network error on GET and PATCH: the waits before each retry
_SECONDARY_WAIT = 60.0  # a secondary limit without headers: "wait at least one minute"
_IDEMPOTENT = frozenset({"GET", "PATCH"})
TRAILER = "<!-- lambda-reconciler:trailer"  # opens the one hidden block that ends every body
_VALUE = re.compile(r"[A-Za-z0-9+/=._:-]+")  # what a trailer value may hold: no space, no `>`
_HISTORY = 20  # runs listed under a sticky comment


class GitHubError(ReconcilerError):
    """A GitHub API call failed; the message is one line: method, path, status, GitHub's text."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# ---- bodies ---------------------------------------------------------------------------------


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


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n")


def content_digest(body: str) -> str:
    """What a body says: the digest recorded in its trailer by `decorate`, else that of the
    whole text.

    Equal digests mean the same plan or the same drift, whichever run reported it.
    """
    recorded = trailer_values(body).get("content")
    if recorded:
        return recorded[0]
    return hashlib.sha256(_normal(body).encode()).hexdigest()[:16]


def trailer_values(body: str) -> dict[str, list[str]]:
    """The fields of the trailer that ends `body` (`decorate` writes it), by name.

    Only the last block of the body is read, and only when it is a well-formed trailer: the
    body's last line closes it, and every line in it is `NAME VALUE…` or `NAME=VALUE` of
    characters that cannot close an HTML comment. A marker anywhere else — in a description
    quoted by the plan, say — is text, never a field. No trailer: an empty mapping.
    """
    text = _normal(body).rstrip("\n")
    start = text.rfind("\n" + TRAILER + "\n")
    if start < 0 or not text.endswith("\n-->"):
        return {}
    inner = text[start + len(TRAILER) + 2 : -4].split("\n")
    fields: dict[str, list[str]] = {}
    for line in inner:
        name, sep, value = (
            line.partition("=") if "=" in line.split(" ", 1)[0] else line.partition(" ")
        )
        if not (sep and name.isalpha() and all(_VALUE.fullmatch(v) for v in value.split(" "))):
            return {}
        fields.setdefault(name, []).append(value)
    return fields


def fit_title(title: str) -> str:
    """A title GitHub accepts: one line, at most 256 characters."""
    title = " ".join(title.split())
    return title if len(title) <= TITLE_LIMIT else title[: TITLE_LIMIT - 1] + "…"


_FENCE = re.compile(r"^(`{3,}|~{3,})")


def fit_body(body: str, limit: int = BODY_LIMIT, where: str = "the job summary") -> str:
    """`body` if it fits, else its first whole lines and a visible note of what was cut.

    An open code fence or `<details>` is closed, so the cut never swallows the note.
    """
    if len(body) <= limit:
        return body
    lines = body.split("\n")
    kept: list[str] = []
    fence: str | None = None
    details = 0
    note_room = 400
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - note_room:
            break
        kept.append(line)
        size += len(line) + 1
        m = _FENCE.match(line)
        if m and fence is None:
            fence = m.group(1)
        elif (
            m
            and fence is not None
            and line.strip() == fence[0] * len(line.strip())
            and len(line.strip()) >= len(fence)
        ):
            fence = None
        if fence is None:
            details += line.count("<details") - line.count("</details>")
    closing = ([fence] if fence else []) + ["</details>"] * max(details, 0)
    left = len(body) - size
    note = (
        f"> ✂️ Cut to GitHub's {limit:,}-character limit: {left:,} characters left out. "
        f"The full text is in {where}."
    )
    return "\n".join([*kept, *closing, "", note, ""])


# ---- what a body describes ------------------------------------------------------------------


@dataclass(frozen=True)
class RunContext:
    """The commit, the workflow run and the time a comment or issue body describes."""

    sha: str = ""
    run_id: str = ""
    run_number: str = ""
    attempt: str = ""
    at: str = ""  # ISO 8601, UTC
    server: str = "https://github.com"
    repo: str = ""
    review: str | None = None  # the review fingerprint of the plan, for a plan comment
    index: str | None = None  # its parts' short digests (reconciler.github.review), to name changes

    @property
    def run_url(self) -> str:
        if not (self.run_id and self.repo):
            return ""
        url = f"{self.server.rstrip('/')}/{self.repo}/actions/runs/{self.run_id}"
        return url + (f"/attempts/{self.attempt}" if self.attempt not in ("", "1") else "")

    @property
    def commit_url(self) -> str:
        if not (self.sha and self.repo):
            return ""
        return f"{self.server.rstrip('/')}/{self.repo}/commit/{self.sha}"

    def hidden(self) -> str:
        """The trailer's `run …` line: only values a trailer may hold."""
        fields = {"sha": self.sha, "run": self.run_id, "number": self.run_number}
        fields |= {"attempt": self.attempt, "at": self.at}
        text = " ".join(f"{k}={v}" for k, v in fields.items() if v and _VALUE.fullmatch(v))
        return f"run {text}"

    def line(self) -> str:
        """One visible line: commit (linked), workflow run (linked), time."""
        parts = []
        if self.sha:
            short = f"`{self.sha[:7]}`"
            parts.append(f"commit [{short}]({self.commit_url})" if self.repo else short)
        if self.run_id:
            name = f"run {self.run_number or self.run_id}"
            if self.attempt not in ("", "1"):
                name += f" (attempt {self.attempt})"
            parts.append(f"workflow [{name}]({self.run_url})" if self.repo else name)
        if self.at:
            parts.append(_when(self.at))
        return " · ".join(parts)


def _when(at: str) -> str:
    try:
        t = datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return at
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _runs_of(body: str) -> list[RunContext]:
    """The runs recorded in a body's trailer by `decorate`, newest first."""
    runs = []
    for line in trailer_values(body).get("run", []):
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        runs.append(
            RunContext(
                sha=fields.get("sha", ""),
                run_id=fields.get("run", ""),
                run_number=fields.get("number", ""),
                attempt=fields.get("attempt", ""),
                at=fields.get("at", ""),
            )
        )
    return runs


def decorate(body: str, ctx: RunContext, previous: str | None = None) -> str:
    """`body` naming what it describes: a line under the headline with the commit, the run and
    the time; the earlier runs that updated it (folded, newest first); and the trailer.

    The trailer is one hidden block that ends the body, and the only place its records are
    read from (`trailer_values`): the content digest, the commit the plan was made at, the
    review fingerprint and index of a plan, and the runs. The opening markers stay first, so
    the body is still found as ours.
    """
    marker = markers_of(body)
    digest = content_digest(body)
    lines = _normal(body).rstrip("\n").split("\n")
    head = next((i for i, line in enumerate(lines) if line.startswith("### ")), None)
    at = head + 1 if head is not None else len(marker.split("\n"))
    said = ctx.line()
    if said:
        lines[at:at] = ["", f"<sub>{said}</sub>"]
    earlier = [
        r for r in _runs_of(previous or "") if (r.run_id, r.attempt) != (ctx.run_id, ctx.attempt)
    ][: _HISTORY - 1]
    if earlier:
        # The earlier runs are of the same repository: link them the same way.
        linked = [replace(r, server=ctx.server, repo=ctx.repo) for r in earlier]
        items = [f"- {r.line()}" for r in linked]
        lines += [
            "",
            f"<details><summary>Earlier runs that updated this comment ({len(earlier)})</summary>",
            "",
            *items,
            "",
            "</details>",
        ]
    lines += ["", *trailer(digest, ctx, earlier)]
    return "\n".join(lines) + "\n"


def trailer(digest: str, ctx: RunContext, earlier: list[RunContext]) -> list[str]:
    """The lines of the hidden block that ends a decorated body."""
    fields = [f"content={digest}"]
    if ctx.review and _VALUE.fullmatch(ctx.review):
        fields.append(f"review={ctx.review}")
        if ctx.sha and _VALUE.fullmatch(ctx.sha):
            fields.append(f"commit={ctx.sha}")
        if ctx.index and _VALUE.fullmatch(ctx.index):
            fields.append(f"index={ctx.index}")
    runs = [r.hidden() for r in [ctx, *earlier]]
    return [TRAILER, *fields, *(r for r in runs if r != "run "), "-->"]


_TAIL = ("✅ ", "<details>", "No changes", "No drift")


def _folded_plan(lines: list[str]) -> tuple[int, int] | None:
    """The first and last line of the folded full text plan, if the body has one.

    It is one fence, longer than any run of backticks in the text it holds: its own closing
    line ends it, whatever the text says (a quoted `</details>`, say).
    """
    start = next(
        (i for i, x in enumerate(lines) if x.startswith("<details><summary>Full plan")), None
    )
    if start is None:
        return None
    opener = next((i for i in range(start, len(lines)) if _FENCE.match(lines[i])), start)
    fence = _FENCE.match(lines[opener])
    closing = next(
        (i for i in range(opener + 1, len(lines)) if fence and lines[i] == fence.group(1)),
        opener,
    )
    end = next((i for i in range(closing, len(lines)) if lines[i] == "</details>"), len(lines) - 1)
    return start, end


def cut_at_functions(body: str, limit: int, full_at: str = "the job summary") -> str:
    """A rendered plan or drift body of at most `limit` characters, cut between functions.

    First the folded full text plan goes; then whole function sections (`#### name`) from the
    end, and a note lists the functions left out and where the full plan is. A body that is not
    laid out in function sections is cut by lines (`fit_body`).
    """
    if len(body) <= limit:
        return body
    lines = _normal(body).rstrip("\n").split("\n")
    folded = _folded_plan(lines)
    if folded is not None:
        lines = lines[: folded[0]] + lines[folded[1] + 1 :]
        shorter = "\n".join(lines) + "\n"
        dropped = f"> ✂️ The full text plan is left out to fit GitHub's limit; it is in {full_at}."
        if len(shorter) + len(dropped) + 2 <= limit:
            return shorter + "\n" + dropped + "\n"
    heads = [i for i, x in enumerate(lines) if x.startswith("#### ")]
    if not heads:
        return fit_body(body, limit, full_at)
    tail = next(
        (i for i in range(heads[-1] + 1, len(lines)) if lines[i].startswith(_TAIL)), len(lines)
    )
    pre, rest = lines[: heads[0]], lines[tail:]
    bounds = [*heads, tail]
    sections = [lines[a:b] for a, b in itertools.pairwise(bounds)]
    # Each function as its heading says it (its name already a code span): no nested backticks.
    names = [s[0][5:] for s in sections]

    def note(left_out: list[str]) -> list[str]:
        shown = ", ".join(left_out[:50])
        more = f" and {len(left_out) - 50} more" if len(left_out) > 50 else ""
        return [
            f"> ✂️ Cut to fit GitHub's {BODY_LIMIT:,}-character limit: "
            f"{len(left_out)} of {len(sections)} functions with something to show are left "
            f"out: {shown}{more}. The full plan is in {full_at}.",
            "",
        ]

    # Every section with the note that the folded plan is left out did not fit (or there was
    # no folded plan and the body did not fit): at least one function goes, and the note says
    # which and where the full plan is.
    kept = len(sections) - 1
    while kept > 0:
        out = [*pre, *(x for s in sections[:kept] for x in s), *note(names[kept:]), *rest]
        text = "\n".join(out) + "\n"
        if len(text) <= limit:
            return text
        kept -= 1
    out = [*pre, *note(names), *rest]
    return fit_body("\n".join(out) + "\n", limit, full_at)


# ---- the client ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the token writes as: a user's login, or a bot login for an installation token."""

    login: str
    source: str  # "GET /user", "installation token" or "given"


@dataclass(frozen=True)
class Response:
    data: Any
    headers: Message


class GitHubClient:
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
        if not token:
            raise GitHubError("no GitHub token: set GITHUB_TOKEN or pass --token")
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise GitHubError(f"repository must be OWNER/NAME (GITHUB_REPOSITORY), got {repo!r}")
        self.token = token
        self.repo = repo
        url = api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com"
        self.api = url.rstrip("/")
        self.sleep = sleep or (lambda seconds: time.sleep(seconds))
        self.clock = clock or time.time
        self.max_wait = max_wait
        self.max_pages = max_pages
        self.log = log or (lambda _line: None)
        self._opener = urllib.request.build_opener(_SameHostCredentials(self.api))
        self.waited = 0.0  # seconds spent waiting for rate limits so far
        self._identity = Identity(author, "given") if author else None
        # What the last upsert_comment / sync_drift_issue did, for the CLI to report.
        self.last_action = ""
        self.last_number: int | None = None
        self.last_url = ""

    # ---- transport ------------------------------------------------------------------------

    def _send(self, method: str, url: str, body: Mapping[str, Any] | None = None) -> Response:
        data = None if body is None else json.dumps(body).encode()
        shown = f"GitHub API {method} {urllib.parse.urlsplit(url).path}"
        failures = 0
        secondary = 0
        while True:
            req = urllib.request.Request(
                url,
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
                with self._opener.open(req, timeout=30) as resp:
                    raw = resp.read()
                    headers = resp.headers
                break
            except urllib.error.HTTPError as e:
                payload = _payload(e)
                wait = self._rate_limit_wait(e.code, e.headers, payload, secondary)
                if wait is not None:
                    secondary += 1
                    self._wait_for_limit(shown, e.code, payload, e.headers, wait)
                    continue
                if e.code >= 500 and method in _IDEMPOTENT and failures < len(_BACKOFF):
                    self.sleep(_BACKOFF[failures])
                    failures += 1
                    continue
                raise GitHubError(f"{shown}: {e.code} {_describe(payload, e)}", e.code) from None
            except (urllib.error.URLError, TimeoutError, OSError) as e:
                if method in _IDEMPOTENT and failures < len(_BACKOFF):
                    self.sleep(_BACKOFF[failures])
                    failures += 1
                    continue
                reason = getattr(e, "reason", None) or e
                raise GitHubError(f"{shown}: {reason}") from None
        try:
            return Response(json.loads(raw) if raw else None, headers)
        except ValueError:
            raise GitHubError(f"{shown}: the answer is not JSON") from None

    def _rate_limit_wait(
        self, status: int, headers: Message, payload: Mapping[str, Any], secondary: int
    ) -> float | None:
        """Seconds GitHub asks us to wait, or None when this is not a rate limit."""
        if status not in (403, 429):
            return None
        retry_after = headers.get("retry-after")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                reset = float(headers.get("x-ratelimit-reset") or "")
            except ValueError:
                reset = self.clock() + _SECONDARY_WAIT
            return max(0.0, reset - self.clock()) + 1.0
        if status == 429 or "rate limit" in str(payload.get("message", "")).lower():
            return float(_SECONDARY_WAIT * 2**secondary)  # "at least one minute", then longer
        return None

    def _wait_for_limit(
        self, shown: str, status: int, payload: Mapping[str, Any], headers: Message, wait: float
    ) -> None:
        if self.waited + wait > self.max_wait:
            reset = headers.get("x-ratelimit-reset")
            if headers.get("retry-after") is None and reset and reset.isdigit():
                at = datetime.fromtimestamp(int(reset), timezone.utc)
                when = f"the limit resets at {at:%Y-%m-%d %H:%M:%S} UTC"
            else:
                when = f"GitHub asks to wait {wait:.0f} s more"
            raise GitHubError(
                f"{shown}: {status} {_describe(payload, None)} (rate limited: waited "
                f"{self.waited:.0f} s in all, at most {self.max_wait:.0f} s; {when})",
                status,
            )
        self.log(f"GitHub rate limit on {shown}: waiting {wait:.0f} s before retrying")
        self.sleep(wait)
        self.waited += wait

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        return self._send(method, self.api + path, body).data

    def _pages(self, path: str, params: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a list endpoint, following `Link: rel="next"` for at most max_pages."""
        query = urllib.parse.urlencode({**(params or {}), "per_page": str(PER_PAGE)})
        url: str | None = f"{self.api}{path}?{query}"
        items: list[dict[str, Any]] = []
        pages = 0
        while url:
            if pages == self.max_pages:
                raise GitHubError(
                    f"GitHub API GET {path}: more than {self.max_pages} pages of "
                    f"{PER_PAGE}; refusing to read further"
                )
            resp = self._send("GET", url)
            pages += 1
            if not isinstance(resp.data, list):
                raise GitHubError(f"GitHub API GET {path}: expected a list")
            items += [i for i in resp.data if isinstance(i, dict)]
            url = _next_link(resp.headers.get("link"))
            if url and not url.startswith(self.api + "/"):
                raise GitHubError(f"GitHub API GET {path}: the next page is on another host")
        return items

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


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class _SameHostCredentials(urllib.request.HTTPRedirectHandler):
    """Follow a redirect, with the token only while it stays on the API's scheme and host.

    urllib copies every header of a request onto its redirect, `Authorization` included, to
    whatever host the `Location` names. GitHub redirects within the API (a renamed repository)
    and to other hosts (downloads); only the first may see the token.
    """

    def __init__(self, api: str) -> None:
        super().__init__()
        self.api = _origin(api)

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(new.full_url) != self.api:
            for name in list(new.headers):
                if name.lower() == "authorization":
                    del new.headers[name]
            new.unredirected_hdrs.pop("Authorization", None)
        return new


def _label(label: Any) -> str:
    return str(label.get("name") if isinstance(label, dict) else label)


def _next_link(header: str | None) -> str | None:
    """The `rel="next"` address of a `Link` header (RFC 8288), if there is one."""
    for part in (header or "").split(","):
        m = re.match(r"\s*<([^>]*)>\s*;(.*)", part)
        if m and re.search(r'\brel="?next"?', m.group(2)):
            return m.group(1)
    return None


def _payload(e: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        data = json.loads(e.read() or b"{}")
    except (ValueError, OSError):
        data = {}
    return data if isinstance(data, dict) else {}


def _describe(payload: Mapping[str, Any], e: urllib.error.HTTPError | None) -> str:
    """GitHub's own explanation, with the reasons of a 422 (`errors[].message` or its code)."""
    text = str(payload.get("message") or (e.reason if e is not None else "") or "")
    reasons = []
    for err in payload.get("errors") or []:
        if isinstance(err, str):
            reasons.append(err)
        elif isinstance(err, dict):
            if err.get("message"):
                reasons.append(str(err["message"]))
            elif err.get("code"):
                field = f" {err['field']}" if err.get("field") else ""
                reasons.append(f"{err.get('resource', '')}{field} {err['code']}".strip())
    if reasons:
        text = f"{text}: {'; '.join(reasons)}"
    return " ".join(text.split())
