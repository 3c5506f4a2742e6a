"""What lives on an alias, as the Lambda reference says: a policy statement added with
`Qualifier=ALIAS` and a function URL of the alias belong to that alias only, and go with it.
Plain moto keeps one policy and one URL per function whatever the qualifier."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.test_emulator_rules import emu_fn, error, moto_fn, moto_lambda  # noqa: F401

PERMISSION = {
    "StatementId": "apigw",
    "Action": "lambda:InvokeFunction",
    "Principal": "apigateway.amazonaws.com",
}


def test_an_alias_policy_is_read_with_its_qualifier_only(
    emulator: Any,
    moto_lambda: Any,  # noqa: F811
) -> None:
    """GetPolicy(Qualifier=prod) returns the statement; the function's own policy does not
    have it (404), and another alias has none (404)."""
    client = emu_fn(emulator)
    for alias in ("prod", "beta"):
        client.create_alias(FunctionName="fn", Name=alias, FunctionVersion="1")
    client.add_permission(FunctionName="fn", Qualifier="prod", **PERMISSION)
    policy = json.loads(client.get_policy(FunctionName="fn", Qualifier="prod")["Policy"])
    assert [s["Resource"].rsplit(":", 1)[-1] for s in policy["Statement"]] == ["prod"]
    assert error(lambda: client.get_policy(FunctionName="fn", Qualifier="beta"))[:2] == (
        404,
        "ResourceNotFoundException",
    )
    assert error(lambda: client.get_policy(FunctionName="fn"))[0] == 404
    moto_fn(moto_lambda)
    for alias in ("prod", "beta"):
        moto_lambda.create_alias(FunctionName="fn", Name=alias, FunctionVersion="1")
    moto_lambda.add_permission(FunctionName="fn", Qualifier="prod", **PERMISSION)
    assert moto_lambda.get_policy(FunctionName="fn", Qualifier="beta")["Policy"]  # moto: shared


def test_deleting_an_alias_deletes_its_policy_and_url(emulator: Any) -> None:
    """Recreating the alias finds neither: both were deleted with it."""
    client = emu_fn(emulator)
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="1")
    client.add_permission(FunctionName="fn", Qualifier="prod", **PERMISSION)
    url = client.create_function_url_config(FunctionName="fn", Qualifier="prod", AuthType="NONE")
    assert url["FunctionArn"].endswith(":fn:prod")
    assert client.get_function_url_config(FunctionName="fn", Qualifier="prod")["AuthType"] == "NONE"
    client.delete_alias(FunctionName="fn", Name="prod")
    client.create_alias(FunctionName="fn", Name="prod", FunctionVersion="2")
    assert error(lambda: client.get_policy(FunctionName="fn", Qualifier="prod"))[0] == 404
    assert (
        error(lambda: client.get_function_url_config(FunctionName="fn", Qualifier="prod"))[0] == 404
    )


@pytest.mark.parametrize("call", ["get_policy", "get_function_url_config"])
def test_a_missing_alias_is_404(emulator: Any, call: str) -> None:
    client = emu_fn(emulator)
    status, code, _ = error(lambda: getattr(client, call)(FunctionName="fn", Qualifier="nope"))
    assert (status, code) == (404, "ResourceNotFoundException")
