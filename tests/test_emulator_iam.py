"""The emulator's IAM evaluation (`emulator/iam_eval.py`) decides as IAM does for the policy
elements the generated policies use: Lambda's qualified-ARN matching, conditions that make a
statement not apply (rather than deny), and explicit deny winning."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.iam_eval import Unsupported, arn_match, evaluate

F = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        (F + "orders:*", F + "orders", False),  # NAME:* never matches the function itself
        (F + "orders:*", F + "orders:7", True),
        (F + "orders:*", F + "orders:prod", True),
        (F + "orders", F + "orders:7", False),  # the unqualified ARN covers no version
        (F + "orders*", F + "orders", True),  # NAME* covers both, and longer names
        (F + "orders*", F + "orders:7", True),
        (F + "orders*", F + "orders-archive", True),
        (F + "shop-*:*", F + "shop-cart", False),
        (F + "shop-*:*", F + "shop-cart:live", True),
        (F + "orders:$LATEST", F + "orders:$LATEST", True),  # `$` is not regex syntax
        (F + "ord.rs", F + "orders", False),  # nor is `.`
        (F + "order?", F + "orders", True),
        ("arn:aws:lambda:us-east-1:*:function:orders", F + "orders", True),
        ("arn:aws:lambda:*:function:orders", F + "orders", False),  # * stays in its segment
        ("*", F + "anything:1", True),
    ],
)
def test_arn_matching(pattern: str, arn: str, expected: bool) -> None:
    """ARN patterns match as the Lambda guide's "Function resource names" describes."""
    assert expected == arn_match(pattern, arn)


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_a_condition_that_fails_makes_the_statement_not_apply() -> None:
    """A statement whose condition does not hold neither allows nor denies (moto denies)."""
    tagged = {
        "Effect": "Allow",
        "Action": "lambda:ListAliases",
        "Resource": F + "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/team": "shop"}},
    }
    plain = {"Effect": "Allow", "Action": "lambda:ListAliases", "Resource": F + "orders"}
    shop = {"aws:ResourceTag/team": ["shop"]}
    other = {"aws:ResourceTag/team": ["billing"]}
    assert evaluate([_doc(tagged)], "lambda:ListAliases", F + "cart", shop) == "allow"
    assert evaluate([_doc(tagged)], "lambda:ListAliases", F + "cart", other) == "implicit"
    assert evaluate([_doc(tagged)], "lambda:ListAliases", F + "cart", {}) == "implicit"
    assert evaluate([_doc(tagged, plain)], "lambda:ListAliases", F + "orders", other) == "allow"


def test_explicit_deny_wins_across_policies() -> None:
    """A Deny in one attached policy beats an Allow in another."""
    allow = _doc({"Effect": "Allow", "Action": "lambda:DeleteAlias", "Resource": F + "orders:*"})
    deny = _doc({"Effect": "Deny", "Action": "lambda:DeleteAlias", "Resource": F + "orders:prod"})
    assert evaluate([allow, deny], "lambda:DeleteAlias", F + "orders:beta") == "allow"
    assert evaluate([allow, deny], "lambda:DeleteAlias", F + "orders:prod") == "deny"
    assert evaluate([allow], "lambda:deletealias", F + "orders:prod") == "allow"  # case
    assert evaluate([allow], "lambda:DeleteFunction", F + "orders:1") == "implicit"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["lambda-reconciler:rollout:live"], "allow"),
        (["lambda-reconciler:rollout:live", "owner"], "implicit"),
        (["team"], "implicit"),
        ([], "allow"),  # ForAllValues holds for an empty set, as in IAM
    ],
)
def test_for_all_values_on_tag_keys(keys: list[str], expected: str) -> None:
    """ForAllValues:StringLike on aws:TagKeys lets through only requests whose every key
    matches."""
    st = {
        "Effect": "Allow",
        "Action": "lambda:TagResource",
        "Resource": F + "cart",
        "Condition": {"ForAllValues:StringLike": {"aws:TagKeys": ["lambda-reconciler:rollout:*"]}},
    }
    assert expected == evaluate([_doc(st)], "lambda:TagResource", F + "cart", {"aws:TagKeys": keys})


def test_missing_keys_negation_if_exists_and_null() -> None:
    """A missing key fails StringEquals, satisfies StringNotEquals and ...IfExists; Null tests
    presence; unknown operators raise instead of passing."""

    def decide(condition: dict[str, Any], context: dict[str, list[str]]) -> str:
        st = {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition}
        return evaluate([_doc(st)], "lambda:ListTags", F + "x", context)

    assert decide({"StringEquals": {"aws:ResourceTag/t": "a"}}, {}) == "implicit"
    assert decide({"StringNotEquals": {"aws:ResourceTag/t": "a"}}, {}) == "allow"
    assert decide({"StringEqualsIfExists": {"aws:ResourceTag/t": "a"}}, {}) == "allow"
    assert decide({"StringLike": {"aws:resourcetag/T": "a*"}}, {"aws:ResourceTag/T": ["ab"]}) == (
        "allow"
    )
    assert decide({"Null": {"aws:ResourceTag/t": "true"}}, {}) == "allow"
    assert decide({"Null": {"aws:ResourceTag/t": "false"}}, {}) == "implicit"
    with pytest.raises(Unsupported):
        decide({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, {})
