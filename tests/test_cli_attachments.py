"""Alias attachments (`url`, `async`, `permissions`): read only where declared, planned as
their own operations, applied with a check of what was planned, drift when changed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_helpers import lambda_calls, run_cli, write_manifest

QUEUE = "arn:aws:sqs:us-east-1:123456789012:failed"
ATTACHED = f"""
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod:
        version: 2
        url:
          auth_type: NONE
          cors: {{allow_origins: ["https://example.com"], allow_methods: [GET], max_age: 300}}
        async: {{maximum_event_age: 3600, maximum_retry_attempts: 1, on_failure: {QUEUE}}}
        permissions:
          - {{sid: public-url, principal: "*", action: "lambda:InvokeFunctionUrl",
             function_url_auth_type: NONE}}
          - {{sid: s3, principal: s3.amazonaws.com, source_arn: "arn:aws:s3:::uploads"}}
"""
READS = {"GetFunctionUrlConfig", "ListFunctionEventInvokeConfigs", "GetPolicy"}


def _applied(emulator: Any, tmp_path: Path, body: str = ATTACHED) -> str:
    emulator.seed([{"name": "orders", "versions": 2}])
    m = write_manifest(tmp_path, body)
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    return m


def _operations(emulator: Any, m: str) -> list[dict[str, Any]]:
    r = run_cli(emulator, "plan", m, "--format", "json")
    assert r.returncode == 0, r.stderr
    ops: list[dict[str, Any]] = json.loads(r.stdout)["functions"][0]["operations"]
    return ops


def test_apply_creates_each_attachment_then_plan_is_empty(emulator: Any, tmp_path: Path) -> None:
    """Apply adds the statements before it creates the public URL, puts the configuration;
    the next plan has nothing to do (one read of each kind, for the alias that declares it)."""
    m = _applied(emulator, tmp_path)
    ops = [c["operation"] for c in lambda_calls(emulator) if c.get("write")]
    assert ops[-4:] == [
        "AddPermission",
        "AddPermission",
        "CreateFunctionUrlConfig",
        "PutFunctionEventInvokeConfig",
    ]
    emulator.clear_calls()
    assert _operations(emulator, m) == []
    reads = [c["operation"] for c in lambda_calls(emulator) if c["operation"] in READS]
    assert sorted(reads) == sorted(READS)


def test_no_attachment_read_without_the_keys(emulator: Any, tmp_path: Path) -> None:
    """An alias that declares none of the keys is left as it is: nothing of them is read."""
    emulator.seed([{"name": "orders", "versions": 2}])
    m = write_manifest(
        tmp_path,
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n    aliases: {prod: {version: 2}}\n",
    )
    assert run_cli(emulator, "plan", m).returncode == 0
    assert not [c for c in lambda_calls(emulator) if c["operation"] in READS]


def test_hand_changes_are_drift_and_apply_restores(emulator: Any, tmp_path: Path) -> None:
    """A URL, configuration and policy changed by hand: drift names each (exit 2), apply puts
    back what git says, and drift is clean again."""
    m = _applied(emulator, tmp_path)
    client = emulator.boto3_client("lambda")
    client.update_function_url_config(FunctionName="orders", Qualifier="prod", AuthType="AWS_IAM")
    client.put_function_event_invoke_config(
        FunctionName="orders", Qualifier="prod", MaximumRetryAttempts=2
    )
    client.remove_permission(FunctionName="orders", Qualifier="prod", StatementId="s3")
    client.add_permission(
        FunctionName="orders",
        Qualifier="prod",
        StatementId="by-hand",
        Principal="sns.amazonaws.com",
        Action="lambda:InvokeFunction",
    )
    r = run_cli(emulator, "drift", m)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "url auth: AWS_IAM → NONE" in r.stdout
    assert f"async: 2 retries → maximum event age 3600s, 1 retry, on failure {QUEUE}" in r.stdout
    assert "+ statement s3: s3.amazonaws.com may lambda:InvokeFunction" in r.stdout
    assert "- statement by-hand: sns.amazonaws.com may lambda:InvokeFunction" in r.stdout
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert run_cli(emulator, "drift", m).returncode == 0


def test_null_and_empty_remove_what_is_there(emulator: Any, tmp_path: Path) -> None:
    """`url: null`, `async: null` and `permissions: []` delete the URL, the configuration and
    every statement of the alias's policy; the URL goes before the statements."""
    m = _applied(emulator, tmp_path)
    none = (
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n    aliases:\n"
        "      prod: {version: 2, url: null, async: null, permissions: []}\n"
    )
    write_manifest(tmp_path, none)
    ops = [op["action"] for op in _operations(emulator, m)]
    assert ops == [
        "delete_function_url",
        "delete_event_invoke_config",
        "remove_permission",
        "remove_permission",
    ]
    assert run_cli(emulator, "apply", m, "--auto-approve").returncode == 0
    assert _operations(emulator, m) == []


def test_a_saved_plan_refuses_a_url_changed_since(emulator: Any, tmp_path: Path) -> None:
    """AWS does not guard a URL update: the executor reads it again and refuses to write over a
    change made after the plan (the apply fails, the URL is as the hand left it)."""
    m = _applied(emulator, tmp_path)
    client = emulator.boto3_client("lambda")
    client.update_function_url_config(FunctionName="orders", Qualifier="prod", AuthType="AWS_IAM")
    saved = tmp_path / "plan.json"
    r = run_cli(emulator, "plan", m, "--out", str(saved))
    assert r.returncode in (0, 2), r.stderr
    client.update_function_url_config(
        FunctionName="orders", Qualifier="prod", AuthType="AWS_IAM", InvokeMode="RESPONSE_STREAM"
    )
    r = run_cli(emulator, "apply", str(saved), "--auto-approve")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "prod: the function URL changed since the plan" in r.stdout + r.stderr
    url = client.get_function_url_config(FunctionName="orders", Qualifier="prod")
    assert url["InvokeMode"] == "RESPONSE_STREAM"


def test_public_url_without_a_grant_is_warned(emulator: Any, tmp_path: Path) -> None:
    """`auth_type: NONE` with declared statements none of which grants InvokeFunctionUrl: the
    plan warns (text and JSON) that the URL would answer 403."""
    emulator.seed([{"name": "orders", "versions": 2}])
    body = (
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n    aliases:\n"
        "      prod: {version: 2, url: {auth_type: NONE}, permissions: []}\n"
    )
    m = write_manifest(tmp_path, body)
    r = run_cli(emulator, "plan", m)
    assert "! warning" in r.stdout, r.stdout
    assert "answers 403 to everyone" in r.stdout, r.stdout
    r = run_cli(emulator, "plan", m, "--format", "json")
    warnings = json.loads(r.stdout)["functions"][0]["warnings"]
    assert [(w["kind"], w["alias"]) for w in warnings] == [("public_url_without_grant", "prod")]


def test_bad_values_are_one_line_each_with_their_place(emulator: Any, tmp_path: Path) -> None:
    """Ranges, ARNs, unknown keys, a sid given twice: exit 1, FILE:LINE:COL per problem."""
    body = """
    version: 1
    functions:
      orders:
        aliases:
          prod:
            version: 2
            url: {auth_type: NONE, colour: red}
            async: {maximum_retry_attempts: 3, on_failure: not-an-arn}
    """
    m = write_manifest(tmp_path, body)
    r = run_cli(emulator, "validate", m)
    assert r.returncode == 1
    err = r.stderr
    assert f"{m}:7:32: functions.orders.aliases.prod.url.colour: unknown key" in err, err
    assert f"{m}:8:41: functions.orders.aliases.prod.async.maximum_retry_attempts:" in err, err
    assert f"{m}:8:56: functions.orders.aliases.prod.async.on_failure: expected an ARN" in err, err
    twice = (
        "version: 1\nfunctions:\n  orders:\n    aliases:\n      prod:\n        version: 2\n"
        "        permissions: [{sid: a, principal: '*'}, {sid: a, principal: '*'}]\n"
    )
    m = write_manifest(tmp_path, twice)
    r = run_cli(emulator, "validate", m)
    assert r.returncode == 1
    assert (
        f"{m}:7:55: functions.orders.aliases.prod.permissions[1].sid: sid a is declared twice"
        in r.stderr
    ), r.stderr
    assert "Traceback" not in r.stderr


def _by_hand(emulator: Any) -> Any:
    """An alias with a URL, an event-invoke configuration and two statements, made by hand."""
    emulator.seed([{"name": "orders", "versions": 2}])
    client = emulator.boto3_client("lambda")
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="2")
    client.create_alias(FunctionName="orders", Name="bare", FunctionVersion="1")
    client.create_function_url_config(
        FunctionName="orders",
        Qualifier="prod",
        AuthType="AWS_IAM",
        InvokeMode="RESPONSE_STREAM",
        Cors={"AllowOrigins": ["*"], "AllowCredentials": True, "MaxAge": 60},
    )
    client.put_function_event_invoke_config(
        FunctionName="orders",
        Qualifier="prod",
        MaximumEventAgeInSeconds=600,
        DestinationConfig={"OnSuccess": {"Destination": QUEUE}},
    )
    for sid, principal in (("sns", "sns.amazonaws.com"), ("partner", "210987654321")):
        client.add_permission(
            FunctionName="orders",
            Qualifier="prod",
            StatementId=sid,
            Principal=principal,
            Action="lambda:InvokeFunction",
            SourceAccount="123456789012",
        )
    return client


def test_import_writes_what_hangs_on_each_alias(emulator: Any, tmp_path: Path) -> None:
    """`import` writes the URL, the configuration and the statements it finds (nothing for an
    alias that has none); plan on the result is empty."""
    _by_hand(emulator)
    out = tmp_path / "imported.yaml"
    r = run_cli(emulator, "import", "orders", "--region", "us-east-1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "auth_type: AWS_IAM" in text, text
    assert "invoke_mode: RESPONSE_STREAM" in text, text
    assert "maximum_event_age: 600" in text, text
    assert "principal: '210987654321'" in text, text
    assert text.count("permissions:") == 1, text
    r = run_cli(emulator, "plan", str(out), "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["functions"][0]["operations"] == []


def test_adopt_writes_live_attachments_into_git(emulator: Any, tmp_path: Path) -> None:
    """Attachments changed by hand: adopt rewrites each declared key as it is live, and the
    manifest then plans empty (an undeclared key stays undeclared)."""
    m = _applied(emulator, tmp_path)
    client = emulator.boto3_client("lambda")
    client.update_function_url_config(
        FunctionName="orders", Qualifier="prod", AuthType="AWS_IAM", Cors={}
    )
    client.put_function_event_invoke_config(
        FunctionName="orders", Qualifier="prod", MaximumRetryAttempts=0
    )
    client.remove_permission(FunctionName="orders", Qualifier="prod", StatementId="s3")
    r = run_cli(emulator, "adopt", m, "--write")
    assert r.returncode == 0, r.stdout + r.stderr
    text = Path(m).read_text()
    assert "url: {auth_type: AWS_IAM}" in text, text
    assert "async: {maximum_retry_attempts: 0}" in text, text
    assert "sid: s3" not in text, text
    assert _operations(emulator, m) == []


class _User:
    """An IAM user holding exactly one inline policy; `run` calls the CLI as that user with IAM
    enforced on every Lambda call."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.iam = emulator.boto3_client("iam")
        self.iam.create_user(UserName="deployer")
        key = self.iam.create_access_key(UserName="deployer")["AccessKey"]
        self.env = {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
            "AWS_SESSION_TOKEN": "",
        }

    def run(self, policy: dict[str, Any], *args: str) -> Any:
        self.iam.put_user_policy(
            UserName="deployer", PolicyName="reconciler", PolicyDocument=json.dumps(policy)
        )
        self.emulator.enforce_iam(True)
        try:
            return run_cli(self.emulator, *args, env=self.env)
        finally:
            self.emulator.enforce_iam(False)


def _actions(policy: dict[str, Any]) -> set[str]:
    return {a for st in policy["Statement"] for a in st["Action"]}


def test_iam_policy_covers_the_attachments_under_enforced_iam(
    emulator: Any, tmp_path: Path
) -> None:
    """The policies grant the attachment calls only to a manifest that declares them, no
    iam:PassRole, and are enough under enforced IAM: apply creates every attachment, apply
    puts back what was changed by hand (its reads before each write included), plan is then
    empty."""
    emulator.seed([{"name": "orders", "versions": 2}])
    body = (
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n    aliases: {prod: {version: 2}}\n"
    )
    bare = write_manifest(tmp_path, body, "bare.yaml")
    attachment_calls = {
        "lambda:GetFunctionUrlConfig",
        "lambda:AddPermission",
        "lambda:ListFunctionEventInvokeConfigs",
    }
    assert not _actions(json.loads(run_cli(emulator, "iam-policy", bare).stdout)) & attachment_calls
    m = write_manifest(tmp_path, ATTACHED)
    apply_policy = json.loads(run_cli(emulator, "iam-policy", m).stdout)
    plan_policy = json.loads(run_cli(emulator, "iam-policy", m, "--mode", "plan").stdout)
    assert attachment_calls <= _actions(apply_policy)
    assert not any(a.startswith("iam:") for a in _actions(apply_policy))
    user = _User(emulator)
    r = user.run(apply_policy, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    client = emulator.boto3_client("lambda")
    client.add_permission(
        FunctionName="orders",
        Qualifier="prod",
        StatementId="by-hand",
        Principal="sns.amazonaws.com",
        Action="lambda:InvokeFunction",
    )
    client.update_function_url_config(FunctionName="orders", Qualifier="prod", AuthType="AWS_IAM")
    client.delete_function_event_invoke_config(FunctionName="orders", Qualifier="prod")
    r = user.run(apply_policy, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "remove_permission prod … done" in r.stdout + r.stderr
    r = user.run(plan_policy, "plan", m, "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr


def test_import_leaves_out_what_it_may_not_read(emulator: Any, tmp_path: Path) -> None:
    """Credentials that may not read the alias policies: import still succeeds and writes the
    URL and configuration, and no `permissions` (left unmanaged, so the plan stays empty)."""
    _by_hand(emulator)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["lambda:List*", "lambda:Get*"], "Resource": "*"},
            {"Effect": "Deny", "Action": ["lambda:GetPolicy"], "Resource": "*"},
        ],
    }
    r = _User(emulator).run(policy, "import", "orders", "--region", "us-east-1")
    assert r.returncode == 0, r.stderr
    assert "auth_type: AWS_IAM" in r.stdout, r.stdout
    assert "maximum_event_age: 600" in r.stdout, r.stdout
    assert "permissions" not in r.stdout, r.stdout
