"""The Action's `drift-adopt: pr`, run as a runner would (tests/test_action_run.py's
ActionRunner) against the emulator and a fake GitHub with git data and pull requests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.github.adopt_pr import branch_for
from tests.cli_helpers import writes
from tests.test_action_run import MANIFEST, ActionRunner
from tests.test_adopt_pr import FakeGitRepo
from tests.test_github import serve

V2 = (MANIFEST % 2).lstrip()  # as write_manifest writes it


def test_drift_adopt_opens_one_pull_request_and_the_issue_links_it(
    emulator: Any, tmp_path: Path, cli_bin: Path
) -> None:
    """Drift with `drift-adopt: pr`: one pull request with the adopted manifest, linked from the
    drift issue, and no AWS write; after a revert (and a fresh checkout), the next run closes
    both. (Updates on later runs: tests/test_adopt_pr.py.)"""
    fake = FakeGitRepo({"manifests/prod.yaml": V2})
    with serve(fake) as api:
        # The runner's own job, if any, must not lend its GITHUB_SHA/REF/WORKSPACE.
        outer = ("GITHUB_SHA", "GITHUB_REF", "GITHUB_WORKSPACE")
        env = {k: v for k, v in emulator.env().items() if k not in outer}
        action = ActionRunner(tmp_path, env, api, cli_bin)
        # Git says 2; someone moved prod to 3 by hand.
        emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 3}}])
        (tmp_path / "manifests").mkdir()
        (tmp_path / "manifests" / "prod.yaml").write_text(V2)
        client = emulator.boto3_client("lambda")
        emulator.clear_calls()

        def drift() -> Any:
            return action.run(
                "schedule",
                drift_adopt="pr",
                command="drift",
                manifests="manifests/*.yaml",
                drift_issue="true",
                args="--max-deletions 200 --max-rate 0",  # shared by every command, adopt too
            )

        found = drift()
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

        (tmp_path / "manifests" / "prod.yaml").write_text(V2)
        client.update_alias(FunctionName="orders", Name="prod", FunctionVersion="2")
        healed = drift()
        assert healed.status == "success", healed.log
        assert fake.pulls[0]["state"] == "closed"
        assert fake.issues[1]["state"] == "closed"
