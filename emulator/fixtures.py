"""Helpers that create realistic Lambda state through the real API (tests, demo) or, for bulk
seeding, directly in the emulator's backend."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import boto3

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/lambda-reconciler-demo"
_TRUST = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
)


def zip_code(marker: str) -> bytes:
    """A tiny deployment package whose hash changes with `marker`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("index.py", date_time=(2024, 1, 1, 0, 0, 0))
        z.writestr(info, f"def handler(event, context):\n    return {marker!r}\n")
    return buf.getvalue()


def ensure_role(client: Any) -> str:
    """The demo execution role in the account of `client`'s credentials (created when missing),
    by its ARN: a function's role must be in the function's account."""
    creds = client._request_signer._credentials.get_frozen_credentials()
    iam = boto3.client(
        "iam",
        endpoint_url=client.meta.endpoint_url,
        region_name=client.meta.region_name,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
    )
    try:
        created = iam.create_role(
            RoleName="lambda-reconciler-demo", AssumeRolePolicyDocument=_TRUST
        )
    except iam.exceptions.EntityAlreadyExistsException:
        if creds.access_key == "testing":  # the default account: no call to learn it
            return ROLE_ARN
        return str(iam.get_role(RoleName="lambda-reconciler-demo")["Role"]["Arn"])
    return str(created["Role"]["Arn"])


def ensure_role_in_backend(account: str = ACCOUNT) -> str:
    """The demo execution role in `account`'s IAM, created directly in the backend when
    missing (moto refuses a function whose role is not in the function's own account)."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["aws"]
    try:
        backend.get_role("lambda-reconciler-demo")
    except Exception:
        backend.create_role(
            role_name="lambda-reconciler-demo",
            assume_role_policy_document=_TRUST,
            path="/",
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration="3600",
            linked_service=None,
        )
    return f"arn:aws:iam::{account}:role/lambda-reconciler-demo"


def wait_updated(client: Any, name: str) -> None:
    client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


def create_function(client: Any, name: str, code: str = "v1", **extra: Any) -> dict[str, Any]:
    role = ensure_role(client)
    out: dict[str, Any] = client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": zip_code(code)},
        **extra,
    )
    wait_updated(client, name)
    return out


def update_code(client: Any, name: str, code: str) -> dict[str, Any]:
    out: dict[str, Any] = client.update_function_code(FunctionName=name, ZipFile=zip_code(code))
    wait_updated(client, name)
    return out


def publish(client: Any, name: str) -> str:
    return str(client.publish_version(FunctionName=name)["Version"])


def create_alarm(cloudwatch: Any, name: str) -> None:
    """A CloudWatch metric alarm on Lambda errors, in state INSUFFICIENT_DATA until a test sets
    it (`set_alarm_state`): what a rollout's `alarms` name."""
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="AWS/Lambda",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def python_zip(files: dict[str, str]) -> bytes:
    """A deployment package (or layer archive) holding `files` (path → source text)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path, text in sorted(files.items()):
            z.writestr(zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def create_python_function(
    client: Any,
    name: str,
    source: str,
    handler: str = "index.handler",
    timeout: int = 3,
    **extra: Any,
) -> dict[str, Any]:
    """Create a Python function whose `index.py` is `source`, ready to `Invoke` in the
    emulator (`handler` names `module.function`)."""
    role = ensure_role(client)
    module = handler.rpartition(".")[0].replace(".", "/") + ".py"
    out: dict[str, Any] = client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler=handler,
        Timeout=timeout,
        Code={"ZipFile": python_zip({module: source})},
        **extra,
    )
    wait_updated(client, name)
    return out


def update_python_code(client: Any, name: str, source: str, module: str = "index") -> None:
    """Replace the function's `module.py` with `source`."""
    client.update_function_code(FunctionName=name, ZipFile=python_zip({f"{module}.py": source}))
    wait_updated(client, name)


def publish_layer(client: Any, name: str, files: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Publish a layer version holding `files` (Python modules go under `python/`)."""
    out: dict[str, Any] = client.publish_layer_version(
        LayerName=name, Content={"ZipFile": python_zip(files)}, **extra
    )
    return out


def put_lambda_metrics(
    cloudwatch: Any,
    function: str,
    alias: str,
    version: str,
    timestamp: Any,
    invocations: int,
    errors: int,
) -> None:
    """Put what Lambda records for `invocations` calls through `function:alias` that ran
    `version`, `errors` of them failing: `Invocations` and `Errors` by `FunctionName` +
    `Resource` + `ExecutedVersion` (the split a metric gate reads), by `FunctionName` +
    `Resource`, and by `FunctionName`."""
    sets = [
        [
            ("FunctionName", function),
            ("Resource", f"{function}:{alias}"),
            ("ExecutedVersion", version),
        ],
        [("FunctionName", function), ("Resource", f"{function}:{alias}")],
        [("FunctionName", function)],
    ]
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
            "Timestamp": timestamp,
            "Unit": "Count",
            "StatisticValues": {
                "SampleCount": float(invocations),
                "Sum": float(value),
                "Minimum": 0.0 if metric == "Errors" and errors < invocations else 1.0,
                "Maximum": 1.0 if value else 0.0,
            },
        }
        for dims in sets
        for metric, value in (("Invocations", invocations), ("Errors", errors))
        if invocations
    ]
    if data:
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=data)


# A minimal CloudFront distribution (moto's CloudFront): enough for a Lambda@Edge association.
DISTRIBUTION: dict[str, Any] = {
    "CallerReference": "edge",
    "Comment": "",
    "Enabled": True,
    "Origins": {
        "Quantity": 1,
        "Items": [
            {
                "Id": "o",
                "DomainName": "example.com",
                "CustomOriginConfig": {
                    "HTTPPort": 80,
                    "HTTPSPort": 443,
                    "OriginProtocolPolicy": "https-only",
                },
            }
        ],
    },
    "DefaultCacheBehavior": {
        "TargetOriginId": "o",
        "ViewerProtocolPolicy": "allow-all",
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "MinTTL": 0,
    },
}
