"""Smoke run of the benchmark code: a 3-function fleet with no latency and a quota far above the
request rate, and the planner benchmark on 10 functions.

The figures must be exact, not merely plausible: an in-sync plan makes the minimum number of
calls (every version page and alias page of every function, nothing else), an apply adds exactly
one UpdateAlias per function, and nothing is throttled or fails.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.fleet import Fleet, seed
from benchmarks.measure import Settings
from benchmarks.planner import run_planner_benchmarks
from benchmarks.run import bench_fleet, bench_plan, fleet_table, parse_args, planner_table
from emulator.client import EmulatorClient


def test_minimum_calls_are_counted_precisely() -> None:
    """50 versions plus `$LATEST` are 51 items: two ListVersionsByFunction pages of at most 50,
    and one ListAliases page: 3 calls per function to plan, 4 to apply one alias change (the
    reads and one UpdateAlias, which writes the alias record with the move)."""
    fleet = Fleet(1000, versions=50)
    assert (fleet.version_pages, fleet.alias_pages) == (2, 1)
    assert (fleet.plan_calls, fleet.apply_calls) == (3000, 4000)
    assert Fleet(1, versions=49).version_pages == 1
    assert Fleet(1, versions=99).version_pages == 2
    assert Fleet(1, versions=100).version_pages == 3


def test_minimum_calls_of_a_sweep() -> None:
    """A sweep reads the region's items 50 a page, then one ListAliases per function: 1,000
    functions of 5 versions are 6,000 items, 120 pages, 1.12 calls per function; of 50
    versions 51,000 items, 1,020 pages, 2.02 per function."""
    # + 1: from 10 functions the engine probes first with one single-attempt call
    assert Fleet(1000, versions=5).min_plan_calls("bulk") == 120 + 1000 + 1
    assert Fleet(1000, versions=50).min_plan_calls("bulk") == 1020 + 1000 + 1
    assert Fleet(1000, versions=50).min_plan_calls("per-function") == 3000 + 1
    assert Fleet(9, versions=5).min_plan_calls("auto") == 18  # auto sweeps from 10 functions


def test_lower_bound_is_the_larger_of_quota_and_latency() -> None:
    settings = Settings(latency_ms=25, quota=15, parallelism=8)
    assert settings.bound_s(3000) == 200.0  # 3000 / 15 > 3000 x 0.025 / 8
    fast = Settings(latency_ms=100, quota=1000, parallelism=2)
    assert fast.bound_s(100) == 5.0  # 100 x 0.1 / 2 > 100 / 1000


def test_fleet_smoke_run(emulator: EmulatorClient, tmp_path: Path) -> None:
    fleet = Fleet(3, versions=50)
    settings = Settings(latency_ms=0, quota=1000, parallelism=4)
    plan, apply = bench_fleet(emulator, fleet, settings, tmp_path)
    assert (plan.command, plan.exit_code, plan.expected_exit) == ("plan", 0, 0), plan.stderr_tail
    assert (plan.calls, plan.min_calls) == (9, 9)
    assert (plan.throttled, plan.failed, plan.writes) == (0, 0, 0)
    assert (apply.command, apply.exit_code) == ("apply", 0), apply.stderr_tail
    assert (apply.calls, apply.min_calls) == (12, 12)
    assert (apply.throttled, apply.failed, apply.writes) == (0, 0, 3)
    for run in (plan, apply):
        assert run.ok
        assert 0 < run.wall_s < 60
        assert 20 < run.peak_rss_mb < 300
        # the process's own CPU time, and the wall time split by the first and last request
        assert run.cpu_s > 0
        assert run.to_first_s > 0
        assert run.after_last_s > 0
        assert run.to_first_s + run.after_last_s < run.wall_s
    for name in fleet.names:
        aliases = emulator.state(name)["aliases"]
        assert {a: s["FunctionVersion"] for a, s in aliases.items()} == {
            "live": "50",
            "prev": "48",
            "stable": "1",
        }
    table = fleet_table([plan, apply])
    assert "plan" in table
    assert "apply" in table


def test_fleet_smoke_run_in_bulk_mode(emulator: EmulatorClient, tmp_path: Path) -> None:
    """The same fleet read by a sweep: 153 items are 4 ListFunctions pages, plus 3 ListAliases;
    one STS call (the ARN's account, as ListFunctions items carry no ARN) and the region's
    GetAccountSettings."""
    fleet = Fleet(3, versions=50, retention=True)
    seed(emulator, fleet)
    settings = Settings(latency_ms=0, quota=1000, parallelism=4, read_mode="bulk")
    plan = bench_plan(emulator, fleet, settings, tmp_path)
    assert (plan.exit_code, plan.calls, plan.min_calls, plan.other_calls) == (0, 7, 7, 2)
    assert plan.ok


def test_planner_smoke_run() -> None:
    results = {r.scenario: r for r in run_planner_benchmarks(functions=10, versions=100)}
    operations = {name: r.operations for name, r in results.items()}
    assert operations == {
        "in sync, keep_last covers all": 0,
        "one alias moved per function": 10,
        "retention keeps (keep_days)": 0,
        "retention deletes (keep_last 10)": 10 * 89,  # 100 - 10 kept - 1 aliased (stable → 1)
    }
    assert all(r.cpu_s >= 0 for r in results.values())
    assert "retention deletes" in planner_table(list(results.values()))


def test_options() -> None:
    args = parse_args(["--sizes", "10,100", "--latency-ms", "5", "--quota", "30"])
    assert args.size_list == [10, 100]
    assert (args.latency_ms, args.quota, args.parallelism) == (5, 30, 8)
    assert args.pacing_list == ["bucket"]
    assert parse_args(["--pacing", "bucket,adaptive"]).pacing_list == ["bucket", "adaptive"]
    defaults = parse_args([])
    assert (defaults.size_list, defaults.version_list) == ([100, 1000], [5, 50])
    assert defaults.mode_list == ["per-function", "bulk"]
    assert (defaults.memory_size, defaults.memory_versions) == (10_000, 50)
