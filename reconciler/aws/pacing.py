"""Client-side pacing: keep the request rate under Lambda's control-plane quota.

Lambda allows 15 control-plane requests per second per region (the project's Lambda reference).
botocore's adaptive retry mode only starts limiting after the first throttle, and its backoff
then overshoots; pacing every attempt (retries included) at the quota keeps a run at the rate
the quota allows without being throttled at all. `BENCHMARKS.md` compares the two.

The pacer hands out evenly spaced send slots (a token bucket of capacity one): no burst, so the
service's own bucket keeps its burst capacity as slack for timing jitter and for other callers.

Not every Lambda call counts against the 15/s: AWS's quota table gives `GetFunction` its own
100 requests per second and `GetPolicy` its own 15, and invocations are data plane, outside the
control-plane quota altogether. `RegionPacers` keeps one pacer per quota, so the publish
waiter's `GetFunction` polls do not take slots from the control-plane reads and writes.

A `ListFunctions` sweep is one chain of pages (each page's marker comes from the one before), so
it cannot go faster than one page per round trip; with the other threads booking slots first
come first served it would get one slot in `--parallelism`, and its tail would run alone after
everything else. So `ListFunctions` has priority: while one ran in the last second, other
callers book at most one slot ahead, and the next page waits at most about two intervals.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Lambda control-plane API quota, requests per second per region.
LAMBDA_REQUESTS_PER_SECOND = 15.0
# Operations with a quota of their own (requests per second per region), not the 15/s above.
OWN_QUOTAS: dict[str, float] = {"GetFunction": 100.0, "GetPolicy": 15.0}
# Data-plane operations: not in the control-plane quota (concurrency limits apply instead).
UNPACED = frozenset({"Invoke", "InvokeAsync", "InvokeWithResponseStream"})
CONTROL_PLANE = "control plane"
# Chains of pages that other calls must not starve (see above), and how long after such a call
# the other callers keep their bookings short.
PRIORITY = frozenset({"ListFunctions"})
PRIORITY_WINDOW_S = 1.0


def quota_of(operation: str) -> str | None:
    """The quota a Lambda operation counts against: its own name, CONTROL_PLANE, or None for
    the data plane (not paced)."""
    if operation in UNPACED:
        return None
    return operation if operation in OWN_QUOTAS else CONTROL_PLANE


class Pacer:
    """Evenly spaced slots at `rate` per second, shared by every thread that calls `wait`."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._last_priority = float("-inf")
        self._lock = threading.Lock()
        self.waited = 0.0

    def reserve(self, *, priority: bool = False) -> float:
        """Claim the next free slot; return how long the caller must wait for it."""
        with self._lock:
            return self._book(self._clock(), priority)

    def _book(self, now: float, priority: bool) -> float:
        slot = max(now, self._next)
        self._next = slot + self.interval
        if priority:
            self._last_priority = now
        delay = slot - now
        self.waited += delay
        return delay

    def wait(self, *, priority: bool = False, **_: object) -> None:
        """Block until this caller's slot (usable directly as a botocore event handler).

        While a priority caller is active, others book only when at most one slot is booked
        ahead, so the priority caller's next booking is never behind a long queue."""
        while True:
            with self._lock:
                now = self._clock()
                ahead = self._next - now - self.interval
                if priority or ahead <= 0 or now - self._last_priority > PRIORITY_WINDOW_S:
                    delay = self._book(now, priority)
                    break
            self._sleep(ahead)
        if delay > 0:
            self._sleep(delay)


class RegionPacers:
    """One region's pacers, one per quota: control-plane calls at `rate` (`--max-rate`), the
    operations of `OWN_QUOTAS` at their own documented rates, invocations not at all."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.control = Pacer(rate, clock=clock, sleep=sleep)
        self.own = {op: Pacer(r, clock=clock, sleep=sleep) for op, r in OWN_QUOTAS.items()}

    def pacer_for(self, operation: str) -> Pacer | None:
        quota = quota_of(operation)
        if quota is None:
            return None
        return self.control if quota == CONTROL_PLANE else self.own[quota]

    def wait(self, event_name: str = "", **_: object) -> None:
        """botocore `before-send.lambda.<Operation>` handler: wait for that quota's slot."""
        operation = event_name.rsplit(".", 1)[-1]
        pacer = self.pacer_for(operation)
        if pacer is not None:
            pacer.wait(priority=operation in PRIORITY)
