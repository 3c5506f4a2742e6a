"""Progressive rollouts end to end: the real CLI against the emulator, on a pinned clock."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from emulator.fixtures import create_alarm
from tests.cli_helpers import run_cli, write_manifest
from tests.test_reliability_support import Proxy, gated_cli, run_gated

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
ALARM = "orders-errors"


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


def setup(emulator: Any, tmp_path: Path, target: int = 3) -> tuple[Any, Any, str]:
    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 2}}])
    cw = emulator.boto3_client("cloudwatch")
    create_alarm(cw, ALARM)
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
    assert "rollout prod: step 1/2 at 10% since 2026-11-01 12:00:00 UTC" in r.stdout
    assert "next at 2026-11-01 12:10:00 UTC" in r.stdout


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
    assert f"rolled back at step 1: alarm {ALARM}" in r.stdout

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
    """The run dies right after its one write, the step-2 move with its record (there is no
    state write before it to be left behind): the next runs see step 2 started at minute 10 and
    keep it for its whole interval, then promote."""
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
    assert prod(client) == ("2", {"3": 0.5})  # the move and its state, together
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(11))
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("2", {"3": 0.5})
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(15))
    assert prod(client) == ("2", {"3": 0.5})  # step 2 keeps its interval from minute 10
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(20))
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("3", {})


def test_two_runners_racing_do_not_skip_a_step(emulator: Any, tmp_path: Path) -> None:
    """Two applies both read step 1 (the proxy holds each one's alias write until both have
    planned): both want step 2, one moves the alias, the other is refused by the alias
    RevisionId; the rollout stands at step 2, not 3, and its interval restarts there."""
    client, _, m = setup(emulator, tmp_path)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    with Proxy(upstream=emulator.url, hold_writes=2) as proxy:
        env = {**emulator.env(), "AWS_ENDPOINT_URL": proxy.url, **at(10)}
        procs = [gated_cli(["apply", m, "--auto-approve"], env) for _ in range(2)]
        results: list[tuple[int, str, str]] = [(-1, "", "")] * 2

        def go(i: int) -> None:
            results[i] = run_gated(procs[i])

        threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        proxy.wait_idle()
        updates = [e for e in proxy.lambda_writes() if "/aliases/" in e.path]
    assert sorted(rc for rc, _, _ in results) == [0, 1], results
    loser = next(err for rc, _, err in results if rc == 1)
    assert "changed since it was read" in loser
    assert sorted(e.status for e in updates) == [200, 412]
    assert prod(client) == ("2", {"3": 0.5})
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(15))
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("2", {"3": 0.5})  # step 2 since minute 10: not yet due
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(20))
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("3", {})


def test_alarms_read_once_per_region_and_a_firing_alarm_holds_the_start(
    emulator: Any, tmp_path: Path
) -> None:
    """Two functions whose rollouts name three alarms (one shared) cost one DescribeAlarms; a
    rollout whose alarm is already in ALARM does not start, and the JSON plan and `drift` say
    where each rollout stands."""
    _, cw, _ = setup(emulator, tmp_path)
    emulator.seed([{"name": "payments", "versions": 4, "aliases": {"prod": 2}}])
    for name in ("payments-errors", "shared-latency"):
        create_alarm(cw, name)
    cw.set_alarm_state(AlarmName="payments-errors", StateValue="ALARM", StateReason="errors")
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
                rollout: {{steps: [10%, 50%], interval: 10m, alarms: [{ALARM}, shared-latency]}}
          payments:
            aliases:
              prod:
                version: 3
                rollout: {{steps: [10%], interval: 10m, alarms: [payments-errors, shared-latency]}}
        """,
        name="two.yaml",
    )
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(0))
    assert r.returncode == 0, r.stderr
    describe = [c for c in emulator.calls() if c.get("operation") == "DescribeAlarms"]
    assert len(describe) == 1, describe
    plan = json.loads(r.stdout)
    rollouts = {f["function"]: f["rollouts"] for f in plan["functions"]}
    assert rollouts["orders"] == [
        {
            "alias": "prod",
            "target": "3",
            "step": 1,
            "steps": 2,
            "weight": 0.1,
            "phase": "starting",
            "status": "pending",
            "since": "2026-11-01T12:00:00+00:00",
            "next_at": "2026-11-01T12:10:00+00:00",
            "alarm": None,
            "cause": None,
            "previous": "2",
            "alarms": [ALARM, "shared-latency"],
            "insufficient_data": [],
            "attempt": 1,
            "pre_traffic": None,
            "post_traffic": None,
            "invocations": None,
            "errors": None,
            "weights": [0.1, 0.5],
            "interval": 600,
            "live": {"version": "2", "canary": None, "description": ""},
            "problem": "",
            "gates": None,
            "schedule": [
                {"weight": 0.1, "at": "2026-11-01T12:00:00+00:00"},
                {"weight": 0.5, "at": "2026-11-01T12:10:00+00:00"},
                {"weight": 1.0, "at": "2026-11-01T12:20:00+00:00"},
            ],
            "message": "starting: step 1/2 at 10%",
        }
    ]
    assert rollouts["payments"][0]["step"] == 0
    assert (
        rollouts["payments"][0]["message"]
        == "waiting: alarm payments-errors in ALARM; not starting, 2 serves all traffic"
    )
    ops = {f["function"]: [o["action"] for o in f["operations"]] for f in plan["functions"]}
    assert ops == {"orders": ["update_alias"], "payments": []}

    r = run_cli(emulator, "drift", m, env=at(0))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "waiting: alarm payments-errors in ALARM; not starting, 2 serves all traffic" in r.stdout
    assert "starting: step 1/2 at 10%" in r.stdout
