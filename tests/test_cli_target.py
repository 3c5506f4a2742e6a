"""`--target`: plan and apply only some functions, as Terraform's -target, with a warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli, write_manifest, writes


def fleet(emulator: Any, tmp_path: Path) -> str:
    """Three functions whose `live` must move to 2; `gone` is named but was deleted by hand."""
    emulator.seed(
        [{"name": n, "versions": 2, "aliases": {"live": 1}} for n in ("shop-a", "shop-b", "api")]
    )
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(
        f"  {n}: {{aliases: {{live: {{version: 2}}}}}}\n"
        for n in ("shop-a", "shop-b", "api", "gone")
    )
    return write_manifest(tmp_path, body)


def test_a_deleted_function_blocks_the_run_but_target_works_around_it(
    emulator: Any, tmp_path: Path
) -> None:
    """Without --target one missing function refuses the whole apply; with `--target 'shop-*'`
    only the matching functions are read and changed, with a warning that the run is partial."""
    m = fleet(emulator, tmp_path)
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 1
    assert "function gone not found" in r.stderr
    assert writes(emulator) == []
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", "--target", "shop-*")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warning: --target: this run covers 2 of 4 functions; the result is partial" in r.stderr
    touched = {f for _, f in writes(emulator)}
    assert touched == {"shop-a", "shop-b"}
    calls = [c for c in emulator.calls() if c.get("service") == "lambda"]
    read = {c.get("function") for c in calls if c.get("function")}
    assert read == {"shop-a", "shop-b"}  # besides the region's code-storage quota
    assert {c["operation"] for c in calls if not c.get("function")} == {"GetAccountSettings"}
    plan = run_cli(
        emulator, "plan", m, "--target", "shop-a", "--target", "api", "--detailed-exitcode"
    )
    assert plan.returncode == 2  # api still has its move to make
    assert "shop-b" not in plan.stdout


def test_a_target_that_matches_nothing_is_an_error(emulator: Any, tmp_path: Path) -> None:
    m = fleet(emulator, tmp_path)
    r = run_cli(emulator, "plan", m, "--target", "nope-*")
    assert r.returncode == 1
    assert "--target nope-* matches no function or layer of the manifests" in r.stderr


def test_apply_format_json_says_what_was_done_per_operation(emulator: Any, tmp_path: Path) -> None:
    """Standard output is only the JSON result (the plan goes to standard error): each
    operation with its status, and the counts."""
    import json

    m = fleet(emulator, tmp_path)
    r = run_cli(emulator, "apply", m, "--auto-approve", "--target", "api", "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["kind"] == "apply"
    assert doc["ok"] is True
    assert doc["results"] == [
        {
            "function": "api",
            "action": "update_alias",
            "target": "live",
            "status": "done",
            "message": "",
            "new_version": None,
        }
    ]
    assert doc["summary"] == {"done": 1, "failed": 0, "skipped": 0, "not attempted": 0}
    assert "~ update_alias live" in r.stderr
