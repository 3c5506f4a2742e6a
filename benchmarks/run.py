"""`make bench` / `python -m benchmarks.run`: the CLI at fleet scale, and the planner alone.

Read modes side by side. For each fleet (N functions × V published versions, 3 aliases each,
created in the emulator's backend, manifests with retention that keeps every version) it runs
the real CLI as a subprocess against the local Lambda endpoint, with an injected per-call
latency and a per-region request quota, once per read mode on the same live state:

- `plan --detailed-exitcode` on manifests that match live state (exit 0), and, with `--apply`,
- `apply --auto-approve` on manifests that move one alias of every function (N UpdateAlias),

and prints, for each, the control-plane calls made (per function, and against the minimum for
that read mode), the other calls (STS; GetFunction, which has its own quota), the wall time
against its lower bound max(calls / quota, calls x latency / parallelism), throttled and failed
calls, the peak memory and CPU time of the CLI process, how long it took to its first call and
after its last, and the machine's load average when it started.

Then many accounts and regions in one run (`--accounts 50x3x200`: 50 accounts x 3 regions x
200 functions, each account reached by assuming a role, each account-region with its own quota):
an in-sync plan at the quota, against the busiest account-region's calls ÷ its quota, and the
same plan with neither quota nor pacing: the single process's ceiling in calls per second
(benchmarks/accounts.py).

Then the memory run: an in-sync plan of 10,000 functions x 50 versions in each read mode, with
neither latency nor quota (it measures memory; at the quota it would take half an hour), and
the planner's CPU time on 10,000 functions x 100 versions (no I/O).

The default run (N = 100, 1000; V = 5, 50; per-function and bulk) takes about 20 minutes: at the
quota it is bounded by 15 calls per second. `--sizes 100 --versions 5 --no-memory` takes about
a minute.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

from benchmarks.accounts import AccountsRun, accounts_table, bench_accounts, parse_shape
from benchmarks.fleet import Fleet, seed, write_manifests
from benchmarks.measure import PACINGS, READ_MODES, Job, Run, Settings, measure
from benchmarks.planner import PlannerResult, run_planner_benchmarks
from emulator.client import EmulatorClient, start_emulator


def bench_plan(
    emu: EmulatorClient,
    fleet: Fleet,
    settings: Settings,
    work: Path,
    timeout_s: float | None = None,
) -> Run:
    """An in-sync plan of an already seeded fleet (exit 0, no change)."""
    in_sync = write_manifests(fleet, work / f"n{fleet.size}-v{fleet.versions}")
    return measure(
        emu,
        settings,
        "plan",
        [*in_sync, "--detailed-exitcode", "--parallelism", str(settings.parallelism)],
        Job(
            fleet.size,
            fleet.versions,
            fleet.min_plan_calls(settings.read_mode),
            timeout_s=timeout_s,
        ),
    )


def bench_apply(emu: EmulatorClient, fleet: Fleet, settings: Settings, work: Path) -> Run:
    """An apply that moves one alias of every function; checks it converged."""
    changed = write_manifests(fleet, work / f"n{fleet.size}-v{fleet.versions}", changed=True)
    run = measure(
        emu,
        settings,
        "apply",
        [*changed, "--auto-approve", "--parallelism", str(settings.parallelism)],
        Job(fleet.size, fleet.versions, fleet.min_apply_calls(settings.read_mode)),
    )
    check_applied(emu, fleet, run)
    return run


def bench_fleet(emu: EmulatorClient, fleet: Fleet, settings: Settings, work: Path) -> list[Run]:
    """Seed the fleet, then measure an in-sync plan and an apply of one alias per function."""
    seed(emu, fleet)
    return [bench_plan(emu, fleet, settings, work), bench_apply(emu, fleet, settings, work)]


def check_applied(emu: EmulatorClient, fleet: Fleet, run: Run) -> None:
    """The apply really moved every `prev` alias (checked on the first and last function)."""
    want = str(fleet.aliases(changed=True)["prev"])
    for name in {fleet.names[0], fleet.names[-1]}:
        got = emu.state(name)["aliases"]["prev"]["FunctionVersion"]
        if got != want:
            raise SystemExit(f"apply did not converge: {name} prev → {got}, wanted {want}")
    if run.writes != fleet.size:  # per function one UpdateAlias: the move and its record
        raise SystemExit(f"apply made {run.writes} writes, wanted {fleet.size}")


def fleet_table(runs: list[Run]) -> str:
    head = (
        f"{'run':<6} {'read mode':<12} {'pacing':<8} {'N':>5} {'V':>3} {'calls':>6} "
        f"{'min':>6} {'per fn':>6} {'other':>5} {'thrott':>6} {'failed':>6} {'exit':>4} "
        f"{'wall s':>7} {'bound s':>7} {'ratio':>5} {'peak MB':>7} {'CPU s':>6} "
        f"{'start s':>7} {'end s':>5} {'load':>5}"
    )
    lines = [head, "-" * len(head)]
    for r in runs:
        ratio = f"{r.ratio:>5.2f}" if r.settings.quota else f"{'-':>5}"
        lines.append(
            f"{r.command:<6} {r.settings.read_mode:<12} {r.settings.pacing:<8} {r.size:>5} "
            f"{r.versions:>3} {r.calls:>6} {r.min_calls:>6} {r.calls_per_function:>6.2f} "
            f"{r.other_calls:>5} {r.throttled:>6} {r.failed:>6} {r.exit_code:>4} "
            f"{r.wall_s:>7.1f} {r.bound_s:>7.1f} {ratio} {r.peak_rss_mb:>7.0f} {r.cpu_s:>6.1f} "
            f"{r.to_first_s:>7.1f} {r.after_last_s:>5.1f} {r.load_1m:>5.1f}"
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


def _ints(text: str) -> list[int]:
    return [int(s) for s in str(text).split(",") if s.strip()]


def _words(text: str) -> list[str]:
    return [p.strip() for p in str(text).split(",") if p.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Fleet benchmarks of the CLI against the local Lambda endpoint (read modes "
        "side by side), a memory run, and the planner's CPU time.",
    )
    parser.add_argument("--sizes", default="100,1000", help="fleet sizes (default 100,1000)")
    parser.add_argument(
        "--versions", default="5,50", help="versions per function, comma-separated (5,50)"
    )
    parser.add_argument(
        "--read-modes",
        default="per-function,bulk",
        help="CLI --read-mode values to compare, comma-separated (per-function,bulk)",
    )
    parser.add_argument("--latency-ms", type=float, default=25.0, help="per-call latency (25)")
    parser.add_argument("--quota", type=float, default=15.0, help="requests/s per region (15)")
    parser.add_argument("--parallelism", type=int, default=8, help="CLI --parallelism (8)")
    parser.add_argument(
        "--pacing",
        default="bucket",
        help="bucket (the CLI's client-side token bucket at the quota), adaptive (botocore's "
        "adaptive retry mode alone), or both, comma-separated (default bucket)",
    )
    parser.add_argument(
        "--apply", action="store_true", help="also apply one alias change per function"
    )
    parser.add_argument(
        "--memory-size",
        type=int,
        default=10_000,
        help="functions of the memory run (10000; 0 skips it)",
    )
    parser.add_argument(
        "--memory-versions", type=int, default=50, help="versions per function there (50)"
    )
    parser.add_argument(
        "--accounts",
        default="5x3x200,10x3x200,50x3x200",
        help="many-accounts runs, ACCOUNTSxREGIONSxFUNCTIONS comma-separated (50x3x200: "
        "30,000 functions); empty skips them",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory run")
    parser.add_argument("--no-fleet", action="store_true", help="only the planner benchmark")
    parser.add_argument("--no-planner", action="store_true", help="only the fleet benchmarks")
    parser.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    args = parser.parse_args(argv)
    args.size_list = _ints(args.sizes)
    args.version_list = _ints(args.versions)
    args.pacing_list = _words(args.pacing)
    args.mode_list = _words(args.read_modes)
    try:
        args.account_shapes = [parse_shape(w) for w in _words(args.accounts)]
    except ValueError as e:
        parser.error(f"--accounts: {e}")
    for p in args.pacing_list:
        if p not in PACINGS:
            parser.error(f"--pacing: {p!r} is not one of {', '.join(PACINGS)}")
    for m in args.mode_list:
        if m not in READ_MODES:
            parser.error(f"--read-modes: {m!r} is not one of {', '.join(READ_MODES)}")
    if args.no_memory:
        args.memory_size = 0
    return args


def _report(run: Run) -> None:
    print(
        f"  {run.command} N={run.size} V={run.versions} {run.settings.read_mode} "
        f"{run.settings.pacing}: {run.wall_s:.1f} s (bound {run.bound_s:.1f} s), {run.calls} "
        f"calls ({run.calls_per_function:.2f} per function) + {run.other_calls} other, "
        f"{run.throttled} throttled, exit {run.exit_code}, peak {run.peak_rss_mb:.0f} MB; "
        f"CPU {run.cpu_s:.1f} s, {run.to_first_s:.1f} s to the first call, "
        f"{run.after_last_s:.1f} s after the last, load average {run.load_1m:.1f}",
        flush=True,
    )
    if not run.ok:
        print(f"    FAILED:\n{run.stderr_tail}", flush=True)


def run_fleets(args: argparse.Namespace, emu: EmulatorClient, work: Path) -> list[Run]:
    runs: list[Run] = []
    for versions in args.version_list:
        for size in args.size_list:
            fleet = Fleet(size, versions, retention=True)
            seed(emu, fleet)
            for mode in args.mode_list:
                for pacing in args.pacing_list:
                    settings = Settings(args.latency_ms, args.quota, args.parallelism, pacing, mode)
                    run = bench_plan(emu, fleet, settings, work)
                    _report(run)
                    runs.append(run)
            if args.apply:
                # Each apply moves the aliases: re-seed before the next mode's apply.
                for mode in args.mode_list:
                    for pacing in args.pacing_list:
                        seed(emu, fleet)
                        settings = Settings(
                            args.latency_ms, args.quota, args.parallelism, pacing, mode
                        )
                        run = bench_apply(emu, fleet, settings, work)
                        _report(run)
                        runs.append(run)
    return runs


def run_memory(args: argparse.Namespace, emu: EmulatorClient, work: Path) -> list[Run]:
    """Peak memory of an in-sync plan of a large fleet, with neither latency nor quota."""
    fleet = Fleet(args.memory_size, args.memory_versions, retention=True)
    started = time.perf_counter()
    seed(emu, fleet)
    print(
        f"  seeded {fleet.size} functions x {fleet.versions} versions in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    unpaced = Settings(latency_ms=0, quota=0, parallelism=args.parallelism)
    runs: list[Run] = []
    for mode in args.mode_list:
        # A sweep is one chain of pages, one round trip each: 10,200 of them take minutes.
        run = bench_plan(emu, fleet, replace(unpaced, read_mode=mode), work, timeout_s=3600)
        _report(run)
        runs.append(run)
    return runs


def run_accounts(args: argparse.Namespace, emu: EmulatorClient, work: Path) -> list[AccountsRun]:
    """Each shape: an in-sync plan across its accounts and regions at the quota (auto read
    mode), then the same plan unpaced for the process's ceiling."""
    out = []
    for fleet in args.account_shapes:
        settings = Settings(args.latency_ms, args.quota, args.parallelism, "bucket", "auto")
        run = bench_accounts(emu, fleet, settings, work)
        p = run.paced
        print(
            f"  {fleet.label} ({fleet.size} functions): {p.wall_s:.1f} s against the busiest "
            f"account-region's {run.busiest_calls} calls ÷ {args.quota:g}/s = {run.bound_s:.1f} s "
            f"(ratio {run.ratio:.2f}), {p.calls} calls in {run.account_regions} account-regions, "
            f"{p.throttled} throttled, exit {p.exit_code}, peak {p.peak_rss_mb:.0f} MB, CPU "
            f"{p.cpu_s:.1f} s, {p.to_first_s:.1f} s to the first call; ceiling "
            f"{run.ceiling_calls_per_s:.0f} calls/s; load average {p.load_1m:.1f}",
            flush=True,
        )
        if not p.ok:
            print(f"    FAILED:\n{p.stderr_tail}", flush=True)
        out.append(run)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    runs: list[Run] = []
    memory: list[Run] = []
    accounts: list[AccountsRun] = []
    if not args.no_fleet:
        print(
            f"Fleets: 3 aliases per function, retention keeping every version; latency "
            f"{args.latency_ms:g} ms per call, quota {args.quota:g} requests/s, "
            f"--parallelism {args.parallelism}",
            flush=True,
        )
        with start_emulator() as emu, tempfile.TemporaryDirectory() as tmp:
            runs = run_fleets(args, emu, Path(tmp))
            if args.account_shapes:
                print("Many accounts and regions: each account-region its own quota", flush=True)
                accounts = run_accounts(args, emu, Path(tmp))
            if args.memory_size:
                print(f"Memory: {args.memory_size} functions, no latency, no quota", flush=True)
                memory = run_memory(args, emu, Path(tmp))
        print()
        print(fleet_table(runs + memory))
        if accounts:
            print()
            print(accounts_table(accounts))
    planner: list[PlannerResult] = []
    if not args.no_planner:
        print()
        planner = run_planner_benchmarks()
        print(planner_table(planner))
    print(f"\nTotal benchmark time: {time.perf_counter() - started:.0f} s")
    if args.json:
        doc = {
            "fleet": [
                {
                    **asdict(r),
                    "bound_s": r.bound_s,
                    "ratio": r.ratio if r.settings.quota else None,
                    "calls_per_function": r.calls_per_function,
                    "ok": r.ok,
                }
                for r in runs + memory
            ],
            "planner": [asdict(p) for p in planner],
            "accounts": [
                {
                    **asdict(a),
                    "bound_s": a.bound_s,
                    "ratio": a.ratio,
                    "needed_calls_per_s": a.needed_calls_per_s,
                }
                for a in accounts
            ],
        }
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r.ok for r in [*runs, *memory, *(a.paced for a in accounts)]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
