"""The GitHub side against a recording fake GitHub REST server that behaves as GitHub does.

`FakeGitHub` pages lists 30 items at a time (at most 100) with `Link` headers, sends the
`x-ratelimit-*` headers, answers 422 with `errors[]` for bodies over 65,536 characters and
titles over 256, refuses writes with 403 for a read-only (fork) token, has comments by other
users, and knows two kinds of token: a user token (`GET /user` works) and an installation token
like `GITHUB_TOKEN` (`GET /user` is 403; it writes as `github-actions[bot]`). Faults — rate
limits with `Retry-After` or a reset time, 5xx — are scripted per request. Every request it
receives is checked against GitHub's published OpenAPI description (`tests/github_openapi.py`);
the `github` fixture fails a test that sent one GitHub would not accept.

The CLI runs in process (click's runner) with `GITHUB_API_URL` pointing at the fake; waits are
recorded by an injected sleep instead of passing.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from reconciler.aws import CodeStorage
from reconciler.cli.main import main
from reconciler.github.bodies import (
    BODY_LIMIT,
    RunContext,
    content_digest,
    cut_at_functions,
    decorate,
    fit_body,
    trailer_values,
)
from reconciler.github.client import GitHubClient
from reconciler.github.http import GitHubError
from reconciler.github.review import Review, blob_hash
from reconciler.plan import (
    AlarmFired,
    AliasField,
    AliasState,
    DeleteAlias,
    DeleteLayerVersion,
    DeleteVersion,
    FunctionPlan,
    LayerPlan,
    Plan,
    RolloutPhase,
    RolloutStatus,
    RolloutStep,
    Route,
    UpdateAlias,
)
from reconciler.plan.planfile import plan_to_json
from reconciler.render.markdown import marker_for, render_markdown
from tests.github_openapi import problems
from tests.render_fixtures import realistic_plan

TOKEN = "ghs_installation"  # like GITHUB_TOKEN: an installation token, no GET /user
USER_TOKEN = "ghp_user"  # a person's (or a machine user's) token
READ_ONLY = "ghs_fork"  # the token of a pull request from a fork
BOT = "github-actions[bot]"
REPO = "acme/lambdas"
NOW = 1_800_000_000  # the fake's clock, seconds since the epoch
MANIFEST = """\
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod:
        version: 5
        rollout:
          steps: [10%, 50%]
          interval: 10m
          alarms: [orders-errors]
          gates: {max_error_rate: 1%}
          hooks: {pre_traffic: orders-smoke}
          bake: 10m
"""


@pytest.fixture(autouse=True)
def in_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in a checkout of its own: `m.yaml` is the manifest the plans name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.yaml").write_text(MANIFEST)
    return tmp_path


@dataclass
class Fault:
    """Answer the next `times` requests matching method and path prefix with this instead."""

    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    times: int = 1
    then_do_it: bool = False  # the request still takes effect (a 502 after the write landed)


class FakeGitHub:
    """Issues, pull requests by commit, comments, users and tokens, as GitHub's REST API."""

    def __init__(self, *, drop_labels: bool = False, max_page: int = 100) -> None:
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        self.pulls_of_commit: dict[str, list[dict[str, Any]]] = {}
        self.tokens: dict[str, dict[str, Any]] = {
            TOKEN: {"login": BOT, "installation": True, "write": True},
            USER_TOKEN: {"login": "deploy-bot", "installation": False, "write": True},
            READ_ONLY: {"login": BOT, "installation": True, "write": False},
        }
        self.next_id = 1000
        self.faults: list[Fault] = []
        self.drop_labels = drop_labels  # as GitHub does for a token that may not set labels
        self.max_page = max_page  # GitHub's cap on per_page
        self.requests: list[tuple[str, str]] = []
        self.violations: list[str] = []
        self.remaining = 5000
        self.base = ""
        self.lock = threading.Lock()

    # ---- test helpers ---------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, times: int = 1, **kw: Any) -> None:
        self.faults.append(Fault(method, path, status, times=times, **kw))

    def add_comment(self, n: int, body: str, login: str = BOT, app: str | None = None) -> int:
        self.next_id += 1
        self.comments.setdefault(n, []).append(self._comment(n, body, login, app))
        return self.next_id

    def writes(self) -> list[tuple[str, str]]:
        return [(m, u) for m, u in self.requests if m != "GET"]

    def _comment(self, n: int, body: str, login: str, app: str | None = None) -> dict[str, Any]:
        return {
            "id": self.next_id,
            "node_id": f"IC_{self.next_id}",
            "url": f"{self.base}/repos/{REPO}/issues/comments/{self.next_id}",
            "html_url": f"https://github.com/{REPO}/pull/{n}#issuecomment-{self.next_id}",
            "body": body,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "performed_via_github_app": {"slug": app} if app else None,
            "created_at": "2026-12-01T00:00:00Z",
            "updated_at": "2026-12-01T00:00:00Z",
        }

    # ---- the wire -------------------------------------------------------------------------

    def handle(
        self, method: str, url: str, body: Any, token: str
    ) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.requests.append((method, url))
            self.violations += [f"{method} {url}: {p}" for p in problems(method, url, body)]
            self.remaining = max(0, self.remaining - 1)
            headers = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-reset": str(NOW + 3600),
                "x-ratelimit-resource": "core",
            }
            who = self.tokens.get(token)
            if who is None:
                return 401, headers, {"message": "Bad credentials"}
            path = urlsplit(url).path
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and path.startswith(fault.path):
                    fault.times -= 1
                    if fault.then_do_it:
                        self._route(method, url, body, who)
                    return (
                        fault.status,
                        {**headers, **fault.headers},
                        fault.body or {"message": "Server Error"},
                    )
            if method != "GET" and not who["write"]:
                return 403, headers, {"message": "Resource not accessible by integration"}
            status, out, extra = self._route(method, url, body, who)
            return status, {**headers, **extra}, out

    def _route(
        self, method: str, url: str, body: Any, who: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        parsed = urlsplit(url)
        q = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        parts = parsed.path.strip("/").split("/")
        if parts == ["user"]:
            if who["installation"]:
                return 403, {"message": "Resource not accessible by integration"}, {}
            return 200, {"login": who["login"], "type": "User"}, {}
        if parts[:3] != ["repos", *REPO.split("/")]:
            return 404, {"message": "Not Found"}, {}
        rest = parts[3:]
        too_long = self._too_long(body)
        if too_long:
            return 422, too_long, {}
        if rest[:1] == ["commits"] and rest[2:] == ["pulls"]:
            return 200, self.pulls_of_commit.get(rest[1], []), {}
        if rest[:1] == ["issues"] and len(rest) == 3 and rest[2] == "comments":
            n = int(rest[1])
            if method == "GET":
                return self._page(self.comments.get(n, []), parsed.path, q)
            self.next_id += 1
            c = self._comment(n, body["body"], who["login"])
            self.comments.setdefault(n, []).append(c)
            return 201, c, {}
        if rest[:2] == ["issues", "comments"] and method == "PATCH":
            for cs in self.comments.values():
                for c in cs:
                    if c["id"] == int(rest[2]):
                        if c["user"]["login"] != who["login"]:
                            return 403, {"message": "Must have admin rights to Repository."}, {}
                        c["body"] = body["body"]
                        return 200, c, {}
            return 404, {"message": "Not Found"}, {}
        if rest == ["issues"]:
            if method == "GET":
                state = q.get("state", "open")
                found = [
                    i
                    for i in sorted(self.issues.values(), key=lambda i: -i["number"])
                    if state in ("all", i["state"])
                    and (not q.get("labels") or q["labels"] in [x["name"] for x in i["labels"]])
                ]
                return self._page(found, parsed.path, q)
            number = max([*self.issues, *self.comments, 0]) + 1
            issue = {
                "number": number,
                "html_url": f"https://github.com/{REPO}/issues/{number}",
                "title": body["title"],
                "body": body["body"],
                "labels": [] if self.drop_labels else [{"name": x} for x in body.get("labels", [])],
                "state": "open",
                "state_reason": None,
                "user": {"login": who["login"], "type": "Bot"},
                "performed_via_github_app": None,
            }
            self.issues[number] = issue
            return 201, issue, {}
        if rest[:1] == ["issues"] and len(rest) == 2 and method == "PATCH":
            issue = self.issues[int(rest[1])]
            issue.update(body)
            return 200, issue, {}
        return 404, {"message": "Not Found"}, {}

    @staticmethod
    def _too_long(body: Any) -> dict[str, Any] | None:
        if not isinstance(body, dict):
            return None
        errors = []
        if len(str(body.get("body") or "")) > BODY_LIMIT:
            errors.append(f"body is too long (maximum is {BODY_LIMIT} characters)")
        if len(str(body.get("title") or "")) > 256:
            errors.append("title is too long (maximum is 256 characters)")
        if not errors:
            return None
        return {
            "message": "Validation Failed",
            "errors": [
                {"resource": "Issue", "code": "custom", "field": "body", "message": m}
                for m in errors
            ],
            "documentation_url": "https://docs.github.com/rest/issues/comments",
            "status": "422",
        }

    def _page(
        self, items: list[Any], path: str, q: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        size = min(int(q.get("per_page", 30)), self.max_page)
        page = int(q.get("page", 1))
        last = max(1, -(-len(items) // size))
        links = []

        def link(p: int, rel: str) -> str:
            query = urlencode({**q, "page": str(p)})
            return f'<{self.base}{path}?{query}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"link": ", ".join(links)} if links else {}
        return 200, items[(page - 1) * size : page * size], headers


@contextlib.contextmanager
def serve(fake: FakeGitHub) -> Iterator[str]:
    """Run `fake` on a free port of 127.0.0.1 in a thread; yield its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _do(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            status, headers, out = fake.handle(self.command, self.path, body, token)
            data = json.dumps(out).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _do

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake.base
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeGitHub, str]]:
    """A fake GitHub; the test fails if any request it got breaks GitHub's description."""
    fake = FakeGitHub()
    # the CLI's client
    monkeypatch.setattr("reconciler.github.http.time.sleep", lambda _seconds: None)
    with serve(fake) as url:
        yield fake, url
    assert fake.violations == []


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def gh(api: str, *args: str, **env: str) -> Result:
    """`lambda-reconciler github ARGS…` in process, as the Action runs it."""
    base = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": api,
        "GITHUB_EVENT_PATH": "",
        "GITHUB_SHA": "",
        "GITHUB_RUN_ID": "",
        "LAMBDA_RECONCILER_GITHUB_AUTHOR": "",
    }
    r = CliRunner().invoke(main, ["github", *args], env={**base, **env}, catch_exceptions=False)
    return Result(r.exit_code, r.stdout, r.stderr)


def client(api: str, token: str = TOKEN, **kw: Any) -> tuple[GitHubClient, list[float]]:
    sleeps: list[float] = []
    c = GitHubClient(token, REPO, api, sleep=sleeps.append, clock=lambda: float(NOW), **kw)
    return c, sleeps


def body(tmp_path: Path, manifests: list[str], text: str, kind: str = "plan") -> str:
    path = tmp_path / f"{kind}-{'-'.join(manifests)}-{len(text)}-{hash(text)}.md"
    path.write_text(f"{marker_for(manifests, kind)}\n{text}\n")
    return str(path)


def json_plan(
    n: int, *, version: str = "2", manifests: tuple[str, ...] = ("m.yaml",)
) -> dict[str, Any]:
    """A JSON plan (docs/plan-format.md) updating alias `live` of `n` functions to `version`."""
    functions = []
    for i in range(n):
        name = f"service-{i:03d}-" + "x" * 20
        functions.append(
            {
                "function": name,
                "key": name,
                "region": "us-east-1",
                "account": "123456789012",
                "source": f"m.yaml:{3 + 3 * i}:3",
                "fingerprint": f"fp{i}",
                "operations": [
                    {
                        "action": "update_alias",
                        "alias": "live",
                        "version": None,
                        "before": {"version": "1", "canary": None, "description": None},
                        "after": {"version": version, "canary": None, "description": None},
                        "changes": [f"version: 1 → {version}"],
                        "revision_id": f"r{i}",
                        "fields": ["version"],
                    }
                    for _ in range(3)
                ],
                "unmanaged_aliases": [],
            }
        )
    return {
        "format_version": 2,
        "kind": "plan",
        "manifests": list(manifests),
        "functions": functions,
    }


def write_json(tmp_path: Path, data: dict[str, Any], name: str = "plan.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


# ---- the transport: pages, limits, retries, errors ------------------------------------------


def test_pagination_follows_the_link_header_not_the_page_size(tmp_path: Path) -> None:
    """A server that pages 30 at a time whatever per_page says: our comment on page 3 is
    updated, not duplicated, and the pages read are exactly the Link header's."""
    fake = FakeGitHub(max_page=30)
    with serve(fake) as api:
        for i in range(70):
            fake.add_comment(3, f"chatter {i}", login="someone")
        mine = fake.add_comment(3, f"{marker_for(['a.yaml'])}\nold\n")
        for i in range(5):
            fake.add_comment(3, f"more {i}", login="someone")
        r = gh(api, "comment", "--pr", "3", "--body-file", body(tmp_path, ["a.yaml"], "new"))
    assert r.returncode == 0, r.stderr
    assert r.stderr == f"updated comment {mine} on #3\n"
    assert len(fake.comments[3]) == 76
    assert fake.comments[3][70]["body"].endswith("new\n")
    gets = [u for m, u in fake.requests if m == "GET"]
    assert gets == [
        "/repos/acme/lambdas/issues/3/comments?per_page=100",
        "/repos/acme/lambdas/issues/3/comments?per_page=100&page=2",
        "/repos/acme/lambdas/issues/3/comments?per_page=100&page=3",
        "/user",  # asked once, when a comment with our markers is first met
    ]
    assert fake.violations == []


def test_pages_are_capped(github: tuple[FakeGitHub, str]) -> None:
    """Past max_pages the client refuses instead of reading forever or guessing."""
    fake, api = github
    for i in range(250):
        fake.add_comment(4, f"c{i}", login="someone")
    c, _ = client(api, max_pages=2)
    with pytest.raises(GitHubError) as e:
        c.find_comment(4, marker_for(["a.yaml"]))
    assert str(e.value) == (
        "GitHub API GET /repos/acme/lambdas/issues/4/comments: more than 2 pages of 100; "
        "refusing to read further"
    )
    assert len(fake.requests) == 2


def test_a_secondary_rate_limit_waits_retry_after_then_retries_the_post(
    github: tuple[FakeGitHub, str],
) -> None:
    """403 with Retry-After on POST: wait exactly that long, then post once."""
    fake, api = github
    fake.fail(
        "POST",
        "/repos/acme/lambdas/issues/5/comments",
        403,
        headers={"retry-after": "7"},
        body={"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
    )
    c, sleeps = client(api)
    c.upsert_comment(5, f"{marker_for(['a.yaml'])}\nplan\n")
    assert sleeps == [7.0]
    assert c.last_action == "created"
    assert len(fake.comments[5]) == 1


def test_a_429_without_retry_after_waits_until_the_reset(github: tuple[FakeGitHub, str]) -> None:
    """x-ratelimit-remaining 0: wait until x-ratelimit-reset (plus a second), on GET too."""
    fake, api = github
    fake.fail(
        "GET",
        "/repos/acme/lambdas/issues/5/comments",
        429,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(NOW + 30)},
        body={"message": "API rate limit exceeded"},
    )
    c, sleeps = client(api)
    assert c.find_comment(5, marker_for(["a.yaml"])) is None
    assert sleeps == [31.0]


def test_a_secondary_limit_without_headers_waits_a_minute_then_longer(
    github: tuple[FakeGitHub, str],
) -> None:
    """GitHub: "wait at least one minute", and increase the wait on repeated limits."""
    fake, api = github
    fake.fail(
        "PATCH",
        "/repos/acme/lambdas/issues/comments/",
        403,
        times=2,
        body={"message": "You have exceeded a secondary rate limit"},
    )
    mine = fake.add_comment(5, f"{marker_for(['a.yaml'])}\nold\n")
    c, sleeps = client(api)
    assert c.upsert_comment(5, f"{marker_for(['a.yaml'])}\nnew\n") == mine
    assert sleeps == [60.0, 120.0]
    assert fake.comments[5][0]["body"].endswith("new\n")


def test_a_primary_limit_beyond_the_wait_budget_says_when_it_resets(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """An hour's wait is over the budget: one line naming the reset time, no wait at all."""
    fake, api = github
    fake.fail(
        "GET",
        "/repos/acme/lambdas/issues/5/comments",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"},
        body={"message": "API rate limit exceeded for installation ID 1."},
    )
    r = gh(api, "comment", "--pr", "5", "--body-file", body(tmp_path, ["a.yaml"], "x"))
    assert r.returncode == 1
    assert r.stderr == (
        "error: GitHub API GET /repos/acme/lambdas/issues/5/comments: 403 API rate limit "
        "exceeded for installation ID 1. (rate limited: waited 0 s in all, at most 300 s; "
        "the limit resets at 2100-01-01 00:00:00 UTC)\n"
    )
    assert fake.writes() == []


def test_waits_add_up_to_at_most_max_wait(github: tuple[FakeGitHub, str]) -> None:
    """Three Retry-After: 50 within a 120 s budget: two waits, then the error says so."""
    fake, api = github
    fake.fail(
        "GET",
        "/repos/acme/lambdas/issues/5/comments",
        429,
        times=3,
        headers={"retry-after": "50"},
        body={"message": "secondary rate limit"},
    )
    c, sleeps = client(api, max_wait=120)
    with pytest.raises(
        GitHubError,
        match=r"429 secondary rate limit \(rate limited: waited 100 s"
        r" in all, at most 120 s; GitHub asks to wait 50 s more\)",
    ):
        c.find_comment(5, marker_for(["a.yaml"]))
    assert sleeps == [50.0, 50.0]


def test_a_5xx_on_patch_is_retried(github: tuple[FakeGitHub, str]) -> None:
    """PATCH sets the whole body: sending it again is safe."""
    fake, api = github
    mine = fake.add_comment(5, f"{marker_for(['a.yaml'])}\nold\n")
    fake.fail("PATCH", "/repos/acme/lambdas/issues/comments/", 502, times=2)
    c, sleeps = client(api)
    c.upsert_comment(5, f"{marker_for(['a.yaml'])}\nnew\n")
    assert sleeps == [1.0, 4.0]
    assert [x["body"].splitlines()[-1] for x in fake.comments[5]] == ["new"]
    assert c.last_number == mine


@pytest.mark.parametrize("landed", [True, False])
def test_a_5xx_on_post_is_never_retried_blindly(
    github: tuple[FakeGitHub, str], landed: bool
) -> None:
    """A 502 on POST may hide a comment that was made: look again; post again only if not."""
    fake, api = github
    fake.fail("POST", "/repos/acme/lambdas/issues/5/comments", 502, then_do_it=landed)
    c, sleeps = client(api)
    c.upsert_comment(5, f"{marker_for(['a.yaml'])}\nplan\n")
    assert len(fake.comments[5]) == 1
    assert sleeps == []
    posts = [u for m, u in fake.requests if m == "POST"]
    assert len(posts) == (1 if landed else 2)


def test_a_5xx_on_post_of_the_drift_issue_is_not_retried(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    fake.fail("POST", "/repos/acme/lambdas/issues", 500)
    md = body(tmp_path, ["a.yaml"], "d", kind="drift")
    r = gh(api, "drift-issue", "--body-file", md, "--drifted")
    assert r.returncode == 1
    assert r.stderr == "error: GitHub API POST /repos/acme/lambdas/issues: 500 Server Error\n"
    assert [m for m, _ in fake.requests].count("POST") == 1


def test_a_422_shows_githubs_reasons(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    fake, api = github
    fake.fail(
        "POST",
        "/repos/acme/lambdas/issues/7/comments",
        422,
        body={
            "message": "Validation Failed",
            "errors": [
                {
                    "resource": "IssueComment",
                    "code": "custom",
                    "field": "body",
                    "message": "body is too long (maximum is 65536 characters)",
                },
                {"resource": "IssueComment", "code": "missing_field", "field": "body"},
            ],
        },
    )
    r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], "x"))
    assert r.returncode == 1
    assert r.stderr == (
        "error: GitHub API POST /repos/acme/lambdas/issues/7/comments: 422 Validation Failed: "
        "body is too long (maximum is 65536 characters); IssueComment body missing_field\n"
    )


@pytest.mark.parametrize(
    ("method", "status", "args", "message"),
    [
        (
            "POST",
            403,
            ["comment", "--pr", "7"],
            "error: GitHub API POST /repos/acme/lambdas/issues/7/comments: 403 "
            "Resource not accessible by integration",
        ),
        (
            "GET",
            500,
            ["comment", "--pr", "7"],
            "error: GitHub API GET /repos/acme/lambdas/issues/7/comments: 500 Server Error",
        ),
    ],
)
def test_api_errors_are_one_clear_line_and_exit_1(
    github: tuple[FakeGitHub, str],
    tmp_path: Path,
    method: str,
    status: int,
    args: list[str],
    message: str,
) -> None:
    fake, api = github
    fake.fail(
        method,
        "/repos/",
        status,
        times=10,
        body={"message": "Resource not accessible by integration"} if status == 403 else {},
    )
    r = gh(api, *args, "--body-file", body(tmp_path, ["a.yaml"], "x"))
    assert r.returncode == 1
    assert r.stderr == message + "\n"
    assert r.stdout == ""


def test_no_token_no_repository_or_no_server_are_one_line(tmp_path: Path) -> None:
    md = body(tmp_path, ["a.yaml"], "x")
    r = gh("http://127.0.0.1:9", "comment", "--pr", "1", "--body-file", md, GITHUB_TOKEN="")
    assert r.stderr == "error: no GitHub token: set GITHUB_TOKEN or pass --token\n"
    r = gh("http://127.0.0.1:9", "comment", "--pr", "1", "--body-file", md, GITHUB_REPOSITORY="x")
    assert r.stderr == "error: repository must be OWNER/NAME (GITHUB_REPOSITORY), got 'x'\n"
    c = GitHubClient(TOKEN, REPO, "http://127.0.0.1:1", sleep=lambda _s: None)
    with pytest.raises(
        GitHubError, match=r"^GitHub API GET /repos/acme/lambdas/issues/1/comments: .*refused"
    ):
        c.find_comment(1, marker_for(["a.yaml"]))
    r = gh("http://127.0.0.1:1", "comment", "--pr", "1", "--body-file", str(tmp_path / "no.md"))
    assert r.stderr.startswith("error: ")
    assert "no.md: cannot read: No such file or directory" in r.stderr


# ---- limits on what is sent -------------------------------------------------------------------


def test_a_body_over_githubs_limit_is_cut_with_a_visible_note(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """A 70,000-character body: posted at GitHub's limit, an open fence closed, a note."""
    fake, api = github
    text = "```text\n" + "\n".join(f"line {i:05d} " + "y" * 60 for i in range(1000)) + "\n```"
    r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], text))
    assert r.returncode == 0, r.stderr
    [posted] = fake.comments[7]
    assert len(posted["body"]) <= BODY_LIMIT
    assert posted["body"].startswith(marker_for(["a.yaml"]))
    tail = posted["body"].rstrip("\n").split("\n")
    assert tail[-3:-1] == ["```", ""]
    assert tail[-1].startswith("> ✂️ Cut to GitHub's 65,536-character limit: ")
    assert tail[-1].endswith("characters left out. The full text is in the job summary.")


def test_failure_body_is_cut_within_the_limit(tmp_path: Path) -> None:
    """failure-body fits a comment whatever the size of the log, the reason or the manifest list."""
    log = tmp_path / "run.log"
    log.write_text("".join(f"error {i}: " + "z" * 100 + "\n" for i in range(2000)))
    r = gh(
        "http://127.0.0.1:9", "failure-body", "--reason", "It failed.", "--log", str(log), "a.yaml"
    )
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) <= 60000
    assert r.stdout.rstrip("\n").endswith("…\n```")
    many = [f"manifests/team-{i:04d}/functions.yaml" for i in range(3000)]
    r = gh("http://127.0.0.1:9", "failure-body", "--reason", "R" * 70000, *many)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) <= BODY_LIMIT
    assert r.stdout.startswith(marker_for(many))
    assert "characters left out. The full text is in the job log." in r.stdout


def test_a_title_over_256_characters_is_cut(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    fake, api = github
    md = body(tmp_path, ["a.yaml"], "d", kind="drift")
    r = gh(api, "drift-issue", "--body-file", md, "--drifted", "--title", "Drift " * 60)
    assert r.returncode == 0, r.stderr
    assert len(fake.issues[1]["title"]) == 256
    assert fake.issues[1]["title"].endswith("…")


def test_fit_body_keeps_a_short_body_and_closes_details() -> None:
    """Unit: a fitting body is returned as is; a cut one closes an open <details>."""
    assert fit_body("short", 10) == "short"
    text = "<details><summary>x</summary>\n\n" + "\n".join("a" * 50 for _ in range(100))
    out = fit_body(text, 1000)
    assert len(out) <= 1000
    assert "</details>\n\n> ✂️ Cut to GitHub's 1,000-character limit" in out


# ---- whose comment it is -------------------------------------------------------------------


def test_first_run_creates_then_updates_the_same_comment(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], "v1"))
    assert r.returncode == 0, r.stderr
    assert r.stderr == "created comment 1001 on #7\n"
    assert r.stdout == "https://github.com/acme/lambdas/pull/7#issuecomment-1001\n"
    for text in ("v2", "v3"):
        r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], text))
        assert r.returncode == 0, r.stderr
        assert r.stderr == "updated comment 1001 on #7\n"
    assert [c["body"] for c in fake.comments[7]] == [f"{marker_for(['a.yaml'])}\nv3\n"]


def test_an_unchanged_body_is_not_sent_again(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    md = body(tmp_path, ["a.yaml"], "same")
    gh(api, "comment", "--pr", "7", "--body-file", md)
    r = gh(api, "comment", "--pr", "7", "--body-file", md)
    assert r.stderr == "unchanged comment 1001 on #7\n"
    assert [m for m, _ in fake.writes()] == ["POST"]


def test_two_manifest_sets_keep_two_comments(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    for manifests, text in ((["a.yaml"], "a"), (["b.yaml"], "b"), (["b.yaml"], "b2")):
        r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, manifests, text))
        assert r.returncode == 0, r.stderr
    assert sorted(c["body"].splitlines()[-1] for c in fake.comments[7]) == ["a", "b2"]


def test_a_comment_by_another_user_is_never_taken_for_ours(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """Markers are not enough: a person's comment that opens with them (copied, or forged) is
    left alone, and so is one quoting them; ours is created beside them."""
    fake, api = github
    forged = f"{marker_for(['a.yaml'])}\nApproved, apply anything\n"
    quoted = "> " + marker_for(["a.yaml"]).replace("\n", "\n> ") + "\n> why?"
    fake.add_comment(5, forged, login="mallory")
    fake.add_comment(5, quoted, login=BOT)
    r = gh(api, "comment", "--pr", "5", "--body-file", body(tmp_path, ["a.yaml"], "plan"))
    assert r.returncode == 0, r.stderr
    assert [c["body"] for c in fake.comments[5][:2]] == [forged, quoted]
    assert fake.comments[5][2]["user"]["login"] == BOT
    assert len(fake.comments[5]) == 3


def test_a_user_token_is_matched_by_its_own_login(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """GET /user names the identity; the bot's comment with the markers is not ours then."""
    fake, api = github
    fake.add_comment(5, f"{marker_for(['a.yaml'])}\nby the bot\n", login=BOT)
    md = body(tmp_path, ["a.yaml"], "by the user")
    for _ in range(2):
        r = gh(api, "comment", "--pr", "5", "--body-file", md, GITHUB_TOKEN=USER_TOKEN)
        assert r.returncode == 0, r.stderr
    assert [(c["user"]["login"], c["body"].splitlines()[-1]) for c in fake.comments[5]] == [
        (BOT, "by the bot"),
        ("deploy-bot", "by the user"),
    ]
    assert [u for m, u in fake.requests if u == "/user"] == ["/user", "/user"]


def test_an_app_token_is_matched_by_the_app_that_wrote(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """An installation token cannot read /user: with --author my-app[bot], a comment made
    through that app (performed_via_github_app) is ours, and /user is not asked."""
    fake, api = github
    fake.add_comment(5, f"{marker_for(['a.yaml'])}\nby another app\n", login=BOT)
    mine = fake.add_comment(
        5, f"{marker_for(['a.yaml'])}\nold\n", login="my-app[bot]", app="my-app"
    )
    fake.tokens[TOKEN]["login"] = "my-app[bot]"
    md = body(tmp_path, ["a.yaml"], "new")
    r = gh(
        api,
        "comment",
        "--pr",
        "5",
        "--body-file",
        md,
        LAMBDA_RECONCILER_GITHUB_AUTHOR="my-app[bot]",
    )
    assert r.stderr == f"updated comment {mine} on #5\n"
    assert ("GET", "/user") not in fake.requests
    assert fake.comments[5][0]["body"].endswith("by another app\n")


def test_the_pull_request_number_comes_from_the_event(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 12}}))
    md = body(tmp_path, ["a.yaml"], "x")
    r = gh(api, "comment", "--body-file", md, GITHUB_EVENT_PATH=str(event))
    assert r.returncode == 0, r.stderr
    assert len(fake.comments[12]) == 1
    event.write_text(json.dumps({"schedule": "17 * * * *"}))
    r = gh(api, "comment", "--body-file", md, GITHUB_EVENT_PATH=str(event))
    assert r.returncode == 1
    assert r.stderr == "error: no pull request in this workflow's event: pass --pr N\n"


def fork_event(tmp_path: Path, sha: str = "f" * 40) -> str:
    event = tmp_path / "fork-event.json"
    event.write_text(
        json.dumps(
            {
                "pull_request": {
                    "number": 9,
                    "head": {"sha": sha, "repo": {"full_name": "mallory/lambdas"}},
                    "base": {"repo": {"full_name": REPO}},
                }
            }
        )
    )
    return str(event)


def test_a_fork_pull_request_skips_the_comment_with_a_warning(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """A fork's read-only token: a ::warning and exit 0, not a failed job."""
    fake, api = github
    md = body(tmp_path, ["a.yaml"], "plan")
    r = gh(
        api,
        "comment",
        "--body-file",
        md,
        GITHUB_TOKEN=READ_ONLY,
        GITHUB_EVENT_PATH=fork_event(tmp_path),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    assert r.stderr == (
        "::warning title=lambda-reconciler::No plan comment: this pull request comes from a "
        "fork and its token may not write to the repository (GitHub API POST "
        "/repos/acme/lambdas/issues/9/comments: 403 Resource not accessible by integration). "
        "The plan is in the job summary.\n"
    )
    assert fake.comments.get(9) is None
    same_repo = tmp_path / "event.json"
    same_repo.write_text(json.dumps({"pull_request": {"number": 9}}))
    r = gh(
        api, "comment", "--body-file", md, GITHUB_TOKEN=READ_ONLY, GITHUB_EVENT_PATH=str(same_repo)
    )
    assert r.returncode == 1  # not a fork: a read-only token is a misconfiguration


def test_body_without_marker_is_refused(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    fake, api = github
    plain = tmp_path / "plain.md"
    plain.write_text("hello\n<!-- lambda-reconciler:plan -->\n")
    r = gh(api, "comment", "--pr", "1", "--body-file", str(plain))
    assert r.returncode == 1
    assert "does not start with a lambda-reconciler marker" in r.stderr
    assert fake.requests == []


# ---- what the comment describes ---------------------------------------------------------------


def run_env(tmp_path: Path, run: str, sha: str, at: str) -> dict[str, str]:
    event = tmp_path / f"event-{run}.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": sha}}}))
    return {
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": "m" * 40,  # the merge ref's commit: not what a reviewer pushed
        "GITHUB_RUN_ID": run,
        "GITHUB_RUN_NUMBER": str(int(run) - 9000),
        "GITHUB_RUN_ATTEMPT": "1",
        "GITHUB_SERVER_URL": "https://github.com",
        "LAMBDA_RECONCILER_NOW": at,
    }


def test_the_comment_names_commit_run_and_time_and_keeps_its_history(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """The head commit and the run, linked, under the headline; earlier runs folded below;
    the plan's operations fingerprint hidden for the merge."""
    fake, api = github
    plan = write_json(tmp_path, json_plan(1))
    md = tmp_path / "plan.md"
    md.write_text(gh(api, "render", plan).stdout)
    runs = [("9001", "a" * 40, "2026-12-01T10:00:00Z"), ("9002", "b" * 40, "2026-12-01T11:30:00Z")]
    for run, sha, at in runs:
        r = gh(
            api,
            "comment",
            "--body-file",
            str(md),
            "--plan-json",
            plan,
            **run_env(tmp_path, run, sha, at),
        )
        assert r.returncode == 0, r.stderr
    [c] = fake.comments[7]
    lines = c["body"].split("\n")
    assert lines[2].startswith("### 📋 lambda-reconciler plan: 3 to update")
    assert lines[3:5] == [
        "",
        "<sub>commit [`bbbbbbb`](https://github.com/acme/lambdas/commit/" + "b" * 40 + ") · "
        "workflow [run 2](https://github.com/acme/lambdas/actions/runs/9002) · "
        "2026-12-01 11:30 UTC</sub>",
    ]
    assert (
        "<details><summary>Earlier runs that updated this comment (1)</summary>\n\n"
        "- commit [`aaaaaaa`](https://github.com/acme/lambdas/commit/" + "a" * 40 + ") · "
        "workflow [run 1](https://github.com/acme/lambdas/actions/runs/9001) · "
        "2026-12-01 10:00 UTC\n\n</details>"
    ) in c["body"]
    review = Review.of(json_plan(1))
    assert lines[-10:] == [
        "",
        "<!-- lambda-reconciler:trailer",
        f"content={content_digest(md.read_text())}",
        f"review={review.fingerprint('b' * 40)}",
        f"commit={'b' * 40}",
        f"index={review.index()}",
        f"run sha={'b' * 40} run=9002 number=2 attempt=1 at=2026-12-01T11:30:00Z",
        f"run sha={'a' * 40} run=9001 number=1 attempt=1 at=2026-12-01T10:00:00Z",
        "-->",
        "",
    ]
    fields = trailer_values(c["body"])
    assert fields["commit"] == ["b" * 40]
    assert len(fields["run"]) == 2


def thousand_deletions() -> Plan:
    """A 1,000-deletion plan with something in every section of the comment."""
    since = datetime(2026, 11, 1, 12, 10, tzinfo=timezone.utc)

    def fn(name: str, *ops: Any, rollouts: tuple[RolloutStatus, ...] = ()) -> FunctionPlan:
        region = "eu-west-1" if name.endswith("-eu") else "us-east-1"
        return FunctionPlan(
            name,
            name,
            region,
            "123456789012",
            f"m.yaml:{len(name)}:3",
            operations=ops,
            rollouts=rollouts,
            storage_before=10**9,
        )

    rolled = RolloutStatus(
        "live", "8", 1, 2, 0.0, RolloutPhase.ROLLING_BACK, since, cause=AlarmFired("errors")
    )
    going = RolloutStatus("live", "8", 1, 2, 0.1, RolloutPhase.ADVANCING, since)
    update = UpdateAlias("live", AliasState("7"), AliasState("8"), "r", (AliasField.VERSION,))
    functions = [
        fn(
            "payments",
            UpdateAlias(
                "live",
                AliasState("7", Route("8", 0.1)),
                AliasState("7"),
                "r",
                (AliasField.CANARY,),
                RolloutStep(rolled),
            ),
            rollouts=(rolled,),
        ),
        fn(
            "api",
            UpdateAlias(
                "live",
                AliasState("7"),
                AliasState("7", Route("8", 0.1)),
                "r",
                (AliasField.CANARY,),
                RolloutStep(going),
            ),
            rollouts=(going,),
        ),
        *(fn(f"mover-{i}", update) for i in range(3)),
        *(fn(f"pruned-{i}", DeleteAlias("old", AliasState("2"))) for i in range(2)),
        *(
            fn(
                f"service-{i:03d}-with-a-long-name" + ("-eu" if i % 2 else ""),
                *(DeleteVersion(v, 12_300_000, 400, 10) for v in range(1, 11)),
            )
            for i in range(95)
        ),
    ]
    layers = [
        LayerPlan(
            f"deps-{i}",
            f"deps-{i}",
            "us-east-1",
            f"m.yaml:{900 + i}:3",
            tuple(
                DeleteLayerVersion(
                    v, f"arn:aws:lambda:us-east-1:123456789012:layer:deps-{i}:{v}", 5, 40, 2
                )
                for v in range(1, 6)
            ),
        )
        for i in range(10)
    ]
    return Plan(
        functions=tuple(functions),
        manifests=("m.yaml",),
        max_deletions=5000,
        layers=tuple(layers),
        storage=(
            CodeStorage("us-east-1", 70 * 2**30, 75 * 2**30),
            CodeStorage("eu-west-1", 10 * 2**30, 75 * 2**30),
        ),
    )


def test_a_1000_deletion_plan_comment_keeps_the_headline_quotas_and_every_section(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """1,000 deletions, far over GitHub's limit: the comment is under 65,536 characters, keeps
    the headline and the quota lines, shows the riskiest sections first and whole, gives one
    summary line to each section it cut, links the full plan, and its cut note renders."""
    fake, api = github
    plan = thousand_deletions()
    counted = plan.summary
    assert counted["delete_version"] + counted["delete_layer_version"] == 1000
    path = tmp_path / "plan.json"
    path.write_text(plan_to_json(plan))
    full = gh(api, "render", str(path), "--limit", "10000000").stdout
    assert len(full) > 2 * BODY_LIMIT
    md = tmp_path / "plan.md"
    md.write_text(full)
    r = gh(
        api,
        "comment",
        "--body-file",
        str(md),
        "--plan-json",
        str(path),
        **run_env(tmp_path, "9001", "a" * 40, "2026-12-01T10:00:00Z"),
    )
    assert r.returncode == 0, r.stderr
    [c] = fake.comments[7]
    posted = c["body"]
    assert len(posted) < BODY_LIMIT
    lines = posted.split("\n")
    headline = next(x for x in full.split("\n") if x.startswith("### "))
    assert headline in lines
    quota = [x for x in full.split("\n") if x.startswith(("- 💾 Code storage", "- ⚠️ **Code"))]
    assert len(quota) >= 2
    assert all(q in lines for q in quota)
    # Riskiest first: the rolled-back rollout, the rollout, the alias moves and deletions.
    order = [x for x in lines if x.startswith("#### ")]
    assert order[:7] == [
        "#### `payments` (us-east-1)",
        "#### `api` (us-east-1)",
        "#### `mover-0` (us-east-1)",
        "#### `mover-1` (us-east-1)",
        "#### `mover-2` (us-east-1)",
        "#### `pruned-0` (us-east-1)",
        "#### `pruned-1` (us-east-1)",
    ]
    sections = full.split("\n#### ")[1:]
    for s in sections:  # every section shown is whole, cut at a function boundary
        name = s.split("\n")[0]
        if f"#### {name}" in lines:
            assert s.split("\n✅")[0].split("\n<details>")[0].split("\n- ✂️")[0] in posted
    cut = [x for x in lines if x.startswith("- ✂️ ")]
    shown = sum(1 for x in order if x.startswith("#### `service-"))
    assert 0 < shown < 95
    assert cut[0].startswith(
        f"- ✂️ **Version deletions**: {95 - shown} of 95 left out "
        f"({(95 - shown) * 10} versions to delete): "
    )
    assert cut[1] == (
        "- ✂️ **Layers**: 10 of 10 left out (50 layer versions to delete): `layer deps-0`, "
        "`layer deps-1`, `layer deps-2`, `layer deps-3`, `layer deps-4`, `layer deps-5`, "
        "`layer deps-6`, `layer deps-7`, `layer deps-8`, `layer deps-9`."
    )
    [note] = [x for x in lines if x.startswith("> ✂️")]
    html = MarkdownIt("commonmark").render(note)
    assert html == (
        "<blockquote>\n<p>✂️ Cut to fit GitHub's limit: the text plan and the sections above "
        "left out. The full plan is in the "
        '<a href="https://github.com/acme/lambdas/actions/runs/9001">job summary</a>.</p>\n'
        "</blockquote>\n"
    )
    assert trailer_values(posted)["commit"] == ["a" * 40]


def test_a_drift_body_cut_between_functions_keeps_the_quota_and_a_note_that_renders() -> None:
    """The drift issue's cut (no saved plan to render again): the quota lines stay, and the
    note names the functions left out as their headings do, without nested backticks."""
    full = render_markdown(thousand_deletions(), drift=True, limit=10**9)
    cut = cut_at_functions(full, 30000, "the [job summary](https://x)")
    assert len(cut) <= 30000
    assert "- 💾 Code storage in us-east-1: 70 GB of 75 GB, 93 %; this plan frees 5.5 GB" in cut
    [note] = [x for x in cut.split("\n") if x.startswith("> ✂️")]
    assert note.startswith("> ✂️ Cut to fit GitHub's 65,536-character limit: ")
    html = MarkdownIt("commonmark").render(note)
    assert "`" not in html
    assert html.count("<code>") == 50  # the first 50 left out, each named as its heading
    assert "<code>service-078-with-a-long-name</code> (us-east-1)" in html


def test_cut_at_functions_drops_the_folded_plan_first() -> None:
    """A body a little too long loses only the folded text plan, and says where it is."""
    md = render_markdown(realistic_plan(), limit=10**7)
    details = md.index("<details><summary>Full plan")
    out = cut_at_functions(md, details + 200)
    assert out.startswith(md[:details])
    assert "Full plan" not in out
    assert out.endswith(
        "> ✂️ The full text plan is left out to fit GitHub's limit; it is in the job summary.\n"
    )


def test_decorate_keeps_the_markers_first() -> None:
    md = f"{marker_for(['a.yaml'])}\n### head\n\nbody\n"
    out = decorate(md, RunContext(sha="c" * 40, run_id="1", at="2026-01-01T00:00:00Z", repo=REPO))
    assert out.startswith(marker_for(["a.yaml"]) + "\n### head\n\n<sub>commit ")


# ---- the drift issue -------------------------------------------------------------------------


def test_drift_issue_opens_updates_and_closes(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    drift1 = body(tmp_path, ["a.yaml"], "drift 1", kind="drift")
    drift2 = body(tmp_path, ["a.yaml"], "drift 2", kind="drift")
    r = gh(api, "drift-issue", "--body-file", drift1, "--drifted")
    assert r.stderr == "drift issue: opened #1\n"
    assert r.stdout == "https://github.com/acme/lambdas/issues/1\n"
    assert fake.issues[1]["labels"] == [{"name": "lambda-drift"}]
    assert fake.issues[1]["title"] == "Lambda drift detected"
    r = gh(api, "drift-issue", "--body-file", drift2, "--drifted")
    assert r.stderr == "drift issue: updated #1\n"
    r = gh(api, "drift-issue", "--body-file", drift2, "--drifted")
    assert r.stderr == "drift issue: unchanged #1\n"
    assert fake.issues[1]["body"].endswith("drift 2\n")
    assert len(fake.issues) == 1
    r = gh(api, "drift-issue", "--body-file", drift2, "--in-sync")
    assert r.stderr == "drift issue: closed #1\n"
    assert fake.issues[1]["state"] == "closed"
    assert fake.comments[1][0]["body"].startswith("Back in sync")
    r = gh(api, "drift-issue", "--body-file", drift2, "--in-sync")
    assert r.stderr == "drift issue: none\n"
    r = gh(api, "drift-issue", "--body-file", drift1, "--drifted")
    assert r.stderr == "drift issue: opened #2\n"  # a new issue, not the closed one reopened


def test_an_open_drift_issue_is_found_with_one_request(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """The label filter finds it: one GET, whatever else is open."""
    fake, api = github
    md = body(tmp_path, ["a.yaml"], "d", kind="drift")
    gh(api, "drift-issue", "--body-file", md, "--drifted")
    fake.requests.clear()
    r = gh(
        api,
        "drift-issue",
        "--body-file",
        body(tmp_path, ["a.yaml"], "e", kind="drift"),
        "--drifted",
    )
    assert r.stderr == "drift issue: updated #1\n"
    assert fake.requests == [
        (
            "GET",
            "/repos/acme/lambdas/issues?state=all&labels=lambda-drift&sort=created"
            "&direction=desc&per_page=100",
        ),
        ("GET", "/user"),  # 403: an installation token, so github-actions[bot]
        ("PATCH", "/repos/acme/lambdas/issues/1"),
    ]


def test_a_drift_issue_closed_as_not_planned_stays_closed_while_the_drift_is_the_same(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    same = body(tmp_path, ["a.yaml"], "alias prod: 3 → 1", kind="drift")
    gh(api, "drift-issue", "--body-file", same, "--drifted")
    fake.issues[1].update(state="closed", state_reason="not_planned")
    r = gh(api, "drift-issue", "--body-file", same, "--drifted")
    assert r.stderr == "drift issue: ignored #1 (closed as not planned; the drift is the same)\n"
    assert fake.issues[1]["state"] == "closed"
    assert len(fake.issues) == 1
    other = body(tmp_path, ["a.yaml"], "alias prod: 3 → 2", kind="drift")
    r = gh(api, "drift-issue", "--body-file", other, "--drifted")
    assert r.stderr == "drift issue: opened #2\n"


def test_each_manifest_set_has_its_own_drift_issue(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    gh(api, "drift-issue", "--body-file", body(tmp_path, ["a.yaml"], "a", "drift"), "--drifted")
    gh(api, "drift-issue", "--body-file", body(tmp_path, ["b.yaml"], "b", "drift"), "--drifted")
    r = gh(api, "drift-issue", "--body-file", body(tmp_path, ["a.yaml"], "a", "drift"), "--in-sync")
    assert r.stderr == "drift issue: closed #1\n"
    assert [i["state"] for i in fake.issues.values()] == ["closed", "open"]


def test_a_drift_issue_github_opened_without_its_label_is_an_error(tmp_path: Path) -> None:
    """The label is how later runs find the issue: an issue opened without it (a token that
    may not set labels) is one line and exit 1, not a silent duplicate on the next run."""
    fake = FakeGitHub(drop_labels=True)
    with serve(fake) as api:
        md = body(tmp_path, ["a.yaml"], "d", kind="drift")
        r = gh(api, "drift-issue", "--body-file", md, "--drifted")
    assert r.returncode == 1
    assert r.stderr == (
        "error: GitHub opened issue #1 without the label 'lambda-drift' (the token may not set "
        "labels: it needs issues: write); later runs find the drift issue by that label only, "
        "so label it by hand or fix the token\n"
    )
    assert fake.violations == []


def test_an_in_sync_run_without_a_drift_issue_never_lists_the_open_issues(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """450 open issues, none labelled: the in-sync run makes one request (at most 2)."""
    fake, api = github
    for n in range(1, 451):
        fake.issues[n] = {
            "number": n,
            "html_url": f"https://github.com/{REPO}/issues/{n}",
            "title": f"bug {n}",
            "body": f"{marker_for(['a.yaml'], 'drift')}\nquoted by a person",
            "labels": [],
            "state": "open",
            "state_reason": None,
            "user": {"login": BOT, "type": "Bot"},
            "performed_via_github_app": None,
        }
    md = body(tmp_path, ["a.yaml"], "in sync", kind="drift")
    r = gh(api, "drift-issue", "--body-file", md, "--in-sync")
    assert r.returncode == 0, r.stderr
    assert r.stderr == "drift issue: none\n"
    assert len(fake.requests) <= 2
    assert fake.requests == [
        (
            "GET",
            "/repos/acme/lambdas/issues?state=all&labels=lambda-drift&sort=created"
            "&direction=desc&per_page=100",
        )
    ]


@dataclass
class Recorder:
    """Another host: records the Authorization header of every request it gets."""

    seen: list[str | None] = field(default_factory=list)


@contextlib.contextmanager
def other_host(recorder: Recorder) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.seen.append(self.headers.get("Authorization"))
            data = b"[]"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"  # another host than 127.0.0.1
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_to_another_host_carries_no_token(
    github: tuple[FakeGitHub, str], status: int
) -> None:
    """urllib keeps `Authorization` across hosts; the client drops it off the API's host."""
    fake, api = github
    recorder = Recorder()
    with other_host(recorder) as elsewhere:
        fake.fail(
            "GET",
            "/repos/acme/lambdas/issues/5/comments",
            status,
            headers={"Location": f"{elsewhere}/somewhere"},
        )
        c, _ = client(api)
        assert c.find_comment(5, marker_for(["a.yaml"])) is None
    assert recorder.seen == [None]


def test_a_redirect_within_the_api_host_keeps_the_token(github: tuple[FakeGitHub, str]) -> None:
    """A renamed repository answers 301 to its new path on the same host: still authorised."""
    fake, api = github
    fake.fail(
        "GET",
        "/repos/acme/old-name/issues/5/comments",
        301,
        headers={"Location": f"{api}/repos/acme/lambdas/issues/5/comments?per_page=100"},
    )
    fake.add_comment(5, f"{marker_for(['a.yaml'])}\nmine\n")
    c = GitHubClient(TOKEN, "acme/old-name", api, sleep=lambda _s: None)
    found = c.find_comment(5, marker_for(["a.yaml"]))
    assert found is not None  # the fake answers 401 to a request without the token
    assert found["body"].endswith("mine\n")


# ---- apply only what was reviewed --------------------------------------------------------


def reviewed(fake: FakeGitHub, api: str, tmp_path: Path, head: str, plan: dict[str, Any]) -> None:
    """The pull request #7, planned at `head`, merged as commit M."""
    path = write_json(tmp_path, plan, "reviewed.json")
    md = tmp_path / "reviewed.md"
    md.write_text(gh(api, "render", path).stdout)
    r = gh(
        api,
        "comment",
        "--body-file",
        str(md),
        "--plan-json",
        path,
        **run_env(tmp_path, "9001", head, "2026-12-01T10:00:00Z"),
    )
    assert r.returncode == 0, r.stderr
    fake.pulls_of_commit["M" * 40] = [
        {
            "number": 7,
            "merged_at": "2026-12-01T10:05:00Z",
            "merge_commit_sha": "M" * 40,
            "head": {"sha": head},
        }
    ]


def test_apply_goes_ahead_when_the_plan_is_the_one_reviewed(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    reviewed(fake, api, tmp_path, "a" * 40, json_plan(2))
    fresh = json_plan(2)
    fresh["functions"][0]["fingerprint"] = "changed-guards"  # guards are not operations
    fresh["functions"][0]["operations"][0]["changes"] = ["reworded"]
    r = gh(api, "check-reviewed", write_json(tmp_path, fresh), GITHUB_SHA="M" * 40)
    assert r.returncode == 0, r.stderr
    assert r.stderr == (
        "the plan is the one reviewed in #7: "
        "https://github.com/acme/lambdas/pull/7#issuecomment-1001\n"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "operations",
            "error: the plan changed since the review in #7 "
            "(https://github.com/acme/lambdas/pull/7#issuecomment-1001): operations of "
            "service-000-xxxxxxxxxxxxxxxxxxxx (us-east-1) changed; operations of "
            "service-001-xxxxxxxxxxxxxxxxxxxx (us-east-1) changed. Nothing was applied. Review "
            "the fresh plan, or set allow-unreviewed to apply it anyway.\n",
        ),
        (
            "head",
            "error: the plan comment of #7 describes commit aaaaaaa, but ccccccc was merged: "
            "the last push was never planned. Nothing was applied.\n",
        ),
        (
            "no pull request",
            "error: commit MMMMMMMMMMMM is not the merge of a pull request, so no plan was "
            "reviewed for it. Nothing was applied.\n",
        ),
        (
            "other manifests",
            "error: pull request #7 has no plan comment for these manifests. Nothing was "
            "applied.\n",
        ),
    ],
)
def test_apply_is_refused_when_the_plan_is_not_the_one_reviewed(
    github: tuple[FakeGitHub, str], tmp_path: Path, change: str, message: str
) -> None:
    fake, api = github
    reviewed(fake, api, tmp_path, "a" * 40, json_plan(2))
    fresh = json_plan(2)
    if change == "operations":
        fresh = json_plan(2, version="3")
    elif change == "head":
        fake.pulls_of_commit["M" * 40][0]["head"]["sha"] = "c" * 40
    elif change == "no pull request":
        fake.pulls_of_commit.clear()
    else:
        fresh = json_plan(2, manifests=("other.yaml",))
    r = gh(api, "check-reviewed", write_json(tmp_path, fresh), GITHUB_SHA="M" * 40)
    assert r.returncode == 1
    assert r.stderr == message
    assert [m for m, _ in fake.writes()] == ["POST"]  # only the review's own comment


def test_a_failed_plan_comment_is_no_review(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    """The comment of a failed plan records no operations: nothing may be applied."""
    fake, api = github
    failure = gh(api, "failure-body", "--reason", "It failed.", "m.yaml").stdout
    fake.add_comment(7, failure)
    fake.pulls_of_commit["M" * 40] = [
        {"number": 7, "merged_at": "x", "merge_commit_sha": "M" * 40, "head": {"sha": "a" * 40}}
    ]
    r = gh(api, "check-reviewed", write_json(tmp_path, json_plan(1)), GITHUB_SHA="M" * 40)
    assert r.returncode == 1
    assert "records no plan (the last plan failed?)" in r.stderr


def test_the_review_binds_every_parameter_and_nothing_that_moves_with_the_clock() -> None:
    """Order of functions, words, guards and ages do not change the review; any parameter of
    an operation, a retention decision, max_deletions or the manifest's bytes does."""
    a = Review.of(json_plan(3))
    b = json_plan(3)
    b["functions"].reverse()
    op = b["functions"][0]["operations"][0]
    op.update(reason="other words", changes=["x"], revision_id="other-guard")
    b["functions"][0]["fingerprint"] = "other live state"
    assert Review.of(b).fingerprint("c" * 40) == a.fingerprint("c" * 40)
    assert a.fingerprint("c" * 40) != a.fingerprint("d" * 40)  # the commit is bound too
    changes: list[tuple[str, Any]] = [
        ("after", {"version": "2", "canary": {"version": "3", "weight": 0.1}, "description": None}),
        ("after", {"version": "2", "canary": None, "description": "Production"}),
        ("before", {"version": "9", "canary": None, "description": None}),
        ("fields", ["version", "description"]),
        ("code_sha256", "other code"),
        ("description", "other version description"),
    ]
    for key, value in changes:
        c = json_plan(3)
        c["functions"][1]["operations"][0][key] = value
        assert Review.of(c).differences(a.index()) == [
            "operations of service-001-xxxxxxxxxxxxxxxxxxxx (us-east-1) changed"
        ], key
    d = json_plan(3)
    d["functions"][2]["kept"] = [{"version": 1, "reasons": [{"kind": "protected"}]}]
    assert Review.of(d).differences(a.index()) == [
        "retention of service-002-xxxxxxxxxxxxxxxxxxxx (us-east-1) is new"
    ]
    e = json_plan(3)
    e["max_deletions"] = 1000
    assert Review.of(e).differences(a.index()) == ["max_deletions changed"]
    Path("m.yaml").write_text(MANIFEST + "# a comment\n")
    assert Review.of(json_plan(3)).differences(a.index()) == ["manifest m.yaml changed"]


def test_a_review_too_large_to_index_by_part_still_names_the_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the index's room, one digest a function: a change still names its function."""
    monkeypatch.setattr("reconciler.github.review.INDEX_ROOM", 200)
    a = Review.of(json_plan(30))
    assert a.index().startswith("c.")
    b = json_plan(30)
    b["functions"][7]["operations"][0]["after"]["version"] = "9"
    assert Review.of(b).differences(a.index()) == [
        "service-007-xxxxxxxxxxxxxxxxxxxx (us-east-1) changed"
    ]
    assert Review.of(b).differences("not an index") == []


def test_post_fresh_without_a_merged_pull_request_is_one_line(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    r = gh(api, "post-fresh", write_json(tmp_path, json_plan(1)), GITHUB_SHA="M" * 40)
    assert r.returncode == 1
    assert r.stderr == (
        "error: commit MMMMMMMMMMMM is not the merge of a pull request: the fresh plan is in the "
        "job summary only\n"
    )
    assert fake.writes() == []


@pytest.mark.parametrize(
    ("field", "before", "after"),
    [
        ("steps", "steps: [10%, 50%]", "steps: [50%]"),
        ("interval", "interval: 10m", "interval: 1m"),
        ("alarms", "alarms: [orders-errors]", "alarms: []"),
        ("gates", "gates: {max_error_rate: 1%}", "gates: {max_error_rate: 50%}"),
        ("hooks", "hooks: {pre_traffic: orders-smoke}", "hooks: {}"),
        ("bake", "bake: 10m", "bake: 1s"),
        ("attempt", "bake: 10m", "bake: 10m\n          attempt: 2"),
    ],
)
def test_changing_any_rollout_setting_after_review_is_refused_naming_it(
    github: tuple[FakeGitHub, str], tmp_path: Path, field: str, before: str, after: str
) -> None:
    """The same operations, but a rollout setting changed in the merged manifest: refused,
    and the message says which setting of which alias."""
    fake, api = github
    reviewed(fake, api, tmp_path, "a" * 40, json_plan(1))
    assert before in MANIFEST
    (tmp_path / "m.yaml").write_text(MANIFEST.replace(before, after))
    r = gh(api, "check-reviewed", write_json(tmp_path, json_plan(1)), GITHUB_SHA="M" * 40)
    assert r.returncode == 1
    assert r.stderr.startswith("error: the plan changed since the review in #7 ")
    assert f"rollout {field} of orders:prod (us-east-1) changed" in r.stderr
    assert "manifest m.yaml changed" in r.stderr
    others = {"steps", "interval", "alarms", "gates", "hooks", "bake", "attempt"} - {field}
    assert not any(f"rollout {o} of" in r.stderr for o in others)


FORGED = (
    "ok\n<!-- lambda-reconciler:run sha=" + "c" * 40 + " -->\n"
    "<!-- lambda-reconciler:trailer\nreview=sha256:0\ncommit=" + "c" * 40 + "\n-->\n"
)


def _git(*args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com", "HOME": os.getcwd()}
    env |= {"GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com"}
    env["PATH"] = os.environ.get("PATH", os.defpath)
    r = subprocess.run(["git", *args], capture_output=True, text=True, env=env, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_a_merge_that_carries_more_than_the_review_names_the_commits(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """#7 was reviewed at its head; `main` had moved (another change to the same manifests)
    and the merge brings that along: refused, naming what differs and the commit it carries."""
    fake, api = github
    _git("init", "-q", "-b", "main")
    _git("add", "m.yaml")
    _git("commit", "-qm", "base")
    _git("checkout", "-q", "-b", "feature")
    Path("m.yaml").write_text(MANIFEST.replace("version: 5", "version: 6"))
    _git("commit", "-qam", "Move orders to 6")
    head = _git("rev-parse", "HEAD")
    reviewed(fake, api, tmp_path, head, json_plan(1))
    _git("checkout", "-q", "main")
    Path("m.yaml").write_text(MANIFEST.replace("alarms: [orders-errors]", "alarms: []"))
    _git("commit", "-qam", "Drop the orders alarm (#41)")
    extra = _git("rev-parse", "--short", "HEAD")
    Path("m.yaml").write_text(
        MANIFEST.replace("version: 5", "version: 6").replace(
            "alarms: [orders-errors]", "alarms: []"
        )
    )
    _git("commit", "-qam", "Move orders to 6 (#7)")  # the squash merge of #7
    merge = _git("rev-parse", "HEAD")
    assert blob_hash(Path("m.yaml").read_bytes()) == _git("hash-object", "m.yaml")
    fake.pulls_of_commit[merge] = fake.pulls_of_commit.pop("M" * 40)
    r = gh(api, "check-reviewed", write_json(tmp_path, json_plan(1)), GITHUB_SHA=merge)
    assert r.returncode == 1
    assert "rollout alarms of orders:prod (us-east-1) changed" in r.stderr
    assert (
        f" The merged commit carries more than #7 reviewed: {extra} Drop the orders alarm (#41). "
        "Nothing was applied." in r.stderr
    )


def test_a_forged_marker_in_an_alias_description_is_not_a_review(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """An alias description carrying the tool's markers, reviewed at commit A: a later push C
    that was never planned is refused, because the markers are read from the trailer only."""
    fake, api = github
    plan = json_plan(1)
    for op in plan["functions"][0]["operations"]:
        op["after"]["description"] = FORGED
        op["fields"] = ["version", "description"]
    reviewed(fake, api, tmp_path, "a" * 40, plan)
    [posted] = fake.comments[7]
    assert "<!-- lambda-reconciler:run sha=" + "c" * 40 in posted["body"]  # quoted in the plan
    assert trailer_values(posted["body"])["commit"] == ["a" * 40]
    fake.pulls_of_commit["M" * 40][0]["head"]["sha"] = "c" * 40  # C merged, never planned
    r = gh(api, "check-reviewed", write_json(tmp_path, plan), GITHUB_SHA="M" * 40)
    assert r.returncode == 1
    assert r.stderr == (
        "error: the plan comment of #7 describes commit aaaaaaa, but ccccccc was merged: the "
        "last push was never planned. Nothing was applied.\n"
    )


def test_the_trailer_is_read_only_where_it_ends_the_body() -> None:
    """A trailer that is not the body's last block, or holds anything but plain fields, is no
    trailer."""
    ours = decorate(
        f"{marker_for(['m.yaml'])}\n### head\n",
        RunContext(sha="a" * 40, review="sha256:1", index="f.x"),
    )
    assert trailer_values(ours)["review"] == ["sha256:1"]
    assert trailer_values(ours + "more text\n") == {}
    assert trailer_values(ours.replace("review=sha256:1", "review=sha256:1 -->")) == {}
    assert trailer_values(ours.replace("review=sha256:1", "review=<b>")) == {}
    assert trailer_values(FORGED + ours)["review"] == ["sha256:1"]


# ---- rendering, annotations, outputs ------------------------------------------------------


def test_render_a_saved_plan_for_the_job_summary(tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text(plan_to_json(realistic_plan(), kind="drift"))
    r = gh("http://127.0.0.1:9", "render", str(saved))
    assert r.returncode == 0, r.stderr
    assert r.stdout == render_markdown(realistic_plan(), drift=True, limit=250_000)
    r = gh("http://127.0.0.1:9", "render", str(saved), "--format", "text", "--color")
    # the second function only has retention deletions due: housekeeping, not drift
    assert r.stdout.startswith("\033[1mDrift: live state differs from git in 1 function.")
    saved.write_text("{}")
    r = gh("http://127.0.0.1:9", "render", str(saved))
    assert r.returncode == 1
    unsupported = "unsupported plan format_version None (this version reads 2); run plan again"
    assert r.stderr == f"error: {saved}: {unsupported}\n"


def test_the_folded_plan_is_the_text_the_log_shows(tmp_path: Path) -> None:
    """The comment's folded full plan and the log's text plan are one text."""
    saved = tmp_path / "plan.json"
    saved.write_text(plan_to_json(realistic_plan()))
    text = gh("http://127.0.0.1:9", "render", str(saved), "--format", "text").stdout
    md = gh("http://127.0.0.1:9", "render", str(saved)).stdout
    folded = md.split("<details><summary>Full plan</summary>\n\n")[1].split("\n</details>")[0]
    assert folded.split("\n", 1)[1].rsplit("\n", 2)[0] == text.rstrip("\n")


def test_failure_body_carries_the_markers_of_the_manifest_set(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("error: AccessDenied: lambda:ListVersionsByFunction\n")
    r = gh(
        "http://127.0.0.1:9",
        "failure-body",
        "--reason",
        "It failed; nothing was written.",
        "--log",
        str(log),
        "b.yaml",
        "a.yaml",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(marker_for(["a.yaml", "b.yaml"]) + "\n")
    assert "It failed; nothing was written." in r.stdout
    assert "```text\nerror: AccessDenied: lambda:ListVersionsByFunction\n```" in r.stdout


def test_plan_errors_become_annotations_on_their_manifest_line(tmp_path: Path) -> None:
    """Workflow-command text is escaped: a newline or a comma cannot end the command."""
    data = json_plan(2)
    data["functions"][0]["operations"] = []
    data["functions"][0]["errors"] = ["version 9 does not exist,\n::set-output name=x::y"]
    data["functions"][0]["source"] = "dir,1/m.yaml:6:3"
    data["errors"] = ["100% broken"]
    r = gh("http://127.0.0.1:9", "annotate", write_json(tmp_path, data))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "::error title=lambda-reconciler plan::100%25 broken\n"
        "::error file=dir%2C1/m.yaml,line=6,col=3,title=lambda-reconciler plan::"
        f"service-000-{'x' * 20}: version 9 does not exist,%0A::set-output name=x::y\n"
    )


def test_outputs_count_each_action(tmp_path: Path) -> None:
    data = json_plan(2)
    data["functions"][1]["operations"][0]["action"] = "delete_version"
    r = gh("http://127.0.0.1:9", "outputs", write_json(tmp_path, data))
    assert r.stdout == (
        "count-publish-version=0\ncount-create-alias=0\ncount-update-alias=5\n"
        "count-delete-alias=0\ncount-delete-version=1\ncount-delete-layer-version=0\n"
        "count-set-provisioned-concurrency=0\ncount-total=6\n"
    )


# ---- the fake itself is held to GitHub's description -----------------------------------------


def test_the_openapi_check_refuses_what_github_would() -> None:
    """The control for every test above: a wrong path, parameter, field, type or enum is found."""
    assert problems("GET", "/repos/o/r/issues?state=opened&per_page=x", None) == [
        "query state: 'opened' is not one of ['open', 'closed', 'all']",
        "query per_page: 'x' is not an integer",
    ]
    assert problems("PATCH", "/repos/o/r/issues/1", {"state": "closed", "reason": "done"}) == [
        "body: reason is not a field of PATCH /repos/{owner}/{repo}/issues/{issue_number}"
    ]
    assert problems("PATCH", "/repos/o/r/issues/1", {"state_reason": "wontfix"}) == [
        "body.state_reason: 'wontfix' is not one of ['completed', 'not_planned', 'duplicate', "
        "'reopened']"
    ]
    assert problems("POST", "/repos/o/r/issues", {"body": "x", "labels": "a"}) == [
        "body: title is required",
        "body.labels: str is not array",
    ]
    assert problems("DELETE", "/repos/o/r/issues/comments/1", None) == [
        "DELETE /repos/o/r/issues/comments/1: not an operation GitHub describes"
    ]
    assert problems("POST", "/repos/o/r/issues/1/comments", {"body": "x"}) == []
    subset = json.loads((Path(__file__).parent / "openapi" / "github-rest-subset.json").read_text())
    assert subset["source"]["package"] == "@octokit/openapi"


def test_report_writes_what_the_action_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One call: the uncut Markdown, a job summary within its limit that says where the full
    plan is, the text plan twice, the count outputs, and the errors as annotations."""
    from reconciler.cli import github as cli_github

    monkeypatch.setattr(cli_github, "SUMMARY_LIMIT", 5000)
    data = json_plan(40)
    data["functions"][3]["operations"] = []
    data["functions"][3]["errors"] = ["alias live: version 9 does not exist"]
    saved = write_json(tmp_path, data)
    out = tmp_path / "out"
    out.mkdir()
    r = gh("http://127.0.0.1:9", "report", saved, "--dir", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "::error file=m.yaml,line=12,col=3,title=lambda-reconciler plan::"
        f"service-003-{'x' * 20}: alias live: version 9 does not exist\n"
    )
    full = gh("http://127.0.0.1:9", "render", saved, "--limit", "10000000").stdout
    assert (out / "plan.md").read_text() == full
    summary = (out / "summary.md").read_text()
    assert len(summary) <= 5000 < len(full)
    assert summary.endswith(
        "The full plan is in the Action's `plan-text` output file (upload it as an artifact to "
        "keep it).\n"
    )
    text = gh("http://127.0.0.1:9", "render", saved, "--format", "text").stdout
    assert (out / "plan.txt").read_text() == text
    assert "\033[" in (out / "plan-color.txt").read_text()
    assert (out / "outputs.txt").read_text().splitlines()[-1] == f"count-total={39 * 3}"


def test_outputs_count_layer_deletions_too(tmp_path: Path) -> None:
    """Every action of the plan is counted, the layer versions it deletes included."""
    data = json_plan(1)
    data["layers"] = [{"operations": [{"action": "delete_layer_version"}] * 2}]
    r = gh("http://127.0.0.1:9", "outputs", write_json(tmp_path, data))
    assert "count-delete-layer-version=2\n" in r.stdout
    assert r.stdout.endswith("count-total=5\n")
