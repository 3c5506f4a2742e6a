"""Hypothesis on `adopt`, with the manifests tests/test_fuzz.py generates (block and flow style,
valid and not), against the in-memory Lambda model.

- In sync (the manifest just applied): adopt returns the very same bytes.
- After random hand changes to the aliases: adopt never fails its own checks, a second adopt
  finds nothing, and the plan of the adopted manifest moves no alias that adopt did not leave
  alone (with a warning) or that a rollout drives.

`FUZZ_EXAMPLES` scales it as for the rest of the fuzzing (a fifth of it, at least 50).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.adopt import Result, adopt
from reconciler.aws.live import Canary, LiveFunction
from reconciler.manifest import FunctionTarget
from reconciler.plan.planfile import plan_to_json
from reconciler.planning import Observed, plan
from tests.memlambda import NOW, MemLambda
from tests.planner_helpers import apply_to
from tests.test_fuzz import FUZZ, FUZZ_EXAMPLES, TAGS, check, dump, generated_manifests, live_lambda

ADOPT = settings(FUZZ, max_examples=max(50, FUZZ_EXAMPLES // 5))
HAND_CHANGE = st.tuples(
    st.sampled_from(["fn", "fn2"]),
    st.sampled_from(["prod", "beta", "dev", "hotfix"]),
    st.integers(1, 5),
    st.none() | st.tuples(st.integers(1, 5), st.sampled_from([0.1, 0.25, 0.5, 1e-5])),
    st.sampled_from(["", "Production", "by hand"]),
)


def live_of(mem: MemLambda, t: FunctionTarget) -> LiveFunction:
    return replace(mem.read_function(t.key, t.region), tags=dict(mem.functions[t.key].tags))


def synced(data: dict[str, Any], tag: str | None, flow: bool | None) -> tuple[str, Any, MemLambda]:
    """The manifest's text, its targets, and the in-memory Lambda after applying it."""
    text = dump(data, flow)
    loaded = check(text, "adopt")
    mem = live_lambda(tag)
    if loaded is None:
        return text, None, mem
    targets = [t for t in loaded.functions if t.key in mem.functions]
    result = plan([Observed(t, live_of(mem, t)) for t in targets], now=NOW)
    if result.refused:
        return text, None, mem
    apply_to(mem, result)
    return text, targets, mem


def run_adopt(text: str, targets: list[FunctionTarget], mem: MemLambda, unmanaged: bool) -> Result:
    pairs = [(t, live_of(mem, t)) for t in targets]
    return adopt(pairs, include_unmanaged=unmanaged, read=lambda _p: text.encode("utf-8"))


def test_in_sync_manifests_round_trip_unchanged() -> None:
    """Any generated manifest, once applied, adopts to the very same bytes."""
    ran = []

    @ADOPT
    @given(generated_manifests(), st.sampled_from(TAGS), st.sampled_from([False, True, None]))
    def run(data: dict[str, Any], tag: str | None, flow: bool | None) -> None:
        text, targets, mem = synced(data, tag, flow)
        if not targets:
            return
        result = run_adopt(text, targets, mem, unmanaged=False)
        assert [f.after for f in result.files] == [text.encode("utf-8")]
        ran.append(1)

    run()
    assert len(ran) >= 10, "too few valid manifests reached adopt"


CHANGED: list[int] = []


def test_hand_changes_are_adopted_and_plan_leaves_them() -> None:
    """Random hand changes after an apply: adopt passes its own checks, adopting again changes
    nothing, and re-planning moves only aliases adopt left alone or a rollout drives."""
    ran = []
    CHANGED.clear()

    @ADOPT
    @given(
        generated_manifests(),
        st.sampled_from(TAGS),
        st.sampled_from([False, True, None]),
        st.lists(HAND_CHANGE, min_size=1, max_size=4),
        st.booleans(),
    )
    def run(
        data: dict[str, Any],
        tag: str | None,
        flow: bool | None,
        changes: list[Any],
        unmanaged: bool,
    ) -> None:
        text, targets, mem = synced(data, tag, flow)
        if not targets:
            return
        for fn, alias, version, canary, description in changes:
            versions = mem.functions[fn].versions
            if version not in versions or (canary and canary[0] not in versions):
                continue
            routed = Canary(str(canary[0]), canary[1]) if canary and canary[0] != version else None
            mem.set_alias(fn, alias, str(version), routed, description)
        result = run_adopt(text, targets, mem, unmanaged)
        after = result.files[0].after.decode("utf-8")
        loaded = check(after, "adopt")
        assert loaded is not None
        new_targets = [t for t in loaded.functions if t.key in mem.functions]
        again = run_adopt(after, new_targets, mem, unmanaged)
        assert again.files[0].after == result.files[0].after
        left: set[tuple[str, str]] = set()
        refused = {fa.target.name for fa in result.functions if fa.refused}
        for fa in result.functions:
            left |= {(fa.target.name, a) for a in fa.left}
            left |= {(fa.target.name, a) for a, s in fa.target.spec.aliases.items() if s.rollout}
        if result.changed:
            CHANGED.append(1)
        replanned = json.loads(
            plan_to_json(plan([Observed(t, live_of(mem, t)) for t in new_targets], now=NOW))
        )
        for fp in replanned["functions"]:
            if fp["function"] in refused:
                continue
            for op in fp["operations"]:
                if op["action"] in ("create_alias", "update_alias"):
                    assert (fp["function"], op["alias"]) in left, (after, op)
        ran.append(1)

    run()
    assert len(ran) >= 10, "too few valid manifests reached adopt"
    assert len(CHANGED) >= len(ran) // 4, "too few hand changes led to an adoption"
