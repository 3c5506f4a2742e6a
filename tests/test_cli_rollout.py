"""Progressive rollouts end to end: the real CLI against the emulator, on a pinned clock."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli, write_manifest

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
ALARM = "orders-errors"


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


def setup(emulator: Any, tmp_path: Path, target: int = 3) -> tuple[Any, Any, str]:
    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 2}}])
    cw = emulator.boto3_client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName=ALARM,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod:
                version: {target}
                rollout: {{steps: [10%, 50%], interval: 10m, alarms: [{ALARM}]}}
        """,
        name=f"rollout-{target}.yaml",
    )
    return emulator.boto3_client("lambda"), cw, m


def prod(client: Any) -> tuple[str, dict[str, float]]:
    a = client.get_alias(FunctionName="orders", Name="prod")
    return a["FunctionVersion"], a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})


def test_full_progression_one_step_per_apply(emulator: Any, tmp_path: Path) -> None:
    """Start at 10%, wait out the interval, 50%, then all traffic; then nothing to do."""
    client, _, m = setup(emulator, tmp_path)
    seen = []
    for minute in (0, 5, 10, 15, 20, 30):
        r = run_cli(emulator, "apply", m, "--auto-approve", env=at(minute))
        assert r.returncode == 0, r.stderr
        seen.append(prod(client))
    assert seen == [
        ("2", {"3": 0.1}),
        ("2", {"3": 0.1}),  # interval not passed: no change
        ("2", {"3": 0.5}),
        ("2", {"3": 0.5}),
        ("3", {}),
        ("3", {}),
    ]
    r = run_cli(emulator, "plan", m, "--detailed-exitcode", env=at(40))
    assert r.returncode == 0, r.stdout
    assert "rollout prod: complete: 3 takes all traffic" in r.stdout


def test_plan_shows_where_the_rollout_stands(emulator: Any, tmp_path: Path) -> None:
    _client, _, m = setup(emulator, tmp_path)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    r = run_cli(emulator, "plan", m, env=at(3))
    assert "rollout prod: step 1/2 at 10% since 2026-11-01 12:00 UTC" in r.stdout
    assert "next at 2026-11-01 12:10 UTC" in r.stdout


def test_alarm_rolls_back_and_failed_target_is_not_retried(emulator: Any, tmp_path: Path) -> None:
    """ALARM: back to the previous primary with no canary, exit 1 naming the alarm; the same
    target is not retried; a new target starts a new rollout."""
    client, cw, m = setup(emulator, tmp_path)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors")
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(11))
    assert r.returncode == 1
    assert f"alarm {ALARM} in ALARM" in r.stderr
    assert "Traceback" not in r.stderr
    assert prod(client) == ("2", {})

    cw.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="fine")
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(30))
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("2", {})  # failed target not retried
    r = run_cli(emulator, "plan", m, env=at(30))
    assert f"failed at step 1: alarm {ALARM}" in r.stdout

    _, _, m4 = setup_next(tmp_path)
    r = run_cli(emulator, "apply", m4, "--auto-approve", env=at(31))
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("2", {"4": 0.1})


def setup_next(tmp_path: Path) -> tuple[None, None, str]:
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod:
                version: 4
                rollout: {{steps: [10%, 50%], interval: 10m, alarms: [{ALARM}]}}
        """,
        name="rollout-4.yaml",
    )
    return None, None, m


def test_missing_alarm_is_an_error_not_healthy(emulator: Any, tmp_path: Path) -> None:
    client, cw, m = setup(emulator, tmp_path)
    cw.delete_alarms(AlarmNames=[ALARM])
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    assert r.returncode == 1
    assert f"rollout alarm {ALARM} does not exist" in r.stdout + r.stderr
    assert prod(client) == ("2", {})


def test_crash_between_state_write_and_alias_update_converges(
    emulator: Any, tmp_path: Path
) -> None:
    """The run dies right after writing the step-2 state tag, before moving the alias: the
    next run retakes step 2 (it neither skips it nor leaves the alias behind)."""
    client, _, m = setup(emulator, tmp_path)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    env = {**emulator.env(), **at(10)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", m, "--auto-approve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    emulator.faults(kill={"pid": proc.pid, "write": 1, "when": "after"})
    proc.wait(timeout=120)
    assert proc.returncode == -9
    emulator.faults()
    assert prod(client) == ("2", {"3": 0.1})  # tag written, alias not moved
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(11))
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("2", {"3": 0.5})
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(15))
    assert prod(client) == ("2", {"3": 0.5})  # a fresh interval from the retaken step


def test_two_runners_racing_do_not_skip_a_step(emulator: Any, tmp_path: Path) -> None:
    client, _, m = setup(emulator, tmp_path)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    emulator.faults(latency_ms=150)
    env = {**emulator.env(), **at(10)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", m, "--auto-approve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    emulator.faults()
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 1]), outs
    for p, (_, err) in zip(procs, outs, strict=True):
        if p.returncode == 1:
            assert "changed since it was read" in err
    assert prod(client) == ("2", {"3": 0.5})
