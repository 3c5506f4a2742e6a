"""The Action and the example workflows pass GitHub's schemas and the Actions security linter."""

from __future__ import annotations

import glob
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKFLOWS = sorted(glob.glob(str(ROOT / "examples" / "workflows" / "*.yml")))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_action_matches_the_github_action_schema() -> None:
    r = run(
        str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", "action.yml"
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_example_workflows_match_the_github_workflow_schema() -> None:
    assert len(WORKFLOWS) >= 3
    r = run(
        str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *WORKFLOWS
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_zizmor_finds_nothing_even_as_auditor() -> None:
    """No template injection, every action pinned by SHA, job-level minimal permissions."""
    r = run(
        str(BIN / "zizmor"),
        "--offline",
        "--persona=auditor",
        "action.yml",
        *WORKFLOWS,
        ".pre-commit-hooks.yaml",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "No findings to report" in r.stdout + r.stderr


def test_action_scripts_take_inputs_only_through_env() -> None:
    """Belt and braces: no `${{ inputs.* }}` or event data inside any `run:` script."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")
    assert set(action["inputs"]) >= {
        "command",
        "manifests",
        "working-directory",
        "python-version",
        "comment",
        "github-token",
        "drift-issue",
        "args",
    }
    assert set(action["outputs"]) == {"exit-code", "has-changes", "plan-json"}


def test_apply_workflow_never_overlaps() -> None:
    apply = yaml.safe_load((ROOT / "examples" / "workflows" / "apply.yml").read_text())
    assert apply["concurrency"] == {"group": "lambda-reconciler-apply", "cancel-in-progress": False}


def test_pre_commit_hook_runs_validate() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hooks[0]["id"] == "lambda-reconciler-validate"
    assert hooks[0]["entry"] == "lambda-reconciler validate"
