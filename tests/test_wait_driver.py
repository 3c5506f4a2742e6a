"""The `apply --wait` driver and the signal handling, driven without the command line: the
in-memory Lambda, a virtual clock and a sleep that records what it is asked (no real sleep);
the signals are real ones, sent to this process."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reconciler.engine import (
    Outcome,
    Stopped,
    Terminated,
    Timekeeping,
    VirtualClock,
    Wait,
    timekeeping,
    until_done,
    wait_for_rollouts,
)
from reconciler.engine.signals import on_sigterm
from reconciler.manifest import ManifestSet, load_manifests
from tests.cli_helpers import write_manifest
from tests.memlambda import MemLambda, snap

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def orders(tmp_path: Path) -> tuple[MemLambda, ManifestSet]:
    """orders: prod on version 2 moves to 3 in steps of 10 % and 50 %, ten minutes each."""
    mem = MemLambda()
    mem.add("orders", snap("v3"))
    for code in ("v1", "v2", "v3"):
        mem.add_version("orders", snap(code))
    mem.set_alias("orders", "prod", "2")
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases: {prod: {version: 3, rollout: {steps: [10%, 50%], interval: 10m}}}
        """,
    )
    return mem, load_manifests([m])


def alias_writes(mem: MemLambda) -> int:
    return sum(1 for w in mem.writes if w[0] == "update_alias")


@pytest.fixture
def sigterm_sentinel() -> Iterator[object]:
    """A SIGTERM handler of the test's own while it runs (the previous one restored after), to
    see that the driver puts back whatever handler it found."""

    def sentinel(_signum: int, _frame: object) -> None:
        raise AssertionError("the driver's own SIGTERM handler was not in place")

    previous = signal.signal(signal.SIGTERM, sentinel)
    try:
        yield sentinel
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_sigterm_while_waiting_stops_the_driver_between_rounds_and_names_the_signal(
    tmp_path: Path, sigterm_sentinel: object
) -> None:
    """SIGTERM while the driver sleeps at step 1: its handler sets the stop event, the sleep
    ends, no round follows (one alias write: step 1 only), and `Stopped` names SIGTERM (exit
    143 at the command line); the handler found before is back afterwards."""
    mem, manifests = orders(tmp_path)
    clock = VirtualClock(T0)
    stop = threading.Event()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)
        os.kill(os.getpid(), signal.SIGTERM)

    time_ = Timekeeping(clock, sleep, stop, aws_time=False)
    with pytest.raises(Stopped) as e:
        wait_for_rollouts(manifests, mem, Wait(poll=30, timeout=3600), time_, lambda _: None)
    assert e.value.signum == signal.SIGTERM
    assert stop.is_set()
    assert (len(slept), alias_writes(mem)) == (1, 1)
    assert mem.functions["orders"].aliases["prod"].canary is not None  # at 10 %, not further
    assert signal.getsignal(signal.SIGTERM) is sigterm_sentinel


def test_the_driver_ends_at_its_deadline_never_sleeping_past_it(tmp_path: Path) -> None:
    """--wait-timeout 5m, --poll 2m, ten-minute steps: the driver applies step 1, sleeps a poll,
    another, then only the minute left, and ends TIMED_OUT at the deadline; without a stop or
    a signal, `Stopped` is never raised."""
    mem, manifests = orders(tmp_path)
    clock = VirtualClock(T0)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)

    time_ = Timekeeping(clock, sleep, threading.Event(), aws_time=False)
    lines: list[str] = []
    outcome = wait_for_rollouts(manifests, mem, Wait(poll=120, timeout=300), time_, lines.append)
    assert outcome is Outcome.TIMED_OUT
    assert slept == [120.0, 120.0, 60.0]
    assert clock.now == T0 + timedelta(minutes=5)
    assert alias_writes(mem) == 1
    assert any(line.startswith("orders:prod: step 1/2 at 10% since") for line in lines)


def test_timekeeping_is_virtual_when_pinned_and_a_stop_cuts_the_wall_sleep_short() -> None:
    """A pinned clock: time that only the sleep advances, planned in that time. Else the wall
    clock, planned in AWS's time, and a sleep that returns as soon as the stop event is set."""
    pinned = timekeeping(lambda: T0)
    pinned.sleep(90)
    assert (pinned.clock(), pinned.aws_time) == (T0 + timedelta(seconds=90), False)
    wall = timekeeping(None)
    assert wall.aws_time
    assert abs(wall.clock() - datetime.now(timezone.utc)) < timedelta(minutes=1)
    wall.stop.set()
    started = time.monotonic()
    wall.sleep(3600)
    assert time.monotonic() - started < 60


def test_sigterm_during_an_apply_stops_its_work_and_is_reported(
    sigterm_sentinel: object,
) -> None:
    """`until_done` with the CLI's SIGTERM handler: the signal sets the work's stop event (the
    work sees it and ends), `stopping` is said once, and the result comes back with the
    signal; a second signal is not needed."""
    signal.signal(signal.SIGTERM, on_sigterm)
    said: list[str] = []

    def work(stop: threading.Event) -> str:
        os.kill(os.getpid(), signal.SIGTERM)
        return "stopped" if stop.wait(30) else "never stopped"

    result, signalled = until_done(work, lambda: said.append("stopping"))
    assert result == "stopped"
    assert isinstance(signalled, Terminated)
    assert said == ["stopping"]
