"""The real CLI (in process) over HTTP against the emulator: plan and apply end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.fixtures import create_function, publish, update_code
from tests.cli_helpers import lambda_calls, run_cli, run_cli_interfered, write_manifest, writes


def seed(emulator: Any, name: str = "orders", versions: int = 3, region: str = "us-east-1") -> Any:
    client = emulator.boto3_client("lambda", region)
    create_function(client, name, code="v1")
    publish(client, name)
    for i in range(2, versions + 1):
        update_code(client, name, f"v{i}")
        publish(client, name)
    return client


def alias(client: Any, fn: str, name: str) -> tuple[str, dict[str, float]]:
    a = client.get_alias(FunctionName=fn, Name=name)
    return a["FunctionVersion"], a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})


def test_create_then_in_sync_plan_reads_only_what_it_needs(emulator: Any, tmp_path: Path) -> None:
    """apply creates aliases; the in-sync plan then makes exactly 2 reads per function."""
    client = seed(emulator)
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 2}
              staging: {version: latest}
        """,
    )
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert alias(client, "orders", "prod") == ("2", {})
    assert alias(client, "orders", "staging") == ("3", {})
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m, "--detailed-exitcode")
    assert r.returncode == 0, r.stderr
    ops = [c["operation"] for c in lambda_calls(emulator)]
    # one function's two listings, and the region's code-storage quota
    assert sorted(ops) == ["GetAccountSettings", "ListAliases", "ListVersionsByFunction"]


def test_apply_makes_exactly_the_planned_writes(emulator: Any, tmp_path: Path) -> None:
    """Update, canary add: the JSON plan's operations are the writes in the call log."""
    client = seed(emulator)
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="1")
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 2, canary: {version: 3, weight: 10%}}
              dev: {version: $LATEST}
        """,
    )
    r = run_cli(emulator, "plan", m, "--format", "json", "--detailed-exitcode")
    assert r.returncode == 2, r.stderr
    planned = json.loads(r.stdout)
    assert planned["summary"]["create_alias"] == 1
    assert planned["summary"]["update_alias"] == 1
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    # prod moves 1 → 2: its history is recorded in its record, in the same call
    assert writes(emulator) == [("CreateAlias", "orders"), ("UpdateAlias", "orders")]
    assert alias(client, "orders", "prod") == ("2", {"3": 0.1})
    described = client.get_alias(FunctionName="orders", Name="prod")["Description"]
    assert described == "[lr:1 at=2 h=1]"


def test_canary_change_remove_promote_and_rollback(emulator: Any, tmp_path: Path) -> None:
    client = seed(emulator)
    client.create_alias(
        FunctionName="orders",
        Name="prod",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}},
    )
    steps = [
        ("{version: 2, canary: {version: 3, weight: 0.5}}", ("2", {"3": 0.5})),
        ("{version: 2}", ("2", {})),  # canary removed: the emulator keeps routing if omitted
        ("{version: 2, canary: {version: 3, weight: 0.2}}", ("2", {"3": 0.2})),
        ("{version: 3}", ("3", {})),  # promote
        ("{version: 1}", ("1", {})),  # rollback
    ]
    for spec, expected in steps:
        m = write_manifest(
            tmp_path,
            f"""
            version: 1
            region: us-east-1
            functions:
              orders:
                aliases:
                  prod: {spec}
            """,
        )
        r = run_cli(emulator, "apply", m, "--auto-approve")
        assert r.returncode == 0, r.stderr
        assert alias(client, "orders", "prod") == expected, spec
        again = run_cli(emulator, "plan", m, "--detailed-exitcode")
        assert again.returncode == 0, again.stdout


def test_publish_on_code_and_configuration_change_only(emulator: Any, tmp_path: Path) -> None:
    client = seed(emulator, versions=1)
    emulator.clear_calls()
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            publish: true
            aliases:
              live: {version: latest}
        """,
    )
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert alias(client, "orders", "live") == ("1", {})  # unchanged $LATEST: no publish
    assert ("PublishVersion", "orders") not in writes(emulator)

    update_code(client, "orders", "v2")
    r = run_cli(emulator, "plan", m)
    assert "code changed" in r.stdout
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert alias(client, "orders", "live") == ("2", {})

    client.update_function_configuration(FunctionName="orders", MemorySize=512)
    client.get_waiter("function_updated_v2").wait(FunctionName="orders")
    r = run_cli(emulator, "plan", m)
    assert "configuration changed: memory" in r.stdout
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert alias(client, "orders", "live") == ("3", {})
    r = run_cli(emulator, "plan", m, "--detailed-exitcode")
    assert r.returncode == 0, r.stdout


def test_selectors_against_live_state(emulator: Any, tmp_path: Path) -> None:
    client = seed(emulator)
    v1 = client.get_function_configuration(FunctionName="orders", Qualifier="1")
    client.update_function_configuration(FunctionName="orders", Description="release-4")
    client.get_waiter("function_updated_v2").wait(FunctionName="orders")
    publish(client, "orders")
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              a: {{version: latest}}
              b: {{version: "2"}}
              c: {{version: {{alias: b}}}}
              d: {{version: {{sha256: "{v1["CodeSha256"]}"}}}}
              e: {{version: {{description: release-4}}}}
              f: {{version: $LATEST}}
        """,
    )
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    got = {n: alias(client, "orders", n)[0] for n in "abcdef"}
    assert got == {"a": "4", "b": "2", "c": "2", "d": "1", "e": "4", "f": "$LATEST"}


def test_two_regions_and_function_arns(emulator: Any, tmp_path: Path) -> None:
    east = seed(emulator, "orders", 2, "us-east-1")
    west = seed(emulator, "payments", 2, "eu-west-1")
    arn = west.get_function(FunctionName="payments")["Configuration"]["FunctionArn"]
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {{version: 2}}
          "{arn}":
            aliases:
              prod: {{version: 1}}
        """,
    )
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert alias(east, "orders", "prod") == ("2", {})
    assert alias(west, "payments", "prod") == ("1", {})
    r = run_cli(emulator, "plan", m, "-v", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "payments" in r.stdout


def test_saved_plan_fresh_and_stale(emulator: Any, tmp_path: Path) -> None:
    """A fresh saved plan applies without asking; a stale one is refused, nothing written."""
    client = seed(emulator)
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="1")
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 3}
        """,
    )
    saved = str(tmp_path / "plan.json")
    r = run_cli(emulator, "plan", m, "--out", saved)
    assert r.returncode == 0, r.stderr
    client.update_alias(FunctionName="orders", Name="prod", FunctionVersion="2")
    emulator.clear_calls()
    r = run_cli(emulator, "apply", saved)
    assert r.returncode == 1
    assert "stale" in r.stderr
    assert writes(emulator) == []
    assert alias(client, "orders", "prod") == ("2", {})

    r = run_cli(emulator, "plan", m, "--out", saved)
    r = run_cli(emulator, "apply", saved)
    assert r.returncode == 0, r.stderr
    assert alias(client, "orders", "prod") == ("3", {})


def test_concurrent_alias_change_is_not_overwritten(emulator: Any, tmp_path: Path) -> None:
    """Someone moves the alias between our read and our write: 412, their change stays."""
    client = seed(emulator)
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="1")
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 3}
        """,
    )
    # Our UpdateAlias is held 2 s; someone else's change lands meanwhile.
    emulator.faults(hold={"agent": "lambda-reconciler", "write": 1, "seconds": 2})
    r = run_cli_interfered(
        emulator,
        "ListAliases",
        lambda: client.update_alias(FunctionName="orders", Name="prod", FunctionVersion="2"),
        "apply",
        m,
        "--auto-approve",
    )
    assert r.returncode == 1
    assert "changed since it was read" in r.stderr
    assert "Traceback" not in r.stderr
    emulator.faults()
    assert alias(client, "orders", "prod") == ("2", {})


def test_missing_function_or_version_exits_1_without_writing(emulator: Any, tmp_path: Path) -> None:
    seed(emulator)
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 7}
          ghost:
            aliases:
              prod: {version: 1}
        """,
    )
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 1
    assert "version 7 does not exist" in r.stdout + r.stderr
    assert "function ghost not found" in r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert writes(emulator) == []
    # Each error is also one line on standard error at its function's place in the manifest,
    # also when standard output is JSON.
    r = run_cli(emulator, "plan", m, "--format", "json")
    assert r.returncode == 1
    json.loads(r.stdout)
    located = [ln for ln in r.stderr.splitlines() if ln.startswith(f"{m}:")]
    assert located[0].startswith(f"{m}:4:3: orders: alias prod: version 7 does not exist"), located
    assert located[1].startswith(f"{m}:7:3: ghost: "), located
    assert "not found" in located[1]


def test_apply_without_terminal_refuses(emulator: Any, tmp_path: Path) -> None:
    seed(emulator)
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 1}
        """,
    )
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m)
    assert r.returncode == 1
    assert "no terminal" in r.stderr
    assert writes(emulator) == []


def test_apply_asks_on_a_terminal_and_only_yes_applies(emulator: Any, tmp_path: Path) -> None:
    """On a terminal apply shows the plan and asks; anything but 'yes' writes nothing."""
    import os
    import pty
    import subprocess
    import sys

    client = seed(emulator)
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 1}
        """,
    )

    def answer(text: str) -> tuple[int, str]:
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", m],
            env=emulator.env(),
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(follower)
        os.write(leader, text.encode())
        out, err = proc.communicate(timeout=60)
        os.close(leader)
        return proc.returncode, out + err

    code, output = answer("no\n")
    assert code == 1
    assert "Apply these changes?" in output
    assert "apply cancelled; nothing was written" in output
    assert client.list_aliases(FunctionName="orders")["Aliases"] == []
    code, output = answer("yes\n")
    assert code == 0, output
    assert alias(client, "orders", "prod") == ("1", {})


def test_verbose_logs_one_line_per_aws_call(emulator: Any, tmp_path: Path) -> None:
    """-v: one line per AWS call on standard error; standard output keeps only the plan."""
    seed(emulator)
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 1}
        """,
    )
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m, "-v", "--format", "json")
    assert r.returncode == 0, r.stderr
    logged = [ln for ln in r.stderr.splitlines() if ln.startswith("aws lambda.")]
    assert sorted(ln.split(" → ")[0] for ln in logged) == [
        "aws lambda.GetAccountSettings us-east-1",
        "aws lambda.ListAliases orders us-east-1",
        "aws lambda.ListVersionsByFunction orders us-east-1",
    ]
    assert len(logged) == len(lambda_calls(emulator))
    assert json.loads(r.stdout)["summary"]["create_alias"] == 1
