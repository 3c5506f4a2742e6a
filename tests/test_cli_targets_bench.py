"""The many-accounts benchmark's arithmetic (benchmarks/accounts.py), without running it: the
shape, the least calls per account-region, and the bound it is judged against."""

from __future__ import annotations

from benchmarks.accounts import AccountsFleet, AccountsRun, accounts_table, parse_shape
from benchmarks.measure import Run, Settings


def test_shape_and_minimum_calls() -> None:
    """50 x 3 x 200 is 30,000 functions; an account-region of 200 functions of 3 versions is
    swept in 16 pages of 50 items, then 200 ListAliases and the probe: 217 calls."""
    fleet = parse_shape("50x3x200")
    assert (fleet.accounts, fleet.regions, fleet.functions, fleet.size) == (50, 3, 200, 30_000)
    assert fleet.min_calls_per_account_region == 16 + 200 + 1
    assert AccountsFleet(2, 1, 5).min_calls_per_account_region == 10  # read per function
    assert len(set(fleet.account_ids)) == 50
    assert all(len(a) == 12 for a in fleet.account_ids)


def test_bound_is_the_busiest_account_region_at_its_quota() -> None:
    settings = Settings(latency_ms=25, quota=15, parallelism=8, read_mode="auto")
    paced = Run("plan", 600, 3, settings, 0, 0, 30.0, 1300, 1302, 0, 0, 0, 0, 200.0, "")
    run = AccountsRun(parse_shape("2x3x100"), paced, 225, 6, None, 400.0)
    assert run.bound_s == 15.0  # 225 calls at 15/s, whatever the other five do
    assert run.ratio == 2.0
    assert run.needed_calls_per_s == 90  # 6 account-regions at 15/s each
    row = accounts_table([run]).splitlines()[2]
    assert row.split()[:8] == ["2x3x100", "600", "1300", "225", "15", "15.0", "30.0", "2.00"]
