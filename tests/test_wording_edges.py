"""The words of the edge cases: an AllAtOnce rollout has no "step 1/0", a rollout that never
took a step is not "rolled back at step 0", a holding rollout names the version that serves,
a run of young versions is one `-v` line, and `-v` wraps the names of functions in sync."""

from __future__ import annotations

from datetime import datetime, timezone

from reconciler.plan import (
    AlarmFired,
    FunctionPlan,
    HookFailed,
    HookPhase,
    Kept,
    KeptLayer,
    LayerPlan,
    Plan,
    Protected,
    RolloutPhase,
    RolloutStatus,
    Young,
)
from reconciler.plan.wording import rollout_message
from reconciler.render.text import render_text

SINCE = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def test_all_at_once_never_says_step_of_zero() -> None:
    """AllAtOnce has no steps: starting, retaking and a rollback read without step numbers."""
    starting = RolloutStatus("live", "8", 0, 0, 1.0, RolloutPhase.STARTING, SINCE, previous="7")
    assert rollout_message(starting) == "starting: all at once at 100%"
    failed = RolloutStatus(
        "live", "8", 0, 0, 0.0, RolloutPhase.FAILED, cause=AlarmFired("errs"), previous="7"
    )
    text = rollout_message(failed)
    assert text.startswith("rolled back: alarm errs; 7 serves all traffic")
    assert "step 0" not in text
    assert "/0" not in rollout_message(
        RolloutStatus("live", "8", 1, 0, 1.0, RolloutPhase.RETAKING, SINCE)
    )


def test_a_pre_traffic_failure_moved_no_traffic() -> None:
    hook = HookFailed(HookPhase.PRE_TRAFFIC, "smoke", "HTTP 500")
    s = RolloutStatus("live", "8", 1, 2, 0.0, RolloutPhase.FAILED, cause=hook, previous="7")
    assert rollout_message(s).startswith(
        "stopped before any traffic moved: pre-traffic hook smoke failed: HTTP 500; 7 serves"
    )


def test_a_holding_rollout_names_the_version_that_serves() -> None:
    s = RolloutStatus(
        "live", "8", 0, 2, 0.0, RolloutPhase.HELD, cause=AlarmFired("errs"), previous="7"
    )
    assert rollout_message(s) == "waiting: alarm errs in ALARM; not starting, 7 serves all traffic"


def _plan_with_young_layer() -> Plan:
    kept = tuple(KeptLayer(v, (Young(200 - v, 365),)) for v in range(1, 201))
    kept = (KeptLayer(0, (Protected(),)), *kept)
    layer = LayerPlan("deps", "deps", "us-east-1", "m.yaml:9:3", kept=kept, versions=205)
    return Plan(functions=(), layers=(layer,))


def test_verbose_groups_a_run_of_young_versions() -> None:
    """200 layer versions kept for being young: one line with the range, the count and the
    ages, not 200 lines; other reasons keep their own line."""
    text = render_text(_plan_with_young_layer(), verbose=True)
    keeps = [line for line in text.splitlines() if line.startswith("  = keep")]
    assert keeps == [
        "  = keep 0  protected",
        "  = keep 1–200 (200 versions)  young (0–199 days old, keep_days=365)",
    ]
    fp = FunctionPlan("f", "f", "us-east-1", "1", "m.yaml:4:3", kept=(Kept(3, (Young(1, 30),)),))
    text = render_text(Plan(functions=(fp,)), verbose=True)
    assert "  = keep 3  young (1 days old, keep_days=30)" in text


def test_functions_in_sync_are_a_count_and_wrapped_names_with_verbose() -> None:
    functions = tuple(
        FunctionPlan(f"fn-{i:03d}", f"fn-{i:03d}", "us-east-1", "1", "m.yaml:1:1")
        for i in range(250)
    )
    plan = Plan(functions=functions)
    assert "250 functions in sync.\n" in render_text(plan)
    assert "fn-000" not in render_text(plan)
    lines = render_text(plan, verbose=True).splitlines()
    head = lines.index("250 functions in sync:")
    names = lines[head + 1 : head + 1 + 30]
    names = names[: next(i for i, x in enumerate(names) if not x.startswith("  "))]
    assert all(len(x) <= 100 for x in names)
    assert " ".join(x.strip() for x in names).count("fn-") == 250
