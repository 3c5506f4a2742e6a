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

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Protocol, cast

from reconciler.aws import READ_MODES, LambdaReader, LiveAlias, LiveFunction
from reconciler.errors import AwsError
from reconciler.manifest import FunctionTarget
from reconciler.planning import Observed

# Below this many sweepable functions in a region, auto reads per function: the most a sweep
# could save there is a few calls, and a crowded region would make it cost more.
AUTO_MIN_FUNCTIONS = 10

PerFunction = Callable[[FunctionTarget], Observed]


class Sweeper(LambdaReader, Protocol):
    """A reader that can sweep a region (`reconciler.aws.client.Aws`)."""

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
    if spec.publishes or target.key.startswith("arn:"):
        return False
    return all(a.canary is None and a.rollout is None for a in spec.aliases.values())


def read_observed(
    reader: LambdaReader,
    targets: Sequence[FunctionTarget],
    parallelism: int,
    per_function: PerFunction,
    on_read: Callable[[int], None] | None = None,
) -> list[Observed]:
    """The live state of every target, in target order, read the way `aws.read_mode` says.

    `per_function(target)` reads one function on its own (the engine's reader); this module
    decides which functions go through a region sweep instead. `on_read(i)` is called once per
    target as soon as its state is read (from any thread), for progress.
    """

    told = _Told(on_read)

    def watch(i: int, fut: Future[Observed]) -> None:
        fut.add_done_callback(lambda _: told(i))

    mode = str(getattr(reader, "read_mode", "per-function"))
    if mode not in READ_MODES:
        raise AwsError(f"unknown read mode {mode!r} (one of {', '.join(READ_MODES)})")
    run = _Run(cast(Sweeper, reader), targets, mode, per_function)
    by_region = run.regions()
    swept = {i for ix in by_region.values() for i in ix}
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        # Sweeps first: each is one chain of pages, so it holds one worker while the aliases
        # of the same functions are read by the others.
        sweeps = {region: pool.submit(run.sweep, region, ix) for region, ix in by_region.items()}
        aliases = {i: pool.submit(_aliases, run.aws, targets[i]) for i in swept}
        for region, ix in by_region.items():
            told.as_swept(sweeps[region], {i: aliases[i] for i in ix}, targets)
        single = {i: pool.submit(per_function, t) for i, t in enumerate(targets) if i not in swept}
        for i, fut in single.items():
            watch(i, fut)
        done = {i: fut.result() for i, fut in single.items()}
        later: dict[int, Future[Observed]] = {}
        for region, ix in by_region.items():
            assembled = run.assemble(pool, ix, sweeps[region], aliases, later)
            for i in assembled:
                told(i)
            done.update(assembled)
        for i, fut in later.items():
            watch(i, fut)
        done.update({i: fut.result() for i, fut in later.items()})
    return [done[i] for i in range(len(targets))]


class _Told:
    """`on_read` once per target, from whichever thread first knows the target is read. A
    swept function is read once both its region's sweep (that found it) and its aliases are:
    the count moves while the aliases come in, not all at once when the region ends."""

    def __init__(self, on_read: Callable[[int], None] | None) -> None:
        self.on_read = on_read
        self.lock = threading.Lock()
        self.told: set[int] = set()

    def __call__(self, i: int) -> None:
        if self.on_read is None:
            return
        with self.lock:
            if i in self.told:
                return
            self.told.add(i)
        self.on_read(i)

    def as_swept(
        self,
        sweep: Future[dict[str, LiveFunction] | AwsError | None],
        aliases: dict[int, Future[tuple[LiveAlias, ...] | AwsError]],
        targets: Sequence[FunctionTarget],
    ) -> None:
        """Tell each of `aliases` as soon as it and `sweep` are both done (a future is marked
        done before its callbacks run, so one of the two callbacks sees the other done)."""
        if self.on_read is None:
            return

        def found(i: int) -> bool:
            result = sweep.result()
            return isinstance(result, dict) and targets[i].name in result

        def alias_done(i: int) -> Callable[[object], None]:
            def callback(_: object) -> None:
                if sweep.done() and found(i):
                    self(i)

            return callback

        def sweep_done(_: object) -> None:
            for i, fut in aliases.items():
                if fut.done() and found(i):
                    self(i)

        for i, fut in aliases.items():
            fut.add_done_callback(alias_done(i))
        sweep.add_done_callback(sweep_done)


class _Run:
    """One read: which regions to sweep, and how each swept function's state is put together."""

    def __init__(
        self,
        aws: Sweeper,
        targets: Sequence[FunctionTarget],
        mode: str,
        per_function: PerFunction,
    ) -> None:
        self.aws = aws
        self.targets = targets
        self.mode = mode
        self.per_function = per_function

    def regions(self) -> dict[str, list[int]]:
        """Region → indexes of the targets to read from its sweep."""
        by_region: dict[str, list[int]] = {}
        if self.mode == "per-function":
            return by_region
        for i, t in enumerate(self.targets):
            region = t.region or self.aws.default_region
            if region and sweepable(t):
                by_region.setdefault(region, []).append(i)
        if self.mode == "auto":
            return {r: ix for r, ix in by_region.items() if len(ix) >= AUTO_MIN_FUNCTIONS}
        return by_region

    def sweep(self, region: str, ix: list[int]) -> dict[str, LiveFunction] | AwsError | None:
        """The region's sweep (None: abandoned by auto's budget; an error: it failed)."""
        names = {self.targets[i].name for i in ix}
        try:
            budget = len(names) if self.mode == "auto" else None
            return self.aws.sweep_region(region, names, max_pages=budget)
        except AwsError as e:
            return e

    def assemble(
        self,
        pool: ThreadPoolExecutor,
        ix: list[int],
        sweep: Future[dict[str, LiveFunction] | AwsError | None],
        aliases: dict[int, Future[tuple[LiveAlias, ...] | AwsError]],
        later: dict[int, Future[Observed]],
    ) -> dict[int, Observed]:
        """Each function of a region: from the sweep and its aliases, or read again on its own
        (queued in `later`) where the sweep could not serve it."""
        found = sweep.result()
        out: dict[int, Observed] = {}
        if isinstance(found, AwsError):
            if self.mode == "bulk":
                return {i: Observed(self.targets[i], None, str(found)) for i in ix}
            # auto: a policy without lambda:ListFunctions, or any failure of the sweep,
            # falls back to reading each function.
            found = None
        for i in ix:
            t = self.targets[i]
            got = aliases[i].result()
            if isinstance(got, AwsError) or (found is not None and t.name not in found):
                # The engine's reader words a missing function (or any error) as always.
                later[i] = pool.submit(self.per_function, t)
            elif found is None:
                later[i] = pool.submit(_versions, self.aws, t, got, self.per_function)
            else:
                out[i] = Observed(t, replace(found[t.name], aliases=got))
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
