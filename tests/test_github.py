"""The sticky PR comment and the drift issue, against a local fake GitHub REST server.

The CLI runs in process (`python -m reconciler github …` with exactly the environment given) with
`GITHUB_API_URL` pointing at the fake, as the Action runs it.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from reconciler.github import GitHubClient, GitHubError
from reconciler.render.json import plan_to_json
from reconciler.render.markdown import marker_for, render_markdown
from tests.cli_helpers import CliResult, run_main
from tests.render_fixtures import realistic_plan

TOKEN = "t0ken"


class FakeGitHub:
    """Just enough of the REST API: issues, their comments, pagination, injected errors."""

    def __init__(self, *, drop_labels: bool = False) -> None:
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        self.next_id = 1000
        self.fail: tuple[str, int] | None = None  # (method, status) of calls to refuse
        self.fail_times = 10**9  # how many calls to refuse before answering again
        self.drop_labels = drop_labels  # as GitHub does for a token that may not set labels
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def handle(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((method, url))
            if self.fail and self.fail[0] == method and self.fail_times > 0:
                self.fail_times -= 1
                status = self.fail[1]
                text = "Resource not accessible by integration" if status == 403 else "Server Error"
                return status, {"message": text}
            return self._route(method, url, body)

    def _route(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        parsed = urlparse(url)
        q = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        parts = parsed.path.strip("/").split("/")
        if parts[:3] != ["repos", "acme", "lambdas"]:
            return 404, {"message": "Not Found"}
        rest = parts[3:]
        if rest[:1] == ["issues"] and len(rest) == 3 and rest[2] == "comments":
            n = int(rest[1])
            if method == "GET":
                return 200, self._page(self.comments.get(n, []), q)
            self.next_id += 1
            c = {"id": self.next_id, "body": body["body"], "user": {"login": "bot"}}
            self.comments.setdefault(n, []).append(c)
            return 201, c
        if rest[:2] == ["issues", "comments"] and method == "PATCH":
            for cs in self.comments.values():
                for c in cs:
                    if c["id"] == int(rest[2]):
                        c["body"] = body["body"]
                        return 200, c
            return 404, {"message": "Not Found"}
        if rest == ["issues"]:
            if method == "GET":
                found = [
                    i
                    for i in self.issues.values()
                    if i["state"] == q.get("state", "open")
                    and (not q.get("labels") or q["labels"] in i["labels"])
                ]
                return 200, self._page(found, q)
            number = len(self.issues) + 1
            issue = {
                "number": number,
                "title": body["title"],
                "body": body["body"],
                "labels": [] if self.drop_labels else body.get("labels", []),
                "state": "open",
            }
            self.issues[number] = issue
            return 201, issue
        if rest[:1] == ["issues"] and len(rest) == 2 and method == "PATCH":
            issue = self.issues[int(rest[1])]
            issue.update(body)
            return 200, issue
        return 404, {"message": "Not Found"}

    @staticmethod
    def _page(items: list[Any], q: dict[str, str]) -> list[Any]:
        size = int(q.get("per_page", 30))
        page = int(q.get("page", 1))
        return items[(page - 1) * size : page * size]


@contextlib.contextmanager
def serve(fake: FakeGitHub) -> Iterator[str]:
    """Run `fake` on a free port of 127.0.0.1 in a thread; yield its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def _do(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                status, out = 401, {"message": "Bad credentials"}
            else:
                status, out = fake.handle(self.command, self.path, body)
            data = json.dumps(out).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _do

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub()
    with serve(fake) as url:
        yield fake, url


def gh(api: str, *args: str, **env: str) -> CliResult:
    return run_main(
        ["github", *args],
        {
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_REPOSITORY": "acme/lambdas",
            "GITHUB_API_URL": api,
            "PATH": "/usr/bin:/bin",
            **env,
        },
    )


def body(tmp_path: Path, manifests: list[str], text: str, kind: str = "plan") -> str:
    path = tmp_path / f"{kind}-{'-'.join(manifests)}-{text}.md"
    path.write_text(f"{marker_for(manifests, kind)}\n{text}\n")
    return str(path)


def test_first_run_creates_then_updates_the_same_comment(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], "v1"))
    assert r.returncode == 0, r.stderr
    assert r.stderr == "created comment 1001 on #7\n"
    for text in ("v2", "v3"):
        r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], text))
        assert r.returncode == 0, r.stderr
        assert r.stderr == "updated comment 1001 on #7\n"
    assert [c["body"] for c in fake.comments[7]] == [f"{marker_for(['a.yaml'])}\nv3\n"]


def test_two_manifest_sets_keep_two_comments(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    for manifests, text in ((["a.yaml"], "a"), (["b.yaml"], "b"), (["b.yaml"], "b2")):
        r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, manifests, text))
        assert r.returncode == 0, r.stderr
    assert sorted(c["body"].splitlines()[-1] for c in fake.comments[7]) == ["a", "b2"]


def test_finds_its_comment_past_the_first_page(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    gh(api, "comment", "--pr", "3", "--body-file", body(tmp_path, ["a.yaml"], "mine"))
    mine = fake.comments[3].pop()
    fake.comments[3] = [{"id": i, "body": "chatter"} for i in range(250)]
    fake.comments[3].insert(220, mine)
    r = gh(api, "comment", "--pr", "3", "--body-file", body(tmp_path, ["a.yaml"], "mine-2"))
    assert r.returncode == 0, r.stderr
    assert "updated comment" in r.stderr
    assert fake.comments[3][220]["body"].endswith("mine-2\n")
    assert len(fake.comments[3]) == 251
    pages = [u for m, u in fake.requests if m == "GET"]
    assert pages[-3:] == [
        f"/repos/acme/lambdas/issues/3/comments?per_page=100&page={p}" for p in (1, 2, 3)
    ]


def test_a_comment_quoting_the_plan_is_not_taken_for_ours(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    """Only a body that opens with the markers is ours: a human quoting it is left alone."""
    fake, api = github
    quoted = "> " + marker_for(["a.yaml"]).replace("\n", "\n> ") + "\n> why?"
    fake.comments[5] = [{"id": 1, "body": quoted}]
    r = gh(api, "comment", "--pr", "5", "--body-file", body(tmp_path, ["a.yaml"], "plan"))
    assert r.returncode == 0, r.stderr
    assert fake.comments[5][0]["body"] == quoted
    assert len(fake.comments[5]) == 2


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


def test_drift_issue_opens_updates_and_closes(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    drift1 = body(tmp_path, ["a.yaml"], "drift 1", kind="drift")
    drift2 = body(tmp_path, ["a.yaml"], "drift 2", kind="drift")
    r = gh(api, "drift-issue", "--body-file", drift1, "--drifted")
    assert r.stderr == "drift issue: opened #1\n"
    assert fake.issues[1]["labels"] == ["lambda-drift"]
    assert fake.issues[1]["title"] == "Lambda drift detected"
    r = gh(api, "drift-issue", "--body-file", drift2, "--drifted")
    assert r.stderr == "drift issue: updated #1\n"
    assert fake.issues[1]["body"].endswith("drift 2\n")
    assert len(fake.issues) == 1
    r = gh(api, "drift-issue", "--body-file", drift2, "--in-sync")
    assert r.stderr == "drift issue: closed #1\n"
    assert fake.issues[1]["state"] == "closed"
    assert fake.comments[1][0]["body"].startswith("Back in sync")
    r = gh(api, "drift-issue", "--body-file", drift2, "--in-sync")
    assert r.stderr == "drift issue: none\n"
    r = gh(api, "drift-issue", "--body-file", drift1, "--drifted")
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


def test_drift_issue_is_found_even_when_github_dropped_its_label(tmp_path: Path) -> None:
    """GitHub silently drops labels a token may not set: the body still finds the issue."""
    fake = FakeGitHub(drop_labels=True)
    with serve(fake) as api:
        md = body(tmp_path, ["a.yaml"], "d", kind="drift")
        assert gh(api, "drift-issue", "--body-file", md, "--drifted").returncode == 0
        r = gh(api, "drift-issue", "--body-file", md, "--drifted")
    assert r.stderr == "drift issue: updated #1\n"
    assert len(fake.issues) == 1


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
        (
            "POST",
            403,
            ["drift-issue", "--drifted"],
            "error: GitHub API POST /repos/acme/lambdas/issues: 403 "
            "Resource not accessible by integration",
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
    fake.fail = (method, status)
    kind = "drift" if args[0] == "drift-issue" else "plan"
    r = gh(api, *args, "--body-file", body(tmp_path, ["a.yaml"], "x", kind))
    assert r.returncode == 1
    assert r.stderr == message + "\n"
    assert r.stdout == ""


def test_a_passing_server_error_on_a_read_is_retried(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    fake.fail, fake.fail_times = ("GET", 502), 1
    r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], "x"))
    assert r.returncode == 0, r.stderr
    assert len(fake.comments[7]) == 1


def test_no_token_no_repository_or_no_server_are_one_line(tmp_path: Path) -> None:
    md = body(tmp_path, ["a.yaml"], "x")
    r = gh("http://127.0.0.1:9", "comment", "--pr", "1", "--body-file", md, GITHUB_TOKEN="")
    assert r.stderr == "error: no GitHub token: set GITHUB_TOKEN or pass --token\n"
    r = gh("http://127.0.0.1:9", "comment", "--pr", "1", "--body-file", md, GITHUB_REPOSITORY="x")
    assert r.stderr == "error: repository must be OWNER/NAME (GITHUB_REPOSITORY), got 'x'\n"
    r = gh("http://127.0.0.1:1", "comment", "--pr", "1", "--body-file", md)
    assert r.returncode == 1
    assert r.stderr.startswith("error: GitHub API GET /repos/acme/lambdas/issues/1/comments: ")
    assert r.stderr.count("\n") == 1
    r = gh("http://127.0.0.1:1", "comment", "--pr", "1", "--body-file", str(tmp_path / "no.md"))
    assert r.stderr.startswith("error: ")
    assert "no.md: cannot read: No such file or directory" in r.stderr


def test_body_without_marker_is_refused(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    fake, api = github
    plain = tmp_path / "plain.md"
    plain.write_text("hello\n<!-- lambda-reconciler:plan -->\n")
    r = gh(api, "comment", "--pr", "1", "--body-file", str(plain))
    assert r.returncode == 1
    assert "does not start with a lambda-reconciler marker" in r.stderr
    assert fake.requests == []


def test_client_api_returns_ids_and_actions(github: tuple[FakeGitHub, str]) -> None:
    """The library calls the CLI wraps, with an explicit marker."""
    fake, api = github
    client = GitHubClient(TOKEN, "acme/lambdas", api)
    md = render_markdown(realistic_plan())
    first = client.upsert_comment(9, md, marker_for(["manifests/prod.yaml"]))
    assert client.last_action == "created"
    assert client.upsert_comment(9, md) == first
    assert client.last_action == "updated"
    drift_md = render_markdown(realistic_plan(), drift=True)
    assert client.sync_drift_issue(drift_md, None, True) == "opened"
    assert client.sync_drift_issue(drift_md, None, False, title="x") == "closed"
    with pytest.raises(
        GitHubError, match=r"^GitHub API GET /repos/acme/nope/issues/9/comments: 404"
    ):
        GitHubClient(TOKEN, "acme/nope", api).upsert_comment(9, md)
    assert len(fake.comments[9]) == 1


def test_render_a_saved_plan_for_the_job_summary(tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text(plan_to_json(realistic_plan(), kind="drift"))
    r = gh("http://127.0.0.1:9", "render", str(saved))
    assert r.returncode == 0, r.stderr
    assert r.stdout == render_markdown(realistic_plan(), drift=True, limit=250_000)
    r = gh("http://127.0.0.1:9", "render", str(saved), "--format", "text", "--color")
    assert r.stdout.startswith("\033[1mDrift: live state differs from git in 3 functions.")
    saved.write_text("{}")
    r = gh("http://127.0.0.1:9", "render", str(saved))
    assert r.returncode == 1
    assert (
        r.stderr == f"error: {saved}: unsupported plan format_version None (this version reads 1)\n"
    )


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
