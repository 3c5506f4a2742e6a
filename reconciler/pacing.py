"""Client-side pacing: keep the request rate under Lambda's control-plane quota.

Lambda allows 15 control-plane requests per second per region (the project's Lambda reference).
botocore's adaptive retry mode only starts limiting after the first throttle, and its backoff
then overshoots; pacing every attempt (retries included) at the quota keeps a run at the rate
the quota allows without being throttled at all. `BENCHMARKS.md` compares the two.

The pacer hands out evenly spaced send slots (a token bucket of capacity one): no burst, so the
service's own bucket keeps its burst capacity as slack for timing jitter and for other callers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

# Lambda control-plane API quota, requests per second per region.
LAMBDA_REQUESTS_PER_SECOND = 15.0


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
        self._lock = threading.Lock()
        self.waited = 0.0

    def reserve(self) -> float:
        """Claim the next free slot; return how long the caller must wait for it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
            delay = slot - now
            self.waited += delay
            return delay

    def wait(self, **_: object) -> None:
        """Block until this caller's slot (usable directly as a botocore event handler)."""
        delay = self.reserve()
        if delay > 0:
            self._sleep(delay)
