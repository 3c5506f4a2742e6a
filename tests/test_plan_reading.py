"""Reading a saved plan: the one-line refusals of fields checked by their object's loader, and
a rollout's problem read back from its words as the same typed value."""

from __future__ import annotations

import pytest

from reconciler.errors import ReconcilerError
from reconciler.plan import (
    NEW_VERSION,
    CauseKind,
    FailedYetServing,
    NoWayBack,
    OtherProblem,
    RecordProblem,
    RecordUnparsed,
    StepBeyond,
    UnknownPrevious,
    UnknownTarget,
)
from reconciler.plan.planfile import plan_from_dict
from reconciler.plan.wording import record_problem, record_problem_from

ARN = "arn:aws:lambda:us-east-1:123456789012:layer:x:1"
LAYER_DELETION = {
    "action": "delete_layer_version",
    "version": "1",
    "layer_version_arn": ARN,
    "code_size": 1,
    "age_days": 1,
    "keep_last": None,
}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"functions": [{"function": "f"}]},
            "functions[0].fingerprint: missing",
        ),
        (
            {"functions": [{"function": "f", "fingerprint": "x", "operations": [LAYER_DELETION]}]},
            "functions[0].operations[0].action: expected one of publish_version, create_alias, "
            "update_alias, delete_alias, delete_version, create_function_url, "
            "update_function_url, delete_function_url, put_event_invoke_config, "
            "delete_event_invoke_config, add_permission, remove_permission, "
            "set_provisioned_concurrency, got 'delete_layer_version'",
        ),
        (
            {"functions": [], "code_storage": [{"region": "r", "used": "5", "limit": 1}]},
            "code_storage[0].used: expected an integer, got a string",
        ),
        (
            {"functions": [], "code_storage": [{"region": "r", "used": 1, "limit": -1}]},
            "code_storage[0].limit: input should be greater than or equal to 0, got -1",
        ),
        (
            {
                "functions": [
                    {
                        "function": "f",
                        "fingerprint": "x",
                        "operations": [
                            {"action": "create_alias", "alias": "a", "after": {"version": "1"}},
                        ],
                        "rollouts": [{"alias": "a", "target": "1", "step": 0, "steps": 0}],
                    }
                ]
            },
            "functions[0].rollouts[0].weight: missing",
        ),
    ],
)
def test_a_malformed_field_is_named(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ReconcilerError) as e:
        plan_from_dict({"format_version": 2, **doc})
    assert str(e.value) == f"malformed plan file: {message}"


PROBLEMS: tuple[RecordProblem, ...] = (
    RecordUnparsed("malformed field 'x=(1)'"),
    UnknownTarget("9"),
    UnknownTarget(NEW_VERSION),
    UnknownPrevious("3"),
    StepBeyond(5, 2),
    FailedYetServing("8"),
    NoWayBack(CauseKind.ALARM, "7", "orders, errors"),
    NoWayBack(CauseKind.HOOK, "7"),
    NoWayBack(CauseKind.GATE, "7"),
    NoWayBack(CauseKind.MANUAL, "7"),
    OtherProblem("words an earlier release wrote"),
)


@pytest.mark.parametrize("problem", PROBLEMS, ids=repr)
def test_a_problem_reads_back_from_its_words(problem: RecordProblem) -> None:
    assert record_problem_from(record_problem(problem)) == problem


def test_the_words_users_see_are_kept() -> None:
    assert record_problem(StepBeyond(5, 2)) == "its record says step 5 of a 2-step schedule"
    assert record_problem(NoWayBack(CauseKind.ALARM, "7", "e")) == (
        "alarm e fires, but its rollback target 7 is not the version its history records; "
        "not moving traffic: use `rollback` or name another version"
    )
