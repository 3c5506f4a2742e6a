"""Fans rollout events out to every configured sink, in order, and never raises.

Notifications are a side channel: a sink that fails (or raises) costs one warning line and never
stops an apply or a rollback. A `holding` event equal to the last one sent for the same alias
(the same phase, cause and weight; `apply --wait` sees a hold on every round) is sent once per
process.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from reconciler.notify.events import EventKind, RolloutEvent
from reconciler.notify.sink import Delivery, Sink

Warn = Callable[[str], None]


def _key(e: RolloutEvent) -> tuple[str, str, str, str]:
    return (e.account, e.region, e.function, e.alias)


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class Notifier:
    """Sends each batch of events to `sinks` in order; `warn` gets one line per failing sink.
    Safe to call from the executor's threads (a lock keeps sends in order)."""

    def __init__(self, sinks: Sequence[Sink], warn: Warn) -> None:
        self.sinks = tuple(sinks)
        self.warn = warn
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str, str, str], RolloutEvent] = {}

    def __bool__(self) -> bool:
        return bool(self.sinks)

    def _news(self, events: Sequence[RolloutEvent]) -> list[RolloutEvent]:
        out = []
        for e in events:
            last = self._last.get(_key(e))
            self._last[_key(e)] = e
            if e.kind is EventKind.HOLDING and last is not None and _same_hold(last, e):
                continue
            out.append(e)
        return out

    def notify(self, events: Sequence[RolloutEvent]) -> None:
        """Deliver `events` to every sink; never raises (each failure is one warning)."""
        if not self.sinks or not events:
            return
        try:
            with self._lock:
                news = self._news(events)
                if news:
                    for sink in self.sinks:
                        self._send(sink, news)
        except Exception as e:  # a notification never stops the run
            self._warn(f"notifications: {type(e).__name__}: {e}")

    def _send(self, sink: Sink, events: Sequence[RolloutEvent]) -> None:
        try:
            delivery = sink.send(events)
        except Exception as e:  # a sink's bug is a warning, not a failed apply
            delivery = Delivery(0, (f"{type(e).__name__}: {e}",) * len(events))
        if delivery.failures:
            n = len(delivery.failures)
            self._warn(
                f"notification to {sink.name}: {n} of {len(events)} "
                f"event{'s' if len(events) != 1 else ''} not delivered: {delivery.failures[0]}"
            )

    def _warn(self, line: str) -> None:
        with contextlib.suppress(Exception):  # not even a broken stderr stops the run
            self.warn("warning: " + _one_line(line))


def _same_hold(a: RolloutEvent, b: RolloutEvent) -> bool:
    """The same hold again: equal but for when it was seen and the run that saw it."""
    return a.kind is b.kind and replace(a, at=b.at, run=b.run) == b


class Notifiers:
    """The notifier of each function of a run (functions of one manifest share its
    `defaults.notifications`), keyed by (manifest key, region); a function without one gets a
    notifier with no sink."""

    def __init__(self, by_function: Mapping[tuple[str, str], Notifier], warn: Warn) -> None:
        self.by_function = dict(by_function)
        self.none = Notifier((), warn)

    def of(self, key: str, region: str) -> Notifier:
        return self.by_function.get((key, region), self.none)

    def __bool__(self) -> bool:
        return any(self.by_function.values())
