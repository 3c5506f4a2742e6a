"""The pure planner: (desired, live) → plan, with no AWS and no mock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from reconciler.aws.live import Canary
from reconciler.errors import ReconcilerError
from reconciler.plan import (
    NEW_VERSION,
    Brake,
    CreateAlias,
    Plan,
    PublishVersion,
    UpdateAlias,
)
from reconciler.plan.wording import changes, kept, reason
from reconciler.plan.wording import target as op_target
from reconciler.planning.rollout import history_key
from tests.memlambda import NOW, MemLambda, snap
from tests.planner_helpers import apply_to, plan_against, target


def lam(versions: int = 3, *, latest: str = "c3", days: list[int] | None = None) -> MemLambda:
    mem = MemLambda()
    mem.add("fn", snap(latest))
    for i in range(1, versions + 1):
        age = days[i - 1] if days else 100 - i
        mem.add_version("fn", snap(f"c{i}", days_old=age))
    return mem


def actions(p: object) -> list[tuple[str, str | None]]:
    fp = p.functions[0]  # type: ignore[attr-defined]
    return [(op.action.value, op_target(op)) for op in fp.operations]


def test_in_sync_plan_is_empty() -> None:
    """Live matches the manifest: no operation, no error."""
    mem = lam()
    mem.set_alias("fn", "prod", "2")
    p = plan_against(mem, [target(aliases={"prod": {"version": 2}})])
    assert actions(p) == []
    assert not p.has_errors


def test_create_and_update_alias() -> None:
    """A missing alias is created, a moved one updated with its planned RevisionId."""
    mem = lam()
    mem.set_alias("fn", "prod", "1")
    rev = mem.functions["fn"].aliases["prod"].revision_id
    p = plan_against(mem, [target(aliases={"prod": {"version": 2}, "staging": {"version": 3}})])
    assert actions(p) == [("create_alias", "staging"), ("update_alias", "prod")]
    update = p.functions[0].operations[1]
    assert isinstance(update, UpdateAlias)
    assert update.revision_id == rev
    assert changes(update) == ("version: 1 → 2",)


def test_canary_add_change_remove() -> None:
    """Canary version and weight are compared; weights equal as Lambda stores them (6 places)."""
    mem = lam()
    mem.set_alias("fn", "prod", "2", Canary("3", 0.1000000001))
    same = plan_against(
        mem, [target(aliases={"prod": {"version": 2, "canary": {"version": 3, "weight": "10%"}}})]
    )
    assert actions(same) == []
    change = plan_against(
        mem, [target(aliases={"prod": {"version": 2, "canary": {"version": 3, "weight": 0.5}}})]
    )
    assert changes(change.functions[0].operations[0]) == ("canary: 3 @ 10% → 3 @ 50%",)
    remove = plan_against(mem, [target(aliases={"prod": {"version": 2}})])
    op = remove.functions[0].operations[0]
    assert isinstance(op, UpdateAlias)
    assert op.after.canary is None
    assert changes(op) == ("canary: 3 @ 10% → none",)


def test_promote_and_rollback_are_single_updates() -> None:
    """Promote the canary (3 takes all) or roll back (1): one UpdateAlias each."""
    mem = lam()
    mem.set_alias("fn", "prod", "2", Canary("3", 0.2))
    promote = plan_against(mem, [target(aliases={"prod": {"version": 3}})])
    assert changes(promote.functions[0].operations[0]) == (
        "version: 2 → 3",
        "canary: 3 @ 20% → none",
    )
    apply_to(mem, promote)
    assert mem.functions["fn"].aliases["prod"].version == "3"
    assert mem.functions["fn"].aliases["prod"].canary is None


def test_publish_on_code_change_names_the_hashes() -> None:
    """$LATEST code differs from the newest version: publish, guarded by sha and revision."""
    mem = lam(latest="c9")
    p = plan_against(mem, [target(publish=True, aliases={"prod": {"version": "latest"}})])
    publish, create = p.functions[0].operations
    assert isinstance(publish, PublishVersion)
    assert reason(publish).startswith("code changed: sha256 c3")
    assert publish.code_sha256 == "c9"
    assert publish.revision_id == mem.functions["fn"].latest_rev
    assert isinstance(create, CreateAlias)
    assert create.after.version == NEW_VERSION


def test_publish_on_configuration_only_change() -> None:
    """Same code, different configuration: publish, naming the field."""
    mem = lam()
    mem.functions["fn"].latest = snap("c3", config="other")
    p = plan_against(mem, [target(publish=True)])
    assert reason(p.functions[0].operations[0]) == "configuration changed: memory"


def test_no_publish_when_unchanged_or_not_asked() -> None:
    """Identical $LATEST: nothing; different $LATEST without publish: true: nothing."""
    mem = lam()
    assert actions(plan_against(mem, [target(publish=True)])) == []
    mem.functions["fn"].latest = snap("c9")
    assert actions(plan_against(mem, [target()])) == []


def test_publish_without_any_version() -> None:
    mem = lam(versions=0)
    p = plan_against(mem, [target(publish=True)])
    assert reason(p.functions[0].operations[0]) == "no version published yet"


def test_selectors() -> None:
    """latest, $LATEST, {alias}, {sha256}, {description} resolve as the contract says."""
    mem = lam()
    mem.functions["fn"].versions[2] = snap("c2", description="release-2")
    p = plan_against(
        mem,
        [
            target(
                aliases={
                    "a": {"version": "latest"},
                    "b": {"version": "$LATEST"},
                    "c": {"version": {"alias": "a"}},
                    "d": {"version": {"sha256": "c1"}},
                    "e": {"version": {"description": "release-2"}},
                    "f": {"version": "2"},
                }
            )
        ],
    )
    got = {
        op.alias: op.after.version
        for op in p.functions[0].operations
        if isinstance(op, CreateAlias | UpdateAlias)
    }
    assert got == {"a": "3", "b": "$LATEST", "c": "3", "d": "1", "e": "2", "f": "2"}


def test_sha256_selector_picks_the_version_being_published() -> None:
    mem = lam(latest="c9")
    p = plan_against(mem, [target(publish=True, aliases={"x": {"version": {"sha256": "c9"}}})])
    assert p.functions[0].operations[1].after.version == NEW_VERSION  # type: ignore[union-attr]


def test_selector_matching_nothing_is_an_error_with_no_operations() -> None:
    """A missing version stops that function's plan; nothing is written for it."""
    mem = lam()
    p = plan_against(
        mem, [target(aliases={"prod": {"version": 9}, "dev": {"version": {"sha256": "zz"}}})]
    )
    fp = p.functions[0]
    assert fp.operations == ()
    assert fp.errors == (
        "alias prod: version 9 does not exist (published: 1-3)",
        "alias dev: no version has sha256 zz",
    )


def test_canary_equal_to_primary_after_resolution() -> None:
    mem = lam()
    p = plan_against(
        mem,
        [target(aliases={"prod": {"version": "latest", "canary": {"version": 3, "weight": 0.1}}})],
    )
    assert "same as the primary" in p.functions[0].errors[0]


def test_canary_with_different_role_is_refused() -> None:
    mem = lam()
    mem.functions["fn"].versions[3] = snap("c3", role="other-role")
    p = plan_against(
        mem, [target(aliases={"prod": {"version": 2, "canary": {"version": 3, "weight": 0.1}}})]
    )
    assert "different execution role" in p.functions[0].errors[0]


def test_unmanaged_alias_listed_and_pruned_only_on_request() -> None:
    mem = lam()
    mem.set_alias("fn", "beta", "1")
    kept = plan_against(mem, [target()])
    assert [u.name for u in kept.functions[0].unmanaged_aliases] == ["beta"]
    assert actions(kept) == []
    pruned = plan_against(mem, [target(prune_aliases=True)])
    assert actions(pruned) == [("delete_alias", "beta")]


def test_description_unmanaged_when_absent() -> None:
    mem = lam()
    mem.set_alias("fn", "prod", "2", description="set by hand")
    assert actions(plan_against(mem, [target(aliases={"prod": {"version": 2}})])) == []
    p = plan_against(mem, [target(aliases={"prod": {"version": 2, "description": "Prod"}})])
    assert changes(p.functions[0].operations[0]) == ("description: 'set by hand' → 'Prod'",)


def test_retention_keep_last_counts_the_published_version() -> None:
    """keep_last=2 while publishing: the new version and the newest live one stay."""
    mem = lam(versions=4, latest="c9")
    p = plan_against(mem, [target(publish=True, retention={"keep_last": 2})])
    assert actions(p) == [
        ("publish_version", "$LATEST"),
        ("delete_version", "1"),
        ("delete_version", "2"),
        ("delete_version", "3"),
    ]


def test_retention_keeps_aliased_protected_young_and_in_use() -> None:
    """Every veto of §3 keeps its version, with the reason shown in -v."""
    mem = lam(versions=6, days=[100, 100, 100, 100, 5, 100])
    mem.set_alias("fn", "live", "1")  # unmanaged, not pruned: still routes
    mem.set_alias("fn", "prod", "6", Canary("2", 0.1))
    mem.functions["fn"].in_use.add(4)
    p = plan_against(
        mem,
        [
            target(
                aliases={"prod": {"version": 6, "canary": {"version": 2, "weight": 0.1}}},
                retention={"keep_last": 1, "keep_days": 30, "protect": [3]},
            )
        ],
    )
    assert actions(p) == []
    reasons = {k.version: kept(k) for k in p.functions[0].kept}
    assert reasons[1] == "aliased by live"
    assert reasons[2] == "aliased by prod"
    assert reasons[3] == "protected"
    assert reasons[4] == "used by provisioned concurrency"
    assert reasons[5].startswith("young (5 days old")


def test_the_version_an_alias_moves_away_from_is_kept_as_its_rollback_target() -> None:
    """keep_previous (default 1): moving prod 1 → 3 keeps 1, the version a rollback needs,
    even outside keep_last; the other old version goes."""
    mem = lam(versions=3)
    mem.set_alias("fn", "prod", "1")
    p = plan_against(mem, [target(aliases={"prod": {"version": 3}}, retention={"keep_last": 1})])
    assert actions(p) == [("update_alias", "prod"), ("delete_version", "2")]
    assert {k.version: kept(k) for k in p.functions[0].kept} == {1: "prod's previous version"}


def test_keep_previous_zero_prunes_the_version_an_alias_moves_away_from() -> None:
    """With keep_previous: 0 the moved-from version is pruned in the same run, after the move."""
    mem = lam(versions=3)
    mem.set_alias("fn", "prod", "1")
    retention = {"keep_last": 1, "keep_previous": 0}
    p = plan_against(mem, [target(aliases={"prod": {"version": 3}}, retention=retention)])
    assert actions(p) == [
        ("update_alias", "prod"),
        ("delete_version", "1"),
        ("delete_version", "2"),
    ]
    op = p.functions[0].operations[1]
    assert reason(op) == "outside keep_last=1, 99 days old"
    assert p.functions[0].storage_freed == 200


def test_recorded_history_keeps_the_last_n_versions_and_a_move_extends_it() -> None:
    """An earlier release's history tag (most recent first) keeps keep_previous versions; once
    the tags are read, the update's record takes that history with the version it moves from
    in front, and the tag is removed after the alias call (migration)."""
    mem = lam(versions=6)
    mem.set_alias("fn", "prod", "5")
    mem.functions["fn"].tags[history_key("prod")] = "4 2 1"
    retention = {"keep_last": 1, "keep_previous": 2}
    p = plan_against(mem, [target(aliases={"prod": {"version": 6}}, retention=retention)])
    assert actions(p) == [
        ("update_alias", "prod"),
        ("delete_version", "1"),
        ("delete_version", "2"),
        ("delete_version", "3"),
    ]
    assert {k.version: kept(k) for k in p.functions[0].kept} == {
        5: "prod's previous version",
        4: "prod's previous version (2 back)",
    }
    update = p.functions[0].operations[0]
    assert isinstance(update, UpdateAlias)
    assert update.record is not None
    assert update.record.history == ("5", "4", "2", "1")
    assert update.untag == (history_key("prod"),)


def test_keep_days_alone() -> None:
    mem = lam(versions=3, days=[40, 20, 10])
    p = plan_against(mem, [target(retention={"keep_days": 30})])
    assert actions(p) == [("delete_version", "1")]


def test_deletion_brake() -> None:
    mem = lam(versions=5)
    p = plan_against(mem, [target(retention={"keep_last": 1})], max_deletions=3)
    assert p.brake == Brake(deletions=4, limit=3)


def test_the_executor_refuses_a_braked_plan_whoever_calls_it() -> None:
    """The brake is enforced by apply_plan itself, not only by the CLI: nothing is written."""
    mem = lam(versions=5)
    p = plan_against(mem, [target(retention={"keep_last": 1})], max_deletions=3)
    with pytest.raises(ReconcilerError, match="4 deletions in this run"):
        apply_to(mem, p)
    assert mem.writes == []
    assert sorted(mem.functions["fn"].versions) == [1, 2, 3, 4, 5]


def test_the_executor_refuses_a_plan_with_errors_whoever_calls_it() -> None:
    """One function's error refuses the whole plan, even the functions without errors."""
    mem = lam(versions=3)
    mem.set_alias("fn", "prod", "1")
    p = plan_against(mem, [target(aliases={"prod": {"version": 3}})])
    broken = Plan(functions=(*p.functions, replace(p.functions[0], errors=("boom",))))
    with pytest.raises(ReconcilerError, match="the plan has 1 error; apply refuses the whole plan"):
        apply_to(mem, broken)
    assert mem.writes == []


def test_missing_function_is_a_plan_error() -> None:
    from reconciler.planning import Observed, plan

    p = plan([Observed(target("gone"), None, "function gone not found in us-east-1")], now=NOW)
    assert p.functions[0].errors == ("function gone not found in us-east-1",)
    assert p.has_errors
    assert not p.has_changes


def test_apply_then_plan_is_empty() -> None:
    """One apply converges: publish, alias moves and pruning in one run, then nothing."""
    mem = lam(versions=4, latest="c9")
    mem.set_alias("fn", "prod", "1", Canary("2", 0.3))
    mem.set_alias("fn", "old", "3")
    t = target(
        publish=True,
        prune_aliases=True,
        aliases={"prod": {"version": "latest"}, "qa": {"version": {"alias": "prod"}}},
        retention={"keep_last": 2},
    )
    result = apply_to(mem, plan_against(mem, [t]))
    assert result.ok
    assert mem.violations == []
    assert sorted(mem.functions["fn"].versions) == [1, 4, 5]  # 1: prod's previous version
    assert mem.functions["fn"].aliases["prod"].record == "[lr:1 at=5 h=1]"
    assert actions(plan_against(mem, [t])) == []


def test_stale_revision_fails_only_that_function_and_prunes_nothing() -> None:
    """A concurrent alias change between plan and apply: 412, later operations not attempted."""
    mem = lam(versions=3)
    mem.set_alias("fn", "prod", "1")
    p = plan_against(mem, [target(aliases={"prod": {"version": 3}}, retention={"keep_last": 1})])
    mem.set_alias("fn", "prod", "2")  # someone else moved it
    result = apply_to(mem, p)
    assert [r.status.value for r in result.results] == ["failed", "not attempted"]  # 1 is kept
    assert result.results[0].message == "stale revision"
    assert mem.functions["fn"].aliases["prod"].version == "2"
    assert sorted(mem.functions["fn"].versions) == [1, 2, 3]


def test_rollout_starts_advances_and_completes() -> None:
    """Each apply moves at most one step, only after the interval, then promotes."""
    mem = lam()
    mem.set_alias("fn", "prod", "2")
    t = target(
        aliases={"prod": {"version": 3, "rollout": {"steps": ["10%", "50%"], "interval": "10m"}}}
    )
    now = NOW
    seen = []
    for minutes in (0, 5, 10, 20, 30):
        p = plan_against(mem, [t], now=now + timedelta(minutes=minutes))
        apply_to(mem, p, now + timedelta(minutes=minutes))
        a = mem.functions["fn"].aliases["prod"]
        seen.append((a.version, a.canary.weight if a.canary else None))
    assert seen == [("2", 0.1), ("2", 0.1), ("2", 0.5), ("3", None), ("3", None)]


def test_moving_to_an_older_version_reads_as_a_rollback() -> None:
    """10 → 9 is shown as going back (compared as numbers, not text)."""
    mem = lam(versions=10)
    mem.set_alias("fn", "prod", "10")
    p = plan_against(mem, [target(aliases={"prod": {"version": 9}})])
    assert changes(p.functions[0].operations[0]) == ("version: 10 → 9 (back to an older version)",)
    forward = plan_against(mem, [target(aliases={"prod": {"version": 10}})])
    assert actions(forward) == []
