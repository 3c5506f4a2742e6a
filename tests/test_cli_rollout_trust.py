"""Rollout state that cannot lie, be forged or be lost (docs/design/rollout-state.md): each test
names the defect it guards against and drives the real CLI against the emulator on a pinned
clock, except where the process boundary is the point (a run killed between the promotion and
its post-traffic hook) or where two plans must be interleaved exactly (the in-memory Lambda)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from emulator.fixtures import create_alarm, create_python_function
from reconciler.plan import AliasRecord, Previous
from reconciler.plan.record import decode, describe, split
from tests.cli_helpers import run_cli, write_manifest, writes
from tests.memlambda import NOW
from tests.planner_helpers import apply_to, plan_against, target
from tests.test_cli_rollout_hooks import FAIL, PASS, T0, at
from tests.test_cli_rollout_states import apply, prod
from tests.test_cli_rollout_states import rollout as rollout_json
from tests.test_planner import lam

ALARM = "orders-errors"
UPPER_FAIL = "def handler(event, context):\n    return {'status': 'FAILED', 'reason': 'db down'}\n"


def seed(emulator: Any, prod: str = "2", versions: int = 4) -> Any:
    emulator.seed([{"name": "orders", "versions": versions, "aliases": {"prod": prod}}])
    create_alarm(emulator.boto3_client("cloudwatch"), ALARM)
    return emulator.boto3_client("lambda")


def manifest(tmp_path: Path, rollout: str, version: str = "3", name: str = "m.yaml") -> str:
    body = f"""
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod:
                version: {version}
                rollout: {{{rollout}}}
        """
    return write_manifest(tmp_path, body, name=name)


def record(client: Any) -> AliasRecord:
    return decode(split(client.get_alias(FunctionName="orders", Name="prod")["Description"])[1])


def alarm(emulator: Any, state: str) -> None:
    emulator.boto3_client("cloudwatch").set_alarm_state(
        AlarmName=ALARM, StateValue=state, StateReason="test"
    )


# -- 1. a post-traffic hook that cannot be invoked, and one a crash kept from running ----------


def test_a_post_traffic_hook_that_cannot_be_invoked_rolls_back(
    emulator: Any, tmp_path: Path
) -> None:
    """Defect 1: the post-traffic hook's function is gone by the time the reviewed plan of the
    promotion is applied (the plan checked that it existed). Invoking it fails (404), which
    fails the hook: the alias goes back to 2 in the same call that marks 3 failed, exit 1, and
    `drift` says rolled back (it said "No drift" before)."""
    client = seed(emulator)
    create_python_function(client, "pre-hook", PASS)
    create_python_function(client, "post-hook", PASS)
    hooks = "hooks: {pre_traffic: pre-hook, post_traffic: post-hook}"
    m = manifest(tmp_path, f"steps: [50%], interval: 5m, {hooks}")
    assert apply(emulator, m, 0).returncode == 0
    saved = tmp_path / "promote.json"
    assert run_cli(emulator, "plan", m, "--out", str(saved), env=at(5)).returncode == 0
    client.delete_function(FunctionName="post-hook")
    r = run_cli(emulator, "apply", str(saved), env=at(5))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "post-traffic hook post-hook failed: could not be invoked" in r.stderr
    assert "rolled back to 2" in r.stderr
    assert prod(client) == ("2", {})
    mark = record(client).rollout
    assert mark is not None
    assert (mark.target, mark.status) == ("3", "failed")
    create_python_function(client, "post-hook", PASS)  # back, so that drift can plan
    drift = run_cli(emulator, "drift", m, env=at(6))
    assert drift.returncode == 2, drift.stdout
    assert "rollout of orders:prod to 3 rolled back (post-traffic hook post-hook failed" in (
        drift.stdout
    )


def test_a_run_killed_before_the_post_traffic_hook_runs_it_again(
    emulator: Any, tmp_path: Path
) -> None:
    """Defect 1 ("verifying"): the promotion's UpdateAlias writes `st=verify`; a run killed
    right after it (a real SIGKILL, so a process) leaves all traffic on 3 with the hook not
    run. The next apply invokes the hook; it fails, so the alias goes back to 2."""
    client = seed(emulator)
    create_python_function(client, "pre-hook", PASS)
    create_python_function(client, "post-hook", FAIL)
    hooks = "hooks: {pre_traffic: pre-hook, post_traffic: post-hook}"
    m = manifest(tmp_path, f"steps: [50%], interval: 5m, {hooks}")
    assert apply(emulator, m, 0).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", m, "--auto-approve"],
        env={**emulator.env(), **at(5)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    emulator.faults(kill={"pid": proc.pid, "write": 1, "when": "after"})
    proc.wait(timeout=120)
    emulator.faults()
    assert proc.returncode == -9
    assert prod(client) == ("3", {})
    state = record(client).rollout
    assert state is not None
    assert state.status == "verifying"
    assert rollout_json(emulator, m, 6)["phase"] == "verifying"
    emulator.clear_calls()
    r = apply(emulator, m, 6)
    assert r.returncode == 1, r.stdout + r.stderr
    invoked = [c for c in emulator.calls() if c.get("operation") == "Invoke"]
    assert len(invoked) == 1
    assert "post-traffic hook post-hook failed: smoke 500; rolled back to 2" in r.stderr
    assert prod(client) == ("2", {})


def test_a_hook_status_is_read_in_any_letter_case(emulator: Any, tmp_path: Path) -> None:
    """Defect 10: a pre-traffic hook answering `"FAILED"` fails like `"Failed"` (it passed
    before): no traffic moves."""
    client = seed(emulator)
    create_python_function(client, "pre-hook", UPPER_FAIL)
    m = manifest(tmp_path, "steps: [10%], interval: 5m, hooks: {pre_traffic: pre-hook}")
    r = apply(emulator, m, 0)
    assert r.returncode == 1
    assert "pre-traffic hook pre-hook failed: db down; no traffic moved to 3" in r.stderr
    assert prod(client) == ("2", {})


# -- 2. two runs at once -----------------------------------------------------------------------


def test_a_failure_mark_is_not_lost_to_a_concurrent_run() -> None:
    """Defect 2: runs A and B plan from the same state; for A the alarm fires (roll back), for B
    it does not (advance). A applies first: the rollback and its failure mark are one guarded
    call. B's step is refused by the alias RevisionId (it overwrote the mark before), so the
    mark stays and no later plan rolls 4 out again."""
    mem = lam(versions=4)
    mem.set_alias("fn", "prod", "3")
    t = target(
        aliases={
            "prod": {
                "version": 4,
                "rollout": {"steps": ["10%", "50%"], "interval": "10m", "alarms": ["e"]},
            }
        }
    )
    mem.alarms["e"] = "OK"  # as apply reads it again right before a forward step
    apply_to(mem, plan_against(mem, [t], alarms={"e": "OK"}))
    later = NOW + timedelta(minutes=10)
    a = plan_against(mem, [t], alarms={"e": "ALARM"}, now=later)
    b = plan_against(mem, [t], alarms={"e": "OK"}, now=later)
    assert apply_to(mem, a, later).rollbacks
    outcome = apply_to(mem, b, later)
    assert outcome.results[0].message == "stale revision"
    alias = mem.functions["fn"].aliases["prod"]
    assert (alias.version, alias.canary) == ("3", None)
    mark = decode(alias.record).rollout
    assert mark is not None
    assert (mark.target, mark.status) == ("4", "failed")
    again = plan_against(mem, [t], alarms={"e": "OK"}, now=later + timedelta(hours=1))
    assert [op for fp in again.functions for op in fp.operations] == []
    assert mem.violations == []


# -- 3. state that does not verify moves no traffic ----------------------------------------------


def test_a_hand_written_tag_moves_no_traffic(emulator: Any, tmp_path: Path) -> None:
    """Defect 3: on a settled alias (2, and the manifest names 2), an earlier release's tag
    saying `status=failed previous=1` made apply move prod to 1. Now the state does not verify
    (the alias serves the target it marks failed): nothing moves, the plan says why, and the
    tag is removed without its state reaching the record."""
    client = seed(emulator)
    arn = client.get_function(FunctionName="orders")["Configuration"]["FunctionArn"]
    forged = "target=2 previous=1 step=1 since=2026-11-01T11:00:00Z status=failed cause=alarm"
    client.tag_resource(Resource=arn, Tags={"lambda-reconciler:rollout:prod": forged + " alarm=x"})
    m = manifest(tmp_path, f"steps: [10%], interval: 5m, alarms: [{ALARM}]", version="2")
    found = rollout_json(emulator, m, 1)
    assert found["phase"] == "unverified"
    assert "marks 2 failed, yet the alias sends it all traffic" in found["message"]
    assert apply(emulator, m, 1).returncode == 0
    assert prod(client) == ("2", {})
    assert record(client).rollout is None
    assert client.list_tags(Resource=arn)["Tags"] == {}


def test_a_record_naming_no_version_moves_no_traffic(emulator: Any, tmp_path: Path) -> None:
    """Defect 3 (`previous=abc`): all traffic on 3, baking, an alarm fires, and the record's
    rollback target is not a version. Before, apply sent `UpdateAlias FunctionVersion=abc`; now
    the record does not verify, nothing is written, and the plan and drift say so."""
    client = seed(emulator, prod="3")
    block = "[lr:1 at=3 h=2 v=3 p=abc s=2 t=1793534400 st=done]"
    client.update_alias(FunctionName="orders", Name="prod", Description=block)
    m = manifest(tmp_path, f"steps: [10%], interval: 5m, bake: 1h, alarms: [{ALARM}]")
    alarm(emulator, "ALARM")
    found = rollout_json(emulator, m, 1)
    assert found["phase"] == "unverified"
    assert "its record does not parse (p='abc' is not a version)" in found["message"]
    emulator.clear_calls()
    apply(emulator, m, 1)
    assert writes(emulator) == []
    assert prod(client) == ("3", {})
    assert run_cli(emulator, "drift", m, env=at(1)).returncode == 2


def test_a_rollback_target_the_history_does_not_hold_is_not_taken(
    emulator: Any, tmp_path: Path
) -> None:
    """Defect 3: a well-formed record whose rollback target (1) is not the version its own
    history says the alias came from (2): an alarm during the bake does not send traffic to 1."""
    client = seed(emulator, prod="3")
    block = "[lr:1 at=3 h=2 v=3 p=1 s=2 t=1793534400 st=done]"
    client.update_alias(FunctionName="orders", Name="prod", Description=block)
    m = manifest(tmp_path, f"steps: [10%], interval: 5m, bake: 1h, alarms: [{ALARM}]")
    alarm(emulator, "ALARM")
    emulator.clear_calls()
    apply(emulator, m, 1)
    assert writes(emulator) == []
    assert prod(client) == ("3", {})
    assert "is not the version its history records" in rollout_json(emulator, m, 1)["message"]


# -- 5. the bake's rollback target survives keep_previous: 0 ------------------------------------


def test_keep_previous_zero_keeps_the_rollback_target_of_a_bake() -> None:
    """Defect 5: `keep_previous: 0` with `bake`: while the bake lasts, the version it rolls
    back to stays (it was deleted, and every later rollback failed)."""
    mem = lam(versions=4)
    mem.set_alias("fn", "prod", "2")
    rollout = {"preset": "AllAtOnce", "bake": "1h", "alarms": ["e"]}
    t = target(
        aliases={"prod": {"version": 4, "rollout": rollout}},
        retention={"keep_last": 1, "keep_previous": 0},
    )
    mem.alarms["e"] = "OK"  # as apply reads it again right before a forward step
    apply_to(mem, plan_against(mem, [t], alarms={"e": "OK"}))
    assert mem.functions["fn"].aliases["prod"].version == "4"
    p = plan_against(mem, [t], alarms={"e": "OK"}, now=NOW + timedelta(minutes=10))
    kept = {k.version: k.reasons for k in p.functions[0].kept}
    assert Previous("prod", 1) in kept[2]
    apply_to(mem, p, NOW + timedelta(minutes=10))
    assert 2 in mem.functions["fn"].versions
    back = plan_against(mem, [t], alarms={"e": "ALARM"}, now=NOW + timedelta(minutes=20))
    assert apply_to(mem, back, NOW + timedelta(minutes=20)).rollbacks
    assert mem.functions["fn"].aliases["prod"].version == "2"


# -- 6. a saved plan's step starts when it is applied -------------------------------------------


def test_a_saved_plans_step_starts_when_traffic_moves(emulator: Any, tmp_path: Path) -> None:
    """Defect 6: a plan saved at minute 10 and applied at minute 40 starts step 2 at minute 40
    (it started at 10, so the next step was due at once)."""
    client = seed(emulator)
    m = manifest(tmp_path, "steps: [10%, 50%], interval: 10m")
    assert apply(emulator, m, 0).returncode == 0
    saved = tmp_path / "plan.json"
    assert run_cli(emulator, "plan", m, "--out", str(saved), env=at(10)).returncode == 0
    r = run_cli(emulator, "apply", str(saved), env=at(40))
    assert r.returncode == 0, r.stdout + r.stderr
    assert prod(client) == ("2", {"3": 0.5})
    state = record(client).rollout
    assert state is not None
    assert state.since == T0 + timedelta(minutes=40)
    assert apply(emulator, m, 45).returncode == 0
    assert prod(client) == ("2", {"3": 0.5})  # due at 50, not at once


# -- 7. from $LATEST: all at once, with the checks around it ------------------------------------


def test_from_latest_the_switch_honours_hooks_alarms_and_bake(
    emulator: Any, tmp_path: Path
) -> None:
    """Defect 7: AWS allows no weights from `$LATEST`, so the switch is all at once, but a
    failing pre-traffic hook keeps it from happening, and once switched an alarm during the
    bake rolls back to `$LATEST` (before, the switch ignored both)."""
    client = seed(emulator, prod="$LATEST")
    create_python_function(client, "pre-hook", FAIL)
    rollout = f"steps: [10%], interval: 5m, bake: 30m, alarms: [{ALARM}]"
    m = manifest(tmp_path, f"{rollout}, hooks: {{pre_traffic: pre-hook}}")
    r = apply(emulator, m, 0)
    assert r.returncode == 1
    assert "no traffic moved to 3" in r.stderr
    assert prod(client) == ("$LATEST", {})
    create_python_function(client, "ok-hook", PASS)
    m2 = manifest(
        tmp_path, f"{rollout}, attempt: 2, hooks: {{pre_traffic: ok-hook}}", name="m2.yaml"
    )
    assert apply(emulator, m2, 1).returncode == 0
    assert prod(client) == ("3", {})
    assert rollout_json(emulator, m2, 2)["phase"] == "baking"
    alarm(emulator, "ALARM")
    r = apply(emulator, m2, 10)
    assert r.returncode == 1
    assert "rolled back to $LATEST" in r.stderr
    assert prod(client) == ("$LATEST", {})


# -- 11. limits: no tags; an alias name of 128 characters moves ---------------------------------


def test_a_long_alias_name_moves_with_no_tag(emulator: Any, tmp_path: Path) -> None:
    """Defect 11: the history tag's key for an alias name over 102 characters passed AWS's
    128-character tag-key limit, so such an alias could never move in AWS. The record lives in
    the alias: a 128-character alias rolls out, and no tag is ever written."""
    name = "a" * 128
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {name: "2"}}])
    body = f"""
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              {name}: {{version: 3, rollout: {{steps: [10%], interval: 5m}}}}
        """
    m = write_manifest(tmp_path, body)
    client = emulator.boto3_client("lambda")
    for minute in (0, 5):
        assert apply(emulator, m, minute).returncode == 0
    assert client.get_alias(FunctionName="orders", Name=name)["FunctionVersion"] == "3"
    assert not [c for c in emulator.calls() if c.get("operation") == "TagResource"]


# -- 12. a rollback sticks ------------------------------------------------------------------------


def test_a_hand_move_back_is_recorded_and_sticks(emulator: Any, tmp_path: Path) -> None:
    """Defect 12: someone moves prod back to 2 by hand (`aws lambda update-alias`, which keeps
    the description) during a rollout of 3. The next apply records 3 as failed instead of
    rolling it out again; plan and JSON say so; a new attempt retries it."""
    client = seed(emulator)
    m = manifest(tmp_path, "steps: [10%, 50%], interval: 10m")
    assert apply(emulator, m, 0).returncode == 0
    client.update_alias(
        FunctionName="orders",
        Name="prod",
        FunctionVersion="2",
        RoutingConfig={"AdditionalVersionWeights": {}},
    )
    found = rollout_json(emulator, m, 11)
    assert found["phase"] == "recording_rollback"
    assert found["cause"]["kind"] == "manual"
    r = apply(emulator, m, 11)
    assert r.returncode == 0, r.stdout + r.stderr
    assert prod(client) == ("2", {})
    for minute in (30, 60):
        assert apply(emulator, m, minute).returncode == 0
        assert prod(client) == ("2", {})
    found = rollout_json(emulator, m, 61)
    assert (found["status"], found["cause"]["message"]) == ("rolled_back", "rolled back by hand")
    m2 = manifest(tmp_path, "steps: [10%, 50%], interval: 10m, attempt: 2", name="m2.yaml")
    assert apply(emulator, m2, 62).returncode == 0
    assert prod(client) == ("2", {"3": 0.1})


def test_the_rollback_command_sticks(emulator: Any, tmp_path: Path) -> None:
    """Defect 12: `rollback` after a completed rollout of 3 moves prod to 2 and marks 3 failed
    in the same call; the next apply (git still names 3) leaves it on 2."""
    client = seed(emulator)
    m = manifest(tmp_path, "steps: [10%], interval: 5m")
    for minute in (0, 5):
        assert apply(emulator, m, minute).returncode == 0
    assert prod(client) == ("3", {})
    r = run_cli(
        emulator,
        "rollback",
        m,
        "--function",
        "orders",
        "--alias",
        "prod",
        "--auto-approve",
        env=at(6),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert prod(client) == ("2", {})
    assert apply(emulator, m, 7).returncode == 0
    assert prod(client) == ("2", {})
    found = rollout_json(emulator, m, 8)
    assert (found["status"], found["cause"]["by"]) == ("rolled_back", "rollback")


# -- 13. true routing ------------------------------------------------------------------------------


def test_a_canary_left_beside_a_failed_rollout_is_shown(emulator: Any, tmp_path: Path) -> None:
    """Defect 13: prod is 2 with 1 at 10 % (an old canary) and the rollout of 3 fails its
    pre-traffic hook. The plan said "2 serves all traffic"; it says what AWS routes."""
    client = seed(emulator)
    client.update_alias(
        FunctionName="orders",
        Name="prod",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}},
    )
    create_python_function(client, "pre-hook", FAIL)
    m = manifest(tmp_path, "steps: [10%], interval: 5m, hooks: {pre_traffic: pre-hook}")
    assert apply(emulator, m, 0).returncode == 1
    assert prod(client) == ("2", {"1": 0.1})
    found = rollout_json(emulator, m, 1)
    assert "2 serves 90%, 1 serves 10%" in found["message"]
    assert found["live"] == {
        "version": "2",
        "canary": {"version": "1", "weight": 0.1},
        "description": "",
    }
    drift = run_cli(emulator, "drift", m, env=at(1))
    assert "in AWS 2 serves 90%, 1 serves 10%" in drift.stdout


# -- the record itself -----------------------------------------------------------------------------


def test_the_record_keeps_the_users_description_beside_it(emulator: Any, tmp_path: Path) -> None:
    """A declared description keeps its text in front of the record; `plan` compares only the
    text (the record never reads as drift), and import writes only the text."""
    client = seed(emulator)
    body = """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases:
              prod: {version: 3, description: "Production: orders"}
        """
    m = write_manifest(tmp_path, body)
    assert apply(emulator, m, 0).returncode == 0
    described = client.get_alias(FunctionName="orders", Name="prod")["Description"]
    assert described == "Production: orders [lr:1 at=3 h=2]"
    assert run_cli(emulator, "plan", m, "--detailed-exitcode", env=at(1)).returncode == 0
    imported = run_cli(emulator, "import", "orders", "--region", "us-east-1")
    assert "description: 'Production: orders'" in imported.stdout
    assert "[lr:" not in imported.stdout


def test_the_record_fits_beside_any_declared_description() -> None:
    """Whatever a rollout's failure says, the description stays within AWS's 256 characters
    beside a 128-character text, and reads back as the same record (the reason cut)."""
    from datetime import datetime, timezone

    from reconciler.plan import AlarmFired, RolloutState

    cause = AlarmFired("x" * 255)
    state = RolloutState("123456", "123455", 10, datetime(2026, 1, 1, tzinfo=timezone.utc))
    rec = AliasRecord("123455", tuple(str(123454 - i) for i in range(10)), state)
    failed = AliasRecord(rec.at, rec.history, RolloutState(**{**state.__dict__, "cause": cause}))
    for r in (rec, failed):
        text = describe("d" * 128, r)
        assert len(text) <= 256
        back = decode(split(text)[1])
        assert back.rollout is not None
        assert (back.rollout.target, back.rollout.previous) == ("123456", "123455")
        assert back.history == rec.history[: len(back.history)]


def test_a_forged_done_tag_never_becomes_a_trusted_rollback_target() -> None:
    """Defect 3 (laundering): `prod` serves 5 and the manifest names 5 with a bake; tags that
    `TagResource` alone could write say a rollout of 5 from 3 is `done` and baking, with a
    history of `3`. Migrating that state would make 3 a rollback target the record trusts, and
    the next alarm would send all traffic to 3. The migration drops a `done` state (it keeps
    only what holds traffic or sends it back to the live primary): the alarm moves nothing."""
    from reconciler.plan import RolloutState
    from reconciler.planning.rollout import history_key, tag_key
    from tests.legacy import legacy_tag
    from tests.memlambda import NOW
    from tests.planner_helpers import apply_to, plan_against, target
    from tests.test_planner import lam

    mem = lam(versions=5)
    mem.set_alias("fn", "prod", "5")
    tags = mem.functions["fn"].tags
    tags[tag_key("prod")] = legacy_tag(RolloutState("5", "3", 2, NOW, "done"))
    tags[history_key("prod")] = "3"
    rollout = {"steps": ["10%"], "interval": "5m", "bake": "1h", "alarms": ["e"]}
    t = target(aliases={"prod": {"version": 5, "rollout": rollout}}, retention={"keep_last": 5})
    mem.alarms["e"] = "OK"
    apply_to(mem, plan_against(mem, [t], alarms={"e": "OK"}))  # the migration write
    assert tag_key("prod") not in mem.functions["fn"].tags
    assert decode(mem.functions["fn"].aliases["prod"].record).rollout is None
    later = NOW + timedelta(minutes=10)
    p = plan_against(mem, [t], alarms={"e": "ALARM"}, now=later)
    apply_to(mem, p, later)
    assert mem.functions["fn"].aliases["prod"].version == "5"
