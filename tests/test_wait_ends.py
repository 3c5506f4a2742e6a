"""`apply --wait` always ends (contract §9): the deadline is checked after every round, a round
that plans a write again that the run already made stops with the write named, and applying
rounds back off. The non-converging runs come from an `Aws` whose alias writes AWS accepts but
that do not take (or land elsewhere), as a write another process undoes would."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from reconciler.aws.client import Aws
from reconciler.engine.waiting import NoProgress, Outcome, VirtualClock, Waiter
from reconciler.manifest import load_manifests
from tests.cli_helpers import write_manifest

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
RUNAWAY = 40  # alias writes after which the run is taken to loop for ever


class Undone(Aws):
    """UpdateAlias is accepted and then undone: the alias stays where it was. `land` instead
    writes the alias to version 2 with a canary of version 3 at a new weight each time (writes
    that never repeat), and `cost` is how long each write takes on the virtual clock."""

    def __init__(self, clock: VirtualClock, *, land: bool = False, cost: float = 0.0) -> None:
        super().__init__(region="us-east-1", max_rate=0)
        self.clock = clock
        self.land = land
        self.cost = cost
        self.writes = 0

    def update_alias(
        self,
        name: str,
        region: str | None,
        alias: str,
        version: str,
        weights: Mapping[str, float],
        description: str | None,
        revision_id: str,
    ) -> str:
        self.writes += 1
        assert self.writes <= RUNAWAY, "apply --wait kept writing: it does not end"
        self.clock.sleep(self.cost)
        if self.land:
            w = {"3": round(0.01 * self.writes, 2)}
            return super().update_alias(name, region, alias, "2", w, description, revision_id)
        return revision_id


@pytest.fixture
def env(emulator: Any) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(emulator.env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def manifest(emulator: Any, tmp_path: Path) -> str:
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}])
    return write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders: {aliases: {prod: {version: 3}}}
        """,
    )


def waiter(m: str, aws: Aws, clock: VirtualClock, sleeps: list[float], timeout: float) -> Waiter:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.sleep(seconds)

    return Waiter(
        load_manifests([m]),
        aws,
        clock,
        sleep,
        lambda _line: None,
        poll=timedelta(seconds=30),
        timeout=timedelta(seconds=timeout),
    )


def test_a_write_planned_again_stops_the_wait_naming_it(
    emulator: Any, tmp_path: Path, env: None
) -> None:
    """The alias write is accepted but does not take: the second round plans it again, and the
    run stops there (exit 1 at the CLI) with an error naming the function, the alias and the
    move, after exactly one write."""
    clock = VirtualClock(T0)
    aws = Undone(clock)
    w = waiter(manifest(emulator, tmp_path), aws, clock, [], timeout=3600)
    with pytest.raises(NoProgress) as e:
        w.run()
    assert aws.writes == 1
    assert "orders prod: version: 2 → 3" in str(e.value)
    assert "without progress" in str(e.value)


def test_the_deadline_is_checked_after_an_applying_round(
    emulator: Any, tmp_path: Path, env: None
) -> None:
    """Each write takes an hour and never repeats; the timeout is 30 minutes: the run ends
    TIMED_OUT (exit 3) after the first round instead of planning another."""
    clock = VirtualClock(T0)
    aws = Undone(clock, land=True, cost=3600)
    w = waiter(manifest(emulator, tmp_path), aws, clock, [], timeout=1800)
    assert w.run() == Outcome.TIMED_OUT
    assert aws.writes == 1


def test_applying_rounds_back_off_until_the_deadline(
    emulator: Any, tmp_path: Path, env: None
) -> None:
    """Writes that land but never converge (a new canary weight each time): the rounds back off
    1, 2, 4, 8, 16 s, then one poll (30 s) apiece, and the run ends TIMED_OUT at its two-minute
    deadline, after 9 writes rather than one per round-trip."""
    clock = VirtualClock(T0)
    aws = Undone(clock, land=True)
    sleeps: list[float] = []
    w = waiter(manifest(emulator, tmp_path), aws, clock, sleeps, timeout=120)
    assert w.run() == Outcome.TIMED_OUT
    assert sleeps == [1, 2, 4, 8, 16, 30, 30, 29]
    assert clock.now == T0 + timedelta(seconds=120)
    assert aws.writes == 9
