"""The way back, through the CLI: retention keeps each alias's previous version, a reverted
commit moves the alias back, and `rollback` does the same without git."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emulator.fixtures import publish, update_code
from tests.cli_helpers import run_cli, run_cli_interfered, write_manifest, writes

BODY = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: %d}
    retention: {keep_last: 1}
"""


def release(emulator: Any, tmp_path: Path, version: int) -> str:
    """Point prod at `version` in git and apply."""
    m = write_manifest(tmp_path, BODY % version)
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    return m


def versions(emulator: Any) -> list[int]:
    return sorted(int(v) for v in emulator.state("orders")["versions"])


def prod(emulator: Any) -> str:
    return str(emulator.state("orders")["aliases"]["prod"]["FunctionVersion"])


def test_three_releases_keep_the_previous_version_and_a_revert_moves_prod_back(
    emulator: Any, tmp_path: Path
) -> None:
    """keep_last: 1 after releases 1 → 2 → 3 → 4: version 3 (prod's previous) survives every
    prune; reverting the last commit moves prod back to it, and the plan after is empty."""
    client = emulator.boto3_client("lambda")
    emulator.seed([{"name": "orders", "versions": 1, "aliases": {"prod": 1}}])
    for v in (2, 3, 4):
        update_code(client, "orders", f"v{v}")
        assert publish(client, "orders") == str(v)
        release(emulator, tmp_path, v)
        assert prod(emulator) == str(v)
        assert versions(emulator) == [v - 1, v], v  # the newest, and prod's previous
    plan = run_cli(emulator, "plan", write_manifest(tmp_path, BODY % 4), "-v")
    assert "= keep 3  prod's previous version" in plan.stdout
    reverted = release(emulator, tmp_path, 3)  # git revert, then apply
    assert prod(emulator) == "3"
    assert versions(emulator) == [3, 4]  # 4 is now prod's previous version
    assert run_cli(emulator, "plan", reverted, "--detailed-exitcode").returncode == 0


def test_rollback_without_git_then_drift_reports_it_until_git_agrees(
    emulator: Any, tmp_path: Path
) -> None:
    """`rollback` moves prod to its recorded previous version, clears the canary, prints the
    manifest change; drift exits 2 until the manifest says the same; a second rollback goes
    forward again."""
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 1}}])
    m = release(emulator, tmp_path, 2)
    m = write_manifest(
        tmp_path,
        BODY.replace("{version: %d}", "{version: 3, canary: {version: 2, weight: 10%}}"),
    )
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    emulator.clear_calls()

    r = run_cli(
        emulator, "rollback", m, "--function", "orders", "--alias", "prod", "--auto-approve"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert (
        "~ update_alias prod  version: 3 → 2 (back to an older version); canary: 2 @ 10% → none"
        in r.stdout
    )
    assert "orders:prod is back on version 2. To make git agree, set `version: 2`" in r.stderr
    assert f"{m}:6:7" in r.stderr  # where the alias is declared
    assert writes(emulator) == [("UpdateAlias", "orders")]  # the move and its record, one call
    state = emulator.state("orders")["aliases"]["prod"]
    assert (state["FunctionVersion"], state.get("RoutingConfig")) == ("2", None)

    drift = run_cli(emulator, "drift", m)
    assert drift.returncode == 2
    # the rollback sticks: git still names 3, and no apply rolls it out again
    assert "rollout of orders:prod to 3 rolled back (rolled back with `rollback`)" in drift.stdout
    assert run_cli(emulator, "plan", m, "--detailed-exitcode").returncode == 0
    assert run_cli(emulator, "drift", write_manifest(tmp_path, BODY % 2)).returncode == 0

    again = run_cli(
        emulator, "rollback", m, "--function", "orders", "--alias", "prod", "--auto-approve"
    )
    assert again.returncode == 0, again.stderr
    assert prod(emulator) == "3"


def test_rollback_refuses_what_it_cannot_do(emulator: Any, tmp_path: Path) -> None:
    """No recorded history, an unmanaged alias, an unknown function: exit 1, one line, no
    write."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1, "beta": 1}}])
    m = write_manifest(tmp_path, BODY % 1)
    emulator.clear_calls()
    cases = [
        (["--function", "orders", "--alias", "prod"], "no previous version is recorded"),
        (["--function", "orders", "--alias", "beta"], "alias beta is not managed"),
        (["--function", "nope", "--alias", "prod"], "no function nope in the manifests"),
    ]
    for args, message in cases:
        r = run_cli(emulator, "rollback", m, *args, "--auto-approve")
        assert r.returncode == 1, r.stdout + r.stderr
        assert message in r.stderr
        assert "Traceback" not in r.stderr
    assert writes(emulator) == []


def test_rollback_is_guarded_by_the_alias_revision(emulator: Any, tmp_path: Path) -> None:
    """Someone moves prod after rollback read it: the move is refused by its RevisionId
    (exit 1, "changed since it was read", no traceback) and prod stays where they put it."""
    client = emulator.boto3_client("lambda")
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 1}}])
    m = release(emulator, tmp_path, 2)  # history: 1
    emulator.clear_calls()
    emulator.faults(latency_ms=300)
    try:
        r = run_cli_interfered(
            emulator,
            "ListAliases",
            lambda: client.update_alias(FunctionName="orders", Name="prod", FunctionVersion="3"),
            "rollback",
            m,
            "--function",
            "orders",
            "--alias",
            "prod",
            "--auto-approve",
        )
    finally:
        emulator.faults()
    assert r.returncode == 1, r.stdout + r.stderr
    assert "changed since it was read" in r.stderr
    assert "Traceback" not in r.stderr
    assert prod(emulator) == "3"


def test_the_history_is_bounded_and_keep_previous_keeps_its_first_n(
    emulator: Any, tmp_path: Path
) -> None:
    """An earlier release's full history tag (10 versions) is migrated: the move records the
    moved-from version first and drops the oldest, so the record keeps 10 numbers, and the tag
    is removed; `keep_previous: 2` keeps the first two recorded versions and retention deletes
    the rest."""
    client = emulator.boto3_client("lambda")
    emulator.seed([{"name": "orders", "versions": 12, "aliases": {"prod": 11}}])
    arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    full = " ".join(str(v) for v in range(10, 0, -1))  # 10 9 … 1
    client.tag_resource(Resource=arn, Tags={"lambda-reconciler:history:prod": full})
    m = write_manifest(
        tmp_path, (BODY % 12).replace("{keep_last: 1}", "{keep_last: 1, keep_previous: 2}")
    )
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert client.list_tags(Resource=arn)["Tags"] == {}
    described = client.get_alias(FunctionName="orders", Name="prod")["Description"]
    assert described == "[lr:1 at=12 h=11,10,9,8,7,6,5,4,3,2]"
    assert versions(emulator) == [10, 11, 12]
    assert run_cli(emulator, "plan", m, "--detailed-exitcode").returncode == 0


def test_rollback_reads_an_earlier_releases_history_tag(emulator: Any, tmp_path: Path) -> None:
    """An alias an earlier release moved has its history in a function tag until an apply
    migrates it: `rollback` reads it (it said "no previous version is recorded"), moves back,
    and writes the history into the record."""
    client = emulator.boto3_client("lambda")
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 3}}])
    arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    client.tag_resource(Resource=arn, Tags={"lambda-reconciler:history:prod": "2 1"})
    m = write_manifest(tmp_path, BODY % 3)
    r = run_cli(
        emulator, "rollback", m, "--function", "orders", "--alias", "prod", "--auto-approve"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert prod(emulator) == "2"
    described = client.get_alias(FunctionName="orders", Name="prod")["Description"]
    assert described.startswith("[lr:1 at=2 h=3,1 ")
