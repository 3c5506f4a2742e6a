"""The composite Action's own scripts, run as a runner would, against the emulator and a fake
GitHub: plan + sticky comment, a failed validate that replaces it, apply, drift + drift issue.

`ActionRunner` interprets `action.yml` the way GitHub does for the parts the Action uses: the
`${{ }}` expressions of `env:`, `working-directory:` and `if:`, `bash -eo pipefail` for each
`run:`, `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`, `$GITHUB_EVENT_PATH`, and a step's failure
skipping the steps that have no status function. `uses:` steps (setup-python) and the install
into the Action's own virtual environment are the only ones not run: this environment already
has the package, and a bin directory stands in for the virtual environment's — in these tests the
`cli_bin` fixture's, whose `lambda-reconciler` is a new process that skips the interpreter's
imports (tests/cli_forkserver.py; tests/test_cli_forkserver.py compares it with the console
script).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.plan.planfile import load_plan_file
from reconciler.render.markdown import marker_for
from tests.cli_helpers import write_manifest
from tests.test_github import READ_ONLY, TOKEN, FakeGitHub, serve

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
TOKENS = re.compile(r"\s*('(?:[^']|'')*'|==|!=|&&|\|\||!|\(|\)|[A-Za-z_][\w.-]*(?:\(\))?)")

MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: %s}
"""


@dataclass
class Run:
    """What one use of the Action did."""

    status: str  # "success" or "failure", as the job would show
    outputs: dict[str, str]
    summary: str
    log: str
    steps: list[tuple[str, str]] = field(default_factory=list)  # (name, "ran"/"skipped"/"failed")


class ActionRunner:
    def __init__(
        self, workspace: Path, env: dict[str, str], api: str, bin_dir: Path | None = None
    ) -> None:
        self.workspace = workspace
        # The install step's output: where the Action finds `lambda-reconciler`.
        self.bin_dir = str(bin_dir or Path(sys.executable).parent)
        self.env = {
            **env,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "acme/lambdas",
            "GITHUB_API_URL": api,
            "RUNNER_TEMP": str(workspace / "_temp"),
        }
        (workspace / "_temp").mkdir(exist_ok=True)

    def run(
        self,
        event: str = "pull_request",
        pr: int = 7,
        payload: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        **inputs: str,
    ) -> Run:
        values = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
        values["github-token"] = TOKEN
        values.update({k.replace("_", "-"): v for k, v in inputs.items()})
        if payload is None:
            payload = {"pull_request": {"number": pr}} if event == "pull_request" else {}
        event_path = self.workspace / "_temp" / "event.json"
        event_path.write_text(json.dumps(payload))
        context: dict[str, Any] = {
            "inputs": values,
            "github": {
                "event_name": event,
                "action_path": str(ROOT),
                "token": TOKEN,
                "event": payload,
            },
            "steps": {},
        }
        extra_env = {"GITHUB_EVENT_PATH": str(event_path), **(env or {})}
        failed = False
        log: list[str] = []
        summary = ""
        done: list[tuple[str, str]] = []
        for step in ACTION["runs"]["steps"]:
            name = step["name"]
            condition = step.get("if", "success()")
            if not self._if(condition, context, failed):
                done.append((name, "skipped"))
                continue
            if "uses" in step or step.get("id") == "install":
                if step.get("id") == "install":
                    context["steps"]["install"] = {"outputs": {"bin": self.bin_dir}}
                done.append((name, "provided"))
                continue
            out_file = self.workspace / "_temp" / "output"
            sum_file = self.workspace / "_temp" / "summary"
            out_file.write_text("")
            sum_file.write_text("")
            env = {k: self._sub(str(v), context) for k, v in step.get("env", {}).items()}
            cwd = self.workspace / self._sub(step.get("working-directory", "."), context)
            script = self.workspace / "_temp" / "step.sh"
            script.write_text(step["run"])
            r = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=cwd,
                env={
                    **self.env,
                    **extra_env,
                    **env,
                    "GITHUB_OUTPUT": str(out_file),
                    "GITHUB_STEP_SUMMARY": str(sum_file),
                },
                capture_output=True,
                text=True,
                timeout=300,
            )
            log.append(r.stdout + r.stderr)
            summary += sum_file.read_text()
            outputs = dict(
                line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line
            )
            if "id" in step:
                context["steps"][step["id"]] = {"outputs": outputs}
            if r.returncode != 0:
                failed = True
            done.append((name, "failed" if r.returncode else "ran"))
        action_outputs = {k: self._sub(v["value"], context) for k, v in ACTION["outputs"].items()}
        return Run("failure" if failed else "success", action_outputs, summary, "".join(log), done)

    # ---- expressions: the subset action.yml uses -----------------------------------------

    def _lookup(self, path: str, context: dict[str, Any]) -> str:
        value: Any = context
        for part in path.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        return "" if value is None else str(value)

    def _sub(self, text: str, context: dict[str, Any]) -> str:
        return EXPR.sub(lambda m: self._lookup(m.group(1).strip(), context), text)

    def _if(self, condition: str, context: dict[str, Any], failed: bool) -> bool:
        text = EXPR.sub(lambda m: m.group(1), condition).strip()
        python: list[str] = []
        pos = 0
        while pos < len(text):
            m = TOKENS.match(text, pos)
            assert m, f"unsupported expression: {text!r}"
            tok = m.group(1)
            pos = m.end()
            python.append(
                {"&&": " and ", "||": " or ", "!": " not ", "(": "(", ")": ")"}.get(tok)
                or {"==": "==", "!=": "!="}.get(tok)
                or {"cancelled()": "False", "success()": repr(not failed)}.get(tok)
                or {"always()": "True", "failure()": repr(failed)}.get(tok)
                or (repr(tok[1:-1].replace("''", "'")) if tok.startswith("'") else None)
                or repr(self._lookup(tok, context))
            )
        return bool(eval("".join(python), {"__builtins__": {}}))


@pytest.fixture
def runner(emulator: Any, tmp_path: Path, cli_bin: Path) -> Any:
    """The Action and a fake GitHub; every request the Action sent must be one GitHub's
    OpenAPI description allows."""
    fake = FakeGitHub()
    with serve(fake) as api:
        yield ActionRunner(tmp_path, emulator.env(), api, cli_bin), fake
    assert fake.violations == []


def seeded(emulator: Any, tmp_path: Path, version: int = 2) -> Path:
    emulator.seed([{"name": "orders", "versions": 3}])
    (tmp_path / "manifests").mkdir(exist_ok=True)
    return Path(write_manifest(tmp_path / "manifests", MANIFEST % version, "prod.yaml"))


def test_plan_on_a_pull_request_keeps_one_sticky_comment(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    action, github = runner
    manifest = seeded(emulator, tmp_path)
    first = action.run(command="plan", manifests="manifests/*.yaml")
    assert first.status == "success", first.log
    assert first.outputs["exit-code"] == "2"
    assert first.outputs["has-changes"] == "true"
    plan = load_plan_file(first.outputs["plan-json"])
    assert plan.summary["create_alias"] == 1
    assert "### 📋 lambda-reconciler plan: 1 to create" in first.summary
    assert "  + create_alias prod  → 2" in first.log  # the text plan, in the log
    [comment] = github.comments[7]
    assert comment["body"].startswith(marker_for(["manifests/prod.yaml"]))

    manifest.write_text(MANIFEST % 3)
    second = action.run(command="plan", manifests="manifests/prod.yaml")
    assert second.status == "success", second.log
    [comment] = github.comments[7]
    assert "→ 3" in comment["body"]
    assert emulator.state("orders")["aliases"] == {}  # plan wrote nothing


def test_an_invalid_manifest_annotates_the_file_and_replaces_the_comment(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    action, github = runner
    manifest = seeded(emulator, tmp_path)
    assert action.run(manifests="manifests/prod.yaml").status == "success"
    manifest.write_text(MANIFEST.replace("aliases", "alias") % 2)
    emulator.clear_calls()
    r = action.run(manifests="manifests/prod.yaml")
    assert r.status == "failure"
    assert r.outputs["exit-code"] == "1"
    assert r.outputs["plan-json"] == ""
    assert "::error file=manifests/prod.yaml,line=6,col=5," in r.log
    [comment] = github.comments[7]
    assert "### ❌ lambda-reconciler plan: failed" in comment["body"]
    assert "The manifests are invalid" in comment["body"]
    assert "manifests/prod.yaml:6:5:" in comment["body"]
    assert "::error" not in comment["body"]
    assert "### ❌ lambda-reconciler plan: failed" in r.summary
    assert emulator.calls() == []


HEAD = "a" * 40  # the pull request's head commit
MERGE = "e" * 40  # its merge commit on main


def review_then_merge(action: ActionRunner, github: FakeGitHub) -> Run:
    """Plan on pull request #7 at HEAD (the sticky comment records it), then merge it as MERGE."""
    payload = {"pull_request": {"number": 7, "head": {"sha": HEAD}}}
    planned = action.run(
        manifests="manifests/*.yaml",
        payload=payload,
        env={"GITHUB_RUN_ID": "501", "GITHUB_RUN_NUMBER": "12"},
    )
    assert planned.status == "success", planned.log
    github.pulls_of_commit[MERGE] = [
        {
            "number": 7,
            "merged_at": "2026-12-01T10:00:00Z",
            "merge_commit_sha": MERGE,
            "head": {"sha": HEAD},
        }
    ]
    return planned


def test_apply_applies_the_reviewed_plan_then_nothing_is_left(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    action, github = runner
    seeded(emulator, tmp_path)
    review_then_merge(action, github)
    r = action.run(
        event="push", command="apply", manifests="manifests/*.yaml", env={"GITHUB_SHA": MERGE}
    )
    assert r.status == "success", r.log
    assert r.outputs["exit-code"] == "0"
    assert r.outputs["has-changes"] == "true"
    assert r.outputs["count-create-alias"] == "1"
    assert "the plan is the one reviewed in #7" in r.log
    assert "#### ✅ Applied." in r.summary
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "2"
    github.requests.clear()
    again = action.run(
        event="push", command="apply", manifests="manifests/*.yaml", env={"GITHUB_SHA": MERGE}
    )
    assert again.outputs == {**again.outputs, "exit-code": "0", "has-changes": "false"}
    assert "Applied" not in again.summary
    assert github.requests == []  # nothing to apply: no review to look up, no comment


def test_apply_refuses_a_plan_that_differs_from_the_reviewed_one(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """Live state moved after the review: the merge's plan differs, nothing is written, the
    job fails with the reason; `allow-unreviewed: true` applies it anyway."""
    action, github = runner
    seeded(emulator, tmp_path)
    review_then_merge(action, github)
    lam = emulator.boto3_client("lambda")
    lam.publish_version(FunctionName="orders")  # version 4 appears: retention, aliases unchanged
    lam.create_alias(FunctionName="orders", Name="prod", FunctionVersion="3")
    emulator.clear_calls()
    r = action.run(
        event="push", command="apply", manifests="manifests/*.yaml", env={"GITHUB_SHA": MERGE}
    )
    assert r.status == "failure"
    assert r.outputs["exit-code"] == "1"
    assert (
        "::error title=lambda-reconciler apply refused::error: the plan changed since the "
        "review in #7 (https://github.com/acme/lambdas/pull/7#issuecomment-1001): operations "
        "of orders (us-east-1) changed. Nothing was applied." in r.log
    )
    assert "#### ❌ Apply refused: this is not the plan that was reviewed." in r.summary
    assert [c for c in emulator.calls() if c.get("write")] == []
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "3"
    forced = action.run(
        event="push",
        command="apply",
        manifests="manifests/*.yaml",
        allow_unreviewed="TRUE",
        env={"GITHUB_SHA": MERGE},
    )
    assert forced.status == "success", forced.log
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "2"


def test_a_stale_merge_posts_the_fresh_plan_and_applies_it_only_with_its_fingerprint(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """Live state moved between review and merge: the apply is refused, the fresh plan is
    posted on the pull request with its review fingerprint, and a manual run applies it only
    with that fingerprint and only while the plan is still the one posted."""
    action, github = runner
    seeded(emulator, tmp_path)
    review_then_merge(action, github)
    lam = emulator.boto3_client("lambda")
    lam.create_alias(FunctionName="orders", Name="prod", FunctionVersion="3")
    refused = action.run(
        event="push",
        command="apply",
        manifests="manifests/*.yaml",
        manifest_set="prod-us-east-1",
        env={"GITHUB_SHA": MERGE, "GITHUB_WORKFLOW": "lambda apply"},
    )
    assert refused.status == "failure"
    _, fresh = github.comments[7]
    assert fresh["body"].startswith(marker_for(["manifests/prod.yaml"], "fresh"))
    fingerprint = re.findall(r"\nreview=(sha256:[0-9a-f]{64})\n", fresh["body"])[-1]
    assert f"- `reviewed-plan`: `{fingerprint}`" in fresh["body"]
    assert "- `set`: `prod-us-east-1`" in fresh["body"]
    assert "run the workflow `lambda apply`" in fresh["body"]
    assert "🔄 update alias" in fresh["body"]  # the fresh plan itself: prod 3 → 2
    assert f"run this workflow by hand with `reviewed-plan: {fingerprint}`" in refused.summary
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "3"

    wrong = action.run(
        event="workflow_dispatch",
        command="apply",
        manifests="manifests/*.yaml",
        reviewed_plan="sha256:" + "0" * 64,
        env={"GITHUB_SHA": MERGE},
    )
    assert wrong.status == "failure"
    assert "is not the fingerprint of the fresh plan posted for review on #7" in wrong.log
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "3"

    applied = action.run(
        event="workflow_dispatch",
        command="apply",
        manifests="manifests/*.yaml",
        reviewed_plan=fingerprint,
        env={"GITHUB_SHA": MERGE},
    )
    assert applied.status == "success", applied.log
    assert "the plan is the one posted for review on #7" in applied.log
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "2"


def test_a_posted_fresh_plan_is_refused_once_live_state_moves_again(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    action, github = runner
    seeded(emulator, tmp_path)
    review_then_merge(action, github)
    lam = emulator.boto3_client("lambda")
    lam.create_alias(FunctionName="orders", Name="prod", FunctionVersion="3")
    action.run(
        event="push", command="apply", manifests="manifests/*.yaml", env={"GITHUB_SHA": MERGE}
    )
    _, fresh = github.comments[7]
    fingerprint = re.findall(r"\nreview=(sha256:[0-9a-f]{64})\n", fresh["body"])[-1]
    lam.update_alias(FunctionName="orders", Name="prod", FunctionVersion="1")  # moved again
    r = action.run(
        event="workflow_dispatch",
        command="apply",
        manifests="manifests/*.yaml",
        reviewed_plan=fingerprint,
        env={"GITHUB_SHA": MERGE},
    )
    assert r.status == "failure"
    assert "the plan changed since the fresh plan was posted for review on #7" in r.log
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "1"
    _, fresh = github.comments[7]  # the same comment, now with the newer fresh plan
    assert re.findall(r"\nreview=(sha256:[0-9a-f]{64})\n", fresh["body"])[-1] != fingerprint


def test_apply_without_a_merged_pull_request_is_refused(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """A direct push to main was never reviewed."""
    action, _ = runner
    seeded(emulator, tmp_path)
    r = action.run(
        event="push", command="apply", manifests="manifests/*.yaml", env={"GITHUB_SHA": MERGE}
    )
    assert r.status == "failure"
    assert f"commit {MERGE[:12]} is not the merge of a pull request" in r.log
    assert emulator.state("orders")["aliases"] == {}


def test_drift_keeps_one_issue_and_fails_the_job_only_when_asked(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    action, github = runner
    seeded(emulator, tmp_path)
    assert action.run(
        event="push", command="apply", manifests="manifests/*.yaml", allow_unreviewed="true"
    ).status == ("success")
    quiet = action.run(
        event="schedule", command="drift", manifests="manifests/*.yaml", drift_issue="true"
    )
    assert quiet.status == "success"
    assert quiet.outputs["exit-code"] == "0"
    assert github.issues == {}

    emulator.boto3_client("lambda").update_alias(
        FunctionName="orders", Name="prod", FunctionVersion="1"
    )
    found = action.run(
        event="schedule", command="drift", manifests="manifests/*.yaml", drift_issue="true"
    )
    assert found.status == "success", found.log
    assert (found.outputs["exit-code"], found.outputs["has-changes"]) == ("2", "true")
    assert found.outputs["drift-issue-url"] == "https://github.com/acme/lambdas/issues/1"
    assert "::warning title=Drift detected::" in found.log
    assert github.issues[1]["state"] == "open"
    assert "Drift detected in 1 function" in github.issues[1]["body"]
    strict = action.run(
        event="schedule",
        command="drift",
        manifests="manifests/*.yaml",
        drift_issue="true",
        fail_on_drift="true",
    )
    assert strict.status == "failure"
    assert len(github.issues) == 1

    action.run(event="push", command="apply", manifests="manifests/*.yaml", allow_unreviewed="true")
    healed = action.run(
        event="schedule", command="drift", manifests="manifests/*.yaml", drift_issue="true"
    )
    assert healed.status == "success"
    assert github.issues[1]["state"] == "closed"


def test_a_failed_comment_fails_the_job_but_keeps_the_plans_result(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    action, github = runner
    seeded(emulator, tmp_path)
    github.fail(
        "POST", "/repos/", 403, times=5, body={"message": "Resource not accessible by integration"}
    )
    r = action.run(manifests="manifests/*.yaml")
    assert r.status == "failure"
    assert ("Comment on the pull request", "failed") in r.steps
    assert ("Exit with the command's result", "ran") in r.steps
    assert r.outputs["exit-code"] == "2"
    assert "403 Resource not accessible by integration" in r.log
    assert "lambda-reconciler plan: 1 to create" in r.summary


def test_inputs_never_become_shell_code(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """Manifest paths and args are data: no command substitution, no globbing of args."""
    action, _ = runner
    seeded(emulator, tmp_path)
    r = action.run(
        manifests='manifests/prod.yaml $(touch pwned-1) "; touch pwned-2; "',
    )
    assert r.status == "failure"
    assert "$(touch:1:1: cannot read the file" in r.log  # a file name, not a command
    r = action.run(manifests="manifests/prod.yaml", args="`touch pwned-3` *")
    assert "`touch:1:1: cannot read the file" in r.log
    assert "\n*:1:1: " in r.log  # reaches the CLI as written: the shell did not glob it
    assert not list(tmp_path.glob("**/pwned-*"))


def test_every_pattern_must_match_and_duplicates_count_once(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    action, _ = runner
    seeded(emulator, tmp_path)
    r = action.run(manifests="manifests/*.yaml\nmanifests/prod.yaml")
    assert r.outputs["exit-code"] == "2", r.log
    assert load_plan_file(r.outputs["plan-json"]).manifests == ("manifests/prod.yaml",)
    r = action.run(manifests="manifests/*.yaml other/*.yml")
    assert r.status == "failure"
    assert "::error title=lambda-reconciler::no manifest matches: other/*.yml" in r.log
    r = action.run(command="destroy", manifests="manifests/*.yaml")
    assert r.status == "failure"
    assert "command must be plan, apply or drift, got: destroy" in r.log


def test_the_outputs_are_json_and_markdown_files(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    action, _ = runner
    seeded(emulator, tmp_path)
    r = action.run(event="push", manifests="manifests/*.yaml")
    data = json.loads(Path(r.outputs["plan-json"]).read_text())
    assert data["kind"] == "plan"
    assert Path(r.outputs["markdown"]).read_text().startswith("<!-- lambda-reconciler:plan -->")


def test_a_fork_pull_request_gets_a_warning_not_a_failed_job(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """The fork's token may not write: the comment is skipped with a ::warning."""
    action, github = runner
    seeded(emulator, tmp_path)
    payload = {
        "pull_request": {
            "number": 7,
            "head": {"sha": HEAD, "repo": {"full_name": "someone/lambdas"}},
            "base": {"repo": {"full_name": "acme/lambdas"}},
        }
    }
    r = action.run(manifests="manifests/*.yaml", payload=payload, github_token=READ_ONLY)
    assert r.status == "success", r.log
    assert ("Comment on the pull request", "ran") in r.steps
    assert (
        "::warning title=lambda-reconciler::No plan comment: this pull request comes from a fork"
        in r.log
    )
    assert r.outputs["comment-url"] == ""
    assert github.comments == {}


def test_boolean_inputs_take_any_case_and_refuse_anything_else(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """`comment: True` posts (it used to mean false); `comment: yes` is an error, not false."""
    action, github = runner
    seeded(emulator, tmp_path)
    r = action.run(manifests="manifests/*.yaml", comment="True")
    assert r.status == "success", r.log
    assert r.outputs["comment-url"] == github.comments[7][0]["html_url"]
    r = action.run(manifests="manifests/*.yaml", comment="yes", fail_on_drift="FALSE")
    assert r.status == "failure"
    assert "::error title=lambda-reconciler::input comment must be true or false, got: yes" in r.log
    assert "fail-on-drift must be" not in r.log
    assert ("Run lambda-reconciler", "skipped") in r.steps


def test_planning_errors_are_annotations_on_the_manifest_line(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """A valid manifest naming a version that does not exist: the error points at the line."""
    action, github = runner
    seeded(emulator, tmp_path, version=9)
    r = action.run(manifests="manifests/*.yaml")
    assert r.status == "failure"
    assert r.outputs["exit-code"] == "1"
    assert (
        "::error file=manifests/prod.yaml,line=4,col=3,title=lambda-reconciler plan::orders: "
        in r.log
    )
    [comment] = github.comments[7]
    assert "### ❌ lambda-reconciler plan: 1 error" in comment["body"]
    assert "`apply` refuses the whole plan while any error remains" in comment["body"]
    assert "\n<!-- lambda-reconciler:trailer\n" in comment["body"]
    assert "\nreview=sha256:" in comment["body"]


def test_the_log_is_folded_and_shown_with_commands_off(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """Each stage is a ::group::, and what the reconciler printed is between ::stop-commands::
    and its token, so a line of it can never act as a workflow command."""
    action, _ = runner
    seeded(emulator, tmp_path)
    r = action.run(manifests="manifests/*.yaml")
    assert re.findall(r"^::group::(.*)$", r.log, re.M) == [
        "validate",
        "plan",
        "the plan",
    ]
    shown = re.search(r"^::stop-commands::(\w+)\n(.*?)^::\1::$", r.log, re.M | re.S)
    assert shown is not None
    assert "1 manifest valid: 1 function." in shown.group(2)
    assert "create_alias prod  → 2" in r.log.split("::group::the plan")[1].split("::endgroup::")[0]


ROLLOUT = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: 3, rollout: {steps: [10%, 50%], interval: 2s}}
"""


def rollout_seeded(emulator: Any, tmp_path: Path) -> None:
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}])
    (tmp_path / "manifests").mkdir(exist_ok=True)
    write_manifest(tmp_path / "manifests", ROLLOUT, "prod.yaml")


def alias_moves(emulator: Any) -> list[tuple[str, dict[str, float]]]:
    """Each successful UpdateAlias, in order, as (version, additional weights) asked for."""
    return [
        (c["alias_version"], c["alias_weights"])
        for c in emulator.calls()
        if c.get("operation") == "UpdateAlias" and int(c.get("status", 0)) < 300
    ]


def test_wait_applies_with_wait_and_its_options(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """`wait: true` (with `wait-poll`, `wait-timeout`) makes the apply drive the rollout to
    100 % in the one job (without it, an apply takes one step), each step in the summary."""
    action, _ = runner
    rollout_seeded(emulator, tmp_path)
    now = {"LAMBDA_RECONCILER_NOW": "2026-11-01T12:00:00Z"}  # virtual time: sleeps take none
    r = action.run(
        event="push",
        command="apply",
        manifests="manifests/*.yaml",
        allow_unreviewed="true",
        wait="TRUE",
        wait_poll="1s",
        wait_timeout="1m",
        env=now,
    )
    assert r.status == "success", r.log
    assert alias_moves(emulator) == [("2", {"3": 0.1}), ("2", {"3": 0.5}), ("3", {})]
    assert "orders:prod: advancing to step 2/2 at 50%" in r.summary
    assert "Wait: every rollout is complete." in r.summary


def test_wait_timeout_is_exit_code_3_and_a_failed_job(
    runner: tuple[ActionRunner, FakeGitHub], emulator: Any, tmp_path: Path
) -> None:
    """`wait-timeout: 1s` on 2-second steps: the job fails with exit-code 3 and the summary
    says the rollouts stand where they are; a bad `wait` value is refused before any run."""
    action, _ = runner
    rollout_seeded(emulator, tmp_path)
    now = {"LAMBDA_RECONCILER_NOW": "2026-11-01T12:00:00Z"}
    r = action.run(
        event="push",
        command="apply",
        manifests="manifests/*.yaml",
        allow_unreviewed="true",
        wait="true",
        wait_poll="1s",
        wait_timeout="1s",
        env=now,
    )
    assert (r.status, r.outputs["exit-code"]) == ("failure", "3"), r.log
    assert "wait-timeout reached (exit 3): the rollouts stand where they are" in r.summary
    assert alias_moves(emulator) == [("2", {"3": 0.1})]
    r = action.run(command="apply", manifests="manifests/*.yaml", wait="yes")
    assert r.status == "failure"
    assert "::error title=lambda-reconciler::input wait must be true or false, got: yes" in r.log
