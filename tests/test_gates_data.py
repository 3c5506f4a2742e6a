"""Gates judge data, not its absence (contract §9): a gate without invocations holds the step;
the metric window ends three minutes back (CloudWatch publishes late) and a due step waits
until its end is in; the window reaches back over the step before, so errors published late
for a finished step still roll back; alarms in INSUFFICIENT_DATA are shown, and with
`insufficient_data: hold` keep the rollout from moving forward."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from emulator.fixtures import create_alarm, put_lambda_metrics
from tests.cli_helpers import run_cli, write_manifest

# near the real time: CloudWatch keeps one-minute data for 15 days
T0 = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=1)


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


def no_data(cw: Any) -> None:
    """Two alarms in INSUFFICIENT_DATA, as AWS creates them (moto starts them OK)."""
    for alarm in ("orders-errors", "orders-latency"):
        create_alarm(cw, alarm)
        cw.set_alarm_state(AlarmName=alarm, StateValue="INSUFFICIENT_DATA", StateReason="new")


def setup(emulator: Any, tmp_path: Path, rollout: str) -> tuple[Any, Any, str]:
    """orders:prod starts a rollout to version 3 at T0 (step 1, 10 %)."""
    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 2}}])
    cw = emulator.boto3_client("cloudwatch")
    no_data(cw)
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
                rollout: {rollout}
        """,
    )
    client = emulator.boto3_client("lambda")
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    assert r.returncode == 0, r.stderr
    return client, cw, m


def prod(client: Any) -> tuple[str, dict[str, float]]:
    a = client.get_alias(FunctionName="orders", Name="prod")
    return a["FunctionVersion"], a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})


def rollout(emulator: Any, m: str, minute: float) -> dict[str, Any]:
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(minute))
    assert r.returncode == 0, r.stderr
    found: dict[str, Any] = json.loads(r.stdout)["functions"][0]["rollouts"][0]
    return found


def gated(extra: str = "") -> str:
    return "{steps: [10%, 50%], interval: 10m, gates: {max_error_rate: 1%" + extra + "}}"


def test_a_gate_without_invocations_holds_the_step(emulator: Any, tmp_path: Path) -> None:
    """Gates with no `min_invocations` (the default is 1), and no invocation of version 3 at
    all: the due step is not taken; the status says 0 invocations. One invocation, and it is."""
    client, cw, m = setup(emulator, tmp_path, gated())
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(14)).returncode == 0
    assert prod(client) == ("2", {"3": 0.1})
    found = rollout(emulator, m, 14)
    assert (found["phase"], found["invocations"]) == ("gated", 0)
    assert found["message"].startswith("holding at step 1/2: 0 invocations of 3")
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=5), 1, 0)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(14)).returncode == 0
    assert prod(client) == ("2", {"3": 0.5})


def test_min_invocations_zero_still_needs_data(emulator: Any, tmp_path: Path) -> None:
    """`min_invocations: 0` does not let a step through on no data at all."""
    client, _, m = setup(emulator, tmp_path, gated(", min_invocations: 0"))
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(14)).returncode == 0
    assert prod(client) == ("2", {"3": 0.1})


def test_a_due_step_waits_for_its_last_metrics_and_late_errors_roll_back(
    emulator: Any, tmp_path: Path
) -> None:
    """At minute 10 the step is due, but CloudWatch has not published its last minutes: the
    step waits until 10 + 3 (status says when). Errors of minute 9 published at minute 12 are
    then seen, and the rollout rolls back instead of advancing."""
    client, cw, m = setup(emulator, tmp_path, gated())
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=2), 100, 0)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(10)).returncode == 0
    assert prod(client) == ("2", {"3": 0.1})
    found = rollout(emulator, m, 10)
    ready = (T0 + timedelta(minutes=13)).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert found["phase"] == "gated"
    assert found["message"] == (
        f"holding at step 1/2: waiting for CloudWatch's metrics of the step's end, in by {ready}"
    )
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=9), 100, 20)
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(13))
    assert r.returncode == 1, r.stderr
    assert prod(client) == ("2", {})


def test_errors_published_late_for_the_finished_step_roll_back_the_next(
    emulator: Any, tmp_path: Path
) -> None:
    """Step 1 is judged clean and step 2 begins at minute 13; then errors of minute 12 (step 1's
    end) are published. During step 2 the window still covers step 1, and they roll back."""
    client, cw, m = setup(emulator, tmp_path, gated())
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=2), 100, 0)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(13)).returncode == 0
    assert prod(client) == ("2", {"3": 0.5})
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=9), 100, 30)
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(17))
    assert r.returncode == 1, r.stderr
    assert "gate: error rate" in r.stderr
    assert prod(client) == ("2", {})


def test_the_bake_reads_the_last_step_again(emulator: Any, tmp_path: Path) -> None:
    """Promoted at minute 13 with a 30-minute bake; errors of minute 9 (the last step) are
    published later: the bake sees them and rolls back from 100 %."""
    rollout_spec = "{steps: [10%], interval: 10m, bake: 30m, gates: {max_error_rate: 1%}}"
    client, cw, m = setup(emulator, tmp_path, rollout_spec)
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=2), 100, 0)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(13)).returncode == 0
    assert prod(client) == ("3", {})
    put_lambda_metrics(cw, "orders", "prod", "3", T0 + timedelta(minutes=9), 100, 30)
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(20))
    assert r.returncode == 1, r.stderr
    assert prod(client) == ("2", {})


def test_alarms_without_data_are_shown(emulator: Any, tmp_path: Path) -> None:
    """Both alarms in INSUFFICIENT_DATA, the default `insufficient_data: ignore`: the plan says
    so under the rollout and in the JSON; the rollout goes on (its step is taken when due)."""
    spec = "{steps: [10%, 50%], interval: 10m, alarms: [orders-errors, orders-latency]}"
    client, cw, m = setup(emulator, tmp_path, spec)
    r = run_cli(emulator, "plan", m, env=at(5))
    assert (
        "  » rollout prod: alarm orders-errors, orders-latency have insufficient data "
        "(INSUFFICIENT_DATA)"
    ) in r.stdout.splitlines()
    assert rollout(emulator, m, 5)["insufficient_data"] == ["orders-errors", "orders-latency"]
    cw.set_alarm_state(AlarmName="orders-errors", StateValue="OK", StateReason="fine")
    assert rollout(emulator, m, 5)["insufficient_data"] == ["orders-latency"]
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(10)).returncode == 0
    assert prod(client) == ("2", {"3": 0.5})


def test_insufficient_data_hold_keeps_the_rollout_but_not_a_rollback(
    emulator: Any, tmp_path: Path
) -> None:
    """`insufficient_data: hold`: while orders-latency has no data the due step is not taken
    and the status names it; orders-errors going to ALARM still rolls back."""
    spec = (
        "{steps: [10%, 50%], interval: 10m, alarms: [orders-errors, orders-latency], "
        "insufficient_data: hold}"
    )
    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 2}}])
    cw = emulator.boto3_client("cloudwatch")
    no_data(cw)
    cw.set_alarm_state(AlarmName="orders-errors", StateValue="OK", StateReason="fine")
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        functions:
          orders: {{aliases: {{prod: {{version: 3, rollout: {spec}}}}}}}
        """,
    )
    client = emulator.boto3_client("lambda")
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    assert prod(client) == ("2", {})
    found = rollout(emulator, m, 0)
    assert (found["phase"], found["status"]) == ("held", "holding")
    assert found["message"] == (
        "waiting: alarm orders-latency has insufficient data (rollout.insufficient_data: "
        "hold); not starting, 2 serves all traffic"
    )
    cw.set_alarm_state(AlarmName="orders-latency", StateValue="OK", StateReason="fine")
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(1)).returncode == 0
    assert prod(client) == ("2", {"3": 0.1})
    cw.set_alarm_state(AlarmName="orders-latency", StateValue="INSUFFICIENT_DATA", StateReason="x")
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(12)).returncode == 0
    assert prod(client) == ("2", {"3": 0.1})
    assert rollout(emulator, m, 12)["phase"] == "gated"
    cw.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="errors")
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(12))
    assert r.returncode == 1, r.stderr
    assert prod(client) == ("2", {})
