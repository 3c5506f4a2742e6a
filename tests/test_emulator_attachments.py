"""What hangs on a version or an alias behaves as the Lambda reference says AWS does:
provisioned concurrency (allocated over time, one config per version, quotas, an alias
repointed while it carries capacity), SnapStart versions, Lambda@Edge replicas, and the
qualifier rules of function URLs, event-invoke configurations and alias policies.

Each test shows the emulator's answer and that plain moto (in-process `mock_aws`) gives
another. Time moves with the emulator's clock control, never with a sleep.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.fixtures import DISTRIBUTION
from tests.test_emulator_rules import emu_fn, error, moto_fn, moto_lambda  # noqa: F401

PC = "ProvisionedConcurrentExecutions"
LATE = "The function resource provided must be an alias or a published version."


def _put(client: Any, qualifier: str, count: int = 2) -> dict[str, Any]:
    out: dict[str, Any] = client.put_provisioned_concurrency_config(
        FunctionName="fn", Qualifier=qualifier, **{PC: count}
    )
    return out


def _get(client: Any, qualifier: str) -> dict[str, Any]:
    out: dict[str, Any] = client.get_provisioned_concurrency_config(
        FunctionName="fn", Qualifier=qualifier
    )
    return out


def _moto_has_no_provisioned_concurrency(moto_lambda: Any) -> None:  # noqa: F811
    moto_fn(moto_lambda)
    assert error(lambda: _put(moto_lambda, "1"))[0] in (404, 500)  # not implemented


def test_provisioned_concurrency_is_allocated_on_the_emulator_clock(
    emulator: Any,
    moto_lambda: Any,  # noqa: F811
) -> None:
    """Put → 202 IN_PROGRESS with nothing allocated; READY with Allocated = Requested once the
    allocation delay has passed on the emulator's clock; List shows the same, ARN qualified."""
    client = emu_fn(emulator)
    emulator.provisioned_settings(allocation_delay=120)
    put = _put(client, "1", 3)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (put["Status"], put["AllocatedProvisionedConcurrentExecutions"]) == ("IN_PROGRESS", 0)
    assert _get(client, "1")["Status"] == "IN_PROGRESS"
    emulator.clock(121)
    got = _get(client, "1")
    assert (got["Status"], got["AllocatedProvisionedConcurrentExecutions"]) == ("READY", 3)
    assert got["AvailableProvisionedConcurrentExecutions"] == 3
    (item,) = client.list_provisioned_concurrency_configs(FunctionName="fn")[
        "ProvisionedConcurrencyConfigs"
    ]
    assert item["FunctionArn"].endswith(":fn:1")
    assert item["Status"] == "READY"
    _moto_has_no_provisioned_concurrency(moto_lambda)


def test_provisioned_allocation_can_fail(emulator: Any) -> None:
    """A config the control marks as failing ends FAILED, FUNCTION_ERROR_INIT_FAILURE, 0."""
    client = emu_fn(emulator)
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    emulator.provisioned_settings(allocation_delay=60, fail=("fn", "prod"))
    _put(client, "prod")
    emulator.clock(61)
    got = _get(client, "prod")
    assert (got["Status"], got["StatusReason"]) == ("FAILED", "FUNCTION_ERROR_INIT_FAILURE")
    assert got["AllocatedProvisionedConcurrentExecutions"] == 0


def test_provisioned_concurrency_qualifier_rules(emulator: Any) -> None:
    """$LATEST → 400 with Put's and Get/Delete's own messages; one config per version however
    it is attached (the two 409s); an alias with weights → 400; unknown alias / version → 404."""
    client = emu_fn(emulator, versions=3)
    assert error(lambda: _put(client, "$LATEST")) == (
        400,
        "InvalidParameterValueException",
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
    )
    assert error(lambda: _get(client, "$LATEST"))[2] == LATE
    assert (
        error(
            lambda: client.delete_provisioned_concurrency_config(
                FunctionName="fn", Qualifier="$LATEST"
            )
        )[2]
        == LATE
    )
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    _put(client, "1")
    assert error(lambda: _put(client, "prod")) == (
        409,
        "ResourceConflictException",
        "Alias can't be used for Provisioned Concurrency configuration on an already "
        "Provisioned version",
    )
    client.delete_provisioned_concurrency_config(FunctionName="fn", Qualifier="1")
    _put(client, "prod")
    assert error(lambda: _put(client, "1")) == (
        409,
        "ResourceConflictException",
        "Version is pointed by a Provisioned Concurrency alias",
    )
    client.create_alias(
        FunctionName="fn",
        Name="canary",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}},
    )
    assert error(lambda: _put(client, "canary")) == (
        400,
        "InvalidParameterValueException",
        "Alias with weights can not be used with Provisioned Concurrency",
    )
    status, _, message = error(lambda: _put(client, "nope"))
    assert status == 404
    assert message.startswith("Cannot find alias arn: ")
    assert error(lambda: _put(client, "9"))[2].startswith("Function not found: ")


def test_repointing_a_provisioned_alias_keeps_traffic_on_the_old_version(
    emulator: Any,
    moto_lambda: Any,  # noqa: F811
) -> None:
    """UpdateAlias to a new version moves the capacity there; until it is READY, Lambda keeps a
    weight of 1 on the old version (so Put on the alias → 400), then clears it."""
    client = emu_fn(emulator)
    emulator.provisioned_settings(allocation_delay=60)
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    _put(client, "prod")
    emulator.clock(61)
    assert _get(client, "prod")["Status"] == "READY"
    client.update_alias(FunctionName="fn", Name="prod", FunctionVersion="2")
    alias = client.get_alias(FunctionName="fn", Name="prod")
    assert alias["FunctionVersion"] == "2"
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 1.0}}
    assert _get(client, "prod")["Status"] == "IN_PROGRESS"
    assert error(lambda: _put(client, "prod"))[2] == (
        "Alias with weights can not be used with Provisioned Concurrency"
    )
    emulator.clock(122)
    assert _get(client, "prod")["Status"] == "READY"
    assert "RoutingConfig" not in client.get_alias(FunctionName="fn", Name="prod")
    moto_fn(moto_lambda)
    moto_lambda.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    moto_lambda.update_alias(FunctionName="fn", Name="prod", FunctionVersion="2")
    assert not moto_lambda.get_alias(FunctionName="fn", Name="prod").get("RoutingConfig")


def test_provisioned_concurrency_quotas(
    emulator: Any,
    moto_lambda: Any,  # noqa: F811
) -> None:
    """Against the account's 1000 and its unreserved minimum of 100, and against the
    function's reserved concurrency both ways, with AWS's messages."""
    client = emu_fn(emulator)
    assert error(lambda: _put(client, "1", 1001))[2] == (
        "Specified ConcurrentExecutions for function is greater than account's unreserved "
        "concurrency [1000]."
    )
    assert error(lambda: _put(client, "1", 901))[2] == (
        "Specified ConcurrentExecutions for function decreases account's "
        "UnreservedConcurrentExecution below its minimum value of [100]."
    )
    client.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=5)
    assert error(lambda: _put(client, "1", 6))[2] == (
        "Requested Provisioned Concurrency should not be greater than the "
        "reservedConcurrentExecution for function"
    )
    _put(client, "1", 3)
    assert error(
        lambda: client.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=2)
    ) == (
        400,
        "InvalidParameterValueException",
        " ReservedConcurrentExecutions  2 should not be lower than function's total "
        "provisioned concurrency [3].",
    )
    moto_fn(moto_lambda)
    moto_lambda.put_function_concurrency(FunctionName="fn", ReservedConcurrentExecutions=1)
    assert error(lambda: _put(moto_lambda, "1", 2000))[0] != 400  # no quota: not implemented


def test_snapstart_versions_are_pending_until_their_snapshot(
    emulator: Any,
    moto_lambda: Any,  # noqa: F811
) -> None:
    """With SnapStart on published versions, a new version is Pending (Invoke → 409, an alias
    may point to it) and Active after the snapshot delay on the emulator's clock."""
    client = emu_fn(emulator, versions=1)
    emulator.snapstart_settings(snapshot_delay=90)
    snap = {"ApplyOn": "PublishedVersions"}
    client.update_function_configuration(FunctionName="fn", SnapStart=snap)
    published = client.publish_version(FunctionName="fn")
    assert (published["Version"], published["State"]) == ("2", "Pending")
    got = client.get_function_configuration(FunctionName="fn", Qualifier="2")
    assert got["State"] == "Pending"
    assert got["SnapStart"] == {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"}
    assert client.get_function_configuration(FunctionName="fn")["SnapStart"] == {
        "ApplyOn": "PublishedVersions",
        "OptimizationStatus": "Off",
    }
    status, code, message = error(lambda: client.invoke(FunctionName="fn", Qualifier="2"))
    assert (status, code) == (409, "ResourceConflictException")
    assert message.endswith("in the following state: Pending")
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="2")
    assert client.get_function_configuration(FunctionName="fn", Qualifier="prod")["State"] == (
        "Pending"
    )
    emulator.clock(91)
    assert client.get_function(FunctionName="fn", Qualifier="2")["Configuration"]["State"] == (
        "Active"
    )
    moto_fn(moto_lambda, versions=1)
    moto_lambda.update_function_configuration(FunctionName="fn", SnapStart=snap)
    plain = moto_lambda.get_function_configuration(FunctionName="fn")["SnapStart"]
    assert plain["ApplyOn"] == "None"  # moto forgets the setting
    assert moto_lambda.publish_version(FunctionName="fn")["State"] == "Active"


def test_a_failed_snapstart_version_cannot_carry_an_alias(emulator: Any) -> None:
    """A snapshot that fails leaves the version Failed (FunctionError); CreateAlias and
    UpdateAlias to it → 409 ResourceConflictException."""
    client = emu_fn(emulator, versions=1)
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    emulator.snapstart_settings(snapshot_delay=10, fail="fn")
    client.update_function_configuration(
        FunctionName="fn", SnapStart={"ApplyOn": "PublishedVersions"}
    )
    assert client.publish_version(FunctionName="fn")["Version"] == "2"
    emulator.clock(11)
    got = client.get_function_configuration(FunctionName="fn", Qualifier="2")
    assert (got["State"], got["StateReasonCode"]) == ("Failed", "FunctionError")
    for call in (
        lambda: client.update_alias(FunctionName="fn", Name="prod", FunctionVersion="2"),
        lambda: client.create_alias(FunctionName="fn", Name="beta", FunctionVersion="2"),
    ):
        status, code, message = error(call)
        assert (status, code) == (409, "ResourceConflictException")
        assert "'Failed'" in message
        assert "'FunctionError'" in message


def test_a_replicated_edge_version_cannot_be_deleted(
    emulator: Any,
    moto_lambda: Any,  # noqa: F811
) -> None:
    """A version a CloudFront distribution uses (Lambda@Edge) → 400 on DeleteFunction, for
    the version and for the whole function, until the association is removed."""
    client = emu_fn(emulator)
    emulator.edge_association("fn", 1, "E2QWRUHEXAMPLE", "origin-request")
    arn = client.get_function(FunctionName="fn")["Configuration"]["FunctionArn"]
    expected = (
        400,
        "InvalidParameterValueException",
        f"Lambda was unable to delete {arn.removesuffix(':$LATEST')}:1 because it is a "
        "replicated function. Please see our documentation for Deleting Lambda@Edge "
        "Functions and Replicas.",
    )
    assert error(lambda: client.delete_function(FunctionName="fn", Qualifier="1")) == expected
    assert error(lambda: client.delete_function(FunctionName="fn")) == expected
    emulator.edge_association("fn", 1, "E2QWRUHEXAMPLE", "origin-request", remove=True)
    client.delete_function(FunctionName="fn", Qualifier="1")
    moto_fn(moto_lambda)
    moto_lambda.delete_function(FunctionName="fn")  # moto knows no replicas


def test_function_url_qualifier_rules(
    emulator: Any,
    moto_lambda: Any,  # noqa: F811
) -> None:
    """A digits-only qualifier fails the pattern (ValidationException); a second Create for the
    same qualifier → 409 with AWS's message; Update changes the alias's URL only; List has the
    function's and each alias's."""
    client = emu_fn(emulator)
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    status, code, _ = error(
        lambda: client.create_function_url_config(FunctionName="fn", Qualifier="1", AuthType="NONE")
    )
    assert (status, code) == (400, "ValidationException")
    client.create_function_url_config(FunctionName="fn", Qualifier="prod", AuthType="NONE")
    client.create_function_url_config(FunctionName="fn", AuthType="AWS_IAM")
    status, code, message = error(
        lambda: client.create_function_url_config(
            FunctionName="fn", Qualifier="prod", AuthType="NONE"
        )
    )
    assert (status, code) == (409, "ResourceConflictException")
    assert message.endswith(
        ":fn:prod]. Error message:  FunctionUrlConfig exists for this Lambda function"
    )
    assert (
        error(lambda: client.create_function_url_config(FunctionName="fn", AuthType="NONE"))[0]
        == 409
    )
    client.update_function_url_config(FunctionName="fn", Qualifier="prod", AuthType="AWS_IAM")
    urls = client.list_function_url_configs(FunctionName="fn")["FunctionUrlConfigs"]
    assert sorted(u["AuthType"] for u in urls) == ["AWS_IAM", "AWS_IAM"]
    assert any(u["FunctionArn"].endswith(":fn:prod") for u in urls)
    moto_fn(moto_lambda)
    moto_lambda.create_function_url_config(FunctionName="fn", Qualifier="1", AuthType="NONE")
    moto_lambda.create_function_url_config(FunctionName="fn", AuthType="NONE")  # replaces


def test_event_invoke_config_per_qualifier(
    emulator: Any,
    moto_lambda: Any,  # noqa: F811
) -> None:
    """Each qualifier has its own configuration; Put replaces it whole, Update merges; retry
    attempts over 2 and event ages over 21600 → ValidationException; deleting the alias
    deletes its configuration."""
    client = emu_fn(emulator)
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    put = client.put_function_event_invoke_config
    put(FunctionName="fn", Qualifier="prod", MaximumRetryAttempts=1, MaximumEventAgeInSeconds=100)
    put(FunctionName="fn", Qualifier="1", MaximumRetryAttempts=2)
    got = client.get_function_event_invoke_config(FunctionName="fn", Qualifier="prod")
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (1, 100)
    assert got["FunctionArn"].endswith(":fn:prod")
    client.update_function_event_invoke_config(
        FunctionName="fn", Qualifier="prod", MaximumRetryAttempts=0
    )
    got = client.get_function_event_invoke_config(FunctionName="fn", Qualifier="prod")
    assert (got["MaximumRetryAttempts"], got["MaximumEventAgeInSeconds"]) == (0, 100)
    put(FunctionName="fn", Qualifier="prod", MaximumEventAgeInSeconds=60)
    got = client.get_function_event_invoke_config(FunctionName="fn", Qualifier="prod")
    assert "MaximumRetryAttempts" not in got
    assert error(lambda: put(FunctionName="fn", Qualifier="prod", MaximumRetryAttempts=3))[1] == (
        "ValidationException"
    )
    assert error(lambda: put(FunctionName="fn", Qualifier="prod", MaximumEventAgeInSeconds=21601))[
        1
    ] == ("ValidationException")
    listed = client.list_function_event_invoke_configs(FunctionName="fn")
    assert sorted(
        c["FunctionArn"].rsplit(":", 1)[1] for c in listed["FunctionEventInvokeConfigs"]
    ) == [
        "1",
        "prod",
    ]
    client.delete_alias(FunctionName="fn", Name="prod")
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    assert (
        error(lambda: client.get_function_event_invoke_config(FunctionName="fn", Qualifier="prod"))[
            0
        ]
        == 404
    )
    moto_fn(moto_lambda)
    moto_lambda.put_function_event_invoke_config(
        FunctionName="fn", Qualifier="1", MaximumRetryAttempts=2
    )
    plain = moto_lambda.get_function_event_invoke_config(FunctionName="fn", Qualifier="prod")
    assert plain["MaximumRetryAttempts"] == 2  # moto: one configuration, whatever the qualifier


def test_an_alias_policy_has_a_revision_id(emulator: Any) -> None:
    """GetPolicy(Qualifier=alias) returns the policy's RevisionId, stable between reads; an
    AddPermission or RemovePermission with another one → 412; each change makes a new one."""
    client = emu_fn(emulator)
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    grant = {"Action": "lambda:InvokeFunction", "Principal": "sns.amazonaws.com"}
    client.add_permission(FunctionName="fn", Qualifier="prod", StatementId="a", **grant)
    first = client.get_policy(FunctionName="fn", Qualifier="prod")
    assert (
        client.get_policy(FunctionName="fn", Qualifier="prod")["RevisionId"] == first["RevisionId"]
    )
    status, code, _ = error(
        lambda: client.add_permission(
            FunctionName="fn", Qualifier="prod", StatementId="b", RevisionId="stale", **grant
        )
    )
    assert (status, code) == (412, "PreconditionFailedException")
    client.add_permission(
        FunctionName="fn",
        Qualifier="prod",
        StatementId="b",
        RevisionId=first["RevisionId"],
        **grant,
    )
    second = client.get_policy(FunctionName="fn", Qualifier="prod")
    assert second["RevisionId"] != first["RevisionId"]
    assert len(json.loads(second["Policy"])["Statement"]) == 2
    assert (
        error(
            lambda: client.remove_permission(
                FunctionName="fn", Qualifier="prod", StatementId="a", RevisionId=first["RevisionId"]
            )
        )[0]
        == 412
    )


def test_cloudfront_lists_the_edge_associations(emulator: Any) -> None:
    """ListDistributions names the version a distribution's default cache behaviour runs,
    so a client can find what uses a version. CloudFront here is moto's, which drops the
    associations a distribution is created with: only the control's show."""
    client = emu_fn(emulator)
    arn = client.get_function(FunctionName="fn")["Configuration"]["FunctionArn"]
    version_arn = f"{arn.removesuffix(':$LATEST')}:2"
    behaviour = DISTRIBUTION["DefaultCacheBehavior"]
    asked = {
        "Quantity": 1,
        "Items": [{"LambdaFunctionARN": version_arn, "EventType": "viewer-request"}],
    }
    config = {
        **DISTRIBUTION,
        "DefaultCacheBehavior": {**behaviour, "LambdaFunctionAssociations": asked},
    }
    cloudfront = emulator.boto3_client("cloudfront")
    dist = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]

    def associations() -> dict[str, Any]:
        (summary,) = cloudfront.list_distributions()["DistributionList"]["Items"]
        found: dict[str, Any] = summary["DefaultCacheBehavior"]["LambdaFunctionAssociations"]
        return found

    assert associations()["Quantity"] == 0  # moto dropped them
    emulator.edge_association("fn", 2, dist, "viewer-request")
    (association,) = associations()["Items"]
    assert association["LambdaFunctionARN"] == version_arn
    assert association["EventType"] == "viewer-request"
    emulator.edge_association("fn", 2, dist, "viewer-request", remove=True)
    assert associations()["Quantity"] == 0
