"""The housekeeping fleet benchmark at a small size, in process: a scheduled drift with only
housekeeping due exits 0, and one apply converges function and layer retention."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from benchmarks.fleet import HousekeepingFleet, seed_housekeeping
from benchmarks.housekeeping import report, run_steps
from emulator.client import EmulatorClient
from tests.cli_helpers import run_main


def _in_process(args: Sequence[str], env: dict[str, str]) -> tuple[int, str, str]:
    r = run_main(list(args), env)
    return r.returncode, r.stdout, r.stderr


def test_housekeeping_fleet_drift_exits_0_and_one_apply_converges(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    fleet = HousekeepingFleet(size=12, versions=5, keep_last=2, layer_users=2)
    seed_housekeeping(emulator, fleet, parallelism=2)
    drift, apply, plan = run_steps(emulator, fleet, tmp_path, runner=_in_process)
    assert drift.exit_code == 0, drift.stdout + drift.stderr
    assert "Housekeeping due: 36 versions and 3 layer versions to delete" in drift.stdout
    assert apply.exit_code == 0, apply.stdout + apply.stderr
    assert "Apply complete: 39 done, 0 failed" in apply.stderr
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    client = emulator.boto3_client("lambda")
    layer = client.list_layer_versions(LayerName="shared-deps")["LayerVersions"]
    assert sorted(v["Version"] for v in layer) == [4, 5]
    assert "# exit 0" in report(fleet, [drift, apply, plan])
