"""The sticky PR comment and the drift issue, against a local fake GitHub REST server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from reconciler.render.markdown import marker_for


class FakeGitHub:
    """Just enough of the REST API: issues, their comments, pagination, injected errors."""

    def __init__(self) -> None:
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.issues: dict[int, dict[str, Any]] = {}
        self.next_id = 1000
        self.fail: tuple[str, int] | None = None  # (method, status)
        self.requests: list[tuple[str, str]] = []

    def handle(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        self.requests.append((method, url))
        if self.fail and self.fail[0] == method:
            return self.fail[1], {"message": "Resource not accessible by integration"}
        parsed = urlparse(url)
        q = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        parts = parsed.path.strip("/").split("/")  # repos/o/r/issues/...
        rest = parts[3:]
        if rest[:1] == ["issues"] and len(rest) == 3 and rest[2] == "comments":
            n = int(rest[1])
            if method == "GET":
                return 200, self._page(self.comments.get(n, []), q)
            self.next_id += 1
            c = {"id": self.next_id, "body": body["body"]}
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
                "labels": body.get("labels", []),
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


@pytest.fixture
def github(tmp_path: Path) -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def _do(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            assert self.headers["Authorization"] == "Bearer t0ken"
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
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def gh(api: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "GITHUB_TOKEN": "t0ken",
        "GITHUB_REPOSITORY": "acme/lambdas",
        "GITHUB_API_URL": api,
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "github", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def body(tmp_path: Path, manifests: list[str], text: str, kind: str = "plan") -> str:
    path = tmp_path / f"{kind}-{abs(hash(tuple(manifests)))}-{abs(hash(text))}.md"
    path.write_text(f"{marker_for(manifests, kind)}\n{text}\n")
    return str(path)


def test_first_run_creates_then_updates_the_same_comment(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], "v1"))
    assert r.returncode == 0, r.stderr
    assert "created comment" in r.stderr
    r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], "v2"))
    assert r.returncode == 0, r.stderr
    assert "updated comment" in r.stderr
    assert len(fake.comments[7]) == 1
    assert fake.comments[7][0]["body"].endswith("v2\n")


def test_two_manifest_sets_keep_two_comments(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], "a"))
    gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["b.yaml"], "b"))
    gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["b.yaml"], "b2"))
    assert sorted(c["body"].splitlines()[-1] for c in fake.comments[7]) == ["a", "b2"]


def test_finds_its_comment_past_the_first_page(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    gh(api, "comment", "--pr", "3", "--body-file", body(tmp_path, ["a.yaml"], "mine"))
    fake.comments[3] = [{"id": i, "body": "chatter"} for i in range(150)] + fake.comments[3]
    mine = fake.comments[3].pop()
    fake.comments[3].insert(120, mine)
    r = gh(api, "comment", "--pr", "3", "--body-file", body(tmp_path, ["a.yaml"], "mine-2"))
    assert r.returncode == 0, r.stderr
    assert "updated comment" in r.stderr
    assert fake.comments[3][120]["body"].endswith("mine-2\n")
    assert len(fake.comments[3]) == 151


def test_drift_issue_opens_updates_and_closes(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    drift1 = body(tmp_path, ["a.yaml"], "drift 1", kind="drift")
    drift2 = body(tmp_path, ["a.yaml"], "drift 2", kind="drift")
    r = gh(api, "drift-issue", "--body-file", drift1, "--drifted")
    assert "drift issue: opened #1" in r.stderr
    r = gh(api, "drift-issue", "--body-file", drift2, "--drifted")
    assert "drift issue: updated #1" in r.stderr
    assert fake.issues[1]["body"].endswith("drift 2\n")
    assert len(fake.issues) == 1
    r = gh(api, "drift-issue", "--body-file", drift2, "--in-sync")
    assert "drift issue: closed #1" in r.stderr
    assert fake.issues[1]["state"] == "closed"
    assert fake.comments[1][0]["body"].startswith("Back in sync")
    r = gh(api, "drift-issue", "--body-file", drift2, "--in-sync")
    assert "drift issue: none" in r.stderr


def test_api_error_is_one_clear_line_and_exit_1(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    fake, api = github
    fake.fail = ("POST", 403)
    r = gh(api, "comment", "--pr", "7", "--body-file", body(tmp_path, ["a.yaml"], "x"))
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "error: GitHub API POST /repos/acme/lambdas/issues/7/comments: 403 "
        "Resource not accessible by integration"
    )


def test_body_without_marker_is_refused(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    _, api = github
    plain = tmp_path / "plain.md"
    plain.write_text("hello\n")
    r = gh(api, "comment", "--pr", "1", "--body-file", str(plain))
    assert r.returncode == 1
    assert "no lambda-reconciler marker" in r.stderr
