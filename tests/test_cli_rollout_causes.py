"""Rollback causes as data (contract §9): an alarm, a failed traffic hook (with its reason) and
an error-rate gate each roll a rollout back for a typed cause that the alias record keeps, the
JSON plan carries as `cause`, and the words say the same way in every output."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from emulator.fixtures import put_lambda_metrics
from reconciler.plan import AliasRecord, HookFailed, HookPhase, RolloutState
from reconciler.plan.record import DESCRIPTION_LENGTH, decode, describe, split
from tests import test_cli_rollout_gates as gates
from tests import test_cli_rollout_hooks as hooks
from tests.cli_helpers import run_cli


def plan_json(emulator: Any, m: str, env: dict[str, str]) -> dict[str, Any]:
    r = run_cli(emulator, "plan", m, "--format", "json", env=env)
    assert r.returncode == 0, r.stderr
    found: dict[str, Any] = json.loads(r.stdout)["functions"][0]["rollouts"][0]
    return found


def test_failed_pre_traffic_hook_is_its_own_cause(emulator: Any, tmp_path: Path) -> None:
    """A pre-traffic hook answering Failed: the later plan, drift and JSON name the hook and
    its reason (kept in the alias record), not an alarm."""
    _, m = hooks.setup(emulator, tmp_path, hooks.FAIL, hooks.PASS)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=hooks.at(0)).returncode == 1
    why = "pre-traffic hook pre-hook failed: smoke 500"
    r = run_cli(emulator, "plan", m, env=hooks.at(1))
    assert f"stopped before any traffic moved: {why}; 2 serves all traffic" in r.stdout
    r = run_cli(emulator, "drift", m, env=hooks.at(1))
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"rollout of orders:prod to 3 rolled back ({why}): git names 3" in r.stdout
    found = plan_json(emulator, m, hooks.at(1))
    assert (found["alarm"], found["cause"]) == (
        None,
        {
            "kind": "hook_failed",
            "phase": "pre_traffic",
            "function": "pre-hook",
            "reason": "smoke 500",
            "message": why,
        },
    )


def test_failed_post_traffic_hook_is_its_own_cause(emulator: Any, tmp_path: Path) -> None:
    """A post-traffic hook failing after 100 %: the later plan says the post-traffic hook
    rolled it back."""
    _, m = hooks.setup(emulator, tmp_path, hooks.PASS, hooks.FAIL)
    assert run_cli(emulator, "apply", m, "--auto-approve", env=hooks.at(0)).returncode == 0
    assert run_cli(emulator, "apply", m, "--auto-approve", env=hooks.at(5)).returncode == 1
    found = plan_json(emulator, m, hooks.at(6))
    assert found["message"].startswith(
        "rolled back at step 1: post-traffic hook post-hook failed: smoke 500; 2 serves"
    )
    assert (found["cause"]["kind"], found["cause"]["phase"]) == ("hook_failed", "post_traffic")


def test_error_rate_gate_is_its_own_cause(emulator: Any, tmp_path: Path) -> None:
    """10 errors in 200 invocations against a 1 % gate: apply says the rate and the gate as it
    rolls back; the later plan says the same from the tag, and the JSON carries the counts."""
    client, cw, m = gates.setup(emulator, tmp_path)
    put_lambda_metrics(cw, "orders", "prod", "3", gates.T0 + timedelta(minutes=2), 200, 10)
    why = "gate: error rate 5% > 1% (10 errors in 200 invocations)"
    r = run_cli(emulator, "apply", m, "--auto-approve", env=gates.at(6))
    assert r.returncode == 1, r.stderr
    assert f"error: orders:prod rolled back to 2: {why}" in r.stderr
    assert gates.prod(client) == ("2", {})
    found = plan_json(emulator, m, gates.at(7))
    assert found["message"].startswith(f"rolled back at step 1: {why}; 2 serves all traffic")
    assert found["cause"] == {
        "kind": "error_rate",
        "errors": 10,
        "invocations": 200,
        "max_error_rate": 0.01,
        "message": why,
    }


def test_a_long_hook_reason_is_cut_to_fit_the_description() -> None:
    """A 1000-character hook reason with characters that would end the record (`]`, spaces):
    the description, with the user's text before the record, stays within 256 characters; the
    user's text, the hook and the start of the reason survive, character for character."""
    reason = 'HTTP 500 {"x": [1]} ' + "y" * 1000
    cause = HookFailed(HookPhase.PRE_TRAFFIC, "smoke", reason)
    state = RolloutState("7", "5", 1, datetime(2026, 11, 1, tzinfo=timezone.utc), "failed", cause)
    value = describe("Production", AliasRecord("5", ("4", "3"), state))
    user, block = split(value)
    back = decode(block).rollout
    assert user == "Production"
    assert back is not None
    assert isinstance(back.cause, HookFailed)
    assert len(value) <= DESCRIPTION_LENGTH
    expected = reason
    assert (back.cause.phase, back.cause.function) == (HookPhase.PRE_TRAFFIC, "smoke")
    assert expected[: len(back.cause.reason)] == back.cause.reason
    assert len(back.cause.reason) > 100
