"""`lambda-reconciler validate` as users and CI run it: the real CLI (in process), exit codes, and
FILE:LINE:COL lines (plus GitHub workflow commands under GitHub Actions)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.cli_helpers import CliResult, run_main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "manifests").glob("*.yaml"))
LOCATED = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): \S")


def validate(*args: str, github: bool = False) -> CliResult:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    if github:
        env["GITHUB_ACTIONS"] = "true"
    return run_main(["validate", *args], env, cwd=ROOT)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid(example: Path) -> None:
    """Every example manifest validates: exit 0, nothing on standard output."""
    r = validate(str(example.relative_to(ROOT)))
    assert (r.returncode, r.stdout) == (0, ""), r.stderr
    assert "1 manifest valid: " in r.stderr


BAD = """\
version: 1
functions:
  api:
    aliases:
      prod: {version: 1, canary: {version: 1, weight: 150%}}
      "42": {version: 2}
"""


def test_invalid_manifest_exits_1_with_located_errors(tmp_path: Path) -> None:
    """Exit 1; every problem on its own FILE:LINE:COL line on standard error; no traceback."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    r = validate(str(bad))
    assert r.returncode == 1
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert lines == [
        f"{bad}:5:55: functions.api.aliases.prod.canary.weight: expected a weight between 0 "
        'and 1 such as 0.1 or "10%", got "150%"',
        f'{bad}:6:7: functions.api.aliases.42: invalid alias name "42": expected 1-128 '
        "characters a-z A-Z 0-9 - _, not all digits",
        "error: 2 problems in 1 manifest",
    ]


def test_github_actions_annotations(tmp_path: Path) -> None:
    """Under GitHub Actions each problem is also an `::error` command on standard output,
    with `%` escaped so that GitHub shows the message as written."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    r = validate(str(bad), github=True)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        f"::error file={bad},line=5,col=55,title=invalid manifest::functions.api.aliases.prod"
        '.canary.weight: expected a weight between 0 and 1 such as 0.1 or "10%25", got "150%25"',
        f"::error file={bad},line=6,col=7,title=invalid manifest::functions.api.aliases.42: "
        'invalid alias name "42": expected 1-128 characters a-z A-Z 0-9 - _, not all digits',
    ]
    assert all(LOCATED.match(line) for line in r.stderr.splitlines()[:-1])


def test_no_annotations_outside_github_actions(tmp_path: Path) -> None:
    """Standard output stays empty when not under GitHub Actions."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    assert validate(str(bad)).stdout == ""


def test_problems_of_every_file_are_reported(tmp_path: Path) -> None:
    """Several manifests: the problems of every file, and the function declared twice."""
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    c = tmp_path / "c.yaml"
    a.write_text("version: 1\nfunctions:\n  web: {}\n")
    b.write_text("version: 1\nfunctions:\n  api: {publish: maybe}\n")
    c.write_text("version: 1\nfunctions:\n  web: {}\n")
    missing = tmp_path / "missing.yaml"
    r = validate(str(a), str(b), str(missing), str(c))
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        f"{b}:3:18: functions.api.publish: expected true, false or {{description: TEXT}}, "
        'got "maybe"',
        f"{missing}:1:1: cannot read the file: No such file or directory",
        f"{c}:3:3: functions.web: function web is already declared at {a}:3:3; "
        "a function may appear only once per run",
        "error: 3 problems in 3 manifests",
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\xff\xfe not utf-8",
        b"- just\n- a list\n",
        b"version: 1\nfunctions: {\n",
        b"version: 1\nfunctions: {a: {}}\n---\nversion: 1\n",
        b"a: &a [" + b",".join([b"x"] * 50) + b"]\nb: &b [" + b",".join([b"*a"] * 50) + b"]\n"
        b"c: &c [" + b",".join([b"*b"] * 50) + b"]\nd: [" + b",".join([b"*c"] * 50) + b"]\n",
        b"version: 1\nfunctions: " + b"[" * 20000 + b"]" * 20000 + b"\n",
        b"version: !!python/object/apply:os.system ['echo hacked']\nfunctions: {a: {}}\n",
    ],
    ids=["empty", "not-utf8", "list", "malformed", "two-docs", "anchor-bomb", "deep", "pytag"],
)
def test_hostile_or_broken_files_fail_cleanly(
    tmp_path: Path, raw: bytes, capfd: pytest.CaptureFixture[str]
) -> None:
    """Whatever the bytes: exit 1, one located message per problem, no traceback, quickly."""
    path = tmp_path / "m.yaml"
    path.write_bytes(raw)
    start = time.perf_counter()
    r = validate(str(path))
    assert time.perf_counter() - start < 30
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "hacked" not in r.stdout + r.stderr
    assert "hacked" not in "".join(capfd.readouterr())  # nothing ran behind the CLI's back
    *problems, summary = r.stderr.splitlines()
    assert problems
    assert all(line.startswith(f"{path}:") for line in problems)
    assert all(LOCATED.match(line) for line in problems)
    assert summary.startswith("error: ")


def test_empty_directory_is_reported_not_a_usage_error(tmp_path: Path) -> None:
    """A directory with no manifest is a manifest problem (exit 1), not a command-line misuse."""
    r = validate(str(tmp_path))
    assert r.returncode == 1
    assert r.stderr.splitlines()[0] == f"{tmp_path}:1:1: no *.yaml or *.yml file in this directory"
