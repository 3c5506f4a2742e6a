"""The emulator's Invoke, CloudWatch metrics, layers and account settings follow the Lambda
reference.

Like tests/test_emulator_rules.py, each test states a rule, checks the emulator keeps it, and
where moto 5.2 answers differently runs the same calls against plain moto (in-process
`mock_aws`) to show the emulator's layer is what makes the rule hold.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.fixtures import (
    ROLE_ARN,
    create_python_function,
    publish,
    publish_layer,
    put_lambda_metrics,
    python_zip,
    update_python_code,
)

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})
ECHO = (
    "def handler(event, context):\n"
    "    return {'event': event, 'version': context.function_version}\n"
)
FAILS = "def handler(event, context):\n    raise ValueError('boom: ' + event['why'])\n"


@pytest.fixture
def plain() -> Iterator[dict[str, Any]]:
    """Plain moto, in-process: Lambda and CloudWatch clients, with the role functions need."""
    with mock_aws():
        creds: dict[str, Any] = {
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        boto3.client("iam", **creds).create_role(
            RoleName="lambda-reconciler-demo", AssumeRolePolicyDocument="{}"
        )
        yield {
            "lambda": boto3.client("lambda", **creds),
            "cloudwatch": boto3.client("cloudwatch", **creds),
        }


def plain_python_function(client: Any, name: str, source: str, **extra: Any) -> None:
    client.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="index.handler",
        Code={"ZipFile": python_zip({"index.py": source})},
        **extra,
    )


def error(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def invoke(client: Any, name: str, event: Any = None, **kw: Any) -> tuple[Any, dict[str, Any]]:
    """(decoded payload, response) of a RequestResponse invocation."""
    r = client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode(), **kw)
    return json.loads(r["Payload"].read()), r


def two_versions(client: Any) -> None:
    """fn: version 1 answers "one", version 2 answers "two"; $LATEST is version 2's code."""
    create_python_function(client, "fn", "def handler(event, context):\n    return 'one'\n")
    publish(client, "fn")
    update_python_code(client, "fn", "def handler(event, context):\n    return 'two'\n")
    publish(client, "fn")


# -- Invoke ---------------------------------------------------------------------------------------


def test_invoke_runs_the_handler_and_names_the_executed_version(
    emulator: Any, plain: dict[str, Any]
) -> None:
    """RequestResponse: 200, the handler's return value as JSON, X-Amz-Executed-Version, no
    FunctionError; plain moto needs Docker and answers with a Handled docker error."""
    client = emulator.boto3_client("lambda")
    create_python_function(client, "fn", ECHO)
    payload, r = invoke(client, "fn", {"order": 7})
    assert (r["StatusCode"], r["ExecutedVersion"], r.get("FunctionError")) == (200, "$LATEST", None)
    assert payload == {"event": {"order": 7}, "version": "$LATEST"}

    plain_python_function(plain["lambda"], "fn", ECHO)
    r = plain["lambda"].invoke(FunctionName="fn", Payload=b"{}")
    assert (r.get("FunctionError"), r.get("ExecutedVersion")) == ("Handled", None)
    assert b"docker" in r["Payload"].read().lower()


def test_an_exception_is_an_unhandled_function_error(emulator: Any) -> None:
    """A raised exception → 200 with X-Amz-Function-Error: Unhandled and the error object
    (errorMessage, errorType, stackTrace pointing into the function's code)."""
    client = emulator.boto3_client("lambda")
    create_python_function(client, "fn", FAILS)
    payload, r = invoke(client, "fn", {"why": "no stock"})
    assert (r["StatusCode"], r["FunctionError"], r["ExecutedVersion"]) == (
        200,
        "Unhandled",
        "$LATEST",
    )
    assert (payload["errorMessage"], payload["errorType"]) == ("boom: no stock", "ValueError")
    assert len(payload["stackTrace"]) == 1
    assert payload["stackTrace"][0].startswith('  File "/var/task/index.py", line 2, in handler')


def test_a_handler_past_its_timeout_is_stopped(emulator: Any) -> None:
    """A handler still running at the function's Timeout is killed: Unhandled, with the
    Sandbox.Timedout payload, after about Timeout seconds (not the handler's 30)."""
    client = emulator.boto3_client("lambda")
    source = (
        "import time\n"
        "def handler(event, context):\n"
        "    if event.get('remaining'):\n"
        "        return context.get_remaining_time_in_millis()\n"
        "    time.sleep(30)\n"
    )
    create_python_function(client, "slow", source, timeout=1)
    remaining, _ = invoke(client, "slow", {"remaining": True})
    assert 0 < remaining <= 1000
    t = time.monotonic()
    payload, r = invoke(client, "slow")
    elapsed = time.monotonic() - t
    assert r["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert payload["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert 1.0 <= elapsed < 20.0  # stopped at its timeout, long before its 30 s sleep ends


def test_runtime_errors_have_their_documented_types(emulator: Any) -> None:
    """A missing module, a missing function and an unserialisable result are Unhandled
    function errors of the runtime's types, not failures of the call."""
    client = emulator.boto3_client("lambda")
    create_python_function(client, "nomod", ECHO, handler="index.handler")
    client.update_function_configuration(FunctionName="nomod", Handler="missing.handler")
    create_python_function(client, "nofn", ECHO)
    client.update_function_configuration(FunctionName="nofn", Handler="index.other")
    create_python_function(client, "marshal", "def handler(event, context):\n    return {1, 2}\n")
    got = {}
    for name in ("nomod", "nofn", "marshal"):
        payload, r = invoke(client, name)
        got[name] = (r["FunctionError"], payload["errorType"])
    assert got == {
        "nomod": ("Unhandled", "Runtime.ImportModuleError"),
        "nofn": ("Unhandled", "Runtime.HandlerNotFound"),
        "marshal": ("Unhandled", "Runtime.MarshalError"),
    }


def test_qualifier_selects_a_version_or_an_alias(emulator: Any) -> None:
    """Qualifier (query or qualified name/ARN) runs that version or the alias's version; an
    unknown one → 404; a name qualifier that disagrees with Qualifier → 400."""
    client = emulator.boto3_client("lambda")
    two_versions(client)
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    arn = client.get_function(FunctionName="fn")["Configuration"]["FunctionArn"]
    got = []
    for kw in (
        {"FunctionName": "fn", "Qualifier": "1"},
        {"FunctionName": "fn", "Qualifier": "2"},
        {"FunctionName": "fn", "Qualifier": "prod"},
        {"FunctionName": "fn:prod"},
        {"FunctionName": f"{arn}:1"},
        {"FunctionName": "fn"},
    ):
        r = client.invoke(**kw)
        got.append((json.loads(r["Payload"].read()), r["ExecutedVersion"]))
    assert got == [
        ("one", "1"),
        ("two", "2"),
        ("one", "1"),
        ("one", "1"),
        ("one", "1"),
        ("two", "$LATEST"),
    ]
    assert error(lambda: client.invoke(FunctionName="fn", Qualifier="9"))[:2] == (
        404,
        "ResourceNotFoundException",
    )
    assert error(lambda: client.invoke(FunctionName="fn", Qualifier="nope"))[0] == 404
    assert error(lambda: client.invoke(FunctionName="fn:prod", Qualifier="1"))[:2] == (
        400,
        "InvalidParameterValueException",
    )


def test_alias_weights_pick_the_version_with_a_seedable_random(emulator: Any) -> None:
    """An alias with a canary runs either version, by weight; the same seed gives the same
    sequence of executed versions."""
    client = emulator.boto3_client("lambda")
    two_versions(client)
    client.create_alias(
        FunctionName="fn",
        Name="prod",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    emulator.invoke_settings(metrics=False)

    def run() -> list[tuple[str, str]]:
        out = []
        for _ in range(8):
            payload, r = invoke(client, "fn", Qualifier="prod")
            out.append((r["ExecutedVersion"], payload))
        return out

    emulator.invoke_settings(seed=3, metrics=False)
    first = run()
    emulator.invoke_settings(seed=3, metrics=False)
    assert run() == first
    assert {v for v, _ in first} == {"1", "2"}
    assert all(payload == {"1": "one", "2": "two"}[v] for v, payload in first)


def test_invocation_types_and_payload_checks(emulator: Any) -> None:
    """DryRun → 204 without running; Event → 202; a body that is not JSON → 400
    InvalidRequestContentException."""
    client = emulator.boto3_client("lambda")
    create_python_function(client, "fn", ECHO)
    assert client.invoke(FunctionName="fn", InvocationType="DryRun")["StatusCode"] == 204
    assert client.invoke(FunctionName="fn", InvocationType="Event")["StatusCode"] == 202
    assert error(lambda: client.invoke(FunctionName="fn", Payload=b"{not json"))[:2] == (
        400,
        "InvalidRequestContentException",
    )


def test_invoke_is_not_paced_by_the_control_plane_quota(emulator: Any) -> None:
    """Invocations are data plane: the 15/s control-plane rate limit never throttles them,
    while a control-plane call at the same rate is throttled."""
    client = emulator.boto3_client("lambda")
    create_python_function(client, "fn", ECHO)
    strict = emulator.boto3_client("lambda", retries=False)
    emulator.faults(rate_limit_per_s=1)
    statuses = [strict.invoke(FunctionName="fn")["StatusCode"] for _ in range(3)]
    assert statuses == [200, 200, 200]
    # ListAliases counts against the control-plane quota (GetFunction has its own 100/s).
    strict.list_aliases(FunctionName="fn")
    assert error(lambda: strict.list_aliases(FunctionName="fn"))[1] == "TooManyRequestsException"
    logged = [
        (c["operation"], c["executed_version"])
        for c in emulator.calls()
        if c["operation"] == "Invoke"
    ]
    assert logged == [("Invoke", "$LATEST")] * 3


def test_layer_code_is_importable_and_survives_deletion(emulator: Any) -> None:
    """A layer's python/ folder is importable by the handler, and a function keeps running a
    layer version after it is deleted (Lambda keeps a copy while functions use it)."""
    client = emulator.boto3_client("lambda")
    lv = publish_layer(client, "deps", {"python/pricing.py": "RATE = 0.2\n"})
    source = "import pricing\ndef handler(event, context):\n    return pricing.RATE\n"
    create_python_function(client, "fn", source, Layers=[lv["LayerVersionArn"]])
    assert invoke(client, "fn")[0] == 0.2
    client.delete_layer_version(LayerName="deps", VersionNumber=1)
    assert invoke(client, "fn")[0] == 0.2


# -- CloudWatch metrics ---------------------------------------------------------------------------


def query(
    cloudwatch: Any,
    metric: str,
    dims: dict[str, str],
    start: datetime,
    end: datetime,
    period: int = 60,
    stat: str = "Sum",
) -> list[tuple[datetime, float]]:
    r = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": metric,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                    },
                    "Period": period,
                    "Stat": stat,
                },
            }
        ],
        StartTime=start,
        EndTime=end,
    )
    result = r["MetricDataResults"][0]
    return list(zip(result["Timestamps"], result["Values"], strict=True))


def totals(cloudwatch: Any, metric: str, dims: dict[str, str]) -> float:
    now = datetime.now(timezone.utc)
    points = query(
        cloudwatch, metric, dims, now - timedelta(minutes=5), now + timedelta(minutes=5), period=600
    )
    return sum(v for _, v in points)


def test_invoke_records_metrics_by_executed_version(emulator: Any) -> None:
    """Each invocation through an alias counts in Invocations and Errors by FunctionName, by
    FunctionName + Resource (fn:alias) and by FunctionName + Resource + ExecutedVersion."""
    client = emulator.boto3_client("lambda")
    create_python_function(client, "fn", "def handler(event, context):\n    return 1\n")
    publish(client, "fn")
    update_python_code(client, "fn", FAILS)
    publish(client, "fn")
    client.create_alias(
        FunctionName="fn",
        Name="prod",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    emulator.invoke_settings(seed=2)
    ran = [
        invoke(client, "fn", {"why": "x"}, Qualifier="prod")[1]["ExecutedVersion"] for _ in range(6)
    ]
    invoke(client, "fn", {"why": "x"}, Qualifier="1")
    cloudwatch = emulator.boto3_client("cloudwatch")
    by_version = {
        v: (
            totals(
                cloudwatch,
                "Invocations",
                {"FunctionName": "fn", "Resource": "fn:prod", "ExecutedVersion": v},
            ),
            totals(
                cloudwatch,
                "Errors",
                {"FunctionName": "fn", "Resource": "fn:prod", "ExecutedVersion": v},
            ),
        )
        for v in ("1", "2")
    }
    assert by_version == {"1": (ran.count("1"), 0), "2": (ran.count("2"), ran.count("2"))}
    assert 0 < ran.count("2") < 6
    assert totals(cloudwatch, "Invocations", {"FunctionName": "fn", "Resource": "fn:prod"}) == 6
    assert totals(cloudwatch, "Invocations", {"FunctionName": "fn", "Resource": "fn:1"}) == 1
    assert totals(cloudwatch, "Invocations", {"FunctionName": "fn"}) == 7


def test_invocation_metrics_can_carry_a_pinned_time(emulator: Any) -> None:
    """With `metrics_time` set, an invocation's metrics carry that time (a test's pinned
    clock), not the wall clock."""
    client = emulator.boto3_client("lambda")
    create_python_function(client, "fn", ECHO)
    pinned = datetime(2026, 3, 1, 12, 0, 30, tzinfo=timezone.utc)
    emulator.invoke_settings(metrics_time=pinned.isoformat())
    invoke(client, "fn")
    cloudwatch = emulator.boto3_client("cloudwatch")
    span = (pinned - timedelta(minutes=1), pinned + timedelta(minutes=1))
    dims = {"FunctionName": "fn"}
    assert query(cloudwatch, "Invocations", dims, *span) == [(pinned.replace(second=0), 1.0)]
    assert totals(cloudwatch, "Invocations", dims) == 0


def test_get_metric_data_matches_the_exact_dimension_set(
    emulator: Any, plain: dict[str, Any]
) -> None:
    """A query sees only data with exactly its namespace and dimensions: the Resource query
    does not count the ExecutedVersion split, and a query without dimensions sees none of
    them. Plain moto sums every dimension set, and ignores the namespace."""
    t = datetime.now(timezone.utc).replace(second=30, microsecond=0)

    def put_and_read(cloudwatch: Any) -> list[float]:
        put_lambda_metrics(cloudwatch, "fn", "prod", "2", t, invocations=10, errors=3)
        put_lambda_metrics(cloudwatch, "fn", "prod", "1", t, invocations=90, errors=0)
        cloudwatch.put_metric_data(
            Namespace="Custom/Other",
            MetricData=[
                {
                    "MetricName": "Errors",
                    "Dimensions": [
                        {"Name": "FunctionName", "Value": "fn"},
                        {"Name": "Resource", "Value": "fn:prod"},
                        {"Name": "ExecutedVersion", "Value": "2"},
                    ],
                    "Value": 100,
                    "Timestamp": t,
                }
            ],
        )
        span = (t - timedelta(minutes=1), t + timedelta(minutes=1))
        out = []
        for dims in (
            {"FunctionName": "fn", "Resource": "fn:prod", "ExecutedVersion": "2"},
            {"FunctionName": "fn", "Resource": "fn:prod"},
            {},
        ):
            out.append(sum(v for _, v in query(cloudwatch, "Errors", dims, *span)))
        return out

    assert put_and_read(emulator.boto3_client("cloudwatch")) == [3, 3, 0]
    assert put_and_read(plain["cloudwatch"]) == [103, 3, 9]  # moto: other namespace, all sets


def test_get_metric_data_periods_start_on_the_minute(emulator: Any, plain: dict[str, Any]) -> None:
    """Periods count from the start time rounded down to the minute, as CloudWatch rounds a
    recent start; a period that is not a multiple of 60 (nor 1, 5, 10, 20, 30) is refused.
    Plain moto counts from the exact start time and accepts any period."""
    t0 = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=10)

    def run(cloudwatch: Any) -> list[tuple[datetime, float]]:
        put_lambda_metrics(cloudwatch, "fn", "prod", "2", t0 + timedelta(seconds=50), 4, 1)
        put_lambda_metrics(cloudwatch, "fn", "prod", "2", t0 + timedelta(seconds=70), 6, 2)
        dims = {"FunctionName": "fn", "Resource": "fn:prod", "ExecutedVersion": "2"}
        return query(
            cloudwatch, "Invocations", dims, t0 + timedelta(seconds=20), t0 + timedelta(minutes=5)
        )

    got = run(emulator.boto3_client("cloudwatch"))
    assert got == [(t0 + timedelta(minutes=1), 6.0), (t0, 4.0)]  # newest first
    moto_got = run(plain["cloudwatch"])
    assert [ts for ts, _ in moto_got] != [ts for ts, _ in got]
    cloudwatch = emulator.boto3_client("cloudwatch")
    status, code, _ = error(
        lambda: query(
            cloudwatch, "Errors", {"FunctionName": "fn"}, t0, t0 + timedelta(minutes=5), period=45
        )
    )
    assert (status, code) == (400, "ValidationError")
    query(
        plain["cloudwatch"],
        "Errors",
        {"FunctionName": "fn"},
        t0,
        t0 + timedelta(minutes=5),
        period=45,
    )


# -- layers ---------------------------------------------------------------------------------------


def test_list_layer_versions_pages_at_50_newest_first(emulator: Any, plain: dict[str, Any]) -> None:
    """ListLayerVersions: at most 50 a page with NextMarker, newest first, no Content; MaxItems
    above 50 is refused. Plain moto answers one page."""
    client = emulator.boto3_client("lambda")
    for i in range(52):
        publish_layer(client, "deps", {"python/m.py": f"V = {i}\n"})
    first = client.list_layer_versions(LayerName="deps")
    assert [v["Version"] for v in first["LayerVersions"]] == list(range(52, 2, -1))
    assert "Content" not in first["LayerVersions"][0]
    second = client.list_layer_versions(LayerName="deps", Marker=first["NextMarker"])
    assert ([v["Version"] for v in second["LayerVersions"]], second.get("NextMarker")) == (
        [2, 1],
        None,
    )
    assert error(lambda: client.list_layer_versions(LayerName="deps", MaxItems=51))[:2] == (
        400,
        "ValidationException",
    )
    assert client.list_layer_versions(LayerName="unknown")["LayerVersions"] == []
    layers = client.list_layers()["Layers"]
    assert [(x["LayerName"], x["LatestMatchingVersion"]["Version"]) for x in layers] == [
        ("deps", 52)
    ]
    for i in range(52):
        plain["lambda"].publish_layer_version(
            LayerName="deps", Content={"ZipFile": python_zip({"m.py": str(i)})}
        )
    assert len(plain["lambda"].list_layer_versions(LayerName="deps")["LayerVersions"]) == 52


def test_publish_and_get_layer_version(emulator: Any) -> None:
    """PublishLayerVersion → 201 with Content (CodeSha256, CodeSize) and the version number;
    GetLayerVersion and GetLayerVersionByArn return it; ListLayers filters by runtime."""
    client = emulator.boto3_client("lambda")
    lv = publish_layer(
        client, "deps", {"python/m.py": "V = 1\n"}, CompatibleRuntimes=["python3.12"]
    )
    assert (lv["ResponseMetadata"]["HTTPStatusCode"], lv["Version"]) == (201, 1)
    got = client.get_layer_version(LayerName="deps", VersionNumber=1)
    assert (got["LayerVersionArn"], got["Content"]["CodeSize"]) == (
        lv["LayerVersionArn"],
        lv["Content"]["CodeSize"],
    )
    assert client.get_layer_version_by_arn(Arn=lv["LayerVersionArn"])["Version"] == 1
    assert [
        x["LayerName"] for x in client.list_layers(CompatibleRuntime="python3.12")["Layers"]
    ] == ["deps"]
    assert client.list_layers(CompatibleRuntime="nodejs20.x")["Layers"] == []


def test_layer_version_policy_grants_accounts_and_organizations(
    emulator: Any, plain: dict[str, Any]
) -> None:
    """AddLayerVersionPermission → 201 and a statement in Lambda's policy form (the account as
    its root ARN; an organization as Principal "*" with an aws:PrincipalOrgID condition);
    GetLayerVersionPolicy → 404 before any, the statements after; a duplicate id → 409.
    Plain moto stores the request as the statement."""
    client = emulator.boto3_client("lambda")
    publish_layer(client, "deps", {"python/m.py": "V = 1\n"})
    assert error(lambda: client.get_layer_version_policy(LayerName="deps", VersionNumber=1))[
        :2
    ] == (
        404,
        "ResourceNotFoundException",
    )
    r = client.add_layer_version_permission(
        LayerName="deps",
        VersionNumber=1,
        StatementId="xaccount",
        Action="lambda:GetLayerVersion",
        Principal="210987654321",
    )
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 201
    client.add_layer_version_permission(
        LayerName="deps",
        VersionNumber=1,
        StatementId="org",
        Action="lambda:GetLayerVersion",
        Principal="*",
        OrganizationId="o-abcdefghij",
    )
    policy = json.loads(
        client.get_layer_version_policy(LayerName="deps", VersionNumber=1)["Policy"]
    )
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:deps:1"
    assert policy["Statement"] == [
        {
            "Sid": "xaccount",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
            "Action": "lambda:GetLayerVersion",
            "Resource": arn,
        },
        {
            "Sid": "org",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "lambda:GetLayerVersion",
            "Resource": arn,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
        },
    ]
    assert error(
        lambda: client.add_layer_version_permission(
            LayerName="deps",
            VersionNumber=1,
            StatementId="org",
            Action="lambda:GetLayerVersion",
            Principal="*",
        )
    )[:2] == (409, "ResourceConflictException")
    client.remove_layer_version_permission(LayerName="deps", VersionNumber=1, StatementId="org")
    left = json.loads(client.get_layer_version_policy(LayerName="deps", VersionNumber=1)["Policy"])
    assert [s["Sid"] for s in left["Statement"]] == ["xaccount"]

    plain["lambda"].publish_layer_version(
        LayerName="deps", Content={"ZipFile": python_zip({"m.py": ""})}
    )
    plain["lambda"].add_layer_version_permission(
        LayerName="deps",
        VersionNumber=1,
        StatementId="xaccount",
        Action="lambda:GetLayerVersion",
        Principal="210987654321",
    )
    raw = json.loads(
        plain["lambda"].get_layer_version_policy(LayerName="deps", VersionNumber=1)["Policy"]
    )
    assert raw["Statement"][0]["Principal"] == "210987654321"  # moto: not Lambda's form


def test_a_deleted_layer_version_stays_with_the_functions_using_it(
    emulator: Any, plain: dict[str, Any]
) -> None:
    """DeleteLayerVersion → 204 (also for one that does not exist): the version can no longer
    be read, listed or added to a function (400 "Layer version … does not exist."), its policy
    goes, but function versions that use it still list it in Layers with its CodeSize.
    Plain moto answers 404 for an unknown layer and for adding a missing version."""
    client = emulator.boto3_client("lambda")
    lv = publish_layer(client, "deps", {"python/m.py": "V = 1\n"})
    publish_layer(client, "deps", {"python/m.py": "V = 2\n"})
    arn = lv["LayerVersionArn"]
    client.add_layer_version_permission(
        LayerName="deps",
        VersionNumber=1,
        StatementId="s",
        Action="lambda:GetLayerVersion",
        Principal="*",
    )
    create_python_function(client, "fn", ECHO, Layers=[arn])
    publish(client, "fn")
    assert (
        client.delete_layer_version(LayerName="deps", VersionNumber=1)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    assert (
        client.delete_layer_version(LayerName="deps", VersionNumber=9)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    assert (
        client.delete_layer_version(LayerName="nope", VersionNumber=1)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    assert error(lambda: client.get_layer_version(LayerName="deps", VersionNumber=1))[0] == 404
    assert [
        v["Version"] for v in client.list_layer_versions(LayerName="deps")["LayerVersions"]
    ] == [2]
    used = [{"Arn": arn, "CodeSize": lv["Content"]["CodeSize"]}]
    assert client.get_function_configuration(FunctionName="fn", Qualifier="1")["Layers"] == used
    listed = client.list_versions_by_function(FunctionName="fn")["Versions"]
    assert [v["Layers"] for v in listed] == [used, used]
    status, code, msg = error(
        lambda: client.update_function_configuration(FunctionName="fn", Layers=[arn])
    )
    assert (status, code, msg) == (
        400,
        "InvalidParameterValueException",
        f"Layer version {arn} does not exist.",
    )
    client.update_function_configuration(FunctionName="fn", MemorySize=256)  # not naming it: fine
    assert client.get_function_configuration(FunctionName="fn")["Layers"] == used

    plain["lambda"].publish_layer_version(
        LayerName="deps", Content={"ZipFile": python_zip({"m.py": ""})}
    )
    assert (
        error(lambda: plain["lambda"].delete_layer_version(LayerName="nope", VersionNumber=1))[0]
        == 404
    )
    missing = arn.rsplit(":", 1)[0] + ":7"
    assert error(lambda: plain_python_function(plain["lambda"], "g", ECHO, Layers=[missing]))[
        :2
    ] == (404, "ResourceNotFoundException")


def test_layer_writes_take_write_faults(emulator: Any) -> None:
    """Layer writes count as writes: an injected failure on the first one leaves the layer
    version in place, and the call log marks it a write."""
    client = emulator.boto3_client("lambda")
    publish_layer(client, "deps", {"python/m.py": ""})
    strict = emulator.boto3_client("lambda", retries=False)
    emulator.clear_calls()
    emulator.faults(fail_write={"n": 1, "status": 500, "code": "ServiceException"})
    assert error(lambda: strict.delete_layer_version(LayerName="deps", VersionNumber=1))[:2] == (
        500,
        "ServiceException",
    )
    assert client.get_layer_version(LayerName="deps", VersionNumber=1)["Version"] == 1
    logged = [(c["operation"], c["write"], c["status"]) for c in emulator.calls()]
    assert logged[0] == ("DeleteLayerVersion", True, 500)


def test_function_layers_limits(emulator: Any) -> None:
    """A function names at most 5 layers, one version of each, and only existing ones."""
    client = emulator.boto3_client("lambda")
    arns = [
        publish_layer(client, f"l{i}", {"python/m.py": ""})["LayerVersionArn"] for i in range(6)
    ]
    second = publish_layer(client, "l0", {"python/m.py": "V = 2\n"})["LayerVersionArn"]
    create_python_function(client, "fn", ECHO)
    cases = {
        "six": arns,
        "twice": [arns[0], second],
        "missing": [arns[0].rsplit(":", 1)[0] + ":5"],
    }
    got = {}
    for case, layers in cases.items():
        status, code, _ = error(
            lambda layers=layers: client.update_function_configuration(  # type: ignore[misc]
                FunctionName="fn", Layers=layers
            )
        )
        got[case] = (status, code)
    assert got == dict.fromkeys(cases, (400, "InvalidParameterValueException"))
    client.update_function_configuration(FunctionName="fn", Layers=arns[:5])
    assert len(client.get_function_configuration(FunctionName="fn")["Layers"]) == 5


# -- account settings -----------------------------------------------------------------------------


def test_account_settings_count_function_and_layer_versions(
    emulator: Any, plain: dict[str, Any]
) -> None:
    """GetAccountSettings: the 75 GB limit, and usage summing every function version's and
    layer version's CodeSize, a deleted layer version counting while a function version still
    uses it; FunctionCount counts functions. Plain moto does not implement the call."""
    client = emulator.boto3_client("lambda")
    keep = publish_layer(client, "deps", {"python/m.py": "V = 1\n" * 50})
    gone = publish_layer(client, "deps", {"python/m.py": "V = 2\n"})
    create_python_function(client, "a", ECHO, Layers=[keep["LayerVersionArn"]])
    publish(client, "a")
    create_python_function(client, "b", FAILS)
    sizes = {
        v["Version"] + f["FunctionName"]: v["CodeSize"]
        for f in ({"FunctionName": "a"}, {"FunctionName": "b"})
        for v in client.list_versions_by_function(FunctionName=f["FunctionName"])["Versions"]
    }
    layer_sizes = keep["Content"]["CodeSize"] + gone["Content"]["CodeSize"]
    settings = client.get_account_settings()
    assert settings["AccountLimit"]["TotalCodeSize"] == 80_530_636_800
    assert settings["AccountUsage"] == {
        "TotalCodeSize": sum(sizes.values()) + layer_sizes,
        "FunctionCount": 2,
    }
    client.delete_layer_version(LayerName="deps", VersionNumber=2)  # unused: freed
    client.delete_layer_version(LayerName="deps", VersionNumber=1)  # used by a:$LATEST and a:1
    usage = client.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    assert usage == sum(sizes.values()) + keep["Content"]["CodeSize"]
    client.update_function_configuration(FunctionName="a", Layers=[])
    client.delete_function(FunctionName="a", Qualifier="1")  # the last user of deps:1
    usage = client.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    assert usage == sizes["$LATESTa"] + sizes["$LATESTb"]

    assert error(lambda: plain["lambda"].get_account_settings())[0] == 404


def test_code_storage_quota_refuses_new_code(emulator: Any) -> None:
    """With usage at the (lowered) quota, PublishLayerVersion and PublishVersion of new code →
    400 CodeStorageExceededException; publishing with no change stays allowed."""
    client = emulator.boto3_client("lambda")
    create_python_function(client, "fn", ECHO)
    publish(client, "fn")
    used = client.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    emulator.account_limit(used + 10)
    assert client.get_account_settings()["AccountLimit"]["TotalCodeSize"] == used + 10
    assert error(lambda: publish_layer(client, "deps", {"python/m.py": "V = 1\n"}))[:2] == (
        400,
        "CodeStorageExceededException",
    )
    assert publish(client, "fn") == "1"
    update_python_code(client, "fn", FAILS)
    assert error(lambda: client.publish_version(FunctionName="fn"))[:2] == (
        400,
        "CodeStorageExceededException",
    )
