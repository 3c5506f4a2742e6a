"""Versions in the plan carry what the listing says of them: the description (cut short), else
the age, beside the number an alias moves to or from, in text, Markdown and saved plans."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from emulator.fixtures import create_function, publish, update_code
from reconciler.aws.responses import parse_time
from reconciler.plan import wording
from tests.cli_helpers import run_cli, write_manifest

LONG = "release 3f2a9c1d8e7b6a5f4e3d2c1b0a"  # cut to 24 characters in the plan


def two_releases(emulator: Any, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """orders: version 1 (no description), version 2 described LONG, prod on 2; the manifest
    moves prod back to 1 and creates beta on 2. The clock is pinned 3 days and 5 minutes after
    version 1 was last modified."""
    client = emulator.boto3_client("lambda")
    create_function(client, "orders", code="v1")
    publish(client, "orders")
    update_code(client, "orders", "v2")
    client.publish_version(FunctionName="orders", Description=LONG)
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="2")
    one = client.get_function_configuration(FunctionName="orders", Qualifier="1")
    modified = parse_time(one["LastModified"])
    now = (modified + timedelta(days=3, minutes=5)).isoformat()
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 1}
              beta: {version: 2}
        """,
    )
    return m, {"LAMBDA_RECONCILER_NOW": now}


def test_text_and_markdown_plans_describe_each_version(emulator: Any, tmp_path: Path) -> None:
    """Version 2 is shown by its description, cut to 24 characters; version 1, which has none,
    by its age; the rollback keeps its label."""
    m, env = two_releases(emulator, tmp_path)
    text = run_cli(emulator, "plan", m, env=env)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert '  + create_alias beta  → 2 ("release 3f2a9c1d8e7b6a5…")' in lines
    assert (
        '  ~ update_alias prod  version: 2 ("release 3f2a9c1d8e7b6a5…") → 1 (3 d old) '
        "(back to an older version)"
    ) in lines
    md = run_cli(emulator, "plan", m, "--format", "markdown", env=env)
    assert '| version: 2 ("release 3f2a9c1d8e7b6a5…") → 1 (3 d old)' in md.stdout


def test_a_saved_plan_keeps_what_it_says_of_each_version(emulator: Any, tmp_path: Path) -> None:
    """The JSON plan lists each version named with its description and age in minutes; the
    Markdown rendered again from it says the same as the live plan."""
    m, env = two_releases(emulator, tmp_path)
    saved = tmp_path / "plan.json"
    live = run_cli(emulator, "plan", m, "--format", "markdown", "--out", str(saved), env=env)
    assert live.returncode == 0, live.stderr
    versions = json.loads(saved.read_text())["functions"][0]["versions"]
    assert [
        {"version": "1", "description": "", "age_minutes": 3 * 24 * 60 + 5},
        {"version": "2", "description": LONG, "age_minutes": versions[1]["age_minutes"]},
    ] == versions
    again = run_cli(emulator, "github", "render", str(saved), "--format", "markdown")
    assert again.returncode == 0, again.stderr
    assert "→ 1 (3 d old)" in again.stdout
    assert '→ 2 ("release 3f2a9c1d8e7b6a5…")' in again.stdout


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, "<1 min"), (59, "59 min"), (60, "1 h"), (47 * 60 + 59, "47 h"), (48 * 60, "2 d")],
)
def test_ages_are_said_in_the_largest_sensible_unit(minutes: int, expected: str) -> None:
    """Minutes below an hour, hours below two days, then days."""
    assert expected == wording.age(minutes)
