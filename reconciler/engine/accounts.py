"""A run over several accounts: one set of credentials (one `LambdaApi`, with its own clients and
its own pacing per region) per account a manifest's `target:` reaches with a role, and the
ambient credentials for the rest.

Every account is checked first (`allowed_account_ids`, `target.account`, function ARNs: one STS
call per credential set), all before any Lambda call in any account; then the accounts are read
and planned at once, each with `--parallelism` workers, and their plans merged into one, ordered
by (account, region, function). Applying splits a plan by the account each function records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TypeVar

from reconciler.aws import LambdaApi
from reconciler.engine.apply import Progress, apply_plan, check_applicable
from reconciler.engine.results import ApplyResult
from reconciler.manifest import FunctionTarget, LayerTarget, ManifestSet
from reconciler.notify import Notifiers, RunInfo
from reconciler.plan import FunctionPlan, LayerPlan, Plan

T = TypeVar("T")
Clock = Callable[[], datetime]
# Accounts read and planned at once; each uses up to `--parallelism` workers of its own.
MAX_ACCOUNTS_AT_ONCE = 64


@dataclass(frozen=True)
class Accounts:
    """The credentials of one run: `ambient` (the profile's, the environment's) and, per account
    a manifest reaches by assuming a role, that role's."""

    ambient: LambdaApi
    assumed: Mapping[str, LambdaApi]

    @property
    def several(self) -> bool:
        return bool(self.assumed)

    def of(self, account: str | None) -> LambdaApi:
        """The credentials for `account` (a target's, a saved plan's function's): the assumed
        role's when a manifest reaches it by a role, else the ambient ones."""
        return self.assumed.get(account or "", self.ambient)

    def key(self, t: FunctionTarget | LayerTarget) -> str:
        """Which credentials a function or layer is read and written with ("" for ambient)."""
        if t.target is not None and t.target.role_arn is not None:
            return t.target.account
        return ""

    def split(self, manifests: ManifestSet) -> list[tuple[LambdaApi, ManifestSet]]:
        """The manifest set per set of credentials (ambient first, then by account)."""
        groups: dict[str, tuple[list[FunctionTarget], list[LayerTarget]]] = {}
        for t in manifests.functions:
            groups.setdefault(self.key(t), ([], []))[0].append(t)
        for lt in manifests.layers:
            groups.setdefault(self.key(lt), ([], []))[1].append(lt)
        return [
            (self.of(k), replace(manifests, functions=tuple(fs), layers=tuple(ls)))
            for k, (fs, ls) in sorted(groups.items())
        ]

    def split_plan(self, plan: Plan) -> list[tuple[LambdaApi, Plan]]:
        """A plan per set of credentials, by the account each function (and each layer's
        deletion ARNs) records."""
        groups: dict[str, tuple[list[FunctionPlan], list[LayerPlan]]] = {}
        for fp in plan.functions:
            groups.setdefault(self._plan_key(fp.account), ([], []))[0].append(fp)
        for lp in plan.layers:
            account = lp.operations[0].arn.split(":")[4] if lp.operations else ""
            groups.setdefault(self._plan_key(account), ([], []))[1].append(lp)
        return [
            (self.of(k), replace(plan, functions=tuple(fs), layers=tuple(ls)))
            for k, (fs, ls) in sorted(groups.items())
        ]

    def _plan_key(self, account: str) -> str:
        return account if account in self.assumed else ""


def at_once(work: Sequence[Callable[[], T]]) -> list[T]:
    """Each callable in a thread of its own (up to `MAX_ACCOUNTS_AT_ONCE`), results in order;
    the first exception is raised once all have ended."""
    if len(work) == 1:
        return [work[0]()]
    with ThreadPoolExecutor(max_workers=min(len(work), MAX_ACCOUNTS_AT_ONCE)) as pool:
        futures = [pool.submit(w) for w in work]
        return [f.result() for f in futures]


def merge_plans(manifests: ManifestSet, plans: Sequence[Plan]) -> Plan:
    """One plan of several accounts' plans: functions ordered by (account, region, function);
    every layer, error and code-storage line kept."""
    first = plans[0]
    functions = sorted(
        (fp for p in plans for fp in p.functions),
        key=lambda fp: (fp.account, fp.region, fp.function),
    )
    return replace(
        first,
        functions=tuple(functions),
        manifests=manifests.paths,
        errors=tuple(e for p in plans for e in p.errors),
        layers=tuple(lp for p in plans for lp in p.layers),
        storage=tuple(s for p in plans for s in p.storage),
    )


def apply_all(
    plan: Plan,
    aws: LambdaApi | Accounts,
    *,
    parallelism: int,
    progress: Progress,
    clock: Clock,
    stop: threading.Event | None = None,
    notifiers: Notifiers | None = None,
    run_info: RunInfo | None = None,
) -> ApplyResult:
    """`apply_plan`, over several accounts at once: each account's part with its credentials
    (the safety policy judges the whole plan first: its brake counts every account)."""
    if not isinstance(aws, Accounts) or not aws.several:
        api = aws.ambient if isinstance(aws, Accounts) else aws
        return apply_plan(
            plan,
            api,
            parallelism=parallelism,
            progress=progress,
            clock=clock,
            stop=stop,
            notifiers=notifiers,
            run_info=run_info,
        )
    check_applicable(plan)
    results = at_once(
        [
            partial(
                apply_plan,
                part,
                api,
                parallelism=parallelism,
                progress=progress,
                clock=clock,
                stop=stop,
                notifiers=notifiers,
                run_info=run_info,
            )
            for api, part in aws.split_plan(plan)
        ]
    )
    return ApplyResult(tuple(r for result in results for r in result.results))
