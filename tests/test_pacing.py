"""Client-side pacing under Lambda's request quota: the pacer alone, then the CLI over HTTP.

The emulator's `rate_limit_per_s` is a per-region token bucket that answers 429 when empty, as
Lambda's quota does; the CLI paces every Lambda request (`--max-rate`) so it is not throttled.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.aws.pacing import Pacer
from tests.cli_helpers import lambda_calls, run_cli, write_manifest


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_slots_are_evenly_spaced_from_the_first_request() -> None:
    clock = FakeClock()
    pacer = Pacer(4, clock=clock, sleep=clock.sleep)
    assert [pacer.reserve() for _ in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_idle_time_buys_no_burst() -> None:
    """Capacity one: after a pause the next request goes at once, the one after waits a full
    interval (the service's own burst stays free for jitter and for other callers)."""
    clock = FakeClock()
    pacer = Pacer(10, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 5
    assert pacer.reserve() == 0.0
    assert pacer.reserve() == pytest.approx(0.1)


def test_waiting_callers_are_released_at_the_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(2, clock=clock, sleep=clock.sleep)
    released = []
    for _ in range(4):
        pacer.wait()
        released.append(clock.now - 100.0)
    assert released == [0.0, 0.5, 1.0, 1.5]


def test_threads_get_distinct_slots() -> None:
    clock = FakeClock()  # time stands still: each slot's delay is exactly its place in line
    pacer = Pacer(1000, clock=clock, sleep=clock.sleep)
    delays: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(50):
            d = pacer.reserve()
            with lock:
                delays.append(d)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 400 slots 1 ms apart were handed out, none twice, none skipped.
    assert sorted(delays) == pytest.approx([i / 1000 for i in range(400)])


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        Pacer(0)


def _fleet(emulator: Any, tmp_path: Path, n: int) -> str:
    names = [f"paced-{i}" for i in range(n)]
    emulator.seed([{"name": name, "versions": 2, "aliases": {"prod": 1}} for name in names])
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(f"  {name}:\n    aliases:\n      prod: {{version: 2}}\n" for name in names)
    return write_manifest(tmp_path, body)


def _run(
    emulator: Any, manifest: str, *args: str, env: dict[str, str] | None = None
) -> tuple[Any, list[dict[str, Any]], float]:
    """Apply under a quota of 5 requests/s: (result, Lambda calls received, wall seconds)."""
    emulator.faults(rate_limit_per_s=5)
    emulator.clear_calls()
    started = time.monotonic()
    r = run_cli(emulator, "apply", manifest, "--auto-approve", "--parallelism", "8", *args, env=env)
    elapsed = time.monotonic() - started
    calls = lambda_calls(emulator)
    emulator.faults()
    return r, calls, elapsed


def test_cli_paced_at_the_quota_is_never_throttled(emulator: Any, tmp_path: Path) -> None:
    """Quota 5/s, --max-rate 5, --parallelism 8, 4 functions: 13 calls (list versions, list
    aliases and update alias per function, and the region's GetAccountSettings), none
    throttled, spread over at least 11 intervals."""
    manifest = _fleet(emulator, tmp_path, 4)
    r, calls, elapsed = _run(emulator, manifest, "--max-rate", "5")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(calls) == 13
    assert [c for c in calls if c.get("throttled")] == []
    assert elapsed >= 11 / 5
    assert emulator.state("paced-3")["aliases"]["prod"]["FunctionVersion"] == "2"


def test_cli_unpaced_trips_the_same_quota(emulator: Any, tmp_path: Path) -> None:
    """The same run with the pacer off (`LAMBDA_RECONCILER_MAX_RATE=0`): eight concurrent reads
    meet a bucket of five, so some calls are throttled (and retried until the run converges)."""
    manifest = _fleet(emulator, tmp_path, 6)
    r, calls, _ = _run(emulator, manifest, env={"LAMBDA_RECONCILER_MAX_RATE": "0"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert any(c.get("throttled") for c in calls)
    assert len([c for c in calls if not c.get("throttled")]) == 19


def test_a_chain_of_pages_is_not_queued_behind_the_other_threads() -> None:
    """Six threads keep booking slots at 20/s; a thread sending ListFunctions pages (priority)
    waits about two slots a page, where first come first served would make it wait behind all
    six (about seven slots); and the six still use every slot."""
    pacer = Pacer(20)
    stop = threading.Event()
    sent: list[float] = []
    lock = threading.Lock()

    def busy() -> None:
        while not stop.is_set():
            pacer.wait()
            with lock:
                sent.append(time.monotonic())

    threads = [threading.Thread(target=busy) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # the six have a queue going
    started = time.monotonic()
    for _ in range(10):
        pacer.wait(priority=True)
    chain = time.monotonic() - started
    stop.set()
    for t in threads:
        t.join()
    # First come first served: 10 pages x 7 slots x 50 ms = 3.5 s; with priority about 1 s.
    assert chain < 2.0
    during = [t for t in sent if started <= t <= started + chain]
    # The others took the slots the pages left: all but about one slot a page (50 ms each).
    assert len(during) >= chain / 0.05 - 10 - 3
