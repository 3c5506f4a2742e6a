"""Metric gates (contract §9): a rollout reads its target's own Invocations and Errors through
the alias from CloudWatch (by ExecutedVersion), one GetMetricData per region per plan, rolls
back above the error rate and holds a step with too few invocations."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from emulator.fixtures import put_lambda_metrics
from tests.cli_helpers import run_cli, write_manifest

# near the real time: CloudWatch keeps one-minute data for 15 days
T0 = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=1)


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


GATES = "{max_error_rate: 1%, min_invocations: 100}"


def setup(emulator: Any, tmp_path: Path, gates: str = GATES) -> tuple[Any, Any, str]:
    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 2}}])
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod:
                version: 3
                rollout:
                  {{steps: [10%, 50%], interval: 10m,
                   gates: {gates}}}
        """,
    )
    client, cw = emulator.boto3_client("lambda"), emulator.boto3_client("cloudwatch")
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    return client, cw, m


def prod(client: Any) -> tuple[str, dict[str, float]]:
    a = client.get_alias(FunctionName="orders", Name="prod")
    return a["FunctionVersion"], a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})


def rollout(emulator: Any, m: str, minute: float) -> dict[str, Any]:
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(minute))
    assert r.returncode == 0, r.stderr
    found: dict[str, Any] = json.loads(r.stdout)["functions"][0]["rollouts"][0]
    return found


def test_error_rate_above_the_gate_rolls_back(emulator: Any, tmp_path: Path) -> None:
    """10 errors in 200 invocations of version 3 (5 % > 1 %), version 2's own errors not
    counted: the next apply rolls back and exits 1; one GetMetricData for the plan."""
    client, cw, m = setup(emulator, tmp_path)
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=2), 200, 10)
    put_lambda_metrics(cw, "orders", "prod", "2", T0 + timedelta(minutes=2), 2000, 0)
    emulator.clear_calls()
    found = rollout(emulator, m, 6)  # the window ends 3 minutes back: minute 2 is in
    calls = [c for c in emulator.calls() if c.get("operation") == "GetMetricData"]
    assert len(calls) == 1
    assert (
        found["phase"],
        found["status"],
        found["invocations"],
        found["errors"],
    ) == ("rolling_back", "failed", 200, 10)
    assert found["message"] == (
        "rolling back: gate: error rate 5% > 1% (10 errors in 200 invocations)"
    )
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(6))
    assert r.returncode == 1, r.stderr
    assert prod(client) == ("2", {})


def test_too_few_invocations_hold_the_step(emulator: Any, tmp_path: Path) -> None:
    """50 invocations of the target when 100 are needed: the due step (10 minutes, plus the 3
    CloudWatch needs to publish its end) is not taken (status holding, not drift); 100 more
    and the next apply advances."""
    client, cw, m = setup(emulator, tmp_path)
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=2), 50, 0)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(14)).returncode == 0
    assert prod(client) == ("2", {"3": 0.1})
    found = rollout(emulator, m, 14)
    assert (found["phase"], found["status"]) == ("gated", "holding")
    assert found["message"].startswith("holding at step 1/2: 50 invocations of 3")
    assert run_cli(emulator, "drift", m, env=at(14)).returncode == 0
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=11), 100, 0)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(15)).returncode == 0
    assert prod(client) == ("2", {"3": 0.5})


def test_compare_to_previous_rolls_back_on_the_excess_over_the_previous_version(
    emulator: Any, tmp_path: Path
) -> None:
    """`compare_to_previous` with a 1 % margin: version 3 at 5 % errors while version 2 (the
    one traffic moves from) also runs at 5 % is no rollback, although 5 % > 1 %; once version 3
    reaches 7 % (2 points above) the next apply rolls back, naming both rates. Both versions'
    counts come from the one GetMetricData of each plan."""
    client, cw, m = setup(
        emulator, tmp_path, "{max_error_rate: 1%, min_invocations: 100, compare_to_previous: true}"
    )
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=2), 200, 10)
    put_lambda_metrics(cw, "orders", "prod", "2", T0 + timedelta(minutes=2), 2000, 100)
    emulator.clear_calls()
    found = rollout(emulator, m, 6)
    assert len([c for c in emulator.calls() if c.get("operation") == "GetMetricData"]) == 1
    assert (found["phase"], found["cause"], found["invocations"]) == ("waiting", None, 200)

    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=4), 100, 11)
    found = rollout(emulator, m, 8)
    why = (
        "gate: error rate 7% > the previous version's 5% + 1% (21 errors in 300 invocations; "
        "the previous version 100 in 2000)"
    )
    assert (found["phase"], found["cause"]) == (
        "rolling_back",
        {
            "kind": "compare_to_previous",
            "errors": 21,
            "invocations": 300,
            "previous_errors": 100,
            "previous_invocations": 2000,
            "max_error_rate": 0.01,
            "message": why,
        },
    )
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(8))
    assert r.returncode == 1, r.stderr
    assert f"error: orders:prod rolled back to 2: {why}" in r.stderr
    assert prod(client) == ("2", {})
    r = run_cli(emulator, "plan", m, env=at(9))
    assert f"rolled back at step 1: {why}; 2 serves all traffic" in r.stdout


def test_compare_to_previous_must_be_a_boolean(emulator: Any, tmp_path: Path) -> None:
    """`compare_to_previous: "yes"` is refused at its line and column, nothing read."""
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod:
                version: 3
                rollout:
                  steps: [10%]
                  interval: 10m
                  gates: {max_error_rate: 1%, compare_to_previous: "yes"}
        """,
    )
    r = run_cli(emulator, "validate", m)
    assert r.returncode == 1
    assert (
        f"{m}:11:60: functions.orders.aliases.prod.rollout.gates.compare_to_previous: "
        'expected true or false, got "yes"'
    ) == r.stderr.splitlines()[0]


def test_iam_policy_adds_get_metric_data_for_gates(emulator: Any, tmp_path: Path) -> None:
    """A manifest with gates: both policies allow cloudwatch:GetMetricData (on "*", the only
    resource it takes); without gates they do not."""
    _, _, m = setup(emulator, tmp_path)
    for mode in ("plan", "apply"):
        r = run_cli(emulator, "iam-policy", m, "--mode", mode)
        actions = {a for st in json.loads(r.stdout)["Statement"] for a in st["Action"]}
        assert "cloudwatch:GetMetricData" in actions
    plain = (
        Path(m)
        .read_text()
        .replace(",\n           gates: {max_error_rate: 1%, min_invocations: 100}", "")
    )
    Path(m).write_text(plain)
    r = run_cli(emulator, "iam-policy", m)
    actions = {a for st in json.loads(r.stdout)["Statement"] for a in st["Action"]}
    assert "cloudwatch:GetMetricData" not in actions
    assert "cloudwatch:DescribeAlarms" in actions


def test_the_plan_and_the_pr_comment_list_the_gates(emulator: Any, tmp_path: Path) -> None:
    """While the rollout moves traffic, the text plan and the Markdown name its gates with
    their limits; the JSON carries them, and the Markdown rendered again from the saved JSON
    (as the PR comment is) says the same."""
    _, _, m = setup(emulator, tmp_path)
    said = "gate: error rate at most 1%, at least 100 invocations a step"
    r = run_cli(emulator, "plan", m, env=at(1))
    assert f"      checks: {said}" in r.stdout
    saved = tmp_path / "plan.json"
    r = run_cli(emulator, "plan", m, "--format", "markdown", "--out", str(saved), env=at(1))
    assert f"<br>Checks: {said}" in r.stdout
    found = json.loads(saved.read_text())["functions"][0]["rollouts"][0]
    assert found["gates"] == {
        "max_error_rate": 0.01,
        "min_invocations": 100,
        "compare_to_previous": False,
    }
    from reconciler.plan.planfile import load_plan_file
    from reconciler.render.markdown import render_markdown

    assert f"<br>Checks: {said}" in render_markdown(load_plan_file(str(saved)))


def test_a_saved_plan_reads_the_gates_again_before_its_step(emulator: Any, tmp_path: Path) -> None:
    """Defect 6: a plan saved while the gate passed (200 clean invocations) is applied after
    errors came in for the same step. `apply PLAN.json` plans the step again from the manifests
    it names and the metrics as they are now: the gate fails, so the saved step is refused
    (exit 1, nothing written) instead of moving traffic on metrics read at review."""
    client, cw, m = setup(emulator, tmp_path)
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=2), 200, 0)
    saved = tmp_path / "plan.json"
    r = run_cli(emulator, "plan", m, "--out", str(saved), env=at(13))
    assert r.returncode == 0, r.stderr
    assert json.loads(saved.read_text())["functions"][0]["rollouts"][0]["phase"] == "advancing"
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=4), 100, 50)
    emulator.clear_calls()
    r = run_cli(emulator, "apply", str(saved), env=at(13))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "orders:prod: read again now, the rollout is rolling back: gate: error rate" in r.stderr
    assert "nothing was written" in r.stderr
    assert [c for c in emulator.calls() if c.get("write")] == []
    assert prod(client) == ("2", {"3": 0.1})
    # with the gate still passing, the same saved plan is applied as reviewed
    emulator.reset()
    client, cw, m = setup(emulator, tmp_path)
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=2), 200, 0)
    assert run_cli(emulator, "plan", m, "--out", str(saved), env=at(13)).returncode == 0
    r = run_cli(emulator, "apply", str(saved), env=at(13))
    assert r.returncode == 0, r.stdout + r.stderr
    assert prod(client) == ("2", {"3": 0.5})
