"""Progress on a terminal, on standard error: the reading bar (`reading_progress`), the applying
bar (`applying_progress`) and the live rollout table of `apply --wait` (`LiveTable`).

Each is shown only to a person at a terminal (`progress_wanted`): in CI, in logs and in pipes
there is no bar (reading), one plain line per operation (applying) or one line per event
(waiting), which the caller prints. `opts` is anything with a `color` flag (the CLI's options).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from reconciler.plan import Plan
from reconciler.plan.wording import LIVE_COLUMNS, live_row

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live


class Styled(Protocol):
    color: bool


class ReadCount(Protocol):
    """One more function read (the engine's `ReadProgress`)."""

    @property
    def done(self) -> int: ...
    @property
    def region(self) -> str: ...
    @property
    def region_done(self) -> int: ...
    @property
    def region_total(self) -> int: ...
    @property
    def total(self) -> int: ...


def progress_wanted() -> bool:
    """Progress bars only for a person at a terminal, not in CI logs or pipes."""
    return sys.stderr.isatty() and not os.environ.get("CI")


def _stderr(opts: Styled) -> Console:
    from rich.console import Console

    return Console(stderr=True, no_color=not opts.color, highlight=False)


@contextlib.contextmanager
def reading_progress(
    opts: Styled, total: int, console: Console | None = None
) -> Iterator[Callable[[ReadCount], None] | None]:
    """While live state is read: a bar on standard error with the functions read of `total`
    and the count per region (on a terminal; None, nothing shown, otherwise). `console` is
    the terminal to draw on (standard error by default)."""
    if console is None:
        if not progress_wanted() or total == 0:
            yield None
            return
        console = _stderr(opts)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (
        TextColumn("reading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[where]}"),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("read", total=total, where="")
        regions: dict[str, tuple[int, int]] = {}

        def report(p: ReadCount) -> None:
            regions[p.region or "default region"] = (p.region_done, p.region_total)
            # One region: its count is the total's, so it is not repeated.
            several = p.region_total != p.total
            where = "  ".join(f"{r} {d}/{t}" for r, (d, t) in sorted(regions.items()))
            where = where if several else ""
            bar.update(task, completed=p.done, where=where)

        yield report


@contextlib.contextmanager
def applying_progress(opts: Styled, plan: Plan) -> Iterator[Callable[[str], None] | None]:
    """While a plan is applied: a bar of its operations on a terminal, each outcome line
    printed above it; None elsewhere (the caller prints one plain line per operation)."""
    if not progress_wanted():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    total = sum(len(fp.operations) for fp in plan.functions)
    total += sum(len(lp.operations) for lp in plan.layers)
    with Progress(
        TextColumn("applying"), BarColumn(), MofNCompleteColumn(), console=_stderr(opts)
    ) as bar:
        task = bar.add_task("apply", total=total)

        def progress(line: str) -> None:
            bar.console.print(line, markup=False)
            if " … " in line:  # an operation's outcome ("… done"), not a hook's "passed" note
                bar.advance(task)

        yield progress


class LiveTable:
    """A rich `Live` table on a terminal: one row per rollout of the run, redrawn each round;
    `say` prints an event line above it. Use it as a context manager around the waiting."""

    def __init__(self, console: Console) -> None:
        from rich.live import Live

        self.console = console
        self.live: Live = Live(console=console, auto_refresh=False, transient=False)

    def __enter__(self) -> LiveTable:
        self.live.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.live.stop()

    def say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

    def update(self, plan: Plan, now: datetime) -> None:
        from rich.table import Table

        table = Table(*LIVE_COLUMNS, box=None, header_style="bold", pad_edge=False)
        for fp in plan.functions:
            for r in fp.rollouts:
                table.add_row(*live_row(fp.function, r, now))
        self.live.update(table, refresh=True)


def live_table(opts: Styled) -> LiveTable | None:
    """The live rollout table on a terminal; None in CI and when standard error is a file or a
    pipe (one line per event there)."""
    if not progress_wanted():
        return None
    return LiveTable(_stderr(opts))
