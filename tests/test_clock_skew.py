"""Time from AWS, not the runner (contract §9): the plan's time is AWS's, estimated from the
`Date` of its responses; a runner whose clock is more than 30 s off AWS's takes no step forward
(rollbacks still happen) and says why; a step time in the future fails only its own function's
metric queries. The emulator's `Date` follows a clock offset set through its control API, which
plain moto cannot do."""

from __future__ import annotations

import email.utils
import json
import os
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from emulator.fixtures import create_alarm, put_lambda_metrics
from reconciler.aws import MetricQuery
from reconciler.aws.client import Aws
from reconciler.engine.run import CLOCK_SKEW_BOUND, build_plan
from reconciler.errors import AwsError
from reconciler.manifest import load_manifests
from reconciler.plan import MetricsUnread, RolloutPhase
from tests.cli_helpers import run_cli, write_manifest

ROLLOUT = "{steps: [10%, 50%], interval: 20s}"


def date_of(response: Any) -> float:
    header = response["ResponseMetadata"]["HTTPHeaders"]["date"]
    return email.utils.parsedate_to_datetime(header).timestamp()


def test_the_emulators_date_follows_its_clock_offset_and_plain_motos_cannot(
    emulator: Any,
) -> None:
    """`emulator.clock(±N)` moves the `Date` of every response (Lambda and CloudWatch) N
    seconds from the host's clock, and a reset puts it back; plain moto's `Date` is always the
    host's time, with nothing to move it, so it cannot show a runner whose clock is off."""
    lam, cw = emulator.boto3_client("lambda"), emulator.boto3_client("cloudwatch")
    emulator.clock(3600)
    assert abs(date_of(lam.list_functions()) - time.time() - 3600) < 5
    assert abs(date_of(cw.describe_alarms()) - time.time() - 3600) < 5
    emulator.clock(-600)
    assert abs(date_of(lam.list_functions()) - time.time() + 600) < 5
    emulator.reset()
    assert abs(date_of(lam.list_functions()) - time.time()) < 5
    with mock_aws():
        plain = boto3.client(
            "lambda",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert abs(date_of(plain.list_functions()) - time.time()) < 5


@pytest.fixture
def aws_env(emulator: Any) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(emulator.env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_the_server_clock_estimate_is_within_a_second_or_two(emulator: Any, aws_env: None) -> None:
    """After a few calls, `Aws.clock_offset()` is AWS's clock minus the runner's: 0 against an
    honest endpoint, +90 s when AWS runs 90 s ahead, -45 s when behind (within 2 s: `Date` has
    one-second resolution); None before any response."""
    emulator.seed([{"name": "orders", "versions": 1}])
    for offset in (0.0, 90.0, -45.0):
        emulator.clock(offset)
        aws = Aws(region="us-east-1", max_rate=0)
        assert aws.clock_offset() is None
        for _ in range(5):
            aws.read_function("orders", None)
        estimate = aws.clock_offset()
        assert estimate is not None
        assert abs(estimate - offset) < 2, (offset, estimate)


def rollout_manifest(tmp_path: Path, functions: Sequence[str], extra: str = "") -> str:
    body = "".join(
        f"  {n}: {{aliases: {{prod: {{version: 3, rollout: {ROLLOUT[:-1]}{extra}}}}}}}}}\n"
        for n in functions
    )
    return write_manifest(tmp_path, f"version: 1\nregion: us-east-1\nfunctions:\n{body}")


def prod(client: Any, name: str = "orders") -> tuple[str, dict[str, float]]:
    a = client.get_alias(FunctionName=name, Name="prod")
    return a["FunctionVersion"], a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})


def started(emulator: Any, tmp_path: Path) -> tuple[Any, str]:
    """orders:prod at step 1 (10 % on version 3), its 20 s step begun just now (real time)."""
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}])
    m = rollout_manifest(tmp_path, ["orders"])
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    client = emulator.boto3_client("lambda")
    assert prod(client) == ("2", {"3": 0.1})
    return client, m


def test_step_times_are_awss_not_the_runners(emulator: Any, tmp_path: Path) -> None:
    """AWS's clock is 25 s ahead of the runner's (within the 30 s bound): the 20 s step, begun
    a moment ago by the runner's clock, is due by AWS's, and apply takes step 2. (On the
    runner's own clock it would wait.)"""
    client, m = started(emulator, tmp_path)
    emulator.clock(25)
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("2", {"3": 0.5})


@pytest.mark.parametrize("offset", [3600.0, -3600.0], ids=["runner-behind", "runner-ahead"])
def test_a_runner_clock_off_by_more_than_the_bound_takes_no_step(
    emulator: Any, tmp_path: Path, offset: float
) -> None:
    """AWS's clock an hour ahead of the runner's (the step is due by AWS's time) or an hour
    behind: apply takes no step, exits 0, and plan says why; the JSON rollout is holding."""
    client, m = started(emulator, tmp_path)
    emulator.clock(offset)
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("2", {"3": 0.1})
    r = run_cli(emulator, "plan", m, "--format", "json")
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)["functions"][0]["rollouts"][0]
    way = "behind" if offset > 0 else "ahead of"
    assert found["phase"] == "gated"
    assert found["message"].startswith(
        f"holding at step 1/2: this runner's clock is 1h 0m {way} AWS's (more than 30s)"
    )
    assert CLOCK_SKEW_BOUND == 30.0


def test_a_skewed_runner_still_rolls_back(emulator: Any, tmp_path: Path) -> None:
    """A hold stops steps forward only: with the runner an hour off, an alarm in ALARM still
    rolls the rollout back (exit 1)."""
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}])
    cw = emulator.boto3_client("cloudwatch")
    create_alarm(cw, "orders-errors")
    m = rollout_manifest(tmp_path, ["orders"], ", alarms: [orders-errors]")
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    emulator.clock(-3600)
    cw.set_alarm_state(AlarmName="orders-errors", StateValue="ALARM", StateReason="errors")
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 1, r.stderr
    assert prod(emulator.boto3_client("lambda")) == ("2", {})


T0 = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=2)


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


def gated_pair(emulator: Any, tmp_path: Path) -> str:
    """orders and payments under gated rollouts, with an alarm on payments; orders's step 1
    was begun by a runner whose clock ran an hour ahead (its step time is in the future)."""
    emulator.seed(
        [{"name": n, "versions": 3, "aliases": {"prod": 2}} for n in ("orders", "payments")]
    )
    cw = emulator.boto3_client("cloudwatch")
    create_alarm(cw, "payments-errors")
    gates = "{steps: [10%, 50%], interval: 10m, gates: {max_error_rate: 1%}"
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        functions:
          orders: {{aliases: {{prod: {{version: 3, rollout: {gates}}}}}}}}}
          payments:
            aliases:
              prod: {{version: 3, rollout: {gates}, alarms: [payments-errors]}}}}
        """,
    )
    only = ("--target", "orders")
    assert run_cli(emulator, "apply", m, "--auto-approve", *only, env=at(60)).returncode == 0
    only = ("--target", "payments")
    assert run_cli(emulator, "apply", m, "--auto-approve", *only, env=at(0)).returncode == 0
    put_lambda_metrics(cw, "payments", "prod", "3", T0 + timedelta(minutes=1), 100, 0)
    cw.set_alarm_state(AlarmName="payments-errors", StateValue="ALARM", StateReason="errors")
    return m


def test_a_state_time_in_the_future_fails_only_its_own_function(
    emulator: Any, tmp_path: Path
) -> None:
    """orders's step began in the future; payments's alarm fires. Plan and apply go on:
    payments rolls back (exit 1 for the rollback, not an error), orders holds at step 1 naming
    its future step time, and drift reports rather than fails."""
    m = gated_pair(emulator, tmp_path)
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(5))
    assert r.returncode == 0, r.stderr
    rollouts = {f["function"]: f["rollouts"][0] for f in json.loads(r.stdout)["functions"]}
    assert rollouts["payments"]["phase"] == "rolling_back"
    assert rollouts["orders"]["phase"] == "gated"
    began = (T0 + timedelta(minutes=60)).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert rollouts["orders"]["message"] == (
        "holding at step 1/2: the gate's metrics could not be read: its step began at "
        f"{began}, after the plan's time"
    )
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(5))
    assert r.returncode == 1, r.stderr
    assert "rolled back" in r.stderr
    client = emulator.boto3_client("lambda")
    assert prod(client, "payments") == ("2", {})
    assert prod(client, "orders") == ("2", {"3": 0.1})
    assert run_cli(emulator, "drift", m, env=at(5)).returncode in (0, 2)


class FailingFor(Aws):
    """CloudWatch refuses every GetMetricData that asks about `function` (as an access policy
    scoped per function, or a malformed query, would)."""

    def __init__(self, function: str) -> None:
        super().__init__(region="us-east-1", max_rate=0)
        self.function = function
        self.batches: list[set[str]] = []

    def metric_sums(self, region: str | None, queries: Sequence[MetricQuery]) -> dict[str, float]:
        self.batches.append({q.function for q in queries})
        if any(q.function == self.function for q in queries):
            raise AwsError(f"AccessDenied: not allowed to read metrics of {self.function}")
        return super().metric_sums(region, queries)


def test_a_failing_metric_read_is_retried_per_function(
    emulator: Any, tmp_path: Path, aws_env: None
) -> None:
    """The region's one GetMetricData fails because of orders: each function's queries are
    sent again on their own; payments is judged on its metrics (and rolls back on its error
    rate), orders holds with the error."""
    emulator.seed(
        [{"name": n, "versions": 3, "aliases": {"prod": 2}} for n in ("orders", "payments")]
    )
    cw = emulator.boto3_client("cloudwatch")
    m = rollout_manifest(tmp_path, ["orders", "payments"], ", gates: {max_error_rate: 1%}")
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    put_lambda_metrics(cw, "payments", "prod", "3", T0 + timedelta(seconds=5), 100, 50)
    aws = FailingFor("orders")
    plan = build_plan(load_manifests([m]), aws, clock=lambda: T0 + timedelta(minutes=5))
    got = {fp.function: fp.rollouts[0] for fp in plan.functions}
    assert aws.batches == [{"orders", "payments"}, {"orders"}, {"payments"}]
    assert got["payments"].phase is RolloutPhase.ROLLING_BACK
    assert got["orders"].phase is RolloutPhase.GATED
    assert got["orders"].hold == MetricsUnread(
        "AccessDenied: not allowed to read metrics of orders"
    )
