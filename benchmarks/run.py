"""`make bench` / `python -m benchmarks.run`: the CLI at fleet scale, and the planner alone.

For each fleet size N (N functions, 50 versions and 3 aliases each, created in the emulator's
backend) it runs the real CLI as a subprocess against the local Lambda endpoint with an injected
per-call latency and a per-region request quota:

- `plan --detailed-exitcode` on a manifest that matches live state (exit 0), then
- `apply --auto-approve` on a manifest that moves one alias of every function (N UpdateAlias),

and prints, for each, the wall time against its lower bound
max(calls / quota, calls x latency / parallelism), the calls made against the minimum, the
throttled and failed calls, and the peak memory of the CLI process. Then it times the pure
planner on 10,000 functions x 100 versions (CPU time, no I/O).

The default run (N = 10, 100, 1000 at 15 requests/s) takes about 10 minutes: it is bounded by
the quota, 3 calls per function to plan and 4 to apply. `--sizes 10,100` takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.fleet import Fleet, seed, write_manifests
from benchmarks.measure import PACINGS, Run, Settings, measure
from benchmarks.planner import PlannerResult, run_planner_benchmarks
from emulator.client import EmulatorClient, start_emulator


def bench_fleet(emu: EmulatorClient, fleet: Fleet, settings: Settings, work: Path) -> list[Run]:
    """Seed the fleet, then measure an in-sync plan and an apply of one alias per function."""
    seed(emu, fleet)
    in_sync = write_manifests(fleet, work / f"n{fleet.size}")
    changed = write_manifests(fleet, work / f"n{fleet.size}", changed=True)
    common = ["--parallelism", str(settings.parallelism)]
    plan = measure(
        emu,
        settings,
        "plan",
        [*in_sync, "--detailed-exitcode", *common],
        size=fleet.size,
        min_calls=fleet.plan_calls,
    )
    apply = measure(
        emu,
        settings,
        "apply",
        [*changed, "--auto-approve", *common],
        size=fleet.size,
        min_calls=fleet.apply_calls,
    )
    check_applied(emu, fleet, apply)
    return [plan, apply]


def check_applied(emu: EmulatorClient, fleet: Fleet, run: Run) -> None:
    """The apply really moved every `prev` alias (checked on the first and last function)."""
    want = str(fleet.aliases(changed=True)["prev"])
    for name in {fleet.names[0], fleet.names[-1]}:
        got = emu.state(name)["aliases"]["prev"]["FunctionVersion"]
        if got != want:
            raise SystemExit(f"apply did not converge: {name} prev → {got}, wanted {want}")
    if run.writes != 2 * fleet.size:  # per function: the alias history tag, then the move
        raise SystemExit(f"apply made {run.writes} writes, wanted {2 * fleet.size}")


def fleet_table(runs: list[Run]) -> str:
    head = (
        f"{'run':<6} {'pacing':<9} {'N':>5} {'calls':>6} {'min':>6} {'throttled':>9} "
        f"{'failed':>6} {'exit':>4} {'wall s':>8} {'bound s':>8} {'ratio':>6} {'peak MB':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in runs:
        lines.append(
            f"{r.command:<6} {r.settings.pacing:<9} {r.size:>5} {r.calls:>6} {r.min_calls:>6} "
            f"{r.throttled:>9} {r.failed:>6} {r.exit_code:>4} {r.wall_s:>8.1f} "
            f"{r.bound_s:>8.1f} {r.ratio:>6.2f} {r.peak_rss_mb:>8.0f}"
        )
    return "\n".join(lines)


def planner_table(results: list[PlannerResult]) -> str:
    head = f"{'scenario':<34} {'functions':>9} {'versions':>8} {'operations':>10} {'CPU s':>7}"
    lines = [head, "-" * len(head)]
    for p in results:
        lines.append(
            f"{p.scenario:<34} {p.functions:>9} {p.versions:>8} {p.operations:>10} {p.cpu_s:>7.2f}"
        )
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Fleet benchmarks of the CLI against the local Lambda endpoint, and the "
        "planner's CPU time.",
    )
    parser.add_argument("--sizes", default="10,100,1000", help="fleet sizes (default 10,100,1000)")
    parser.add_argument("--versions", type=int, default=50, help="versions per function (50)")
    parser.add_argument("--latency-ms", type=float, default=25.0, help="per-call latency (25)")
    parser.add_argument("--quota", type=float, default=15.0, help="requests/s per region (15)")
    parser.add_argument("--parallelism", type=int, default=8, help="CLI --parallelism (8)")
    parser.add_argument(
        "--pacing",
        default="bucket",
        help="bucket (the CLI's client-side token bucket at the quota), adaptive (botocore's "
        "adaptive retry mode alone), or both, comma-separated (default bucket)",
    )
    parser.add_argument("--no-fleet", action="store_true", help="only the planner benchmark")
    parser.add_argument("--no-planner", action="store_true", help="only the fleet benchmarks")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    args = parser.parse_args(argv)
    args.size_list = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    args.pacing_list = [p.strip() for p in str(args.pacing).split(",") if p.strip()]
    for p in args.pacing_list:
        if p not in PACINGS:
            parser.error(f"--pacing: {p!r} is not one of {', '.join(PACINGS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    runs: list[Run] = []
    if not args.no_fleet:
        print(
            f"Fleet: {args.versions} versions and 3 aliases per function; latency "
            f"{args.latency_ms:g} ms per call, quota {args.quota:g} requests/s, "
            f"--parallelism {args.parallelism}",
            flush=True,
        )
        with start_emulator() as emu, tempfile.TemporaryDirectory() as tmp:
            for size in args.size_list:
                for pacing in args.pacing_list:
                    settings = Settings(args.latency_ms, args.quota, args.parallelism, pacing)
                    new = bench_fleet(emu, Fleet(size, args.versions), settings, Path(tmp))
                    for r in new:
                        print(
                            f"  {r.command} N={r.size} {pacing}: {r.wall_s:.1f} s "
                            f"(bound {r.bound_s:.1f} s), {r.calls} calls, "
                            f"{r.throttled} throttled, exit {r.exit_code}",
                            flush=True,
                        )
                        if not r.ok:
                            print(f"    FAILED:\n{r.stderr_tail}", flush=True)
                    runs.extend(new)
        print()
        print(fleet_table(runs))
    planner: list[PlannerResult] = []
    if not args.no_planner:
        print()
        planner = run_planner_benchmarks()
        print(planner_table(planner))
    print(f"\nTotal benchmark time: {time.perf_counter() - started:.0f} s")
    if args.json:
        doc = {
            "fleet": [
                {**asdict(r), "bound_s": r.bound_s, "ratio": r.ratio, "ok": r.ok} for r in runs
            ],
            "planner": [asdict(p) for p in planner],
        }
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r.ok for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
