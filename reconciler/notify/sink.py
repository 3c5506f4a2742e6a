"""The seam every notification sink implements, and what a delivery reports."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from reconciler.notify.events import RolloutEvent

Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Delivery:
    """How a sink's send went: events delivered, and one short cause per event that was not
    (no secret in it: a webhook is named by its host, never its URL)."""

    sent: int
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures


class Sink(Protocol):
    """A place rollout events go. `send` reports failures in its `Delivery`; the `Notifier`
    also contains anything it raises."""

    @property
    def name(self) -> str:
        """How warnings name the sink: `eventbridge BUS`, `webhook HOST`."""
        ...

    def send(self, events: Sequence[RolloutEvent]) -> Delivery: ...


@dataclass(frozen=True)
class Retry:
    """How often a sink tries one event (`attempts`, the first included) and how long it waits
    between tries: `base` seconds, doubling, at most `cap`; `sleep` waits (tests inject it)."""

    attempts: int = 3
    base: float = 0.5
    cap: float = 5.0
    sleep: Sleep = time.sleep

    def tries(self) -> Iterator[int]:
        """1, 2, … `attempts`, sleeping the backoff before each try after the first."""
        for attempt in range(1, max(1, self.attempts) + 1):
            if attempt > 1:
                self.sleep(min(self.cap, self.base * 2 ** (attempt - 2)))
            yield attempt
