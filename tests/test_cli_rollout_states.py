"""Honest rollout states (contract §8) and CodeDeploy presets, through the CLI against the
emulator on a pinned clock: each rollout's `status`, failed rollouts as drift, `attempt` to
retry, healthy steps not drift, a saved plan refusing a step while an alarm fires, the step
tolerance, `bake` after 100 %, and every preset's schedule."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from emulator.fixtures import create_alarm
from reconciler.manifest.presets import PRESETS
from reconciler.plan.planfile import load_plan_file
from reconciler.render import render
from tests.cli_helpers import run_cli, write_manifest, writes

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
ALARM = "orders-errors"
STEPS = f"steps: [10%, 50%], interval: 10m, alarms: [{ALARM}]"


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


def manifest(tmp_path: Path, rollout: str, target: int = 3) -> str:
    body = f"""
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod:
                version: {target}
                rollout: {{{rollout}}}
        """
    return write_manifest(tmp_path, body, name=f"m-{abs(hash((rollout, target)))}.yaml")


def seed(emulator: Any) -> tuple[Any, Any]:
    emulator.seed([{"name": "orders", "versions": 4, "aliases": {"prod": 2}}])
    cw = emulator.boto3_client("cloudwatch")
    create_alarm(cw, ALARM)
    return emulator.boto3_client("lambda"), cw


def prod(client: Any) -> tuple[str, dict[str, float]]:
    a = client.get_alias(FunctionName="orders", Name="prod")
    return a["FunctionVersion"], a.get("RoutingConfig", {}).get("AdditionalVersionWeights", {})


def apply(emulator: Any, m: str, minute: float) -> Any:
    return run_cli(emulator, "apply", m, "--auto-approve", env=at(minute))


def rollout(emulator: Any, m: str, minute: float) -> dict[str, Any]:
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(minute))
    assert r.returncode == 0, r.stderr
    found: dict[str, Any] = json.loads(r.stdout)["functions"][0]["rollouts"][0]
    return found


def alarm(cw: Any, state: str) -> None:
    cw.set_alarm_state(AlarmName=ALARM, StateValue=state, StateReason="test")


def roll_back(emulator: Any, cw: Any, m: str) -> None:
    """Start at minute 0, an alarm fires, the apply at minute 11 rolls back (exit 1)."""
    assert apply(emulator, m, 0).returncode == 0
    alarm(cw, "ALARM")
    assert apply(emulator, m, 11).returncode == 1
    alarm(cw, "OK")


def test_status_follows_the_rollout(emulator: Any, tmp_path: Path) -> None:
    """The JSON `status` of one rollout through its life: pending, in_progress (waiting, and
    with its step due), complete; then failed while an alarm fires, rolled_back after it."""
    _, cw = seed(emulator)
    m = manifest(tmp_path, STEPS)
    seen = [rollout(emulator, m, 0)["status"]]
    for minute in (0, 10):
        assert apply(emulator, m, minute).returncode == 0
        seen.append(rollout(emulator, m, minute + 5)["status"])
        seen.append(rollout(emulator, m, minute + 10)["status"])
    assert apply(emulator, m, 20).returncode == 0
    seen.append(rollout(emulator, m, 25)["status"])
    assert ["pending", *["in_progress"] * 4, "complete"] == seen

    m4 = manifest(tmp_path, STEPS, target=4)
    assert apply(emulator, m4, 40).returncode == 0
    alarm(cw, "ALARM")
    assert rollout(emulator, m4, 41)["status"] == "failed"
    assert apply(emulator, m4, 41).returncode == 1
    assert rollout(emulator, m4, 42)["status"] == "rolled_back"


def test_rolled_back_rollout_is_drift_until_the_manifest_changes(
    emulator: Any, tmp_path: Path
) -> None:
    """After a rollback, `drift` exits 2 naming the rollout, the plan's text and Markdown
    headline say it; once the manifest names another version and apply starts it, no drift."""
    client, cw = seed(emulator)
    m = manifest(tmp_path, STEPS)
    roll_back(emulator, cw, m)
    line = (
        f"rollout of orders:prod to 3 rolled back (alarm {ALARM}): git names 3; in AWS 2 serves "
        "all traffic"
    )
    r = run_cli(emulator, "drift", m, env=at(30))
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"! {line}" in r.stdout
    r = run_cli(emulator, "plan", m, "--detailed-exitcode", env=at(30))
    assert r.returncode == 0, r.stdout  # nothing for apply to do
    assert "No changes to make; see the rollouts above." in r.stdout
    r = run_cli(emulator, "plan", m, "--format", "markdown", env=at(30))
    head = [x for x in r.stdout.splitlines() if x.startswith("### ")]
    assert head == [
        "### ⛔ lambda-reconciler plan: no changes; 1 rollout failed or held: git and AWS disagree"
    ]
    assert f"- ⛔ {line}" in r.stdout
    r = run_cli(emulator, "drift", m, "--format", "markdown", env=at(30))
    assert "Drift detected in 1 function; 1 rollout failed or held" in r.stdout
    assert f"- ⛔ {line}" in r.stdout

    m4 = manifest(tmp_path, STEPS, target=4)
    assert apply(emulator, m4, 31).returncode == 0
    assert prod(client) == ("2", {"4": 0.1})
    r = run_cli(emulator, "drift", m4, env=at(32))
    assert r.returncode == 0, r.stdout


def test_a_new_attempt_retries_the_same_version(emulator: Any, tmp_path: Path) -> None:
    """`attempt: 2` restarts a rolled-back target at step 1 (recorded in the alias record); the
    same attempt is never retried by itself."""
    client, cw = seed(emulator)
    m = manifest(tmp_path, STEPS)
    roll_back(emulator, cw, m)
    assert "retry with rollout.attempt: 2" in rollout(emulator, m, 20)["message"]
    assert apply(emulator, m, 20).returncode == 0
    assert prod(client) == ("2", {})

    m2 = manifest(tmp_path, f"{STEPS}, attempt: 2")
    assert apply(emulator, m2, 21).returncode == 0
    assert prod(client) == ("2", {"3": 0.1})
    described = client.get_alias(FunctionName="orders", Name="prod")["Description"]
    assert described == "[lr:1 at=2 v=3 p=2 s=1 t=1793535660 st=run a=2]"  # 12:21 UTC
    for minute in (31, 41):
        assert apply(emulator, m2, minute).returncode == 0
    assert prod(client) == ("3", {})


def test_a_healthy_step_that_is_due_is_not_drift(emulator: Any, tmp_path: Path) -> None:
    """With the next step (and the promotion) due, `plan --detailed-exitcode` says there is a
    change to apply, but `drift` says no drift; a weight changed by hand still is."""
    client, _ = seed(emulator)
    m = manifest(tmp_path, STEPS)
    assert apply(emulator, m, 0).returncode == 0
    for minute in (10, 20):
        assert run_cli(emulator, "plan", m, "--detailed-exitcode", env=at(minute)).returncode == 2
        r = run_cli(emulator, "drift", m, env=at(minute))
        assert r.returncode == 0, r.stdout
        assert r.stdout.startswith("No drift: live state matches git.")
        assert apply(emulator, m, minute).returncode == 0
    assert prod(client) == ("3", {})
    m4 = manifest(tmp_path, STEPS, target=4)
    assert apply(emulator, m4, 30).returncode == 0
    assert run_cli(emulator, "drift", m4, env=at(40)).returncode == 0
    weights = {"AdditionalVersionWeights": {"4": 0.3}}
    client.update_alias(FunctionName="orders", Name="prod", RoutingConfig=weights)
    assert run_cli(emulator, "drift", m4, env=at(40)).returncode == 2


def test_saved_plan_refuses_a_step_while_an_alarm_fires(emulator: Any, tmp_path: Path) -> None:
    """`apply PLAN.json` re-reads the alarms right before the step: an alarm that went to
    ALARM after planning stops the step (exit 1, no tag and no alias write)."""
    client, cw = seed(emulator)
    m = manifest(tmp_path, STEPS)
    assert apply(emulator, m, 0).returncode == 0
    saved = tmp_path / "plan.json"
    r = run_cli(emulator, "plan", m, "--out", str(saved), env=at(10))
    assert r.returncode == 0, r.stderr
    alarm(cw, "ALARM")
    emulator.clear_calls()
    r = run_cli(emulator, "apply", str(saved), env=at(10))
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"prod: alarm {ALARM} is in ALARM now; rollout step not taken" in r.stderr
    assert writes(emulator) == []
    assert prod(client) == ("2", {"3": 0.1})
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(11))
    assert r.returncode == 1
    assert prod(client) == ("2", {})  # the next apply rolls back


@pytest.mark.parametrize(
    ("seconds_early", "expected"),
    [(0, ("2", {"3": 0.5})), (59, ("2", {"3": 0.5})), (61, ("2", {"3": 0.1}))],
)
def test_a_run_seconds_early_takes_the_step(
    emulator: Any, tmp_path: Path, seconds_early: int, expected: tuple[str, dict[str, float]]
) -> None:
    """A 10-minute step is taken by a run up to 60 s early (a tenth of the interval, at most
    a minute), not by one 61 s early."""
    client, _ = seed(emulator)
    m = manifest(tmp_path, STEPS)
    assert apply(emulator, m, 0).returncode == 0
    assert apply(emulator, m, 10 - seconds_early / 60).returncode == 0
    assert expected == prod(client)


def test_bake_keeps_rolling_back_after_100_percent(emulator: Any, tmp_path: Path) -> None:
    """With `bake: 10m`, an alarm after the promotion still rolls back while the bake lasts
    (status in_progress, not drift); after it, the rollout is complete and an alarm does
    nothing."""
    client, cw = seed(emulator)
    m = manifest(tmp_path, f"{STEPS}, bake: 10m")
    for minute in (0, 10, 20):
        assert apply(emulator, m, minute).returncode == 0
    assert prod(client) == ("3", {})
    baking = rollout(emulator, m, 25)
    assert (baking["phase"], baking["status"]) == ("baking", "in_progress")
    assert "alarms roll back until 2026-11-01 12:30:00 UTC" in baking["message"]
    assert run_cli(emulator, "drift", m, env=at(25)).returncode == 0
    assert rollout(emulator, m, 30)["status"] == "complete"
    alarm(cw, "ALARM")
    assert apply(emulator, m, 31).returncode == 0
    assert prod(client) == ("3", {})
    r = apply(emulator, m, 29)
    assert r.returncode == 1
    assert f"rolled back to 2: alarm {ALARM} in ALARM" in r.stderr
    assert prod(client) == ("2", {})
    assert rollout(emulator, m, 40)["status"] == "rolled_back"


def test_each_preset_schedule(emulator: Any, tmp_path: Path) -> None:
    """Each CodeDeploy preset (one alias per preset, one plan): its step count, first weight
    and when its next step is due."""
    aliases = {f"a{i}": 2 for i in range(len(PRESETS))}
    emulator.seed([{"name": "orders", "versions": 4, "aliases": aliases}])
    create_alarm(emulator.boto3_client("cloudwatch"), ALARM)
    body = "".join(
        f"""
              a{i}:
                version: 3
                rollout: {{preset: {preset}, alarms: [{ALARM}]}}"""
        for i, preset in enumerate(PRESETS)
    )
    m = write_manifest(
        tmp_path,
        f"version: 1\nregion: us-east-1\nfunctions:\n  orders:\n"
        f"    aliases:{textwrap.indent(textwrap.dedent(body), '      ')}\n",
    )
    r = run_cli(emulator, "plan", m, "--format", "json", env=at(0))
    assert r.returncode == 0, r.stdout + r.stderr
    found = {
        x["alias"]: (x["steps"], x["weight"], x["next_at"])
        for x in json.loads(r.stdout)["functions"][0]["rollouts"]
    }

    def due(minutes: int) -> str:
        return (T0 + timedelta(minutes=minutes)).isoformat()

    expected = {
        "Canary10Percent5Minutes": (1, 0.1, due(5)),
        "Canary10Percent10Minutes": (1, 0.1, due(10)),
        "Canary10Percent15Minutes": (1, 0.1, due(15)),
        "Canary10Percent30Minutes": (1, 0.1, due(30)),
        "Linear10PercentEvery1Minute": (9, 0.1, due(1)),
        "Linear10PercentEvery2Minutes": (9, 0.1, due(2)),
        "Linear10PercentEvery3Minutes": (9, 0.1, due(3)),
        "Linear10PercentEvery10Minutes": (9, 0.1, due(10)),
        "AllAtOnce": (0, 1.0, None),
    }
    assert expected == {p: found[f"a{i}"] for i, p in enumerate(PRESETS)}


def test_linear_preset_runs_its_whole_schedule(emulator: Any, tmp_path: Path) -> None:
    """Linear10PercentEvery1Minute: 10 %, 20 % … 90 % a minute apart, then all traffic."""
    client, _ = seed(emulator)
    m = manifest(tmp_path, f"preset: Linear10PercentEvery1Minute, alarms: [{ALARM}]")
    seen = []
    for minute in range(10):
        assert apply(emulator, m, minute).returncode == 0
        seen.append(prod(client))
    expected = [("2", {"3": round(0.1 * i, 1)}) for i in range(1, 10)] + [("3", {})]
    assert expected == seen


def test_all_at_once_moves_everything_and_bakes(emulator: Any, tmp_path: Path) -> None:
    """AllAtOnce with a bake: all traffic in one apply, an alarm during the bake rolls back."""
    client, cw = seed(emulator)
    m = manifest(tmp_path, f"preset: AllAtOnce, alarms: [{ALARM}], bake: 5m")
    assert apply(emulator, m, 0).returncode == 0
    assert prod(client) == ("3", {})
    alarm(cw, "ALARM")
    assert apply(emulator, m, 4).returncode == 1
    assert prod(client) == ("2", {})


def test_markdown_shows_the_whole_schedule_with_a_chart(emulator: Any, tmp_path: Path) -> None:
    """The PR Markdown gives each remaining step's weight and earliest time — counted from when
    the plan is applied, since the step this plan takes starts then, not at review — and a
    Mermaid chart of the traffic share; the same plan read back from JSON renders the same."""
    seed(emulator)
    m = manifest(tmp_path, STEPS)
    saved = tmp_path / "plan.json"
    r = run_cli(emulator, "plan", m, "--format", "markdown", "--out", str(saved), env=at(0))
    schedule = "Schedule: 10% when applied → 50% 10m 0s later → 100% 20m 0s later"
    chart = "\n".join(
        [
            "  ```mermaid",
            "  xychart-beta",
            '    title "prod: share of traffic on 3"',
            '    x-axis "minutes from the current step" [0, 10, 20]',
            '    y-axis "%" 0 --> 100',
            "    line [10, 50, 100]",
            "  ```",
        ]
    )
    assert schedule in r.stdout
    assert chart in r.stdout
    again = render(load_plan_file(str(saved)), "markdown", verbose=False, color=False)
    assert chart in again


def test_a_promotion_cut_short_is_finished_not_retaken(emulator: Any, tmp_path: Path) -> None:
    """The promotion's tag (status done) was written but the alias still has its 50 % canary
    (a crash between the two): the next apply promotes at once, without taking 50 % again."""
    client, _ = seed(emulator)
    m = manifest(tmp_path, STEPS)
    for minute in (0, 10):
        assert apply(emulator, m, minute).returncode == 0
    assert prod(client) == ("2", {"3": 0.5})
    arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    tag = "target=3 previous=2 step=3 since=2026-11-01T12:20:00Z status=done"
    client.tag_resource(Resource=arn, Tags={"lambda-reconciler:rollout:prod": tag})
    emulator.clear_calls()
    r = apply(emulator, m, 21)
    assert r.returncode == 0, r.stderr
    assert "rollout prod: promoting 3 to all traffic" in r.stdout
    assert [op for op, _ in writes(emulator) if op == "UpdateAlias"] == ["UpdateAlias"]
    assert prod(client) == ("3", {})
