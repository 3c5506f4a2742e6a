"""Several accounts in one emulator: the credentials select the account, each account has its
own Lambda state and request quotas, STS AssumeRole checks what AWS checks, and EventBridge
PutEvents answers and fails as AWS does (the project's Lambda reference, sections "STS
AssumeRole across accounts" and "EventBridge PutEvents"). Where plain moto differs, the same
call against in-process moto shows it."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.client import EmulatorClient
from emulator.fixtures import create_function

OTHER = "111111111111"
THIRD = "222222222222"
DEFAULT = "123456789012"


def error(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as e:
        call()
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


@pytest.fixture
def plain_moto() -> Iterator[Callable[[str], Any]]:
    """Plain moto, in-process, for comparison."""
    with mock_aws():
        yield lambda service: boto3.client(
            service,  # type: ignore[call-overload]
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def test_the_access_key_selects_the_account(emulator: EmulatorClient) -> None:
    """Functions, aliases, versions and the control state of one account are invisible from
    another; ARNs carry the account; GetCallerIdentity names it."""
    other = emulator.for_account(OTHER)
    other.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    emulator.seed([{"name": "orders", "versions": 1}])
    mine, theirs = emulator.boto3_client("lambda"), other.boto3_client("lambda")
    assert theirs.get_alias(FunctionName="orders", Name="prod")["AliasArn"] == (
        f"arn:aws:lambda:us-east-1:{OTHER}:function:orders:prod"
    )
    assert error(lambda: mine.get_alias(FunctionName="orders", Name="prod"))[1] == (
        "ResourceNotFoundException"
    )
    assert [
        v["Version"] for v in theirs.list_versions_by_function(FunctionName="orders")["Versions"]
    ] == ["$LATEST", "1", "2"]
    theirs.update_alias(FunctionName="orders", Name="prod", FunctionVersion="2")
    theirs.tag_resource(
        Resource=f"arn:aws:lambda:us-east-1:{OTHER}:function:orders", Tags={"a": "b"}
    )
    assert (
        mine.list_tags(Resource=f"arn:aws:lambda:us-east-1:{DEFAULT}:function:orders")["Tags"] == {}
    )
    assert other.state("orders")["aliases"]["prod"]["FunctionVersion"] == "2"
    assert emulator.state("orders")["aliases"] == {}
    cart = create_function(theirs, "cart")  # the demo role is made in the caller's account
    assert cart["FunctionArn"] == f"arn:aws:lambda:us-east-1:{OTHER}:function:cart"
    assert cart["Role"] == f"arn:aws:iam::{OTHER}:role/lambda-reconciler-demo"
    assert [f["FunctionName"] for f in mine.list_functions()["Functions"]] == ["orders"]
    assert other.boto3_client("sts").get_caller_identity()["Account"] == OTHER
    assert emulator.boto3_client("sts").get_caller_identity()["Account"] == DEFAULT
    accounts = {(c["operation"], c["account"]) for c in emulator.calls()}
    assert ("UpdateAlias", OTHER) in accounts
    assert ("GetAlias", DEFAULT) in accounts


def test_request_quotas_are_per_account_and_region(emulator: EmulatorClient) -> None:
    """The control-plane quota is a bucket per account and region: one account using all of
    its quota leaves every other account's (and its own other regions') untouched."""
    other = emulator.for_account(OTHER)
    emulator.faults(rate_limit_per_s=2)
    clients = {
        "mine": emulator.boto3_client("lambda", retries=False),
        "mine-west": emulator.boto3_client("lambda", "us-west-2", retries=False),
        "theirs": other.boto3_client("lambda", retries=False),
    }
    for client in clients.values():
        client.list_functions()
        client.list_functions()
    for client in clients.values():
        assert error(client.list_functions)[:2] == (429, "TooManyRequestsException")
    throttled = [(c["account"], c["region"]) for c in emulator.calls() if c["throttled"]]
    assert sorted(throttled) == [
        (OTHER, "us-east-1"),
        (DEFAULT, "us-east-1"),
        (DEFAULT, "us-west-2"),
    ]


def _role(emulator: EmulatorClient, **kw: Any) -> str:
    return emulator.for_account(OTHER).register_role("deployer", [DEFAULT], **kw)


def test_assume_role_selects_the_roles_account(emulator: EmulatorClient) -> None:
    """The credentials AssumeRole returns act in the role's account, as the assumed-role ARN
    `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`; the call log keeps the session name."""
    emulator.for_account(OTHER).seed([{"name": "orders", "versions": 1, "aliases": {"prod": 1}}])
    arn = _role(emulator)
    got = emulator.boto3_client("sts").assume_role(RoleArn=arn, RoleSessionName="review-42")
    assert got["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{OTHER}:assumed-role/deployer/review-42"
    session = emulator.assumed(got["Credentials"], OTHER)
    assert (
        session.boto3_client("sts").get_caller_identity()["Arn"] == (got["AssumedRoleUser"]["Arn"])
    )
    alias = session.boto3_client("lambda").get_alias(FunctionName="orders", Name="prod")
    assert alias["AliasArn"].split(":")[4] == OTHER
    logged = [c for c in emulator.calls() if c["operation"] == "AssumeRole"]
    assert [(c["role_session_name"], c["assumed_account"], c["status"]) for c in logged] == [
        ("review-42", OTHER, 200)
    ]


def test_assume_role_refusals(emulator: EmulatorClient, plain_moto: Any) -> None:
    """Session name pattern and length, the duration range and the role's MaxSessionDuration
    (ValidationError, AWS's texts), the trust policy and its ExternalId (AccessDenied); plain
    moto issues credentials for every one of these."""
    arn = _role(emulator, external_id="ext-1", max_session_duration=3600)
    sts = emulator.boto3_client("sts")

    def assume(**kw: Any) -> tuple[int, str, str]:
        return error(lambda: sts.assume_role(RoleArn=arn, **{"RoleSessionName": "ok", **kw}))

    bad_name = assume(RoleSessionName="has space", ExternalId="ext-1")
    assert bad_name[:2] == (400, "ValidationError")
    assert "at 'roleSessionName'" in bad_name[2]
    assert "Member must satisfy regular expression pattern: [\\w+=,.@-]*" in bad_name[2]
    assert "less than or equal to 64" in assume(RoleSessionName="x" * 65, ExternalId="ext-1")[2]
    assert "less than or equal to 43200" in assume(DurationSeconds=43201, ExternalId="ext-1")[2]
    assert assume(DurationSeconds=7200, ExternalId="ext-1") == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )
    denied = f"is not authorized to perform: sts:AssumeRole on resource: {arn}"
    for kw in ({}, {"ExternalId": "ext-2"}):
        status, code, message = assume(**kw)
        assert (status, code) == (403, "AccessDenied")
        assert denied in message
    stranger = emulator.for_account(THIRD).boto3_client("sts")
    assert error(
        lambda: stranger.assume_role(RoleArn=arn, RoleSessionName="ok", ExternalId="ext-1")
    )[:2] == (403, "AccessDenied")
    missing = f"arn:aws:iam::{OTHER}:role/nobody"
    assert error(lambda: sts.assume_role(RoleArn=missing, RoleSessionName="ok"))[1] == (
        "AccessDenied"
    )
    plain = plain_moto("sts").assume_role(
        RoleArn=missing, RoleSessionName="has space", DurationSeconds=43200
    )
    assert plain["AssumedRoleUser"]["Arn"].endswith("/nobody/has space")


def test_role_chaining_is_capped_at_one_hour(emulator: EmulatorClient) -> None:
    """A role session assuming another role gets at most an hour, whatever the role allows."""
    first = _role(emulator, max_session_duration=43200)
    second = emulator.for_account(THIRD).register_role(
        "reader", [first], max_session_duration=43200
    )
    got = emulator.boto3_client("sts").assume_role(
        RoleArn=first, RoleSessionName="hop-1", DurationSeconds=43200
    )
    hop = emulator.assumed(got["Credentials"], OTHER).boto3_client("sts")
    assert error(
        lambda: hop.assume_role(RoleArn=second, RoleSessionName="hop-2", DurationSeconds=3601)
    ) == (
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
        "role chaining.",
    )
    chained = hop.assume_role(RoleArn=second, RoleSessionName="hop-2", DurationSeconds=3600)
    assert chained["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{THIRD}:assumed-role/reader/hop-2"


def test_assumed_role_policy_is_enforced_and_sessions_expire(emulator: EmulatorClient) -> None:
    """With IAM enforced, calls made with assumed credentials are judged by the role's
    policies; past its expiry (on AWS's clock) a session is refused."""
    emulator.for_account(OTHER).seed([{"name": "orders", "versions": 1, "aliases": {"prod": 1}}])
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "lambda:GetAlias",
                "Resource": f"arn:aws:lambda:*:{OTHER}:function:orders:*",
            }
        ],
    }
    arn = _role(emulator, policies=[policy])
    got = emulator.boto3_client("sts").assume_role(
        RoleArn=arn, RoleSessionName="review", DurationSeconds=900
    )
    lam = emulator.assumed(got["Credentials"], OTHER).boto3_client("lambda", retries=False)
    emulator.enforce_iam(True)
    assert lam.get_alias(FunctionName="orders", Name="prod")["FunctionVersion"] == "1"
    status, code, message = error(lambda: lam.list_aliases(FunctionName="orders"))
    assert (status, code) == (403, "AccessDeniedException")
    assert f"arn:aws:lambda:us-east-1:{OTHER}:function:orders" in message
    emulator.clock(901)
    assert error(lambda: lam.get_alias(FunctionName="orders", Name="prod"))[:2] == (
        403,
        "ExpiredTokenException",
    )
    assert [(c["operation"], c["status"]) for c in emulator.calls()][-1] == ("GetAlias", 403)


def _entry(n: int, **kw: Any) -> dict[str, Any]:
    return {
        "Source": "lambda-reconciler",
        "DetailType": "rollout",
        "Detail": json.dumps({"n": n}),
    } | kw


def test_put_events_partial_failure_in_order(emulator: EmulatorClient, plain_moto: Any) -> None:
    """HTTP 200 with FailedEntryCount and Entries in request order; an entry lacking a field
    or whose Detail is not a JSON object fails alone; accepted events are kept per account,
    region and bus in order; plain moto accepts a Detail that is not an object."""
    other = emulator.for_account(OTHER)
    other.boto3_client("events").create_event_bus(Name="rollouts")
    entries = [
        _entry(1),
        {"Source": "lambda-reconciler", "Detail": "{}"},
        _entry(2, Detail="[1]"),
        _entry(3, EventBusName="rollouts"),
    ]
    got = other.boto3_client("events").put_events(Entries=entries)
    assert got["FailedEntryCount"] == 2
    codes = [e.get("ErrorCode") for e in got["Entries"]]
    assert codes == [None, "InvalidArgument", "MalformedDetail", None]
    assert got["Entries"][1]["ErrorMessage"] == (
        "Parameter DetailType is not valid. Reason: DetailType is a required argument."
    )
    emulator.boto3_client("events", "eu-west-1").put_events(Entries=[_entry(4)])
    stored = emulator.events()
    assert [(e["account"], e["region"], e["bus"], e["detail"]) for e in stored] == [
        (OTHER, "us-east-1", "default", {"n": 1}),
        (OTHER, "us-east-1", "rollouts", {"n": 3}),
        (DEFAULT, "eu-west-1", "default", {"n": 4}),
    ]
    assert [e["id"] for e in emulator.events(account=OTHER, bus="rollouts")] == [
        got["Entries"][3]["EventId"]
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = plain_moto("events").put_events(Entries=[_entry(2, Detail="[1]")])
    assert plain["FailedEntryCount"] == 0


def test_put_events_whole_request_failures(emulator: EmulatorClient, plain_moto: Any) -> None:
    """More than 10 entries, no entry with all three fields, a DetailType over 128
    characters, a request over the size limit, or a bus that does not exist fail the whole
    request; plain moto accepts the oversized request and the long DetailType."""
    events = emulator.boto3_client("events", retries=False)

    def put(entries: list[dict[str, Any]]) -> Callable[[], Any]:
        return lambda: events.put_events(Entries=entries)

    assert error(put([_entry(i) for i in range(11)]))[:2] == (400, "ValidationException")
    assert error(put([{"Source": "s"}, {"DetailType": "d"}]))[:2] == (400, "ValidationException")
    assert "at 'entries.1.member.detailType'" in error(put([_entry(1, DetailType="d" * 129)]))[2]
    assert error(put([_entry(1, EventBusName="nope")]))[:2] == (404, "ResourceNotFoundException")
    emulator.events_settings(max_request_bytes=256 * 1024)
    big = _entry(1, Detail=json.dumps({"pad": "x" * 200_000}))
    assert (
        error(put([big, big]))[2] == "Total size of the entries in the request is over the limit."
    )
    events.put_events(Entries=[big])  # one alone fits
    assert emulator.events()[-1]["detail"] == {"pad": "x" * 200_000}
    plain = plain_moto("events").put_events(Entries=[big, big, _entry(1, DetailType="d" * 129)])
    assert plain["FailedEntryCount"] == 0


def test_injected_entry_failures(emulator: EmulatorClient) -> None:
    """`fail_events(n, code)` fails the next n entries that would succeed, with that code, in a
    200 answer (botocore never retries single entries); then entries succeed again."""
    events = emulator.boto3_client("events")
    for code in ("ThrottlingException", "InternalFailure", "AccessDeniedException"):
        emulator.fail_events(2, code)
        got = events.put_events(Entries=[_entry(1), _entry(2), _entry(3)])
        assert [e.get("ErrorCode") for e in got["Entries"]] == [code, code, None]
        assert got["FailedEntryCount"] == 2
    assert [e["detail"]["n"] for e in emulator.events()] == [3, 3, 3]
    logged = [c for c in emulator.calls() if c["operation"] == "PutEvents"]
    assert [(c["entries"], c["failed"], c["status"]) for c in logged] == [(3, 2, 200)] * 3


def _token(**claims: Any) -> str:
    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


def test_web_identity_github_oidc_and_chaining(emulator: EmulatorClient, plain_moto: Any) -> None:
    """AssumeRoleWithWebIdentity needs the issuer as an OIDC provider of the role's account
    holding the audience, and a trust policy naming it whose `sub` condition the token meets;
    its session is a role session, so assuming a role with it is chaining (one hour). Plain
    moto accepts any token for any role ARN."""
    other = emulator.for_account(OTHER)
    other.boto3_client("iam").create_open_id_connect_provider(
        Url="https://token.actions.githubusercontent.com",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["a" * 40],
    )
    issuer = "token.actions.githubusercontent.com"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{OTHER}:oidc-provider/{issuer}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"},
                    "StringLike": {f"{issuer}:sub": "repo:org/app:environment:*"},
                },
            }
        ],
    }
    ci = other.register_role("ci", trust_policy=trust)
    target = emulator.for_account(THIRD).register_role("deployer", [ci], max_session_duration=7200)
    sts = emulator.boto3_client("sts")

    def web(sub: str, aud: str = "sts.amazonaws.com", iss: str = issuer) -> Any:
        token = _token(iss=f"https://{iss}", sub=sub, aud=aud)
        return sts.assume_role_with_web_identity(
            RoleArn=ci, RoleSessionName="gha-1", WebIdentityToken=token
        )

    assert error(lambda: web("repo:org/app:ref:refs/heads/main")) == (
        403,
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithWebIdentity",
    )
    assert error(lambda: web("repo:org/app:environment:prod", aud="other"))[1:] == (
        "InvalidIdentityToken",
        "Incorrect token audience",
    )
    assert error(lambda: web("repo:org/app:environment:prod", iss="example.com"))[2] == (
        "No OpenIDConnect provider found in your account for https://example.com"
    )
    got = web("repo:org/app:environment:prod")
    assert got["SubjectFromWebIdentityToken"] == "repo:org/app:environment:prod"
    hop = emulator.assumed(got["Credentials"], OTHER).boto3_client("sts")
    assert (
        "1 hour session limit"
        in error(
            lambda: hop.assume_role(RoleArn=target, RoleSessionName="deploy", DurationSeconds=7200)
        )[2]
    )
    chained = hop.assume_role(RoleArn=target, RoleSessionName="deploy")
    assert chained["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{THIRD}:assumed-role/deployer/deploy"
    plain = plain_moto("sts").assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{OTHER}:role/nobody", RoleSessionName="x1", WebIdentityToken="junk"
    )
    assert plain["AssumedRoleUser"]["Arn"].endswith("/nobody/x1")
