"""The Action and the example workflows pass GitHub's schemas and the Actions security linter,
offline; the linter is shown to bite on a bad workflow; the HTML of a realistic PR comment has
the expected structure."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

from reconciler.render.markdown import render_markdown
from tests.render_fixtures import realistic_plan
from tests.test_render import Structure

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WORKFLOWS = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "examples" / "workflows").glob("*.yml")
)
# Any network access fails fast: the schemas and the audits must all be local.
OFFLINE = {
    **os.environ,
    **dict.fromkeys(
        ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"), "http://127.0.0.1:9"
    ),
    "NO_PROXY": "",
    "no_proxy": "",
}


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, env=OFFLINE)


def test_action_matches_the_github_action_schema() -> None:
    r = run(
        str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", "action.yml"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok -- validation done" in r.stdout


def test_example_workflows_match_the_github_workflow_schema() -> None:
    assert {Path(w).name for w in WORKFLOWS} >= {"plan.yml", "apply.yml", "drift.yml"}
    r = run(
        str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *WORKFLOWS
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok -- validation done" in r.stdout


def test_every_example_job_has_a_timeout() -> None:
    """A hung job must not hold a runner, or the apply concurrency group, for six hours."""
    r = run(
        str(BIN / "check-jsonschema"),
        "--builtin-schema",
        "custom.github-workflows-require-timeout",
        *WORKFLOWS,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok -- validation done" in r.stdout


def test_the_timeout_check_bites(tmp_path: Path) -> None:
    """The control: a job without timeout-minutes is refused by the same check."""
    flow = yaml.safe_load((ROOT / "examples/workflows/apply.yml").read_text())
    del flow["jobs"]["apply"]["timeout-minutes"]
    bad = tmp_path / "apply.yml"
    bad.write_text(yaml.safe_dump(flow))
    r = run(
        str(BIN / "check-jsonschema"),
        "--builtin-schema",
        "custom.github-workflows-require-timeout",
        str(bad),
    )
    assert r.returncode == 1
    assert "'timeout-minutes' is a required property" in r.stdout


def test_zizmor_finds_nothing_even_as_auditor() -> None:
    """No template injection, every action pinned by SHA, job-level minimal permissions, no
    persisted credentials; each file is really audited (a directory not laid out as
    `.github/workflows` would be skipped, so the files are named one by one)."""
    files = ["action.yml", *WORKFLOWS, ".pre-commit-hooks.yaml"]
    for persona in ([], ["--persona", "auditor"]):  # every severity and confidence
        r = run(str(BIN / "zizmor"), "--offline", "--strict-collection", *persona, *files)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "No findings to report" in r.stdout + r.stderr
        for f in files:
            assert f"completed {f}" in r.stderr


def test_zizmor_does_flag_an_unsafe_workflow(tmp_path: Path) -> None:
    """The control: the same audit run finds an injection and an unpinned action."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  plan:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    r = run(str(BIN / "zizmor"), "--offline", "--min-severity", "medium", "bad.yml", cwd=tmp_path)
    assert r.returncode != 0
    assert "template-injection" in r.stdout
    assert "unpinned-uses" in r.stdout


def test_scripts_take_inputs_only_through_env() -> None:
    """No `${{ }}` inside any `run:` script, of the Action or of the examples."""
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    scripts = [(s.get("name"), s.get("run", "")) for s in action["runs"]["steps"]]
    for w in WORKFLOWS:
        for job in yaml.safe_load((ROOT / w).read_text())["jobs"].values():
            scripts += [(f"{w}: {s.get('name')}", s.get("run", "")) for s in job["steps"]]
    for name, script in scripts:
        assert "${{" not in script, name
    assert set(action["inputs"]) >= {
        "command",
        "manifests",
        "working-directory",
        "python-version",
        "comment",
        "github-token",
        "drift-issue",
        "fail-on-drift",
        "allow-unreviewed",
        "args",
    }
    assert set(action["outputs"]) >= {
        "exit-code",
        "has-changes",
        "plan-json",
        "plan-text",
        "comment-url",
        "drift-issue-url",
        "count-total",
    }


def test_third_party_actions_are_pinned_by_full_sha() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    uses = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    for w in WORKFLOWS:
        for job in yaml.safe_load((ROOT / w).read_text())["jobs"].values():
            uses += [s["uses"] for s in job["steps"] if "uses" in s]
    assert uses
    for ref in uses:
        _, _, sha = ref.partition("@")
        assert len(sha) == 40, ref
        assert all(c in "0123456789abcdef" for c in sha), ref


def _aws_jobs(flow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The jobs that assume an AWS role."""
    return {
        name: job
        for name, job in flow["jobs"].items()
        if any(str(s.get("uses", "")).startswith("aws-actions/") for s in job["steps"])
    }


def test_example_workflows_use_oidc_least_privilege_and_no_persisted_credentials() -> None:
    for w in WORKFLOWS:
        flow = yaml.safe_load((ROOT / w).read_text())
        assert flow["permissions"] == {}, w
        aws = _aws_jobs(flow)
        assert aws, w
        for name, job in flow["jobs"].items():
            assert job["permissions"]["contents"] == "read", w
            assert job["permissions"].get("id-token") == ("write" if name in aws else None), w
            steps = {
                s["uses"].split("@")[0]: s.get("with", {}) for s in job["steps"] if "uses" in s
            }
            assert steps["actions/checkout"]["persist-credentials"] is False, w
            if name in aws:
                assert "role-to-assume" in steps["aws-actions/configure-aws-credentials"], w
                assert "aws-access-key-id" not in steps["aws-actions/configure-aws-credentials"], w
    plan = yaml.safe_load((ROOT / "examples/workflows/plan.yml").read_text())
    assert plan["jobs"]["plan"]["permissions"]["pull-requests"] == "write"
    drift = yaml.safe_load((ROOT / "examples/workflows/drift.yml").read_text())
    assert drift["jobs"]["drift"]["permissions"]["issues"] == "write"
    assert set(drift[True]) == {"schedule", "workflow_dispatch"}  # YAML 1.1 reads `on` as True


SET_FLOWS = ("plan", "apply", "rollout")


def _sets(flow: dict[str, Any]) -> list[dict[str, str]]:
    """The manifest sets a workflow's `changes` job picks from."""
    [step] = [s for s in flow["jobs"]["changes"]["steps"] if s.get("id") == "pick"]
    sets: list[dict[str, str]] = json.loads(step["env"]["LR_SETS"])
    return sets


@pytest.mark.parametrize("name", SET_FLOWS)
def test_plan_and_apply_run_per_manifest_set_with_a_group_each(name: str) -> None:
    """A matrix job per changed manifest set (account x region), each in a concurrency group
    of its own set, with that account's role and region; apply and rollout in the account's
    environment and in the same group per set, so one set's rollout never holds another's."""
    flow = yaml.safe_load((ROOT / f"examples/workflows/{name}.yml").read_text())
    assert "concurrency" not in flow  # no repository-wide group
    sets = _sets(flow)
    assert len({(s["account"], s["region"]) for s in sets}) == len(sets) == 6
    assert len({s["account"] for s in sets}) == 3
    [job] = _aws_jobs(flow).values()
    assert job["needs"] == "changes"
    assert job["strategy"]["matrix"] == {"set": "${{ fromJSON(needs.changes.outputs.sets) }}"}
    assert job["if"] == "${{ needs.changes.outputs.sets != '[]' }}"
    group = job["concurrency"]["group"]
    assert "${{ matrix.set.name }}" in group
    creds = next(s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/"))
    assert "${{ matrix.set.account }}" in creds["with"]["role-to-assume"]
    assert creds["with"]["aws-region"] == "${{ matrix.set.region }}"
    action = job["steps"][-1]["with"]
    assert action["manifests"] == "${{ matrix.set.path }}/*.yaml"
    if name == "plan":
        assert "environment" not in job
        assert job["concurrency"]["cancel-in-progress"] is True
    else:
        assert job["environment"] == "${{ matrix.set.environment }}"
        assert group == "lambda-reconciler-apply-${{ matrix.set.name }}"
        assert job["concurrency"]["cancel-in-progress"] is False
        assert action["reviewed-plan"] == "${{ inputs.reviewed-plan }}"
        assert flow[True]["push"] == {"branches": ["main"], "paths": ["manifests/**"]}


def test_rollout_workflow_waits_within_its_job_timeout() -> None:
    """rollout.yml applies on merge with `wait`, and its job's timeout-minutes is above
    wait-timeout (so the apply stops itself, resumable, first); its AWS session outlasts the
    job."""
    flow = yaml.safe_load((ROOT / "examples" / "workflows" / "rollout.yml").read_text())
    [job] = _aws_jobs(flow).values()
    step = job["steps"][-1]["with"]
    assert (step["command"], step["wait"]) == ("apply", "true")
    units = {"s": 1, "m": 60, "h": 3600}
    timeout = int(step["wait-timeout"][:-1]) * units[step["wait-timeout"][-1]]
    assert job["timeout-minutes"] * 60 > timeout
    creds = next(s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/"))
    assert creds["with"]["role-duration-seconds"] > job["timeout-minutes"] * 60


def _pick(flow: dict[str, Any], tmp_path: Path, env: dict[str, str]) -> list[str]:
    """Run a workflow's `changes` step as a runner would; the names of the sets it picked."""
    [step] = [s for s in flow["jobs"]["changes"]["steps"] if s.get("id") == "pick"]
    out = tmp_path / "output"
    out.write_text("")
    full = {**OFFLINE, "LR_SETS": step["env"]["LR_SETS"], "GITHUB_OUTPUT": str(out)}
    full |= {"RUNNER_TEMP": str(tmp_path), **env}
    r = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=full, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    [line] = out.read_text().splitlines()
    return [s["name"] for s in json.loads(line.removeprefix("sets="))]


def _git(repo: Path, *args: str) -> str:
    env = {**OFFLINE, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com"}
    env |= {"GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com"}
    r = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_only_the_changed_manifest_sets_run(tmp_path: Path) -> None:
    """The `changes` job of each workflow, run on a real repository: a pull request or a push
    that touches two sets runs those two; a manual run, the one set it names."""
    _git(tmp_path, "init", "-q", "-b", "main")
    for d in ("prod/us-east-1", "staging/eu-west-1", "dev/us-east-1"):
        (tmp_path / "manifests" / d).mkdir(parents=True)
        (tmp_path / "manifests" / d / "m.yaml").write_text("version: 1\n")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "base")
    base = _git(tmp_path, "rev-parse", "HEAD")
    for d in ("prod/us-east-1", "staging/eu-west-1"):
        (tmp_path / "manifests" / d / "m.yaml").write_text("version: 1\n# changed\n")
    (tmp_path / "README.md").write_text("not a manifest\n")
    _git(tmp_path, "commit", "-qam", "two sets")
    head = _git(tmp_path, "rev-parse", "HEAD")
    both = ["prod-us-east-1", "staging-eu-west-1"]
    plan = yaml.safe_load((ROOT / "examples/workflows/plan.yml").read_text())
    assert _pick(plan, tmp_path, {"BASE": base, "HEAD": head}) == both
    for name in ("apply", "rollout"):
        flow = yaml.safe_load((ROOT / f"examples/workflows/{name}.yml").read_text())
        push = {"EVENT": "push", "BEFORE": base, "AFTER": head, "ONLY": ""}
        assert _pick(flow, tmp_path, push) == both
        manual = {"EVENT": "workflow_dispatch", "BEFORE": "", "AFTER": head}
        assert _pick(flow, tmp_path, {**manual, "ONLY": "dev-eu-west-1"}) == ["dev-eu-west-1"]


def _subjects(flow: dict[Any, Any]) -> dict[str, set[str]]:
    """Per AWS job, the OIDC `sub` its token carries by GitHub's rules: the environment's
    when the job has one (it wins over the event and the branch), else `pull_request` for a
    pull_request event, else the branch (main) of a push, a schedule or a manual run."""
    out: dict[str, set[str]] = {}
    for name, job in _aws_jobs(flow).items():
        env = job.get("environment")
        if env == "${{ matrix.set.environment }}":
            out[name] = {f"repo:ORG/REPO:environment:{s['environment']}" for s in _sets(flow)}
        elif env:
            out[name] = {f"repo:ORG/REPO:environment:{env}"}
        else:
            events = set(flow[True])
            subs = {"repo:ORG/REPO:pull_request"} if "pull_request" in events else set()
            if events - {"pull_request"}:
                subs.add("repo:ORG/REPO:ref:refs/heads/main")
            out[name] = subs
    return out


def _documented(text: str) -> set[str]:
    return set(re.findall(r"repo:ORG/REPO:[a-z_]+(?::[\w/.-]+)*", text))


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_the_documented_oidc_subject_of_each_example_is_the_one_its_jobs_carry(
    workflow: str,
) -> None:
    """The trust-policy subjects the example's header and docs/github-action.md name are
    exactly those GitHub puts in its AWS jobs' tokens: a trust policy copied from the docs
    lets the first merge through."""
    text = (ROOT / workflow).read_text()
    carried = set().union(*_subjects(yaml.safe_load(text)).values())
    header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert _documented(header) == carried
    docs = (ROOT / "docs/github-action.md").read_text(encoding="utf-8")
    [row] = [
        line
        for line in docs.splitlines()
        if line.startswith(f"| `{Path(workflow).name}` | ") and "repo:ORG/REPO" in line
    ]
    assert _documented(row) == carried


def test_pre_commit_hooks_validate_the_changed_files_or_the_whole_set() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    one = hooks["lambda-reconciler-validate"]
    assert one["entry"] == "lambda-reconciler validate"
    assert one["language"] == "python"
    assert one["files"] == r"^manifests/.*\.ya?ml$"
    every = hooks["lambda-reconciler-validate-all"]
    assert every["pass_filenames"] is False
    assert every["files"] == one["files"]


def test_the_whole_set_hook_catches_a_rule_across_files(tmp_path: Path) -> None:
    """Run as pre-commit runs it (entry split like a shell, then args, no file names): the same
    function in two files is found although only one of them changed."""
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["lambda-reconciler-validate-all"]
    (tmp_path / "manifests" / "team").mkdir(parents=True)
    one = (
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n    aliases: {prod: {version: 1}}\n"
    )
    (tmp_path / "manifests" / "a.yaml").write_text(one)
    (tmp_path / "manifests" / "team" / "b.yaml").write_text(one)
    command = [*shlex.split(hook["entry"]), *hook["args"]]
    env = {**OFFLINE, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    r = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1, r.stderr
    assert "manifests/team/b.yaml:4:3:" in r.stderr
    assert "orders" in r.stderr
    (tmp_path / "manifests" / "team" / "b.yaml").unlink()
    r = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stderr == "1 manifest valid: 1 function.\n"
    r = subprocess.run(
        [*shlex.split(hook["entry"]), "other/*.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert (r.returncode, r.stderr) == (1, "no manifest matches: other/*.yaml\n")


def _requirement(line: str) -> tuple[str, str]:
    name, _, version = line.split(" ")[0].partition("==")
    return canonicalize_name(name), version


def test_the_actions_lock_pins_every_dependency_with_hashes() -> None:
    """requirements/action.txt agrees with pyproject.toml: each dependency is pinned to a
    version its specifier allows, every pin carries hashes, and the Action installs it with
    --require-hashes into its own virtual environment."""
    lock = (ROOT / "requirements" / "action.txt").read_text()
    blocks = re.split(r"\n(?=[a-z0-9])", lock.split("\n", 2)[2] if lock.startswith("#") else lock)
    pins = {}
    for block in blocks:
        if "==" not in block.split("\n")[0]:
            continue
        name, version = _requirement(block.split("\n")[0])
        assert "--hash=sha256:" in block, name
        pins[name] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dep in [*project["dependencies"], "setuptools>=68", "wheel"]:
        req = Requirement(dep)
        name = canonicalize_name(req.name)
        assert name in pins, f"{name} is not in the lock: run make lock"
        assert req.specifier.contains(pins[name], prereleases=True), (name, pins[name])
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for dep in build:
        assert canonicalize_name(Requirement(dep).name) in pins, dep
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    steps = {s.get("id"): s for s in action["runs"]["steps"]}
    assert steps["python"]["with"]["update-environment"] is False  # the job's PATH is left alone
    install = steps["install"]["run"]
    assert '"$PYTHON" -m venv "$venv"' in install
    assert '--require-hashes --no-deps -r "$ACTION_PATH/requirements/action.txt"' in install
    assert '--no-deps --no-build-isolation "$ACTION_PATH"' in install
    scripts = "".join(s.get("run", "") for s in action["runs"]["steps"])
    assert scripts.count("pip") == install.count("pip")  # no other install anywhere
    # The reconciler runs only from that environment, never from the caller's PATH.
    assert re.findall(r"^\s*lambda-reconciler ", scripts, re.M) == []
    assert scripts.count('"$LR_BIN/lambda-reconciler"') == 5  # lr(), comment, drift issue, adopt x2


def test_pr_comment_html_structure() -> None:
    """The realistic plan (publish, canary, deletions, unmanaged alias, an error, a brake) as
    GitHub would show it: markers hidden, a table per function with operations, the text plan
    folded away."""
    html = markdown.markdown(
        render_markdown(realistic_plan()), extensions=["tables", "fenced_code"]
    )
    s = Structure(html)
    assert s.comments[0] == "lambda-reconciler:plan"
    assert s.comments[1].startswith("lambda-reconciler:manifests=")
    assert s.tags.count("table") == 3
    assert s.tags.count("h4") == 3
    assert s.tags.count("details") == 1
    assert html.index("<h3>") < html.index("<table>") < html.index("<details>")
    assert '<pre><code class="language-text">! brake: 4 deletions in this run' in html
    assert "\norder-processor (us-east-1)\n" in html
    assert "❌" in html
    assert "🛑" in html


def test_every_input_and_output_is_documented() -> None:
    """A user finds each of the Action's inputs and outputs in the README and in the Action's
    own page, in backticks, so a new input cannot land undocumented."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    names = [*action["inputs"], *action["outputs"]]
    assert "fail-on-drift" in names
    assert "markdown" in names
    for doc in ("README.md", "docs/github-action.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        missing = [n for n in names if f"`{n}`" not in text]
        assert not missing, f"{doc} does not document {missing}"
