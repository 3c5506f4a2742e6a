"""`apply --wait` (contract §9): one process drives each rollout to its end. Time is virtual:
under `LAMBDA_RECONCILER_NOW` the CLI's sleep advances its clock, and the driver tests inject
their own clock and sleep, so no test sleeps for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from emulator.fixtures import create_alarm
from reconciler.aws.client import Aws
from reconciler.engine import Outcome, Stopped, VirtualClock, Waiter
from reconciler.manifest import load_manifests
from tests.cli_helpers import TEST_ENV, run_cli, write_manifest

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
ALARM = "orders-errors"
NOW = {"LAMBDA_RECONCILER_NOW": T0.isoformat()}


def seed(emulator: Any, tmp_path: Path, rollout: str) -> tuple[Any, Any, str]:
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
                version: 3
                rollout: {{{rollout}, alarms: [{ALARM}]}}
        """,
    )
    return emulator.boto3_client("lambda"), cw, m


def updates(emulator: Any) -> int:
    """Successful UpdateAlias calls so far, from the call log."""
    return sum(
        1
        for c in emulator.calls()
        if c.get("operation") == "UpdateAlias" and int(c.get("status", 0)) < 300
    )


def alias_moves(emulator: Any) -> list[tuple[str, dict[str, float]]]:
    """Each successful UpdateAlias, in order, as (version, additional weights) asked for."""
    return [
        (c["alias_version"], c["alias_weights"])
        for c in emulator.calls()
        if c.get("operation") == "UpdateAlias" and int(c.get("status", 0)) < 300
    ]


def prod(client: Any) -> tuple[str, dict[str, float]]:
    a = client.get_alias(FunctionName="orders", Name="prod")
    return a["FunctionVersion"], a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})


def test_wait_takes_a_two_step_rollout_to_the_end(emulator: Any, tmp_path: Path) -> None:
    """Steps 10 % and 50 % two seconds apart, then 100 %, in one `apply --wait` (exit 0), with
    one line per event."""
    client, _, m = seed(emulator, tmp_path, "steps: [10%, 50%], interval: 2s")
    r = run_cli(emulator, "apply", m, "--auto-approve", "--wait", "--poll", "1s", env=NOW)
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("3", {})
    lines = [x for x in r.stderr.splitlines() if x.startswith("orders:prod: ")]
    assert lines == [
        "orders:prod: step 1/2 at 10% since 2026-11-01 12:00:00 UTC, next at "
        "2026-11-01 12:00:02 UTC",
        "orders:prod: advancing to step 2/2 at 50%",
        "orders:prod: step 2/2 at 50% since 2026-11-01 12:00:02 UTC, next at "
        "2026-11-01 12:00:04 UTC",
        "orders:prod: promoting 3 to all traffic",
    ]
    assert "Wait: every rollout is complete." in r.stderr


def test_wait_keeps_each_step_for_its_whole_interval(emulator: Any, tmp_path: Path) -> None:
    """10-minute steps polled every 30 s: the poll at 12:09:30 finds step 2 due within its
    tolerance (which lets a one-step apply take it early), yet `--wait` takes it at 12:10:00 and
    promotes at 12:20:00, exactly on schedule."""
    _, _, m = seed(emulator, tmp_path, "steps: [10%, 50%], interval: 10m")
    r = run_cli(emulator, "apply", m, "--auto-approve", "--wait", "--poll", "30s", env=NOW)
    assert r.returncode == 0, r.stderr
    waiting = [x for x in r.stderr.splitlines() if x.startswith("orders:prod: step ")]
    assert waiting == [
        "orders:prod: step 1/2 at 10% since 2026-11-01 12:00:00 UTC, next at "
        "2026-11-01 12:10:00 UTC",
        "orders:prod: step 2/2 at 50% since 2026-11-01 12:10:00 UTC, next at "
        "2026-11-01 12:20:00 UTC",
    ]
    client = emulator.boto3_client("lambda")
    described = client.get_alias(FunctionName="orders", Name="prod")["Description"]
    assert " t=1793535600 st=done" in described  # promoted at 12:20 UTC


def test_wait_timeout_leaves_a_resumable_rollout(emulator: Any, tmp_path: Path) -> None:
    """--wait-timeout 5m on 10-minute steps: exit 3 at 10 %, saying any later apply continues;
    a later `apply --wait` finishes it."""
    client, _, m = seed(emulator, tmp_path, "steps: [10%, 50%], interval: 10m")
    args = ("apply", m, "--auto-approve", "--wait", "--poll", "2m")
    r = run_cli(emulator, *args, "--wait-timeout", "5m", env=NOW)
    assert r.returncode == 3, r.stderr
    assert "any later apply continues them" in r.stderr
    assert prod(client) == ("2", {"3": 0.1})
    later = {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=6)).isoformat()}
    r = run_cli(emulator, *args, env=later)
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("3", {})


def test_a_targeted_wait_follows_only_the_targeted_function(emulator: Any, tmp_path: Path) -> None:
    """`apply --target orders --wait` on two functions under rollout: orders goes to 100 %,
    payments is neither read nor written by the first apply or the waiting rounds, and the
    partial-run warning is said once."""
    emulator.seed(
        [{"name": n, "versions": 4, "aliases": {"prod": 2}} for n in ("orders", "payments")]
    )
    rollout = "{steps: [50%], interval: 2s}"
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        functions:
          orders: {{aliases: {{prod: {{version: 3, rollout: {rollout}}}}}}}
          payments: {{aliases: {{prod: {{version: 3, rollout: {rollout}}}}}}}
        """,
    )
    emulator.clear_calls()
    args = ("apply", m, "--auto-approve", "--target", "orders", "--wait", "--poll", "1s")
    r = run_cli(emulator, *args, env=NOW)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("warning: --target") == 1
    touched = {c.get("function") for c in emulator.calls() if c.get("service") == "lambda"}
    assert touched - {None} == {"orders"}
    assert updates(emulator) == 2  # 50 %, then 100 %
    client = emulator.boto3_client("lambda")
    assert prod(client) == ("3", {})
    payments = client.get_alias(FunctionName="payments", Name="prod")
    assert (payments["FunctionVersion"], payments.get("RoutingConfig")) == ("2", None)


@pytest.fixture
def aws(emulator: Any) -> Iterator[Aws]:
    saved = dict(os.environ)
    os.environ.update(emulator.env())
    try:
        yield Aws(region="us-east-1", max_rate=0)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def waiter(aws: Aws, m: str, clock: VirtualClock, sleep: Callable[[float], None]) -> Waiter:
    return Waiter(
        load_manifests([m]),
        aws,
        clock,
        sleep,
        lambda _line: None,
        poll=timedelta(seconds=30),
        timeout=timedelta(hours=1),
    )


def test_an_alarm_mid_interval_rolls_back_within_one_poll(
    emulator: Any, tmp_path: Path, aws: Aws
) -> None:
    """The alarm goes to ALARM 4 minutes into a 10-minute step: the rollback happens at the
    next poll (30 s later at most), and the run ends ROLLED_BACK (exit 1)."""
    client, cw, m = seed(emulator, tmp_path, "steps: [10%, 50%], interval: 10m")
    clock = VirtualClock(T0)
    fired: list[datetime] = []
    moved_back: list[datetime] = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if not fired and clock.now >= T0 + timedelta(minutes=4):
            cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors")
            fired.append(clock.now)

    w = waiter(aws, m, clock, sleep)
    w.report = lambda line: moved_back.append(clock.now) if "rolled back" in line else None
    assert w.run() == Outcome.ROLLED_BACK
    assert prod(client) == ("2", {})
    assert moved_back
    assert moved_back[0] - fired[0] <= timedelta(seconds=30)


def test_a_stop_between_rounds_resumes_without_repeating_a_step(
    emulator: Any, tmp_path: Path, aws: Aws
) -> None:
    """SIGTERM (the stop event) while waiting at step 1: the run stops between calls; a later
    run takes step 2 and the promotion, each exactly once."""
    client, _, m = seed(emulator, tmp_path, "steps: [10%, 50%], interval: 10m")
    clock = VirtualClock(T0)

    def stop_while_waiting(seconds: float) -> None:
        clock.sleep(seconds)
        first.stop.set()  # what the SIGTERM handler does

    first = waiter(aws, m, clock, stop_while_waiting)
    emulator.clear_calls()
    with pytest.raises(Stopped):
        first.run()
    assert (prod(client), updates(emulator)) == (("2", {"3": 0.1}), 1)
    seen: list[tuple[str, dict[str, float]]] = []

    def watch(seconds: float) -> None:
        seen.append(prod(client))
        clock.sleep(seconds)

    second = waiter(aws, m, clock, watch)
    assert second.run() == Outcome.COMPLETE
    assert prod(client) == ("3", {})
    assert updates(emulator) == 3  # step 1, step 2, the promotion: none repeated or skipped
    assert ("2", {"3": 0.5}) in seen


def test_sigterm_while_waiting_then_a_later_wait_keeps_the_schedule(
    emulator: Any, tmp_path: Path
) -> None:
    """A separate `apply --wait` process (real time) gets SIGTERM while it waits at 50 %: exit
    143 with one line saying how to continue; a later `apply --wait` finishes, and the call log's
    alias weights are exactly the schedule, 50 % then 100 %, none repeated or skipped. (A
    minute-long step, so that however loaded the machine the signal comes before it is due; the
    later run's clock is pinned past it instead of waiting.)"""
    client, _, m = seed(emulator, tmp_path, "steps: [50%], interval: 1m")
    emulator.clear_calls()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", m, "--auto-approve", "--wait"],
        env={**os.environ, **emulator.env(), **TEST_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:  # until it says it waits at step 1: it is between rounds
        seen.append(line)
        if line.startswith("orders:prod: step 1/1 at 50% since"):
            proc.send_signal(signal.SIGTERM)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=30) == 143, "".join(seen) + rest
    said = (
        "error: stopped while waiting; the rollouts stand where they are and any later apply "
        "continues them"
    )
    assert [said] == rest.splitlines()
    assert prod(client) == ("2", {"3": 0.5})
    due = datetime.now(timezone.utc) + timedelta(minutes=1, seconds=1)
    later = {"LAMBDA_RECONCILER_NOW": due.isoformat()}
    r = run_cli(emulator, "apply", m, "--auto-approve", "--wait", "--poll", "1s", env=later)
    assert r.returncode == 0, r.stderr
    assert alias_moves(emulator) == [("2", {"3": 0.5}), ("3", {})]
