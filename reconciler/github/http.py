"""GitHub's REST transport, standard-library HTTP only: authentication, rate limits, retries,
pagination and errors (the rules are in `reconciler.github.client`'s docstring)."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from http.client import HTTPMessage
from typing import Any

from reconciler.errors import ReconcilerError

PER_PAGE = 100
MAX_PAGES = 30  # 3,000 comments or issues: beyond that, refuse rather than guess
MAX_WAIT = 300.0  # seconds one client may spend waiting for rate limits, in all
_BACKOFF = (1.0, 4.0)  # 5xx / network error on GET and PATCH: the waits before each retry
_SECONDARY_WAIT = 60.0  # a secondary limit without headers: "wait at least one minute"
_IDEMPOTENT = frozenset({"GET", "PATCH"})


class GitHubError(ReconcilerError):
    """A GitHub API call failed; the message is one line: method, path, status, GitHub's text."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Response:
    data: Any
    headers: Message


class Rest:
    """Authenticated REST calls to one API: `_call` for one answer, `_pages` for a list."""

    def __init__(
        self,
        token: str,
        repo: str,
        api_url: str | None = None,
        *,
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
