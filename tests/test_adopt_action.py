"""The Action's `drift-adopt: pr`, run as a runner would (tests/test_action_run.py's
ActionRunner) against the emulator and a fake GitHub with git data and pull requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.adopt_pr import branch_for
from tests.cli_helpers import writes
from tests.test_action_run import MANIFEST, ActionRunner, seeded
from tests.test_adopt_pr import FakeGitRepo
from tests.test_github import serve

V2 = (MANIFEST % 2).lstrip()  # as write_manifest writes it


def test_drift_adopt_opens_one_pull_request_and_the_issue_links_it(
    emulator: Any, tmp_path: Path
) -> None:
    """Drift with `drift-adopt: pr`: one pull request with the adopted manifest, linked from the
    drift issue; a second run updates nothing; after a revert, the next run closes it. No AWS
    write from the drift runs."""
    fake = FakeGitRepo({"manifests/prod.yaml": V2})
    with serve(fake) as api:
        action = ActionRunner(tmp_path, emulator.env(), api)
        seeded(emulator, tmp_path)
        assert action.run(event="push", command="apply", manifests="manifests/*.yaml").status == (
            "success"
        )
        client = emulator.boto3_client("lambda")
        client.update_alias(FunctionName="orders", Name="prod", FunctionVersion="3")
        emulator.clear_calls()
        inputs = {"command": "drift", "manifests": "manifests/*.yaml", "drift_issue": "true"}
        found = action.run(event="schedule", drift_adopt="pr", **inputs)
        assert found.status == "success", found.log
        assert writes(emulator) == []
        assert ("Open the adoption pull request", "ran") in found.steps
        [pr] = fake.pulls
        branch = branch_for(["manifests/prod.yaml"])
        assert pr["head"]["ref"] == branch
        assert "prod: version 2 → 3" in pr["body"]
        assert (
            fake.files_of(f"refs/heads/{branch}")["manifests/prod.yaml"] == (MANIFEST % 3).lstrip()
        )
        assert pr["html_url"] in fake.issues[1]["body"]

        commits = len(fake.commits)
        (tmp_path / "manifests" / "prod.yaml").write_text(V2)  # a fresh checkout
        again = action.run(event="schedule", drift_adopt="pr", **inputs)
        assert again.status == "success", again.log
        assert len(fake.commits) == commits
        assert len(fake.pulls) == 1

        (tmp_path / "manifests" / "prod.yaml").write_text(V2)
        client.update_alias(FunctionName="orders", Name="prod", FunctionVersion="2")
        healed = action.run(event="schedule", drift_adopt="pr", **inputs)
        assert healed.status == "success", healed.log
        assert fake.pulls[0]["state"] == "closed"
        assert fake.issues[1]["state"] == "closed"

        off = action.run(event="schedule", **inputs)
        assert ("Open the adoption pull request", "skipped") in off.steps
