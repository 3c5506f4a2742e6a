"""Rollout notifications over the real CLI against the emulator: `defaults.notifications`
sends each state change of a canary, in order, to an EventBridge bus and to a signed webhook
(a receiver on 127.0.0.1); a sink that fails never changes what a rollback does."""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from emulator.fixtures import create_alarm
from tests.cli_helpers import run_cli, write_manifest

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
ALARM = "orders-errors"
SECRET = "hook-secret-for-tests"


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


def setup(emulator: Any, tmp_path: Path, notifications: str) -> tuple[Any, Any, str]:
    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 2}}])
    cw = emulator.boto3_client("cloudwatch")
    create_alarm(cw, ALARM)
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        defaults:
          notifications: {notifications}
        functions:
          orders:
            aliases:
              prod:
                version: 3
                rollout: {{steps: [10%, 50%], interval: 10m, alarms: [{ALARM}]}}
        """,
    )
    return emulator.boto3_client("lambda"), cw, m


def prod(client: Any) -> tuple[str, dict[str, float]]:
    a = client.get_alias(FunctionName="orders", Name="prod")
    return a["FunctionVersion"], a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})


def test_a_canary_that_holds_steps_and_completes_sends_its_events_in_order(
    emulator: Any, tmp_path: Path
) -> None:
    """Held by a firing alarm, started at 10 %, a step to 50 %, complete: one EventBridge
    event each, in order, on the configured bus (an apply with nothing due sends nothing)."""
    client, cw, m = setup(emulator, tmp_path, "{eventbridge: {bus: default}}")
    cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors")
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    cw.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="fine")
    for minute in (2, 7, 12, 22, 32):
        r = run_cli(emulator, "apply", m, "--auto-approve", env=at(minute))
        assert r.returncode == 0, r.stderr
        assert "warning: notification" not in r.stderr
    assert prod(client) == ("3", {})
    got = emulator.events(region="us-east-1", bus="default")
    seen = [(e["detail_type"], e["detail"]["weight"], e["detail"]["step"]) for e in got]
    assert seen == [
        ("Rollout Holding", 0.0, 0),
        ("Rollout Started", 0.1, 1),
        ("Rollout Step", 0.5, 2),
        ("Rollout Complete", 1.0, 3),
    ]
    first = got[0]["detail"]
    assert first["cause"] == {"kind": "alarm", "alarm": ALARM}
    assert (first["function"], first["alias"], first["to_version"]) == ("orders", "prod", "3")
    assert got[1]["detail"]["from_version"] == "2"
    assert got[3]["resources"] == [first["alias_arn"]]
    assert got[1]["time"].startswith("2026-11-01T12:02:00")


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    got: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", "0"))
            got.append((dict(self.headers.items()), self.rfile.read(size)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/rollouts", got
    server.shutdown()
    server.server_close()


def test_apply_wait_posts_signed_events_to_a_webhook_in_order(
    emulator: Any, tmp_path: Path, receiver: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    """`apply --wait` drives the canary to its end; the webhook receives started, step and
    complete, each signed (HMAC-SHA256 over TIMESTAMP.BODY with the secret from the variable
    the manifest names), and no event carries the secret."""
    url, got = receiver
    _, _, m = setup(emulator, tmp_path, f"{{webhook: {{url: '{url}', secret_env: HOOK_SECRET}}}}")
    env = {**at(0), "HOOK_SECRET": SECRET}
    r = run_cli(emulator, "apply", m, "--auto-approve", "--wait", "--poll", "1m", env=env)
    assert r.returncode == 0, r.stderr
    kinds = []
    for headers, body in got:
        stamp = headers["X-Reconciler-Timestamp"]
        mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, "sha256").hexdigest()
        assert hmac.compare_digest(headers["X-Reconciler-Signature"], "sha256=" + mac)
        assert SECRET not in body.decode()
        data = json.loads(body)
        kinds.append((data["kind"], data["weight"]))
        assert headers["X-Reconciler-Event"] == data["kind"]
    assert kinds == [("started", 0.1), ("step", 0.5), ("complete", 1.0)]


def test_an_unset_webhook_secret_is_refused_before_any_write(emulator: Any, tmp_path: Path) -> None:
    client, _, m = setup(
        emulator, tmp_path, "{webhook: {url: 'https://hooks.example.com/x', secret_env: NOPE}}"
    )
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    assert r.returncode == 1
    assert "environment variable NOPE is not set" in r.stderr
    assert prod(client) == ("2", {})


@pytest.mark.parametrize("notify", [False, True])
def test_a_failing_sink_never_blocks_a_rollback(
    emulator: Any, tmp_path: Path, notify: bool
) -> None:
    """A bus that does not exist: an alarm's rollback (exit 1) and the `rollback` command
    (exit 0) end as they do without notifications, alias state included, with one warning
    line each."""
    sinks = "{eventbridge: {bus: missing-bus}}" if notify else "{}"
    client, cw, m = setup(emulator, tmp_path, sinks)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors")
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(11))
    assert r.returncode == 1
    assert prod(client) == ("2", {})
    plain = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        defaults: {{notifications: {sinks}}}
        functions:
          orders: {{aliases: {{prod: {{version: 4}}}}}}
        """,
        name="plain.yaml",
    )
    assert run_cli(emulator, "apply", plain, "--auto-approve", env=at(20)).returncode == 0
    args = ("--function", "orders", "--alias", "prod", "--auto-approve")
    r2 = run_cli(emulator, "rollback", plain, *args, env=at(21))
    assert r2.returncode == 0, r2.stderr
    assert prod(client) == ("2", {})
    warned = [line for line in r.stderr.splitlines() if "notification to" in line]
    warned2 = [line for line in r2.stderr.splitlines() if "notification to" in line]
    if notify:
        assert len(warned) == len(warned2) == 1
        assert warned[0].startswith(
            "warning: notification to eventbridge missing-bus: 1 of 1 event not delivered: "
            "orders:prod rolled_back: request failed"
        )
        assert "orders:prod rolled_back: request failed" in warned2[0]
        assert "Traceback" not in r.stderr + r2.stderr
    else:
        assert warned == warned2 == []
    assert emulator.events() == []


def test_the_rollback_command_announces_its_failure_mark(emulator: Any, tmp_path: Path) -> None:
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}])
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        defaults: {notifications: {eventbridge: {bus: default}}}
        functions:
          orders: {aliases: {prod: {version: 3}}}
        """,
    )
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    assert emulator.events() == []  # a move without a rollout is no rollout event
    args = ("--function", "orders", "--alias", "prod", "--auto-approve")
    assert run_cli(emulator, "rollback", m, *args, env=at(1)).returncode == 0
    (e,) = emulator.events()
    assert e["detail_type"] == "Rollout Rolled Back"
    detail = e["detail"]
    assert (detail["from_version"], detail["to_version"]) == ("2", "3")
    assert detail["cause"] == {"kind": "manual", "by": "rollback"}


def test_iam_policy_grants_put_events_on_the_configured_bus_only(
    emulator: Any, tmp_path: Path
) -> None:
    body = """
        version: 1
        region: eu-west-1
        allowed_account_ids: ["123456789012"]
        {defaults}
        functions:
          orders: {{aliases: {{prod: {{version: 3}}}}}}
        """
    bus = "defaults: {notifications: {eventbridge: {bus: deployments}}}"
    with_bus = write_manifest(tmp_path, body.format(defaults=bus), name="bus.yaml")
    without = write_manifest(tmp_path, body.format(defaults=""), name="none.yaml")

    def grants(manifest: str, mode: str) -> list[dict[str, Any]]:
        r = run_cli(emulator, "iam-policy", manifest, "--mode", mode)
        assert r.returncode == 0, r.stderr
        statements: list[dict[str, Any]] = json.loads(r.stdout)["Statement"]
        return [s for s in statements if any("events:" in a for a in s["Action"])]

    assert grants(with_bus, "apply") == [
        {
            "Sid": "RolloutNotifications",
            "Effect": "Allow",
            "Action": ["events:PutEvents"],
            "Resource": ["arn:aws:events:eu-west-1:123456789012:event-bus/deployments"],
        }
    ]
    assert grants(with_bus, "plan") == []
    assert grants(without, "apply") == []


HOOK_PASS = "def handler(event, context):\n    return {'status': 'Succeeded'}\n"
HOOK_FAIL = "def handler(event, context):\n    return {'status': 'Failed', 'reason': 'smoke 500'}\n"


@pytest.mark.parametrize(
    ("pre", "post", "kinds"),
    [
        (HOOK_FAIL, HOOK_PASS, [("rolled_back", 0.0, "pre_traffic")]),
        (
            HOOK_PASS,
            HOOK_PASS,
            [("started", 0.5, None), ("step", 1.0, None), ("complete", 1.0, None)],
        ),
        (
            HOOK_PASS,
            HOOK_FAIL,
            [("started", 0.5, None), ("step", 1.0, None), ("rolled_back", 0.0, "post_traffic")],
        ),
    ],
)
def test_traffic_hooks_writes_are_announced(
    emulator: Any, tmp_path: Path, pre: str, post: str, kinds: list[tuple[str, float, Any]]
) -> None:
    """A pre-traffic hook's failure mark, the promotion that waits for the post-traffic hook,
    its pass (`complete`) and its failure (`rolled_back`, the alias back in the same call)."""
    from emulator.fixtures import create_python_function

    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 2}}])
    client = emulator.boto3_client("lambda")
    create_python_function(client, "pre-hook", pre)
    create_python_function(client, "post-hook", post)
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        defaults: {notifications: {eventbridge: {bus: default}}}
        functions:
          orders:
            aliases:
              prod:
                version: 3
                rollout:
                  {steps: [50%], interval: 5m,
                   hooks: {pre_traffic: pre-hook, post_traffic: post-hook}}
        """,
    )
    run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    run_cli(emulator, "apply", m, "--auto-approve", env=at(6))
    got = [e["detail"] for e in emulator.events()]
    seen = [(d["kind"], d["weight"], d["cause"]["phase"] if d["cause"] else None) for d in got]
    assert seen == kinds
    assert prod(client)[0] == ("3" if kinds[-1][0] == "complete" else "2")
