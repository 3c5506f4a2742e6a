"""Alias attachments against the in-memory Lambda (no emulator): the planner's order and the
executor's guards, in process and fast."""

from __future__ import annotations

from typing import Any

from reconciler.aws import Permission
from reconciler.engine import read_attachments
from reconciler.engine.results import Status
from reconciler.plan import AddPermission, Plan, RemovePermission
from reconciler.planning import Observed, plan
from tests.memlambda import NOW, MemLambda, snap
from tests.planner_helpers import apply_to, target

SPEC: dict[str, Any] = {
    "aliases": {
        "prod": {
            "version": 1,
            "permissions": [
                {"sid": "s3", "principal": "s3.amazonaws.com", "source_account": "1" * 12}
            ],
        }
    }
}


def _mem() -> MemLambda:
    mem = MemLambda()
    mem.add("fn", snap("a"))
    mem.add_version("fn", snap("a"))
    mem.set_alias("fn", "prod", "1")
    return mem


def _plan(mem: MemLambda) -> Plan:
    t = target(**SPEC)
    observed = read_attachments(mem, [Observed(t, mem.read_function("fn", t.region))], 1)
    return plan(observed, now=NOW)


def test_a_statement_declared_otherwise_is_removed_then_added() -> None:
    """Same sid, other condition: RemovePermission of the live form first, then AddPermission
    of the declared one, both guarded by the policy's RevisionId as planned; then in sync."""
    mem = _mem()
    old = Permission("s3", "s3.amazonaws.com", source_account="2" * 12)
    mem.add_permission("fn", None, "prod", old, "")
    (fp,) = _plan(mem).functions
    revision = mem.policies[("fn", "prod")][1]
    assert [(type(op), op.statement.source_account) for op in fp.operations] == [  # type: ignore[union-attr]
        (RemovePermission, "2" * 12),
        (AddPermission, "1" * 12),
    ]
    assert {op.revision_id for op in fp.operations} == {revision}  # type: ignore[union-attr]
    result = apply_to(mem, _plan(mem))
    assert [r.status for r in result.results] == [Status.DONE, Status.DONE]
    assert _plan(mem).functions[0].operations == ()


def test_a_policy_changed_after_the_plan_fails_the_write() -> None:
    """Another writer changes the alias policy between plan and apply: the planned RevisionId
    no longer matches, the write fails (412) and the other writer's statement stays."""
    mem = _mem()
    mem.add_permission("fn", None, "prod", Permission("old", "sns.amazonaws.com"), "")
    saved = _plan(mem)  # remove `old`, add `s3`
    mem.add_permission("fn", None, "prod", Permission("other", "sns.amazonaws.com"), "")
    result = apply_to(mem, saved)
    assert [r.status for r in result.results] == [Status.FAILED, Status.NOT_ATTEMPTED]
    assert set(mem.policies[("fn", "prod")][0]) == {"old", "other"}
