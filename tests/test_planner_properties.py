"""Property-based tests of the planner and executor over an in-memory model of Lambda.

For generated live states and manifests: applying the plan reaches the desired state, the next
plan is empty, no intermediate state has an alias routing to a missing version, and retention
never deletes a referenced, protected, young or keep_last version.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.aws.live import Canary
from tests.memlambda import NOW, MemLambda, snap
from tests.planner_helpers import apply_to, plan_against, target

ALIASES = ["a", "b", "c", "d"]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[MemLambda, dict[str, Any]]:
    mem = MemLambda()
    n = draw(st.integers(0, 8))
    mem.add("fn", snap(draw(st.sampled_from(["c1", "c2", "c9"]))))
    for _i in range(1, n + 1):
        mem.add_version(
            "fn", snap(f"c{draw(st.integers(1, 3))}", days_old=draw(st.integers(0, 60)))
        )
    numbers = list(range(1, n + 1))
    for name in draw(st.lists(st.sampled_from(ALIASES), unique=True, max_size=3)):
        if not numbers:
            mem.set_alias("fn", name, "$LATEST")
            continue
        primary = draw(st.sampled_from(numbers))
        others = [v for v in numbers if v != primary]
        canary = None
        if bool(others) and draw(st.booleans()):
            canary = Canary(str(draw(st.sampled_from(others))), draw(st.sampled_from([0.1, 0.25])))
        mem.set_alias("fn", name, str(primary), canary)
    mem.functions["fn"].in_use = (
        set(draw(st.lists(st.sampled_from(numbers), max_size=2))) if numbers else set()
    )

    publish = draw(st.booleans())
    can_latest = publish or bool(numbers)
    aliases: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(ALIASES), unique=True, max_size=3)):
        choices: list[Any] = ["$LATEST"]
        if numbers:
            choices += numbers
        if can_latest:
            choices.append("latest")
        choices += [{"alias": prev} for prev in aliases]
        spec: dict[str, Any] = {"version": draw(st.sampled_from(choices))}
        if isinstance(spec["version"], int) and len(numbers) > 1 and draw(st.booleans()):
            spec["canary"] = {
                "version": draw(st.sampled_from([v for v in numbers if v != spec["version"]])),
                "weight": draw(st.sampled_from(["10%", 0.5, 0.05])),
            }
        aliases[name] = spec
    manifest: dict[str, Any] = {
        "publish": publish,
        "aliases": aliases,
        "prune_aliases": draw(st.booleans()),
    }
    if draw(st.booleans()):
        retention: dict[str, Any] = {"keep_last": draw(st.integers(1, 4))}
        if draw(st.booleans()):
            retention["keep_days"] = draw(st.integers(1, 40))
        if bool(numbers) and draw(st.booleans()):
            retention["protect"] = draw(st.lists(st.sampled_from(numbers), unique=True, max_size=2))
        manifest["retention"] = retention
    return mem, manifest


def routed(mem: MemLambda) -> set[int]:
    out: set[int] = set()
    for a in mem.functions["fn"].aliases.values():
        for v in (a.version, a.canary.version if a.canary else None):
            if v and v.isdigit():
                out.add(int(v))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_apply_converges_safely(scenario: tuple[MemLambda, dict[str, Any]]) -> None:
    mem, manifest = scenario
    t = target(**manifest)
    first = plan_against(mem, [t])
    fp = first.functions[0]
    if fp.errors:
        assert fp.operations == ()
        return
    before_versions = dict(mem.functions["fn"].versions)
    result = apply_to(mem, first)
    assert result.ok, [r.message for r in result.results]
    assert mem.violations == []

    # Desired state reached: the plan right after is empty.
    second = plan_against(mem, [t])
    assert second.functions[0].operations == ()

    # Pinned aliases point where the manifest says.
    for name, spec in manifest["aliases"].items():
        live = mem.functions["fn"].aliases[name]
        if isinstance(spec["version"], int):
            assert live.version == str(spec["version"])
        if "canary" in spec:
            assert live.canary is not None
            assert live.canary.version == str(spec["canary"]["version"])

    deleted = {int(w[2]) for w in mem.writes if w[0] == "delete_version"}
    retention = manifest.get("retention")
    if retention is None:
        assert deleted == set()
        return
    assert not deleted & routed(mem)
    assert not deleted & set(retention.get("protect", []))
    assert not deleted & mem.functions["fn"].in_use
    all_versions = sorted(set(before_versions) | set(mem.functions["fn"].versions), reverse=True)
    assert not deleted & set(all_versions[: retention["keep_last"]])
    if "keep_days" in retention:
        for v in deleted:
            age = NOW - before_versions[v].last_modified
            assert age > timedelta(days=retention["keep_days"])
