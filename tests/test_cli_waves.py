"""`waves:` over the real CLI against the emulator: the second region's rollout waits for the
first one's to complete, and never starts when the first one fails."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from emulator.fixtures import create_alarm
from tests.cli_helpers import run_cli, write_manifest

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
ALARM = "orders-errors"


def at(minutes: float) -> dict[str, str]:
    return {"LAMBDA_RECONCILER_NOW": (T0 + timedelta(minutes=minutes)).isoformat()}


def setup(emulator: Any, tmp_path: Path) -> tuple[Any, str]:
    for region in ("us-east-1", "eu-west-1"):
        emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}], region=region)
    cw = emulator.boto3_client("cloudwatch")
    create_alarm(cw, ALARM)
    rollout = f"{{version: 3, rollout: {{steps: [10%, 50%], interval: 10m, alarms: [{ALARM}]}}}}"
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        waves: [[us-east-1], [eu-west-1, ap-southeast-2]]
        functions:
          arn:aws:lambda:us-east-1:123456789012:function:orders:
            aliases: {{prod: {rollout}}}
          arn:aws:lambda:eu-west-1:123456789012:function:orders:
            aliases: {{prod: {{version: 3, rollout: {{steps: [10%, 50%], interval: 10m}}}}}}
        """,
    )
    return cw, m


def moves(emulator: Any) -> list[str]:
    """The region of each alias write (UpdateAlias), in order."""
    return [
        str(c.get("region"))
        for c in emulator.calls()
        if c["operation"] == "UpdateAlias" and int(c.get("status", 0)) < 300
    ]


def test_a_failed_first_wave_never_starts_the_second(emulator: Any, tmp_path: Path) -> None:
    cw, m = setup(emulator, tmp_path)
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(0))
    assert r.returncode == 0, r.stderr
    assert "waiting for wave 1: orders:prod (us-east-1) not complete yet" in r.stdout
    cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="errors")
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(11))
    assert r.returncode == 1  # wave 1 rolled back
    cw.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="fine")
    r = run_cli(emulator, "apply", m, "--auto-approve", env=at(30))
    assert r.returncode == 1  # the failed wave holds the next: the run is not converged
    assert (
        "error: orders:prod (eu-west-1): waiting: wave 1 failed: orders:prod (us-east-1) rolled "
        "back; the later waves do not start until the manifest names another version or "
        "rollout.attempt; not starting, 2 serves all traffic"
    ) in r.stderr
    assert moves(emulator) == ["us-east-1", "us-east-1"]  # the start and its rollback
    eu = emulator.boto3_client("lambda", "eu-west-1").get_alias(FunctionName="orders", Name="prod")
    assert (eu["FunctionVersion"], eu.get("RoutingConfig")) == ("2", None)


def test_the_second_wave_starts_once_the_first_completes(emulator: Any, tmp_path: Path) -> None:
    """`apply --wait` (virtual time) takes wave 1 to the end, then wave 2."""
    _, m = setup(emulator, tmp_path)
    r = run_cli(emulator, "apply", m, "--auto-approve", "--wait", "--poll", "1m", env=at(0))
    assert r.returncode == 0, r.stderr
    assert moves(emulator) == ["us-east-1"] * 3 + ["eu-west-1"] * 3
    for region in ("us-east-1", "eu-west-1"):
        a = emulator.boto3_client("lambda", region).get_alias(FunctionName="orders", Name="prod")
        assert (a["FunctionVersion"], a.get("RoutingConfig")) == ("3", None)


def test_waves_are_checked_where_they_are_written(tmp_path: Path) -> None:
    from reconciler.manifest import ManifestError, load_manifest_text

    body = "version: 1\nwaves: {waves}\nfunctions: {{f: {{aliases: {{p: {{version: 1}}}}}}}}\n"
    cases = {
        "[[us-east-1], [eu-west-1, us-east-1]]": "2:34: waves[1][1]: us-east-1 is already in "
        "wave 1",
        "[[us-east-1], [nowhere]]": '2:23: waves[1][0]: invalid wave member "nowhere"',
        "[[us-east-1], [123456789012]]": "2:23: waves[1][0]: account id 123456789012 must be "
        "quoted",
        "[[]]": "2:9: waves[0]: expected at least 1 item",
    }
    for waves, said in cases.items():
        try:
            load_manifest_text(body.format(waves=waves), "m.yaml")
        except ManifestError as e:
            text = "\n".join(str(d) for d in e.diagnostics)
            assert f"m.yaml:{said}" in text, text
        else:
            raise AssertionError(f"waves: {waves} was accepted")
    ok = load_manifest_text(body.format(waves='[["123456789012"], [eu-west-1]]'), "m.yaml")
    assert ok.functions[0].wave is None  # no region, no account: not ordered
