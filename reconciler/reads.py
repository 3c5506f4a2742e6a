"""How live state is read, per region: one listing per function, or one sweep of the region.

- **per-function**: `ListVersionsByFunction` (pages of 50 items, `$LATEST` included) and
  `ListAliases` for every function: ⌈(versions + 1) ÷ 50⌉ + 1 calls a function.
- **bulk**: one `ListFunctions(FunctionVersion=ALL)` sweep of the region, pages of 50 items
  holding the versions of *every* function there, then `ListAliases` per function:
  ⌈items in the region ÷ 50⌉ + 1 per function. Cheaper when the manifests cover most of a
  region; dearer when they name a few functions of a crowded region.
- **auto** (the default): bulk in a region where the run reads at least `AUTO_MIN_FUNCTIONS`
  functions that a sweep can serve, with a budget: the sweep is abandoned, and the region read
  per function, once it has used as many pages as those functions would cost at the least per
  function (one page each). So auto never makes more than twice the calls of per-function
  reads, and makes fewer whenever the region holds fewer than 50 items per function read.

A sweep returns a subset of each version's configuration (the project's Lambda reference), so
functions whose plan needs more are read per function in every mode: `publish: true` (compares
every configuration field of `$LATEST` with the newest version, and waits for updates with
`GetFunction`), a canary (checks the dead-letter target of both versions), a rollout (reads
tags), and functions named by ARN (possibly another account's).

`LAMBDA_RECONCILER_READ_MODE` or `--read-mode` chooses the mode (`Aws.read_mode`). A reader
that cannot sweep (no `read_mode`, such as the tests' in-memory Lambda) is read per function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Protocol, cast

from reconciler.errors import AwsError
from reconciler.lambda_api import LambdaReader
from reconciler.live import READ_MODES, LiveAlias, LiveFunction
from reconciler.manifest import FunctionTarget
from reconciler.planner import Observed

# Below this many sweepable functions in a region, auto reads per function: the most a sweep
# could save there is a few calls, and a crowded region would make it cost more.
AUTO_MIN_FUNCTIONS = 10

PerFunction = Callable[[FunctionTarget], Observed]


class Sweeper(LambdaReader, Protocol):
    """A reader that can sweep a region (`reconciler.aws.Aws`)."""

    read_mode: str

    def sweep_region(
        self, region: str, names: Iterable[str], *, max_pages: int | None = None
    ) -> dict[str, LiveFunction] | None: ...

    def list_aliases(self, name: str, region: str | None) -> tuple[LiveAlias, ...]: ...

    def read_function(
        self,
        name: str,
        region: str | None,
        *,
        wait: bool = False,
        aliases: tuple[LiveAlias, ...] | None = None,
    ) -> LiveFunction: ...


def sweepable(target: FunctionTarget) -> bool:
    """Whether a region sweep holds everything this function's plan needs."""
    spec = target.spec
    if spec.publish or target.key.startswith("arn:"):
        return False
    return all(a.canary is None and a.rollout is None for a in spec.aliases.values())


def read_observed(
    reader: LambdaReader,
    targets: Sequence[FunctionTarget],
    parallelism: int,
    per_function: PerFunction,
) -> list[Observed]:
    """The live state of every target, in target order, read the way `aws.read_mode` says.

    `per_function(target)` reads one function on its own (the engine's reader); this module
    decides which functions go through a region sweep instead.
    """
    mode = str(getattr(reader, "read_mode", "per-function"))
    aws = cast(Sweeper, reader)
    if mode not in READ_MODES:
        raise AwsError(f"unknown read mode {mode!r} (one of {', '.join(READ_MODES)})")
    by_region: dict[str, list[int]] = {}
    if mode != "per-function":
        for i, t in enumerate(targets):
            region = t.region or aws.default_region
            if region and sweepable(t):
                by_region.setdefault(region, []).append(i)
        if mode == "auto":
            by_region = {r: ix for r, ix in by_region.items() if len(ix) >= AUTO_MIN_FUNCTIONS}
    swept = {i for ix in by_region.values() for i in ix}
    results: list[Observed | None] = [None] * len(targets)
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        # Sweeps first: each is one chain of pages, so it holds one worker while the aliases
        # of the same functions are read by the others.
        sweeps = {
            region: pool.submit(
                aws.sweep_region,
                region,
                {targets[i].name for i in ix},
                max_pages=len({targets[i].name for i in ix}) if mode == "auto" else None,
            )
            for region, ix in by_region.items()
        }
        aliases = {i: pool.submit(_aliases, aws, targets[i]) for i in swept}
        single = {i: pool.submit(per_function, t) for i, t in enumerate(targets) if i not in swept}
        for i, fut in single.items():
            results[i] = fut.result()
        later: dict[int, Future[Observed]] = {}
        for region, ix in by_region.items():
            try:
                found = sweeps[region].result()
            except AwsError as e:
                if mode == "bulk":
                    for i in ix:
                        results[i] = Observed(targets[i], None, str(e))
                    continue
                # auto: a policy without lambda:ListFunctions, or any failure of the sweep,
                # falls back to reading each function.
                found = None
            for i in ix:
                t = targets[i]
                got = aliases[i].result()
                if isinstance(got, AwsError):
                    # The engine's reader words a missing function (or any error) as always.
                    later[i] = pool.submit(per_function, t)
                elif found is None:
                    later[i] = pool.submit(_versions, aws, t, got, per_function)
                elif t.name not in found:
                    later[i] = pool.submit(per_function, t)
                else:
                    results[i] = Observed(t, replace(found[t.name], aliases=got))
            del found
        for i, fut in later.items():
            results[i] = fut.result()
    out: list[Observed] = []
    for r in results:
        assert r is not None
        out.append(r)
    return out


def _aliases(aws: Sweeper, target: FunctionTarget) -> tuple[LiveAlias, ...] | AwsError:
    try:
        return aws.list_aliases(target.key, target.region)
    except AwsError as e:
        return e


def _versions(
    aws: Sweeper, target: FunctionTarget, aliases: tuple[LiveAlias, ...], per_function: PerFunction
) -> Observed:
    """A function of an abandoned sweep: its versions on their own, the aliases already read."""
    try:
        return Observed(target, aws.read_function(target.key, target.region, aliases=aliases))
    except AwsError:
        return per_function(target)
