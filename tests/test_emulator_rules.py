"""The emulator restores real-AWS Lambda behaviour that plain moto lacks.

Each test states the rule from the Lambda reference, checks the emulator answers as AWS does,
and runs the same call against plain moto (in-process `mock_aws`) to show moto would not have
caught it — so the layer is known to matter.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.client import start_emulator
from emulator.fixtures import ROLE_ARN, create_function, publish, update_code, zip_code

NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture
def moto_lambda() -> Iterator[Any]:
    """Plain moto, in-process, for comparison."""
    with mock_aws():
        client = boto3.client(
            "lambda",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        yield client


def moto_fn(client: Any, versions: int = 2) -> Any:
    """create_function through a plain moto client (its IAM is mocked in-process too)."""
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="lambda-reconciler-demo", AssumeRolePolicyDocument="{}")

    client.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="index.handler",
        Code={"ZipFile": zip_code("v1")},
    )
    client.publish_version(FunctionName="fn")
    for i in range(2, versions + 1):
        client.update_function_code(FunctionName="fn", ZipFile=zip_code(f"v{i}"))
        client.publish_version(FunctionName="fn")
    return client


def emu_fn(emulator: Any, versions: int = 2) -> Any:
    client = emulator.boto3_client("lambda")
    create_function(client, "fn", "v1")
    publish(client, "fn")
    for i in range(2, versions + 1):
        update_code(client, "fn", f"v{i}")
        publish(client, "fn")
    return client


def error(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def test_list_versions_pages_at_50(emulator: Any, moto_lambda: Any) -> None:
    """ListVersionsByFunction returns at most 50 items per call, with NextMarker."""
    emulator.seed([{"name": "fn", "versions": 60}])
    client = emulator.boto3_client("lambda")
    first = client.list_versions_by_function(FunctionName="fn", MaxItems=1000)
    assert len(first["Versions"]) == 50
    assert first["Versions"][0]["Version"] == "$LATEST"
    second = client.list_versions_by_function(FunctionName="fn", Marker=first["NextMarker"])
    assert len(second["Versions"]) == 11
    assert "NextMarker" not in second
    moto_fn(moto_lambda, versions=60)
    plain = moto_lambda.list_versions_by_function(FunctionName="fn", MaxItems=1000)
    assert len(plain["Versions"]) == 61  # moto: one page


def test_list_aliases_honours_the_version_filter(emulator: Any, moto_lambda: Any) -> None:
    client = emu_fn(emulator)
    client.create_alias(FunctionName="fn", Name="a", FunctionVersion="1")
    client.create_alias(FunctionName="fn", Name="b", FunctionVersion="2")
    got = client.list_aliases(FunctionName="fn", FunctionVersion="1")["Aliases"]
    assert [a["Name"] for a in got] == ["a"]
    page = client.list_aliases(FunctionName="fn", MaxItems=1)
    assert len(page["Aliases"]) == 1
    assert "NextMarker" in page
    moto_fn(moto_lambda)
    moto_lambda.create_alias(FunctionName="fn", Name="a", FunctionVersion="1")
    moto_lambda.create_alias(FunctionName="fn", Name="b", FunctionVersion="2")
    plain = moto_lambda.list_aliases(FunctionName="fn", FunctionVersion="1")["Aliases"]
    assert len(plain) == 2  # moto ignores the filter


def test_latest_revision_id_changes_with_code(emulator: Any, moto_lambda: Any) -> None:
    """$LATEST's RevisionId is listed, and changes with its code and with its configuration
    (and only then: reading it twice gives the same id)."""
    client = emu_fn(emulator, versions=1)
    before = client.get_function(FunctionName="fn")["Configuration"]["RevisionId"]
    listed = client.list_versions_by_function(FunctionName="fn")["Versions"][0]["RevisionId"]
    assert listed == before
    update_code(client, "fn", "v9")
    after = client.get_function(FunctionName="fn")["Configuration"]["RevisionId"]
    assert after != before
    client.update_function_configuration(FunctionName="fn", MemorySize=256)
    configured = client.get_function(FunctionName="fn")["Configuration"]["RevisionId"]
    assert configured not in (before, after)
    assert client.get_function(FunctionName="fn")["Configuration"]["RevisionId"] == configured
    moto_fn(moto_lambda, versions=1)
    assert "RevisionId" not in moto_lambda.get_function(FunctionName="fn")["Configuration"]


def test_update_alias_rotates_and_checks_revision(emulator: Any, moto_lambda: Any) -> None:
    """Every UpdateAlias gets a new RevisionId; a stale one is refused with 412."""
    client = emu_fn(emulator)
    rev = client.create_alias(FunctionName="fn", Name="p", FunctionVersion="1")["RevisionId"]
    new = client.update_alias(FunctionName="fn", Name="p", FunctionVersion="1", RevisionId=rev)
    assert new["RevisionId"] != rev
    status, code, msg = error(
        lambda: client.update_alias(
            FunctionName="fn", Name="p", FunctionVersion="2", RevisionId=rev
        )
    )
    assert (status, code) == (412, "PreconditionFailedException")
    assert msg.startswith("The Revision Id provided does not match the latest Revision Id")
    moto_fn(moto_lambda)
    mrev = moto_lambda.create_alias(FunctionName="fn", Name="p", FunctionVersion="1")["RevisionId"]
    moto_lambda.update_alias(FunctionName="fn", Name="p", FunctionVersion="1", RevisionId=mrev)
    moto_lambda.update_alias(FunctionName="fn", Name="p", FunctionVersion="2", RevisionId=mrev)


def test_publish_guards(emulator: Any, moto_lambda: Any) -> None:
    """PublishVersion: stale RevisionId → 412; other CodeSha256 → 400 InvalidParameterValue."""
    client = emu_fn(emulator, versions=1)
    update_code(client, "fn", "v2")
    status, code, _ = error(lambda: client.publish_version(FunctionName="fn", RevisionId="stale"))
    assert (status, code) == (412, "PreconditionFailedException")
    status, code, msg = error(lambda: client.publish_version(FunctionName="fn", CodeSha256="x"))
    assert (status, code) == (400, "InvalidParameterValueException")
    assert msg.startswith("CodeSHA256 (x) is different from current CodeSHA256 in $LATEST")
    moto_fn(moto_lambda, versions=1)
    moto_lambda.publish_version(FunctionName="fn", CodeSha256="x", RevisionId="stale")


def test_publish_without_change_returns_the_existing_version(
    emulator: Any, moto_lambda: Any
) -> None:
    client = emulator.boto3_client("lambda")
    create_function(client, "fn", "v1")
    update_code(client, "fn", "v2")  # changed before the first publish
    assert publish(client, "fn") == "1"
    assert publish(client, "fn") == "1"
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="lambda-reconciler-demo", AssumeRolePolicyDocument="{}")
    moto_lambda.create_function(
        FunctionName="fn",
        Runtime="python3.12",
        Role=ROLE_ARN,
        Handler="index.handler",
        Code={"ZipFile": zip_code("v1")},
    )
    moto_lambda.update_function_code(FunctionName="fn", ZipFile=zip_code("v2"))
    assert moto_lambda.publish_version(FunctionName="fn")["Version"] == "1"
    assert moto_lambda.publish_version(FunctionName="fn")["Version"] == "2"  # moto publishes


def test_alias_routing_rules(emulator: Any, moto_lambda: Any) -> None:
    """At most one additional version, not the primary, existing, not on $LATEST, weight ≤ 1,
    a name that is not all digits, and 409 ResourceConflictException for a duplicate."""
    client = emu_fn(emulator, versions=3)
    client_nr = emulator.boto3_client("lambda")

    def rc(weights: dict[str, float], version: str = "1") -> dict[str, Any]:
        return {"FunctionVersion": version, "RoutingConfig": {"AdditionalVersionWeights": weights}}

    invalid = "InvalidParameterValueException"
    cases: list[tuple[dict[str, Any], int, str]] = [
        (rc({"2": 0.1, "3": 0.1}), 400, invalid),
        (rc({"1": 0.1}), 400, invalid),
        (rc({"9": 0.1}), 404, "ResourceNotFoundException"),
        ({"FunctionVersion": "9"}, 404, "ResourceNotFoundException"),
        (rc({"2": 0.1}, "$LATEST"), 400, invalid),
        (rc({"2": 1.5}), 400, "ValidationException"),
    ]
    for kwargs, status, code in cases:
        got = error(partial(client_nr.create_alias, FunctionName="fn", Name="x", **kwargs))
        assert got[:2] == (status, code), kwargs
    # UpdateAlias applies the same rules, and a refused update changes nothing.
    client.create_alias(FunctionName="fn", Name="u", FunctionVersion="1")
    for kwargs, status, code in cases:
        got = error(partial(client_nr.update_alias, FunctionName="fn", Name="u", **kwargs))
        assert got[:2] == (status, code), kwargs
    unchanged = client.get_alias(FunctionName="fn", Name="u")
    assert (unchanged["FunctionVersion"], unchanged.get("RoutingConfig")) == ("1", None)
    assert error(lambda: client.create_alias(FunctionName="fn", Name="123", FunctionVersion="1"))[
        :2
    ] == (400, "ValidationException")
    client.create_alias(FunctionName="fn", Name="p", FunctionVersion="1")
    assert error(lambda: client.create_alias(FunctionName="fn", Name="p", FunctionVersion="1"))[
        :2
    ] == (409, "ResourceConflictException")

    moto_fn(moto_lambda, versions=3)
    moto_lambda.create_alias(
        FunctionName="fn",
        Name="x",
        FunctionVersion="$LATEST",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1, "3": 1.5}},
    )  # moto accepts all of it
    moto_lambda.create_alias(FunctionName="fn", Name="123", FunctionVersion="1")
    assert (
        error(lambda: moto_lambda.create_alias(FunctionName="fn", Name="x", FunctionVersion="1"))[1]
        == "ConflictException"
    )


def test_update_alias_keeps_routing_when_omitted_and_clears_with_empty(
    emulator: Any, moto_lambda: Any
) -> None:
    """Omitting RoutingConfig keeps the canary (so forgetting to clear it is caught); an
    empty map clears it, and the response then omits RoutingConfig."""
    client = emu_fn(emulator, versions=3)
    client.create_alias(
        FunctionName="fn",
        Name="p",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
    )
    kept = client.update_alias(FunctionName="fn", Name="p", FunctionVersion="3")
    assert kept["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.1}}
    cleared = client.update_alias(
        FunctionName="fn", Name="p", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert "RoutingConfig" not in cleared
    moto_fn(moto_lambda, versions=3)
    moto_lambda.create_alias(
        FunctionName="fn",
        Name="p",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
    )
    plain = moto_lambda.update_alias(
        FunctionName="fn", Name="p", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert plain["RoutingConfig"] == {"AdditionalVersionWeights": {}}  # moto echoes it


def test_delete_version_rules(emulator: Any, moto_lambda: Any) -> None:
    """Aliased (primary or canary) → 409; $LATEST → 400; an alias name → 400; gone → 204."""
    client = emu_fn(emulator, versions=3)
    client.create_alias(
        FunctionName="fn",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
    )
    for q in ("1", "2"):
        status, code, msg = error(partial(client.delete_function, FunctionName="fn", Qualifier=q))
        assert (status, code) == (409, "ResourceConflictException")
        assert msg == "Unable to delete version because the following aliases reference it: [live]"
    assert error(lambda: client.delete_function(FunctionName="fn", Qualifier="$LATEST"))[0] == 400
    assert error(lambda: client.delete_function(FunctionName="fn", Qualifier="live"))[0] == 400
    client.delete_function(FunctionName="fn", Qualifier="3")
    r = client.delete_function(FunctionName="fn", Qualifier="3")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client.get_function(FunctionName="fn")["Configuration"]["FunctionName"] == "fn"

    moto_fn(moto_lambda, versions=3)
    moto_lambda.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    moto_lambda.delete_function(FunctionName="fn", Qualifier="1")  # moto deletes it
    assert error(lambda: moto_lambda.delete_function(FunctionName="fn", Qualifier="1"))[0] == 404
    moto_lambda.delete_function(FunctionName="fn", Qualifier="$LATEST")  # the whole function
    assert moto_lambda.list_functions()["Functions"] == []


def test_version_numbers_are_never_reused(emulator: Any, moto_lambda: Any) -> None:
    client = emu_fn(emulator, versions=3)
    client.delete_function(FunctionName="fn", Qualifier="3")
    update_code(client, "fn", "v4")
    assert publish(client, "fn") == "4"
    moto_fn(moto_lambda, versions=3)
    moto_lambda.delete_function(FunctionName="fn", Qualifier="3")
    moto_lambda.update_function_code(FunctionName="fn", ZipFile=b"PK\x05\x06" + b"\0" * 18)
    assert moto_lambda.publish_version(FunctionName="fn")["Version"] == "3"  # moto reuses


def test_provisioned_concurrency(emulator: Any, moto_lambda: Any) -> None:
    client = emu_fn(emulator, versions=2)
    status, code, _ = error(
        lambda: client.get_provisioned_concurrency_config(FunctionName="fn", Qualifier="1")
    )
    assert (status, code) == (404, "ProvisionedConcurrencyConfigNotFoundException")
    client.put_provisioned_concurrency_config(
        FunctionName="fn", Qualifier="1", ProvisionedConcurrentExecutions=2
    )
    emulator.provision("fn", 2, count=1)
    got = client.list_provisioned_concurrency_configs(FunctionName="fn")
    assert sorted(
        c["FunctionArn"].rsplit(":", 1)[1] for c in got["ProvisionedConcurrencyConfigs"]
    ) == [
        "1",
        "2",
    ]
    moto_fn(moto_lambda)
    status, _, _ = error(
        lambda: moto_lambda.get_provisioned_concurrency_config(FunctionName="fn", Qualifier="1")
    )
    assert status in (404, 500)
    assert error(lambda: moto_lambda.list_provisioned_concurrency_configs(FunctionName="fn"))


def test_tags_refused_on_versions_and_aliases(emulator: Any, moto_lambda: Any) -> None:
    client = emu_fn(emulator)
    arn = client.get_function(FunctionName="fn")["Configuration"]["FunctionArn"]
    status, code, msg = error(lambda: client.tag_resource(Resource=f"{arn}:1", Tags={"a": "b"}))
    assert (status, code) == (400, "InvalidParameterValueException")
    assert msg.startswith("Tags on function aliases and versions are not supported")
    client.create_alias(FunctionName="fn", Name="live", FunctionVersion="1")
    status, code, msg = error(lambda: client.tag_resource(Resource=f"{arn}:live", Tags={"a": "b"}))
    assert (status, code) == (400, "InvalidParameterValueException")
    client.tag_resource(Resource=arn, Tags={"a": "b"})
    assert client.list_tags(Resource=arn)["Tags"] == {"a": "b"}
    moto_fn(moto_lambda)
    marn = moto_lambda.get_function(FunctionName="fn")["Configuration"]["FunctionArn"]
    moto_lambda.tag_resource(Resource=f"{marn}:1", Tags={"a": "b"})  # moto accepts


def test_tag_limits_key_value_and_count(emulator: Any, moto_lambda: Any) -> None:
    """AWS's tag limits on a function: a key over 128 characters or a value over 256 is a
    400 ValidationException ("at 'tags' failed to satisfy constraint"); a TagResource that
    would leave more than 50 tags, counting the ones already there, is a 400
    InvalidParameterValueException "Number of tags exceeds function tag limit." and adds
    none; at the limits exactly, it is accepted. CreateFunction's tags are held to the same.
    Plain moto accepts every one of these."""
    client = emu_fn(emulator, versions=1)
    arn = client.get_function(FunctionName="fn")["Configuration"]["FunctionArn"]
    refusals = {
        "key": lambda c, a: c.tag_resource(Resource=a, Tags={"k" * 129: "v"}),
        "value": lambda c, a: c.tag_resource(Resource=a, Tags={"k": "v" * 257}),
    }
    for what, call in refusals.items():
        status, code, msg = error(partial(call, client, arn))
        assert (status, code) == (400, "ValidationException"), what
        assert "at 'tags' failed to satisfy constraint" in msg
    client.tag_resource(Resource=arn, Tags={"k" * 128: "v" * 256})
    client.tag_resource(Resource=arn, Tags={f"t{i}": "x" for i in range(48)})
    status, code, msg = error(lambda: client.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"}))
    assert (status, code, msg) == (
        400,
        "InvalidParameterValueException",
        "Number of tags exceeds function tag limit.",
    )
    assert len(client.list_tags(Resource=arn)["Tags"]) == 49
    client.tag_resource(Resource=arn, Tags={"a": "1", "t0": "replaced"})  # 50: accepted
    assert len(client.list_tags(Resource=arn)["Tags"]) == 50
    status, code, _ = error(
        lambda: create_function(client, "many", "v1", Tags={f"t{i}": "x" for i in range(51)})
    )
    assert (status, code) == (400, "InvalidParameterValueException")

    moto_fn(moto_lambda)
    marn = moto_lambda.get_function(FunctionName="fn")["Configuration"]["FunctionArn"]
    for call in refusals.values():
        call(moto_lambda, marn)  # moto accepts
    moto_lambda.tag_resource(Resource=marn, Tags={f"t{i}": "x" for i in range(60)})
    assert len(moto_lambda.list_tags(Resource=marn)["Tags"]) == 62  # moto holds 62


# -- faults, log and control calls ---------------------------------------------------------------


def test_latency_and_call_log(emulator: Any) -> None:
    client = emu_fn(emulator, versions=1)
    emulator.clear_calls()
    emulator.faults(latency_ms=200)
    t = time.monotonic()
    client.list_aliases(FunctionName="fn")
    assert time.monotonic() - t >= 0.2
    calls = emulator.calls()
    assert [(c["operation"], c["function"], c["status"], c["write"]) for c in calls] == [
        ("ListAliases", "fn", 200, False)
    ]


def test_rate_quota_answers_429(emulator: Any) -> None:
    emu_fn(emulator, versions=1)
    strict = emulator.boto3_client("lambda", retries=False)
    emulator.faults(rate_limit_per_s=3)
    codes: list[int] = []
    errors: list[str] = []
    for _ in range(8):
        try:
            strict.list_aliases(FunctionName="fn")
            codes.append(200)
        except ClientError as e:
            codes.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
            errors.append(e.response["Error"]["Code"])
    assert codes[:3] == [200, 200, 200]
    assert 429 in codes
    assert set(errors) == {"TooManyRequestsException"}
    assert sum(1 for c in emulator.calls() if c["throttled"]) == codes.count(429)


def test_seeded_random_throttling_is_deterministic(emulator: Any) -> None:
    emu_fn(emulator, versions=1)
    strict = emulator.boto3_client("lambda", retries=False)

    def pattern() -> list[bool]:
        emulator.faults(throttle_probability=0.5, seed=7)
        out = []
        for _ in range(20):
            try:
                strict.list_aliases(FunctionName="fn")
                out.append(False)
            except ClientError:
                out.append(True)
        return out

    first, second = pattern(), pattern()
    assert first == second
    assert 0 < sum(first) < 20


def test_injected_failure_on_the_nth_write(emulator: Any) -> None:
    client = emu_fn(emulator, versions=2)
    emulator.faults(fail_write={"n": 2, "status": 500, "code": "ServiceException"})
    strict = emulator.boto3_client("lambda", retries=False)
    strict.create_alias(FunctionName="fn", Name="a", FunctionVersion="1")
    assert error(lambda: strict.create_alias(FunctionName="fn", Name="b", FunctionVersion="1"))[
        :2
    ] == (500, "ServiceException")
    strict.create_alias(FunctionName="fn", Name="c", FunctionVersion="1")
    names = [a["Name"] for a in client.list_aliases(FunctionName="fn")["Aliases"]]
    assert names == ["a", "c"]


@pytest.mark.parametrize("when", ["before", "after"])
def test_kill_switch(emulator: Any, when: str) -> None:
    """The client process dies just before the write is applied, or just after it."""
    emu_fn(emulator, versions=1)
    code = (
        "import boto3,sys\n"
        f"c=boto3.client('lambda',region_name='us-east-1',endpoint_url='{emulator.url}',"
        "aws_access_key_id='t',aws_secret_access_key='t')\n"
        "sys.stdin.readline()\n"
        "c.create_alias(FunctionName='fn',Name='k',FunctionVersion='1')\n"
    )
    victim = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE)
    emulator.faults(kill={"pid": victim.pid, "write": 1, "when": when})
    assert victim.stdin is not None
    victim.stdin.write(b"go\n")
    victim.stdin.flush()
    assert victim.wait(timeout=30) == -signal.SIGKILL
    aliases = emulator.state("fn")["aliases"]
    assert ("k" in aliases) == (when == "after")


def test_age_sets_last_modified(emulator: Any) -> None:
    client = emu_fn(emulator, versions=1)
    emulator.age("fn", 1, "2024-05-01T12:00:00Z")
    versions = client.list_versions_by_function(FunctionName="fn")["Versions"]
    assert versions[1]["LastModified"].startswith("2024-05-01T12:00:00")


def test_starts_serving_and_stops_releasing_its_port() -> None:
    """The emulator answers as soon as `start_emulator` returns and is gone once the block ends
    (its start-up time is a benchmark figure, not a timed test)."""
    import socket
    from urllib.parse import urlsplit

    with start_emulator() as emu:
        port = urlsplit(emu.url).port
        assert emu.url.startswith("http://127.0.0.1:")
        assert emu.boto3_client("lambda").list_functions()["Functions"] == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port or 0), timeout=5).close()


def test_list_functions_all_versions_pages_subset_interleaved(
    emulator: Any, moto_lambda: Any
) -> None:
    """ListFunctions(FunctionVersion=ALL): every version and $LATEST of every function, at most
    50 items a page whatever MaxItems says, each item only the reference's configuration subset,
    functions interleaved (the order is undocumented); moto answers one page of full items."""
    emulator.seed([{"name": f"fn-{i}", "versions": 20} for i in range(3)])  # 63 items
    client = emulator.boto3_client("lambda")
    first = client.list_functions(FunctionVersion="ALL", MaxItems=1000)
    second = client.list_functions(FunctionVersion="ALL", Marker=first["NextMarker"])
    assert (len(first["Functions"]), len(second["Functions"])) == (50, 13)
    assert "NextMarker" not in second
    items = first["Functions"] + second["Functions"]
    expected = {(f"fn-{i}", v) for i in range(3) for v in ["$LATEST", *map(str, range(1, 21))]}
    assert expected == {(f["FunctionName"], f["Version"]) for f in items}
    assert len(items) == len(expected)
    # Interleaved: the first items are the three $LATEST, then each function's version 1.
    assert [(f["FunctionName"], f["Version"]) for f in items[:6]] == [
        ("fn-0", "$LATEST"),
        ("fn-1", "$LATEST"),
        ("fn-2", "$LATEST"),
        ("fn-0", "1"),
        ("fn-1", "1"),
        ("fn-2", "1"),
    ]
    reference_subset = {
        "FunctionName",
        "Version",
        "CodeSha256",
        "CodeSize",
        "Description",
        "LastModified",
        "RevisionId",
        "Layers",
        "Role",
        "Runtime",
        "MemorySize",
        "Timeout",
        "Environment",
    }
    assert all(set(f) <= reference_subset for f in items)
    assert all({"State", "LastUpdateStatus", "Handler"}.isdisjoint(f) for f in items)
    # $LATEST carries the same RevisionId and CodeSha256 as ListVersionsByFunction gives it.
    latest = next(f for f in items if f["FunctionName"] == "fn-1" and f["Version"] == "$LATEST")
    own = client.list_versions_by_function(FunctionName="fn-1")["Versions"][0]
    assert (own["RevisionId"], own["CodeSha256"]) == (latest["RevisionId"], latest["CodeSha256"])
    assert client.list_functions(FunctionVersion="ALL", MaxItems=5)["Functions"][4]["Version"] == (
        "1"
    )
    moto_fn(moto_lambda, versions=60)
    plain = moto_lambda.list_functions(FunctionVersion="ALL", MaxItems=1000)
    assert len(plain["Functions"]) == 61  # moto: one page
    assert "Handler" in plain["Functions"][0]


def test_get_function_has_its_own_quota(emulator: Any) -> None:
    """With a control-plane quota of 3/s, GetFunction (its own 100/s) is not throttled where
    ListAliases is, and its calls leave the control-plane bucket untouched."""
    emu_fn(emulator, versions=1)
    strict = emulator.boto3_client("lambda", retries=False)
    emulator.faults(rate_limit_per_s=3)
    for _ in range(10):
        strict.get_function(FunctionName="fn")
    codes: list[int] = []
    for _ in range(5):
        try:
            strict.list_aliases(FunctionName="fn")
            codes.append(200)
        except ClientError as e:
            codes.append(e.response["ResponseMetadata"]["HTTPStatusCode"])
    assert codes[:3] == [200, 200, 200]
    assert 429 in codes
    assert [c for c in emulator.calls() if c["operation"] == "GetFunction" and c["throttled"]] == []


def test_alias_description_is_at_most_256_characters(emulator: Any, moto_lambda: Any) -> None:
    """An alias description of 257 characters is refused (400 ValidationException) on create and
    update, as AWS's request validation does (botocore's model gives `Description` max 256 and
    does not check it client-side); 256 is accepted. Plain moto accepts 300. The alias record
    the reconciler keeps in the description must fit, and this is what would say so."""
    client = emu_fn(emulator)
    client.create_alias(FunctionName="fn", Name="ok", FunctionVersion="1", Description="d" * 256)
    status, code, msg = error(
        partial(
            client.create_alias,
            FunctionName="fn",
            Name="long",
            FunctionVersion="1",
            Description="d" * 257,
        )
    )
    assert (status, code) == (400, "ValidationException")
    assert msg.endswith("Member must have length less than or equal to 256")
    status, code, _ = error(
        partial(client.update_alias, FunctionName="fn", Name="ok", Description="d" * 257)
    )
    assert (status, code) == (400, "ValidationException")
    moto_fn(moto_lambda)
    plain = moto_lambda.create_alias(
        FunctionName="fn", Name="long", FunctionVersion="1", Description="d" * 300
    )
    assert len(plain["Description"]) == 300  # moto: no limit
