"""Onboarding: `import` round trips, and `iam-policy` proven against enforced IAM."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from emulator.fixtures import create_alarm, update_code
from tests.cli_helpers import run_cli, write_manifest


def test_import_round_trip_plain_canary_latest_and_description(
    emulator: Any, tmp_path: Path
) -> None:
    """import reproduces aliases exactly, so plan on its output is empty."""
    emulator.seed([{"name": "orders", "versions": 4}])
    client = emulator.boto3_client("lambda")
    client.create_alias(
        FunctionName="orders",
        Name="prod",
        FunctionVersion="2",
        Description="Production",
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.125}},
    )
    client.create_alias(FunctionName="orders", Name="dev", FunctionVersion="$LATEST")
    client.create_alias(FunctionName="orders", Name="old", FunctionVersion="1")
    r = run_cli(emulator, "import", "orders", "--region", "us-east-1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# yaml-language-server: $schema=")
    assert "4 published versions" in r.stdout
    assert "retention" not in r.stdout.replace("#   retention", "")  # only suggested
    m = tmp_path / "imported.yaml"
    m.write_text(r.stdout)
    r = run_cli(emulator, "plan", str(m), "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr


def test_import_by_prefix_pages_through_functions(emulator: Any, tmp_path: Path) -> None:
    """--prefix lists functions with paginated ListFunctions and imports only matching ones."""
    emulator.seed(
        [{"name": f"shop-{i:02d}", "versions": 2, "aliases": {"live": 1}} for i in range(60)]
        + [{"name": "other", "versions": 1}]
    )
    out = tmp_path / "shop.yaml"
    r = run_cli(emulator, "import", "--prefix", "shop-", "--out", str(out), "--parallelism", "16")
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert text.count("shop-") == 60
    assert "other" not in text
    ops = [c["operation"] for c in emulator.calls() if c["operation"] == "ListFunctions"]
    assert len(ops) >= 2  # more than one page
    r = run_cli(emulator, "plan", str(out), "--detailed-exitcode", "--parallelism", "16")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli(emulator, "import", "--prefix", "shop-", "--out", str(out))
    assert r.returncode == 1
    assert "exists; pass --force" in r.stderr
    assert out.read_text() == text
    out.write_text("stale\n")
    r = run_cli(emulator, "import", "--prefix", "shop-", "--out", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert out.read_text() == text


POLICY_MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    publish: true
    prune_aliases: true
    aliases:
      prod: {version: latest}
      staging: {version: 2}
    retention: {keep_last: 2}
"""


def _seed_for_policy(emulator: Any, legacy: bool = True) -> None:
    """orders, with an earlier release's history tag on prod (`legacy`): apply migrates it into
    prod's record and removes it (the one use of UntagResource)."""
    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 1, "beta": 1}}])
    client = emulator.boto3_client("lambda")
    update_code(client, "orders", "next")
    if legacy:
        arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
        client.tag_resource(Resource=arn, Tags={"lambda-reconciler:history:prod": "2"})


def _user(emulator: Any, policy: dict[str, Any]) -> dict[str, str]:
    iam = emulator.boto3_client("iam")
    iam.create_user(UserName="deployer")
    iam.put_user_policy(
        UserName="deployer", PolicyName="reconciler", PolicyDocument=json.dumps(policy)
    )
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_SESSION_TOKEN": "",
    }


def test_iam_policy_is_well_formed_and_minimal(emulator: Any, tmp_path: Path) -> None:
    """Both policies name only real Lambda actions; each action is allowed on the ARN Lambda
    checks it against and no wider: deletes only on qualified ARNs (never the whole function),
    UpdateAlias only on the declared aliases, and a Deny keeps prune_aliases off them."""
    m = write_manifest(tmp_path, POLICY_MANIFEST)
    plan_policy = json.loads(run_cli(emulator, "iam-policy", m, "--mode", "plan").stdout)
    apply_policy = json.loads(run_cli(emulator, "iam-policy", m).stdout)
    known = set(botocore.session.get_session().get_service_model("lambda").operation_names)
    for policy in (plan_policy, apply_policy):
        assert policy["Version"] == "2012-10-17"
        for st in policy["Statement"]:
            assert st["Resource"]
            for action in st["Action"]:
                if action == "cloudfront:ListDistributions":  # Lambda@Edge versions retention keeps
                    continue
                service, name = action.split(":")
                assert service == "lambda", action
                assert name in known, action
    allow = [st for st in apply_policy["Statement"] if st["Effect"] == "Allow"]
    plan_actions = {a for st in plan_policy["Statement"] for a in st["Action"]}
    apply_actions = {a for st in allow for a in st["Action"]}
    assert plan_actions == {
        "lambda:GetFunction",
        "lambda:ListAliases",
        "lambda:ListVersionsByFunction",
        "lambda:ListProvisionedConcurrencyConfigs",
        "lambda:ListEventSourceMappings",
        "lambda:ListTags",  # an earlier release's state tags, migrated into the alias records
        # prune_aliases: what hangs on an alias about to be deleted
        "lambda:GetProvisionedConcurrencyConfig",
        "lambda:GetPolicy",
        "lambda:GetFunctionUrlConfig",
        "lambda:GetAccountSettings",  # the code-storage quota, read by every run
        "cloudfront:ListDistributions",  # retention in us-east-1: Lambda@Edge versions
    }
    assert apply_actions - plan_actions == {
        "lambda:CreateAlias",
        "lambda:UpdateAlias",
        "lambda:DeleteAlias",
        "lambda:PublishVersion",
        "lambda:DeleteFunction",
        "lambda:UntagResource",  # an earlier release's state tags, once migrated
    }
    fn = "arn:aws:lambda:us-east-1:*:function:orders"
    resources = {
        a: sorted(r for st in allow if a in st["Action"] for r in st["Resource"])
        for a in apply_actions
    }
    assert resources == {
        "lambda:ListEventSourceMappings": ["*"],
        "lambda:GetAccountSettings": ["*"],
        "cloudfront:ListDistributions": ["*"],
        "lambda:DeleteFunction": [f"{fn}:*"],
        "lambda:DeleteAlias": [f"{fn}:*"],
        "lambda:GetProvisionedConcurrencyConfig": [f"{fn}:*"],
        "lambda:GetPolicy": [f"{fn}:*"],
        "lambda:GetFunctionUrlConfig": [f"{fn}:*"],
        "lambda:UpdateAlias": [f"{fn}:prod", f"{fn}:staging"],
        **{
            a: [fn]
            for a in apply_actions
            if a.split(":")[1]
            in {
                "GetFunction",
                "ListAliases",
                "ListVersionsByFunction",
                "ListProvisionedConcurrencyConfigs",
                "ListTags",
                "UntagResource",
                "CreateAlias",
                "PublishVersion",
            }
        },
    }
    deny = [st for st in apply_policy["Statement"] if st["Effect"] == "Deny"]
    assert deny == [
        {
            "Sid": "KeepDeclaredAliases",
            "Effect": "Deny",
            "Action": ["lambda:DeleteAlias"],
            "Resource": [f"{fn}:prod", f"{fn}:staging"],
        }
    ]


def _run_as(emulator: Any, policy: dict[str, Any], arrange: Callable[[], None], *args: str) -> Any:
    """A fresh emulator arranged by `arrange`, then the CLI as a user holding exactly `policy`,
    with IAM enforced on every Lambda call."""
    emulator.reset()
    arrange()
    creds = _user(emulator, policy)
    emulator.enforce_iam(True)
    try:
        return run_cli(emulator, *args, env=creds)
    finally:
        emulator.enforce_iam(False)


def _without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    """The policy with one action removed (and any statement left empty)."""
    statements = [
        {**st, "Action": [a for a in st["Action"] if a != action]} for st in policy["Statement"]
    ]
    return {"Version": policy["Version"], "Statement": [st for st in statements if st["Action"]]}


def _assert_denied(r: Any, action: str) -> None:
    """Exit 1 with one AccessDenied line naming the action, no traceback."""
    assert r.returncode == 1, f"{action} was not needed:\n{r.stdout}{r.stderr}"
    denied = [ln for ln in (r.stdout + r.stderr).splitlines() if "AccessDenied" in ln]
    assert denied, f"{action}: {r.stdout}{r.stderr}"
    assert action.split(":")[1] in denied[0]
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    ("mode", "command", "expected_exit"),
    [
        ("plan", ["plan", "--detailed-exitcode"], 2),
        ("apply", ["apply", "--auto-approve"], 0),
    ],
)
def test_generated_policy_is_enough_and_every_action_is_needed(
    emulator: Any, tmp_path: Path, mode: str, command: list[str], expected_exit: int
) -> None:
    """A user holding exactly the generated policy of a mode can run that mode; with any one
    action removed, the run fails with AccessDenied explained in one line."""
    m = write_manifest(tmp_path, POLICY_MANIFEST)
    policy = json.loads(
        run_cli(emulator, "iam-policy", m, "--mode", mode, "--account-id", "123456789012").stdout
    )
    actions = sorted({a for st in policy["Statement"] for a in st["Action"]})
    assert len(actions) == {"plan": 11, "apply": 17}[mode]

    def arrange() -> None:
        _seed_for_policy(emulator)

    ok = _run_as(emulator, policy, arrange, command[0], m, *command[1:])
    assert ok.returncode == expected_exit, ok.stdout + ok.stderr
    for action in actions:
        if action == "lambda:GetAccountSettings":  # the quota is shown, never gates a write
            r = _run_as(emulator, _without(policy, action), arrange, command[0], m, *command[1:])
            assert r.returncode == expected_exit, r.stdout + r.stderr
            assert "code storage in us-east-1: unknown (" in r.stdout
            continue
        if action == "cloudfront:ListDistributions":  # optional: apply keeps what AWS refuses
            r = _run_as(emulator, _without(policy, action), arrange, command[0], m, *command[1:])
            assert r.returncode == expected_exit, r.stdout + r.stderr
            continue
        _assert_denied(
            _run_as(emulator, _without(policy, action), arrange, command[0], m, *command[1:]),
            action,
        )


def test_plan_policy_cannot_write(emulator: Any, tmp_path: Path) -> None:
    """The plan role is read-only: apply under it is refused at the first write."""
    m = write_manifest(tmp_path, POLICY_MANIFEST)
    policy = json.loads(run_cli(emulator, "iam-policy", m, "--mode", "plan").stdout)
    arrange = lambda: _seed_for_policy(emulator, legacy=False)  # noqa: E731
    r = _run_as(emulator, policy, arrange, "apply", m, "--auto-approve")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "AccessDenied" in r.stdout + r.stderr
    writes = [c for c in emulator.calls() if c.get("write")]
    assert writes, "apply never tried to write"
    assert all(int(c["status"]) == 403 for c in writes), writes


ROLLOUT_MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod:
        version: 3
        rollout: {steps: [10%], interval: 10m, alarms: [orders-errors]}
"""


def test_rollout_policy_adds_tag_actions_and_each_is_needed(emulator: Any, tmp_path: Path) -> None:
    """A rollout needs ListTags (plan: an earlier release's state, to migrate) and
    UntagResource (apply: removing that state once it is in the alias record) on the function,
    never TagResource, and DescribeAlarms on "*": under the generated policy the rollout
    starts; without either tag action it fails with AccessDenied naming it. (The endpoint
    enforces IAM on Lambda calls only, so DescribeAlarms is checked for presence, not proven
    needed.)"""
    m = write_manifest(tmp_path, ROLLOUT_MANIFEST)
    policy = json.loads(run_cli(emulator, "iam-policy", m, "--account-id", "123456789012").stdout)
    unscoped = [st for st in policy["Statement"] if st["Resource"] == "*"]
    assert [st["Action"] for st in unscoped] == [
        # ListEventSourceMappings: the alias-bypass audit of an alias under a rollout
        ["cloudwatch:DescribeAlarms", "lambda:GetAccountSettings", "lambda:ListEventSourceMappings"]
    ]
    scoped = {a for st in policy["Statement"] if st["Resource"] != "*" for a in st["Action"]}
    assert {"lambda:ListTags", "lambda:UntagResource"} <= scoped
    assert "lambda:TagResource" not in scoped

    def arrange() -> None:
        emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}])
        create_alarm(emulator.boto3_client("cloudwatch"), "orders-errors")
        client = emulator.boto3_client("lambda")
        arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
        client.tag_resource(Resource=arn, Tags={"lambda-reconciler:history:prod": "1"})

    ok = _run_as(emulator, policy, arrange, "apply", m, "--auto-approve")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    alias = emulator.state("orders")["aliases"]["prod"]
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"3": 0.1}
    for action in ("lambda:ListTags", "lambda:UntagResource"):
        _assert_denied(
            _run_as(emulator, _without(policy, action), arrange, "apply", m, "--auto-approve"),
            action,
        )
