"""`publish: {description: "…"}`: the new version carries the description (with `${NAME}` from
the environment), shown in the plan, kept in a saved plan, and found by `{description:}`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.fixtures import create_function, publish, update_code
from tests.cli_helpers import run_cli, write_manifest

RELEASE = """
version: 1
region: us-east-1
functions:
  orders:
    publish: {description: "release ${RELEASE_SHA}"}
    aliases:
      staging: {version: latest}
"""


def orders_with_new_code(emulator: Any) -> Any:
    """orders: version 1 published, then new code in $LATEST (so publish has work to do)."""
    client = emulator.boto3_client("lambda")
    create_function(client, "orders", code="v1")
    publish(client, "orders")
    update_code(client, "orders", "v2")
    return client


def test_publish_sets_the_description_and_a_selector_finds_it(
    emulator: Any, tmp_path: Path
) -> None:
    """apply publishes version 2 described "release abc123" (from RELEASE_SHA), the plan says
    so; a later manifest's `{description: release abc123}` selects exactly that version."""
    client = orders_with_new_code(emulator)
    m = write_manifest(tmp_path, RELEASE)
    env = {"RELEASE_SHA": "abc123"}
    plan = run_cli(emulator, "plan", m, env=env)
    assert plan.returncode == 0, plan.stderr
    assert '$LATEST → new version described "release abc123" (code changed' in plan.stdout
    applied = run_cli(emulator, "apply", m, "--auto-approve", env=env)
    assert applied.returncode == 0, applied.stderr
    version = client.get_function_configuration(FunctionName="orders", Qualifier="2")
    assert version["Description"] == "release abc123"
    update_code(client, "orders", "v3")
    client.publish_version(FunctionName="orders", Description="hotfix")  # version 3
    later = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: {description: release abc123}}
        """,
        name="later.yaml",
    )
    r = run_cli(emulator, "apply", later, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert client.get_alias(FunctionName="orders", Name="prod")["FunctionVersion"] == "2"


def test_a_saved_plan_keeps_the_description(emulator: Any, tmp_path: Path) -> None:
    """plan --out writes the description into the JSON plan; apply PLAN.json sends it, with no
    environment variable needed any more."""
    client = orders_with_new_code(emulator)
    m = write_manifest(tmp_path, RELEASE)
    saved = tmp_path / "plan.json"
    r = run_cli(emulator, "plan", m, "--out", str(saved), env={"RELEASE_SHA": "def456"})
    assert r.returncode == 0, r.stderr
    ops = json.loads(saved.read_text())["functions"][0]["operations"]
    assert ops[0]["description"] == "release def456"
    r = run_cli(emulator, "apply", str(saved))
    assert r.returncode == 0, r.stderr
    version = client.get_function_configuration(FunctionName="orders", Qualifier="2")
    assert version["Description"] == "release def456"
    staging = client.get_alias(FunctionName="orders", Name="staging")
    assert staging["FunctionVersion"] == "2"


def test_an_unset_variable_is_a_located_error(emulator: Any, tmp_path: Path) -> None:
    """`${RELEASE_SHA}` unset: validate and plan exit 1 with FILE:LINE:COL at the description,
    and nothing is read from Lambda (never an empty description)."""
    m = write_manifest(tmp_path, RELEASE)
    v = run_cli(emulator, "validate", m)
    assert v.returncode == 1
    expected = (
        f"{m}:5:28: functions.orders.publish.description: environment variable RELEASE_SHA "
        "is not set; set it, or write $$ for a literal $"
    )
    assert expected == v.stderr.splitlines()[0]
    emulator.clear_calls()
    p = run_cli(emulator, "plan", m)
    assert p.returncode == 1
    assert expected in p.stderr
    assert [c for c in emulator.calls() if c.get("service") == "lambda"] == []


def test_a_selector_in_the_same_manifest_matches_the_version_being_published(
    emulator: Any, tmp_path: Path
) -> None:
    """`prod: {description: v1.2.0}` beside `publish: {description: v1.2.0}` routes prod to the
    version this apply publishes, not to an older one or to an error."""
    client = orders_with_new_code(emulator)
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            publish: {description: v1.2.0}
            aliases:
              prod: {version: {description: v1.2.0}}
        """,
    )
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert client.get_alias(FunctionName="orders", Name="prod")["FunctionVersion"] == "2"
