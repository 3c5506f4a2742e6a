"""`github adopt-pr`: the adoption pull request against a fake GitHub REST server with git data
(refs, commits, trees) and pulls: opened once, left alone when nothing changed, updated on the
next run, closed once nothing is left to adopt."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner, Result

from reconciler.cli.main import main
from reconciler.github.adopt_pr import branch_for
from tests.cli_helpers import run_cli, write_manifest
from tests.test_github import TOKEN, FakeGitHub, serve

ORIGINAL = "version: 1\nregion: us-east-1\nfunctions:\n  a: {aliases: {p: {version: 1}}}\n"


class FakeGitRepo(FakeGitHub):
    """FakeGitHub plus the git data API (refs, commits, trees) and pull requests."""

    def __init__(self, files: dict[str, str]) -> None:
        super().__init__()
        self.trees: dict[str, dict[str, str]] = {}
        self.commits: dict[str, dict[str, Any]] = {}
        self.refs: dict[str, str] = {}
        self.pulls: list[dict[str, Any]] = []
        tree = self._tree(files)
        self.refs["refs/heads/main"] = self._commit("initial", tree, [])

    def _tree(self, files: dict[str, str]) -> str:
        sha = hashlib.sha1(json.dumps(files, sort_keys=True).encode()).hexdigest()
        self.trees[sha] = dict(files)
        return sha

    def _commit(self, message: str, tree: str, parents: list[str]) -> str:
        sha = hashlib.sha1(f"{message}{tree}{parents}{len(self.commits)}".encode()).hexdigest()
        self.commits[sha] = {
            "sha": sha,
            "message": message,
            "tree": {"sha": tree},
            "parents": [{"sha": p} for p in parents],
        }
        return sha

    def files_of(self, ref: str) -> dict[str, str]:
        return self.trees[self.commits[self.refs[ref]]["tree"]["sha"]]

    def _route(
        self, method: str, url: str, body: Any, who: dict[str, Any]
    ) -> tuple[int, Any, dict[str, str]]:
        handled = self._git(method, url, body)
        if handled is None:
            return super()._route(method, url, body, who)
        return (*handled, {})

    def _git(self, method: str, url: str, body: Any) -> tuple[int, Any] | None:
        """The git data, contents and pulls endpoints; None for the others."""
        parsed = urlparse(url)
        q = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        parts = parsed.path.strip("/").split("/")
        if parts[:3] != ["repos", "acme", "lambdas"]:
            return 404, {"message": "Not Found"}
        rest = parts[3:]
        if not rest and method == "GET":
            return 200, {"full_name": "acme/lambdas", "default_branch": "main"}
        if rest[:2] == ["git", "ref"] and method == "GET":
            ref = "refs/" + "/".join(rest[2:])
            if ref not in self.refs:
                return 404, {"message": "Not Found"}
            return 200, {"ref": ref, "object": {"sha": self.refs[ref]}}
        if rest[:2] == ["git", "matching-refs"]:
            prefix = "refs/" + "/".join(rest[2:])
            found = [r for r in self.refs if r.startswith(prefix)]
            return 200, [{"ref": r, "object": {"sha": self.refs[r]}} for r in found]
        if rest == ["git", "refs"] and method == "POST":
            if body["ref"] in self.refs:
                return 422, {"message": "Reference already exists"}
            self.refs[body["ref"]] = body["sha"]
            return 201, {"ref": body["ref"], "object": {"sha": body["sha"]}}
        if rest[:2] == ["git", "refs"] and method == "PATCH":
            ref = "refs/" + "/".join(rest[2:])
            if ref not in self.refs:
                return 422, {"message": "Reference does not exist"}
            self.refs[ref] = body["sha"]
            return 200, {"ref": ref, "object": {"sha": body["sha"]}}
        if rest[:2] == ["git", "commits"] and method == "GET":
            commit = self.commits.get(rest[2])
            return (200, commit) if commit else (404, {"message": "Not Found"})
        if rest == ["git", "commits"] and method == "POST":
            sha = self._commit(body["message"], body["tree"], body["parents"])
            return 201, self.commits[sha]
        if rest == ["git", "trees"] and method == "POST":
            files = dict(self.trees[body["base_tree"]])
            for entry in body["tree"]:
                if (entry["mode"], entry["type"]) != ("100644", "blob"):
                    return 422, {"message": "only regular files here"}
                files[entry["path"]] = entry["content"]
            return 201, {"sha": self._tree(files)}
        if rest == ["pulls"] and method == "GET":
            owner, _, branch = q.get("head", "").partition(":")
            if owner != "acme":
                return 422, {"message": "head must be OWNER:BRANCH"}
            open_pulls: list[dict[str, Any]] = [
                p
                for p in self.pulls
                if p["state"] == q.get("state", "open") and p["head"]["ref"] == branch
            ]
            return 200, open_pulls
        if rest == ["pulls"] and method == "POST":
            if any(p["head"]["ref"] == body["head"] and p["state"] == "open" for p in self.pulls):
                return 422, {"message": "A pull request already exists"}
            number = 100 + len(self.pulls)
            pr = {
                "number": number,
                "html_url": f"https://github.example/acme/lambdas/pull/{number}",
                "title": body["title"],
                "body": body["body"],
                "state": "open",
                "head": {"ref": body["head"]},
                "base": {"ref": body["base"]},
            }
            self.pulls.append(pr)
            return 201, pr
        if rest[:1] == ["pulls"] and len(rest) == 2 and method == "PATCH":
            pr = next(p for p in self.pulls if p["number"] == int(rest[1]))
            pr.update(body)
            return 200, pr
        return None


@pytest.fixture
def repo() -> Iterator[tuple[FakeGitRepo, str]]:
    fake = FakeGitRepo({"manifests/prod.yaml": ORIGINAL, "README.md": "hello\n"})
    with serve(fake) as url:
        yield fake, url


def adopt_pr(api: str, root: Path, *args: str) -> Result:
    env: dict[str, str | None] = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "acme/lambdas",
        "GITHUB_API_URL": api,
        "GITHUB_SHA": None,  # as in CI: the defaults must not come from the test runner's job
        "GITHUB_WORKSPACE": None,
        "GITHUB_REF": None,
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        return CliRunner().invoke(main, ["github", "adopt-pr", *args], env=env)


def setup(
    root: Path, text: str, body: str = "<!-- lambda-reconciler:adopt -->\n- `a`: p\n"
) -> None:
    (root / "manifests").mkdir(exist_ok=True)
    (root / "manifests/prod.yaml").write_text(text)
    (root / "adopt.md").write_text(body)


def test_opens_once_leaves_alone_updates_then_closes(
    repo: tuple[FakeGitRepo, str], tmp_path: Path
) -> None:
    """First run: a branch with one commit on main and one pull request; the same adoption
    again writes nothing; another adoption moves the branch and updates the description; once
    the files match main, the pull request is closed with a comment."""
    fake, api = repo
    branch = branch_for(["manifests/prod.yaml"])
    args = ("manifests/prod.yaml", "--body-file", "adopt.md")
    v2 = ORIGINAL.replace("version: 1}", "version: 2}")
    setup(tmp_path, v2)
    r = adopt_pr(api, tmp_path, *args)
    assert r.exit_code == 0, r.output
    assert r.stderr == f"adoption pull request: opened #100 ({branch})\n"
    assert r.stdout == "https://github.example/acme/lambdas/pull/100\n"
    main_sha = fake.refs["refs/heads/main"]
    head = fake.commits[fake.refs[f"refs/heads/{branch}"]]
    assert [p["sha"] for p in head["parents"]] == [main_sha]
    assert fake.files_of(f"refs/heads/{branch}") == {
        "manifests/prod.yaml": v2,
        "README.md": "hello\n",
    }
    assert [(p["number"], p["base"]["ref"], p["body"]) for p in fake.pulls] == [
        (100, "main", "<!-- lambda-reconciler:adopt -->\n- `a`: p\n")
    ]

    commits, writes_before = len(fake.commits), len([m for m, _ in fake.requests if m != "GET"])
    r = adopt_pr(api, tmp_path, *args)
    assert r.stderr == f"adoption pull request: unchanged #100 ({branch})\n"
    assert len(fake.commits) == commits
    assert [m for m, _ in fake.requests if m != "GET"][writes_before:] == ["POST"]  # the tree

    v3 = ORIGINAL.replace("version: 1}", "version: 3}")
    setup(tmp_path, v3, "<!-- lambda-reconciler:adopt -->\n- `a`: p → 3\n")
    r = adopt_pr(api, tmp_path, *args)
    assert r.stderr == f"adoption pull request: updated #100 ({branch})\n"
    head = fake.commits[fake.refs[f"refs/heads/{branch}"]]
    assert [p["sha"] for p in head["parents"]] == [main_sha]
    assert fake.files_of(f"refs/heads/{branch}")["manifests/prod.yaml"] == v3
    assert len(fake.pulls) == 1
    assert fake.pulls[0]["body"].endswith("p → 3\n")

    setup(tmp_path, ORIGINAL)
    r = adopt_pr(api, tmp_path, *args)
    assert r.stderr == f"adoption pull request: closed #100 ({branch})\n"
    assert fake.pulls[0]["state"] == "closed"
    assert fake.comments[100][0]["body"].startswith("Live state matches git again")
    r = adopt_pr(api, tmp_path, *args)
    assert r.stderr == f"adoption pull request: none ({branch})\n"


def test_a_manifest_outside_the_root_and_api_errors_are_one_line(
    repo: tuple[FakeGitRepo, str], tmp_path: Path
) -> None:
    """A manifest outside --root, or a token without `contents: write`, is one error line and
    exit 1."""
    fake, api = repo
    setup(tmp_path, ORIGINAL.replace("1}", "2}"))
    inner = tmp_path / "inner"
    inner.mkdir()
    r = adopt_pr(api, tmp_path, "manifests/prod.yaml", "--body-file", "adopt.md", "--root", "inner")
    assert r.exit_code == 1
    assert r.stderr == "error: manifests/prod.yaml: outside the repository root inner (--root)\n"
    fake.fail(
        "POST",
        "/repos/acme/lambdas/git/",
        403,
        body={"message": "Resource not accessible by integration"},
    )
    r = adopt_pr(api, tmp_path, "manifests/prod.yaml", "--body-file", "adopt.md")
    assert r.exit_code == 1
    assert r.stderr == (
        "error: GitHub API POST /repos/acme/lambdas/git/trees: 403 "
        "Resource not accessible by integration\n"
    )
    assert fake.pulls == []


def test_drift_to_pull_request_end_to_end(
    emulator: Any, repo: tuple[FakeGitRepo, str], tmp_path: Path
) -> None:
    """A hand change in the emulator → `adopt --write --format markdown` → `github adopt-pr`:
    the pull request holds exactly the adopted manifest and describes the change."""
    fake, api = repo
    emulator.seed([{"name": "a", "versions": 2}])
    (tmp_path / "manifests").mkdir()
    m = write_manifest(tmp_path / "manifests", ORIGINAL, "prod.yaml")
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    emulator.boto3_client("lambda").update_alias(FunctionName="a", Name="p", FunctionVersion="2")
    r = run_cli(emulator, "adopt", m, "--write", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    (tmp_path / "adopt.md").write_text(r.stdout)
    r2 = adopt_pr(api, tmp_path, "manifests/prod.yaml", "--body-file", "adopt.md")
    assert r2.exit_code == 0, r2.output
    branch = branch_for(["manifests/prod.yaml"])
    adopted = fake.files_of(f"refs/heads/{branch}")["manifests/prod.yaml"]
    assert adopted == ORIGINAL.replace("version: 1}", "version: 2}")
    assert "p: version 1 → 2" in fake.pulls[0]["body"]
    assert "changed outside git since the last apply" in fake.pulls[0]["body"]
    message = fake.commits[fake.refs[f"refs/heads/{branch}"]]["message"]
    assert message.startswith("Adopt Lambda aliases changed outside git\n\n- `a` (")


def test_the_commit_goes_on_top_of_the_commit_the_files_were_read_from(
    repo: tuple[FakeGitRepo, str], tmp_path: Path
) -> None:
    """With GITHUB_SHA (or --parent) older than main's head, the adoption is based on it, so a
    change merged meanwhile is not undone by the pull request."""
    fake, api = repo
    read_from = fake.refs["refs/heads/main"]
    tree = fake._tree({"manifests/prod.yaml": ORIGINAL, "README.md": "changed meanwhile\n"})
    fake.refs["refs/heads/main"] = fake._commit("later", tree, [read_from])
    setup(tmp_path, ORIGINAL.replace("version: 1}", "version: 2}"))
    r = adopt_pr(
        api, tmp_path, "manifests/prod.yaml", "--body-file", "adopt.md", "--parent", read_from
    )
    assert r.exit_code == 0, r.output
    head = fake.commits[fake.refs[f"refs/heads/{branch_for(['manifests/prod.yaml'])}"]]
    assert [p["sha"] for p in head["parents"]] == [read_from]
    assert fake.pulls[0]["base"]["ref"] == "main"


def test_the_base_is_the_branch_the_workflow_runs_on(
    repo: tuple[FakeGitRepo, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under Actions, GITHUB_REF's branch is the base and GITHUB_SHA the parent, so the pull
    request holds the adoption and nothing else."""
    fake, api = repo
    main_sha = fake.refs["refs/heads/main"]
    fake.refs["refs/heads/release"] = fake._commit(
        "release", fake.commits[main_sha]["tree"]["sha"], [main_sha]
    )
    setup(tmp_path, ORIGINAL.replace("version: 1}", "version: 2}"))
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.setenv("GITHUB_REF", "refs/heads/release")
    monkeypatch.setenv("GITHUB_SHA", fake.refs["refs/heads/release"])
    env = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "acme/lambdas", "GITHUB_API_URL": api}
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(
        main, ["github", "adopt-pr", "manifests/prod.yaml", "--body-file", "adopt.md"], env=env
    )
    assert r.exit_code == 0, r.output
    head = fake.commits[fake.refs[f"refs/heads/{branch_for(['manifests/prod.yaml'])}"]]
    assert [p["sha"] for p in head["parents"]] == [fake.refs["refs/heads/release"]]
    assert fake.pulls[0]["base"]["ref"] == "release"
