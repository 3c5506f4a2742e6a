"""Traffic hooks (contract §9): the pre-traffic hook runs before any traffic moves and the
post-traffic hook after 100 %, each a real `Invoke` of a Python function in the emulator."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from emulator.fixtures import create_python_function
from tests.cli_helpers import run_cli, write_manifest
from tests.test_cli_import_iam import _user

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
PASS = "def handler(event, context):\n    return {'status': 'Succeeded'}\n"
FAIL = "def handler(event, context):\n    return {'status': 'Failed', 'reason': 'smoke 500'}\n"
# fails, telling in its reason the event it was given
TELL = (
    "import json\ndef handler(event, context):\n"
    "    return {'status': 'Failed', 'reason': json.dumps(event, sort_keys=True)}\n"
)
RAISE = "def handler(event, context):\n    raise RuntimeError('checkout broke')\n"


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


def setup(emulator: Any, tmp_path: Path, pre: str, post: str) -> tuple[Any, str]:
    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 2}}])
    client = emulator.boto3_client("lambda")
    create_python_function(client, "pre-hook", pre)
    create_python_function(client, "post-hook", post)
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
                  {steps: [50%], interval: 5m,
                   hooks: {pre_traffic: pre-hook, post_traffic: post-hook}}
        """,
    )
    return client, m


def prod(client: Any) -> tuple[str, dict[str, float]]:
    a = client.get_alias(FunctionName="orders", Name="prod")
    return a["FunctionVersion"], a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})


def ops(emulator: Any, *names: str) -> list[str]:
    return [c["operation"] for c in emulator.calls() if c.get("operation") in names]


def test_failing_pre_traffic_hook_moves_no_traffic(emulator: Any, tmp_path: Path) -> None:
    """A pre-traffic hook answering {"status": "Failed"}: exit 1 with its reason; one guarded
    UpdateAlias that leaves the routing as it was and marks the target failed in the alias
    record (the call log); a hook that raises counts too."""
    client, m = setup(emulator, tmp_path, FAIL, PASS)
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    assert r.returncode == 1, r.stderr
    assert "prod: pre-traffic hook pre-hook failed: smoke 500; no traffic moved to 3" in r.stderr
    assert ops(emulator, "Invoke", "TagResource", "UpdateAlias") == ["Invoke", "UpdateAlias"]
    assert prod(client) == ("2", {})
    described = client.get_alias(FunctionName="orders", Name="prod")["Description"]
    assert " st=fail c=pre_traffic hk=pre-hook r=smoke%20500]" in described
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(1))
    assert json.loads(r.stdout)["functions"][0]["rollouts"][0]["status"] == "rolled_back"

    create_python_function(client, "raising-hook", RAISE)
    text = Path(m).read_text().replace("pre_traffic: pre-hook", "pre_traffic: raising-hook")
    Path(m).write_text(text.replace("interval: 5m", "interval: 5m, attempt: 2"))
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(2))
    assert r.returncode == 1
    assert "pre-traffic hook raising-hook failed: Unhandled: checkout broke" in r.stderr
    assert prod(client) == ("2", {})


def test_passing_hooks_let_the_rollout_through(emulator: Any, tmp_path: Path) -> None:
    """Passing hooks: the pre-traffic hook runs once before step 1, the post-traffic hook once
    after 100 % (the promotion writes `verifying`, the hook's pass writes `done`); the rollout
    completes and leaves a line for each hook that passed."""
    client, m = setup(emulator, tmp_path, PASS, PASS)
    emulator.clear_calls()
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    assert prod(client) == ("2", {"3": 0.5})
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(5))
    assert r.returncode == 0
    assert "orders:prod: post-traffic hook post-hook passed" in r.stderr
    assert prod(client) == ("3", {})
    assert ops(emulator, "Invoke", "UpdateAlias") == [
        "Invoke",
        "UpdateAlias",
        "UpdateAlias",
        "Invoke",
        "UpdateAlias",
    ]
    described = client.get_alias(FunctionName="orders", Name="prod")["Description"]
    assert " st=done" in described


def test_failing_post_traffic_hook_rolls_back(emulator: Any, tmp_path: Path) -> None:
    """A post-traffic hook that fails after the promotion: back to 2 at once, exit 1, and the
    rollout reads rolled_back."""
    client, m = setup(emulator, tmp_path, PASS, FAIL)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(5))
    assert r.returncode == 1, r.stderr
    assert "prod: post-traffic hook post-hook failed: smoke 500; rolled back to 2" in r.stderr
    assert prod(client) == ("2", {})
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(6))
    assert json.loads(r.stdout)["functions"][0]["rollouts"][0]["status"] == "rolled_back"


def test_the_hook_event_names_the_shift(emulator: Any, tmp_path: Path) -> None:
    """The pre-traffic hook's event names the function, alias, region, both versions and the
    phase."""
    _, m = setup(emulator, tmp_path, TELL, PASS)
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    event = {
        "alias": "prod",
        "from_version": "2",
        "function": "orders",
        "phase": "pre_traffic",
        "region": "us-east-1",
        "to_version": "3",
    }
    assert f"pre-traffic hook pre-hook failed: {json.dumps(event, sort_keys=True)}" in r.stderr


def test_iam_policy_allows_invoking_exactly_the_hooks(emulator: Any, tmp_path: Path) -> None:
    """Under enforced IAM, the apply policy lets the rollout check and invoke its hooks
    (GetFunction and InvokeFunction on exactly those functions) and no other function."""
    client, m = setup(emulator, tmp_path, PASS, PASS)
    create_python_function(client, "other", PASS)
    policy = json.loads(run_cli(emulator, "iam-policy", m, "--account-id", "123456789012").stdout)
    hooks = [st for st in policy["Statement"] if st["Sid"] == "TrafficHooks"]
    base = "arn:aws:lambda:us-east-1:123456789012:function:"
    assert [
        {
            "Sid": "TrafficHooks",
            "Effect": "Allow",
            "Action": ["lambda:GetFunction", "lambda:InvokeFunction"],
            "Resource": [base + "pre-hook", base + "post-hook"],
        }
    ] == hooks
    creds = _user(emulator, policy)
    as_user = boto3.client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=emulator.url,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )
    emulator.enforce_iam(True)
    try:
        r = run_cli(emulator, "apply", m, "--auto-approve", env={**at(0), **creds})
        try:
            as_user.invoke(FunctionName="other", Payload=b"{}")
            other = "allowed"
        except ClientError as e:
            other = e.response["Error"]["Code"]
    finally:
        emulator.enforce_iam(False)
    assert r.returncode == 0, r.stderr
    assert prod(client) == ("2", {"3": 0.5})
    assert other == "AccessDeniedException"


def test_a_missing_hook_is_a_planning_error(emulator: Any, tmp_path: Path) -> None:
    """A hook that does not exist (a typo) is a located planning error at plan time, as a
    missing alarm is: plan exits 1 naming it, apply writes nothing; one GetFunction per hook."""
    client, m = setup(emulator, tmp_path, PASS, PASS)
    Path(m).write_text(
        Path(m).read_text().replace("pre_traffic: pre-hook", "pre_traffic: smoke-typo")
    )
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m, env=at(0))
    assert r.returncode == 1, r.stdout + r.stderr
    assert (
        f"{m}:4:3: orders: alias prod: pre_traffic hook smoke-typo does not exist in us-east-1"
        in r.stderr
    )
    assert sorted(
        c["function"] for c in emulator.calls() if c.get("operation") == "GetFunction"
    ) == ["post-hook", "smoke-typo"]
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    assert r.returncode == 1, r.stdout + r.stderr
    assert ops(emulator, "Invoke", "TagResource", "UpdateAlias") == []
    assert prod(client) == ("2", {})


def test_a_passing_hook_leaves_a_line(emulator: Any, tmp_path: Path) -> None:
    """apply's output says that the pre-traffic hook ran and passed."""
    _, m = setup(emulator, tmp_path, PASS, PASS)
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    assert r.returncode == 0, r.stderr
    assert "orders:prod: pre-traffic hook pre-hook passed" in r.stderr


def test_the_plan_lists_the_checks_a_rollout_will_use(emulator: Any, tmp_path: Path) -> None:
    """Before a rollout starts, the text plan, the Markdown (PR comment) and the JSON plan
    name its hooks (and alarms); a finished rollout lists none."""
    _, m = setup(emulator, tmp_path, PASS, PASS)
    r = run_cli(emulator, "plan", m, env=at(0))
    assert "      checks: pre-traffic hook pre-hook, post-traffic hook post-hook" in r.stdout
    md = run_cli(emulator, "plan", m, "--format", "markdown", env=at(0)).stdout
    assert "<br>Checks: pre-traffic hook pre-hook, post-traffic hook post-hook" in md
    rollout = json.loads(run_cli(emulator, "plan", m, "--format", "json", env=at(0)).stdout)[
        "functions"
    ][0]["rollouts"][0]
    assert (rollout["pre_traffic"], rollout["post_traffic"]) == ("pre-hook", "post-hook")
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(5)).returncode == 0
    assert "checks:" not in run_cli(emulator, "plan", m, env=at(6)).stdout


def test_json_previous_is_named_during_the_rollout(emulator: Any, tmp_path: Path) -> None:
    """While the rollout waits at its step, and once complete, the JSON names the version
    traffic moves from (it was null outside the starting and rollback phases)."""
    _, m = setup(emulator, tmp_path, PASS, PASS)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(0)).returncode == 0
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(1))
    rollout = json.loads(r.stdout)["functions"][0]["rollouts"][0]
    assert (rollout["phase"], rollout["previous"]) == ("waiting", "2")
    assert run_cli(emulator, "apply", m, "--auto-approve", env=at(5)).returncode == 0
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(6))
    rollout = json.loads(r.stdout)["functions"][0]["rollouts"][0]
    assert (rollout["phase"], rollout["previous"]) == ("complete", "2")
