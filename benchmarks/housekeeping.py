"""`python -m benchmarks.housekeeping`: a fleet handed over from a janitor cron, at 250 functions.

Every function has versions outside `keep_last` (housekeeping due) and 25 of them use versions
of a shared layer that only the doomed function versions still use. The script runs the real
CLI, as a scheduled job and a deploy would:

1. `drift` — housekeeping alone is not drift: exit 0, "No drift" with the housekeeping due;
2. `apply --auto-approve` — one apply deletes the function versions and the layer versions
   that only they used;
3. `plan --detailed-exitcode` — exit 0: layer retention converged in that one apply.

It prints each command, its exit code, wall time and the lines that show the result.
`drift` runs with the default `--max-deletions` (100: it warns that apply would refuse, and
still exits 0); `apply` and `plan` get it raised above the fleet's due deletions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.fleet import HousekeepingFleet, seed_housekeeping
from emulator.client import EmulatorClient, start_emulator


@dataclass(frozen=True)
class Step:
    command: str
    exit_code: int
    wall_s: float
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], dict[str, str]], tuple[int, str, str]]


def subprocess_runner(args: Sequence[str], env: dict[str, str]) -> tuple[int, str, str]:
    """The installed CLI in a process of its own, as a CI job runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def run_steps(
    emu: EmulatorClient,
    fleet: HousekeepingFleet,
    work: Path,
    runner: Runner = subprocess_runner,
    max_rate: str = "0",
) -> list[Step]:
    manifest = work / "fleet.yaml"
    manifest.write_text(fleet.manifest(), encoding="utf-8")
    brake = str(sum(fleet.deletions) + 1)
    env = {**emu.env(), "LAMBDA_RECONCILER_MAX_RATE": max_rate}
    steps: list[Step] = []
    for args in (
        ["drift", str(manifest)],  # as scheduled: the default brake
        ["apply", str(manifest), "--auto-approve", "--max-deletions", brake],
        ["plan", str(manifest), "--detailed-exitcode", "--max-deletions", brake],
    ):
        started = time.perf_counter()
        code, out, err = runner(args, env)
        steps.append(
            Step(
                "lambda-reconciler " + " ".join([*args[:1], "fleet.yaml", *args[2:]]),
                code,
                time.perf_counter() - started,
                out,
                err,
            )
        )
    return steps


def _shown(step: Step) -> list[str]:
    """The lines that tell the result: headline, housekeeping, summary, apply's tally."""
    keep = ("No drift", "Drift", "Housekeeping due", "Plan:", "Apply complete", "No changes")
    lines = [x for x in (step.stdout + step.stderr).splitlines() if x.startswith(keep)]
    return lines or (step.stdout + step.stderr).splitlines()[-3:]


def report(fleet: HousekeepingFleet, steps: list[Step]) -> str:
    functions, layers = fleet.deletions
    out = [
        f"fleet: {fleet.size} functions x {fleet.versions} versions, keep_last {fleet.keep_last}; "
        f"{fleet.layer_users} use layer versions; due: {functions} function versions, "
        f"{layers} layer versions"
    ]
    for s in steps:
        out.append(f"$ {s.command}   # exit {s.exit_code}, {s.wall_s:.1f} s")
        out += [f"  {line}" for line in _shown(s)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=250)
    parser.add_argument("--max-rate", default="0", help="the CLI's --max-rate (0: no pacing)")
    args = parser.parse_args(argv)
    fleet = HousekeepingFleet(size=args.size)
    with start_emulator() as emu, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        seed_housekeeping(emu, fleet)
        print(f"seeded in {time.perf_counter() - started:.0f} s")
        steps = run_steps(emu, fleet, Path(tmp), max_rate=args.max_rate)
    print(report(fleet, steps))
    expected = [0, 0, 0]
    return 0 if [s.exit_code for s in steps] == expected else 1


if __name__ == "__main__":
    sys.exit(main())
