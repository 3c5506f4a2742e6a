"""`--shard K/N` over the real CLI: the shards of a manifest union to the whole with no overlap;
each job's plan records its shard; `github comment` posts every shard's plan in one comment
(against the fake GitHub of tests/test_github.py) and each apply job checks its own shard's
reviewed fingerprint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.render.markdown import marker_for
from tests.cli_helpers import run_cli, write_manifest
from tests.test_github import (  # noqa: F401 (fixtures used by name)
    FakeGitHub,
    gh,
    github,
    in_repository,
    json_plan,
    run_env,
    write_json,
)

NAMES = [f"fn-{i:02d}" for i in range(12)]


def test_three_shards_union_to_the_whole_with_no_overlap(emulator: Any, tmp_path: Path) -> None:
    emulator.seed([{"name": n, "versions": 1, "aliases": {"live": 1}} for n in NAMES])
    functions = "".join(f"  {n}: {{aliases: {{live: {{version: 1}}}}}}\n" for n in NAMES)
    m = write_manifest(tmp_path, f"version: 1\nregion: us-east-1\nfunctions:\n{functions}")
    seen: list[list[str]] = []
    for k in (1, 2, 3):
        r = run_cli(emulator, "plan", m, "--shard", f"{k}/3", "--format", "json")
        assert r.returncode == 0, r.stderr
        plan = json.loads(r.stdout)
        assert plan["shard"] == f"{k}/3"
        names = [fp["function"] for fp in plan["functions"]]
        seen.append(names)
        assert (
            f"--shard {k}/3: this run covers {len(names)} of 12 functions (by account, region "
            "and name; the 3 shards together cover each once)"
        ) in r.stderr
    assert sorted(n for names in seen for n in names) == NAMES
    assert all(seen)  # 12 functions: no shard is empty with this split
    drift = run_cli(emulator, "drift", m, "--shard", "2/3", "--format", "json")
    assert drift.returncode == 0, drift.stderr
    assert [fp["function"] for fp in json.loads(drift.stdout)["functions"]] == seen[1]


def test_a_saved_plan_is_applied_exactly_and_a_bad_shard_is_one_line(
    emulator: Any, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text("{}")
    r = run_cli(emulator, "apply", str(saved), "--shard", "1/2")
    assert r.returncode == 1
    assert "--shard narrows a plan; a saved plan is applied exactly" in r.stderr
    m = write_manifest(tmp_path, "version: 1\nfunctions: {f: {aliases: {live: {version: 1}}}}\n")
    r = run_cli(emulator, "plan", m, "--shard", "3/2")
    assert r.returncode == 1
    assert "Invalid value for '--shard': K must be between 1 and N (2)" in r.stderr
    assert "Traceback" not in r.stderr


def shard_plan(k: int, functions: list[int], version: str = "2") -> dict[str, Any]:
    """A plan of shard k/3 updating the functions numbered `functions`."""
    plan = json_plan(max(functions) + 1, version=version)
    plan["functions"] = [plan["functions"][i] for i in functions]
    plan["shard"] = f"{k}/3"
    return plan


def test_one_comment_shows_every_shard_and_each_apply_checks_its_own(
    github: tuple[FakeGitHub, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    fake, api = github
    plans = [shard_plan(1, [0, 3]), shard_plan(2, [1]), shard_plan(3, [2, 4])]
    paths = [write_json(tmp_path, p, f"shard-{k}.json") for k, p in enumerate(plans, 1)]
    env = run_env(tmp_path, "9001", "a" * 40, "2026-12-01T10:00:00Z")
    args = [a for p in paths for a in ("--plan-json", p)]
    r = gh(api, "comment", *args, **env)
    assert r.returncode == 0, r.stderr
    assert [m for m, _ in fake.writes()] == ["POST"]  # one comment for the three
    (posted,) = fake.comments[7]
    text = posted["body"]
    for i in range(5):
        assert f"service-{i:03d}-" in text
    assert (
        "Plans shown together, each applied by its own job:\n\n"
        "- `m.yaml`: shards `1/3`, `2/3`, `3/3`\n"
    ) in (text)
    assert text.split("\n")[2].startswith("### 📋 lambda-reconciler plan: 15 ")
    assert text.split("\n")[1] == marker_for(["m.yaml"]).split("\n")[1]  # the set's marker
    fake.pulls_of_commit["M" * 40] = [
        {"number": 7, "merged_at": "2026-12-01T10:05:00Z", "head": {"sha": "a" * 40}}
    ]
    for path in paths:  # each job's own plan, planned again at the merge
        r = gh(api, "check-reviewed", path, GITHUB_SHA="M" * 40)
        assert r.returncode == 0, r.stderr
    changed = write_json(tmp_path, shard_plan(2, [1], version="3"), "fresh-2.json")
    r = gh(api, "check-reviewed", changed, GITHUB_SHA="M" * 40)
    assert r.returncode == 1
    assert "operations of service-001-xxxxxxxxxxxxxxxxxxxx (us-east-1) changed" in r.stderr
    other = shard_plan(1, [0, 3])
    other["shard"] = "1/4"
    r = gh(api, "check-reviewed", write_json(tmp_path, other, "n4.json"), GITHUB_SHA="M" * 40)
    assert r.returncode == 1
    assert "holds no plan of these manifests (and shard)" in r.stderr


@pytest.mark.parametrize("shards", [("1/3", "1/3"), ("1/3", "2/4"), ("1/3", None)])
def test_plans_that_are_not_shards_of_one_matrix_are_refused(
    github: tuple[FakeGitHub, str],  # noqa: F811
    tmp_path: Path,
    shards: tuple[str, str | None],
) -> None:
    fake, api = github
    paths = []
    for i, label in enumerate(shards):
        plan = json_plan(1)
        plan["shard"] = label
        paths.append(write_json(tmp_path, plan, f"p{i}.json"))
    r = gh(api, "comment", "--pr", "7", "--plan-json", paths[0], "--plan-json", paths[1])
    assert r.returncode == 1
    assert r.stderr.startswith("error: github comment: ")
    assert fake.writes() == []


def test_a_shard_plan_alone_keeps_its_own_comment(
    github: tuple[FakeGitHub, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """A job that posts its own shard's plan (`render`, then `comment`) gets a comment of its
    own: another shard's does not replace it, and check-reviewed finds it."""
    fake, api = github
    env = run_env(tmp_path, "9001", "a" * 40, "2026-12-01T10:00:00Z")
    for k in (1, 2):
        path = write_json(tmp_path, shard_plan(k, [k]), f"s{k}.json")
        md = tmp_path / f"s{k}.md"
        md.write_text(gh(api, "render", path).stdout)
        r = gh(api, "comment", "--body-file", str(md), "--plan-json", path, **env)
        assert r.returncode == 0, r.stderr
    assert [m for m, _ in fake.writes()] == ["POST", "POST"]
    fake.pulls_of_commit["M" * 40] = [
        {"number": 7, "merged_at": "2026-12-01T10:05:00Z", "head": {"sha": "a" * 40}}
    ]
    r = gh(api, "check-reviewed", str(tmp_path / "s2.json"), GITHUB_SHA="M" * 40)
    assert r.returncode == 0, r.stderr


def test_one_comment_holds_the_plans_of_several_manifest_sets(
    github: tuple[FakeGitHub, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    """An organisation's matrix (a job per account's set, two shards for one of them): one
    comment under the fleet marker; each job's check finds its own plan in it."""
    fake, api = github
    (tmp_path / "other.yaml").write_text((tmp_path / "m.yaml").read_text())
    first = shard_plan(1, [0])
    first["shard"] = "1/2"
    second = shard_plan(2, [1])
    second["shard"] = "2/2"
    other = json_plan(3, manifests=("other.yaml",))
    other["functions"] = other["functions"][2:]
    paths = [
        write_json(tmp_path, p, f"plan-{i}.json") for i, p in enumerate((first, second, other))
    ]
    env = run_env(tmp_path, "9001", "a" * 40, "2026-12-01T10:00:00Z")
    r = gh(api, "comment", *[a for p in paths for a in ("--plan-json", p)], **env)
    assert r.returncode == 0, r.stderr
    (posted,) = fake.comments[7]
    text = posted["body"]
    assert text.startswith(
        "<!-- lambda-reconciler:plan -->\n<!-- lambda-reconciler:manifests=fleet -->\n"
    )
    assert "- `m.yaml`: shards `1/2`, `2/2`\n- `other.yaml`: the whole set\n" in text
    fake.pulls_of_commit["M" * 40] = [
        {"number": 7, "merged_at": "2026-12-01T10:05:00Z", "head": {"sha": "a" * 40}}
    ]
    for path in paths:
        r = gh(api, "check-reviewed", path, GITHUB_SHA="M" * 40)
        assert r.returncode == 0, r.stderr
    changed = json_plan(3, manifests=("other.yaml",), version="4")
    changed["functions"] = changed["functions"][2:]
    r = gh(api, "check-reviewed", write_json(tmp_path, changed, "c.json"), GITHUB_SHA="M" * 40)
    assert r.returncode == 1
    assert "operations of service-002-xxxxxxxxxxxxxxxxxxxx (us-east-1) changed" in r.stderr
