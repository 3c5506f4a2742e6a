"""Many accounts and regions in one run: A accounts x R regions x N functions, each account
reached by assuming a role, planned by one CLI process against the emulator, where each
account-region has its own request quota.

The figures: the wall time against the busiest account-region's calls ÷ its quota (no client
can do better: that account-region's calls wait for its quota whatever the others do), the
peak memory, and the single process's ceiling in calls per second, measured by the same plan
with neither quota nor pacing nor latency: beyond that aggregate rate (accounts x regions x
quota), one process cannot keep every account-region at its quota, and a fleet is better split
over several jobs.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.fleet import SEED_BATCH, SWEEP_PAGE
from benchmarks.measure import Job, Run, Settings, measure
from emulator.client import EmulatorClient

CALLER = "123456789012"  # the emulator's default account: the ambient credentials
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1")
ROLE = "lambda-reconciler"


@dataclass(frozen=True)
class AccountsFleet:
    accounts: int
    regions: int
    functions: int  # per account and region
    versions: int = 3

    @property
    def size(self) -> int:
        return self.accounts * self.regions * self.functions

    def account(self, i: int) -> str:
        return f"{100000000000 + i:012d}"

    @property
    def account_ids(self) -> list[str]:
        return [self.account(i) for i in range(self.accounts)]

    @property
    def region_names(self) -> tuple[str, ...]:
        return REGIONS[: self.regions]

    def name(self, i: int) -> str:
        return f"fn-{i:04d}"

    @property
    def label(self) -> str:
        return f"{self.accounts}x{self.regions}x{self.functions}"

    @property
    def min_calls_per_account_region(self) -> int:
        """An in-sync plan of one account-region in the default read mode (auto: a region of
        10 or more functions is swept): the ListFunctions pages, one ListAliases per
        function, and the single-attempt probe of a run of 10 or more functions."""
        if self.functions < 10:
            return self.functions * 2
        sweep = math.ceil(self.functions * (self.versions + 1) / SWEEP_PAGE)
        return sweep + self.functions + 1

    @property
    def min_calls(self) -> int:
        return self.accounts * self.regions * self.min_calls_per_account_region


def seed_accounts(emu: EmulatorClient, fleet: AccountsFleet) -> dict[str, str]:
    """Forget all state; in each account a role the caller may assume and the functions of
    every region, written in the emulator's backend. Returns account → role ARN."""
    emu.reset()
    roles: dict[str, str] = {}
    spec = {"versions": fleet.versions, "aliases": {"live": fleet.versions, "stable": 1}}
    names = [fleet.name(i) for i in range(fleet.functions)]
    for account in fleet.account_ids:
        view = emu.for_account(account)
        roles[account] = view.register_role(ROLE, [CALLER])
        for region in fleet.region_names:
            for start in range(0, len(names), SEED_BATCH):
                batch = names[start : start + SEED_BATCH]
                view.seed([{"name": n, **spec} for n in batch], region)
    return roles


def write_account_manifests(
    fleet: AccountsFleet, roles: dict[str, str], directory: Path
) -> list[str]:
    """One manifest per account: its target (the role), `regions:`, its functions in sync."""
    directory.mkdir(parents=True, exist_ok=True)
    routes = f"aliases: {{live: {{version: {fleet.versions}}}, stable: {{version: 1}}}}"
    paths = []
    for account in fleet.account_ids:
        lines = [
            "version: 1",
            f"regions: [{', '.join(fleet.region_names)}]",
            f'target: {{account: "{account}", role_arn: "{roles[account]}"}}',
            "functions:",
            *(f"  {fleet.name(i)}: {{{routes}}}" for i in range(fleet.functions)),
        ]
        path = directory / f"account-{account}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(str(path))
    return paths


@dataclass(frozen=True)
class AccountsRun:
    fleet: AccountsFleet
    paced: Run  # at the quota, each account-region paced on its own
    busiest_calls: int  # the control-plane calls of the busiest account-region
    account_regions: int  # how many account-regions the run called
    ceiling: Run | None = None  # the same plan with neither quota, pacing nor latency
    ceiling_calls_per_s: float = 0.0

    @property
    def bound_s(self) -> float:
        quota = self.paced.settings.quota
        return self.busiest_calls / quota if quota else 0.0

    @property
    def ratio(self) -> float:
        return self.paced.wall_s / self.bound_s if self.bound_s else float("inf")

    @property
    def needed_calls_per_s(self) -> float:
        """The aggregate rate that keeps every account-region at its quota."""
        return self.account_regions * self.paced.settings.quota


def _per_account_region(calls: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter(
        (str(c.get("account")), str(c.get("region")))
        for c in calls
        if c.get("service") == "lambda"
        and c.get("operation") not in {"GetFunction", "GetAccountSettings", "Invoke"}
    )


def _plan(
    emu: EmulatorClient, fleet: AccountsFleet, settings: Settings, paths: list[str]
) -> tuple[Run, list[dict[str, Any]]]:
    run = measure(
        emu,
        settings,
        "plan",
        [*paths, "--detailed-exitcode", "--parallelism", str(settings.parallelism)],
        Job(fleet.size, fleet.versions, fleet.min_calls, timeout_s=3600),
    )
    return run, emu.calls()


def bench_accounts(
    emu: EmulatorClient,
    fleet: AccountsFleet,
    settings: Settings,
    work: Path,
    *,
    ceiling: bool = True,
) -> AccountsRun:
    """Seed, then an in-sync plan at the quota; then (with `ceiling`) the same plan unpaced."""
    roles = seed_accounts(emu, fleet)
    paths = write_account_manifests(fleet, roles, work / f"accounts-{fleet.label}")
    paced, calls = _plan(emu, fleet, settings, paths)
    per = _per_account_region(calls)
    busiest = max(per.values(), default=0)
    result = AccountsRun(fleet, paced, busiest, len(per))
    if not ceiling:
        return result
    unpaced = Settings(latency_ms=0, quota=0, parallelism=settings.parallelism, read_mode="auto")
    run, calls = _plan(emu, fleet, unpaced, paths)
    answered = sorted(float(c["t"]) for c in calls if "t" in c and c.get("service") == "lambda")
    span = answered[-1] - answered[0] if len(answered) > 1 else 0.0
    rate = len(answered) / span if span else 0.0
    return AccountsRun(fleet, paced, busiest, len(per), run, rate)


def accounts_table(runs: list[AccountsRun]) -> str:
    head = (
        f"{'A x R x N':<12} {'functions':>9} {'calls':>6} {'busiest':>7} {'quota':>5} "
        f"{'bound s':>7} {'wall s':>7} {'ratio':>5} {'peak MB':>7} {'CPU s':>6} {'exit':>4} "
        f"{'thrott':>6} {'need/s':>6} {'ceiling/s':>9} {'ceil wall s':>11} {'load':>5}"
    )
    lines = [head, "-" * len(head)]
    for r in runs:
        ceiling_wall = f"{r.ceiling.wall_s:>11.1f}" if r.ceiling else f"{'-':>11}"
        lines.append(
            f"{r.fleet.label:<12} {r.fleet.size:>9} {r.paced.calls:>6} {r.busiest_calls:>7} "
            f"{r.paced.settings.quota:>5g} {r.bound_s:>7.1f} {r.paced.wall_s:>7.1f} "
            f"{r.ratio:>5.2f} {r.paced.peak_rss_mb:>7.0f} {r.paced.cpu_s:>6.1f} "
            f"{r.paced.exit_code:>4} {r.paced.throttled:>6} {r.needed_calls_per_s:>6.0f} "
            f"{r.ceiling_calls_per_s:>9.0f} {ceiling_wall} {r.paced.load_1m:>5.1f}"
        )
    return "\n".join(lines)


def parse_shape(text: str) -> AccountsFleet:
    """`50x3x200` → 50 accounts x 3 regions x 200 functions."""
    a, r, n = (int(p) for p in text.lower().split("x"))
    if not 1 <= r <= len(REGIONS):
        raise ValueError(f"at most {len(REGIONS)} regions")
    return AccountsFleet(a, r, n)
