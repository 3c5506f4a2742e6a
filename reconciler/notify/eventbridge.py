"""Rollout events to an EventBridge bus: `PutEvents` in requests of at most 10 entries.

Each event is one entry: `Source` "lambda-reconciler", `DetailType` "Rollout Started", "Rollout
Step", "Rollout Holding", "Rollout Rolled Back" or "Rollout Complete", `Detail` the event's
JSON (`reconciler.notify.encode`), `Resources` the alias ARN, `Time` AWS's time of the write.

A request answered HTTP 200 may still fail some entries: only those whose code AWS documents as
retryable (InternalFailure, ThrottlingException) are sent again, on their own, after a bounded
exponential backoff; the others are reported. A request that fails whole (after botocore's own
retries) is reported for its entries, not retried again. Nothing here raises for a failed event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Protocol

from reconciler.aws.events import MAX_ENTRIES, EntryResult, EventEntry
from reconciler.errors import ReconcilerError
from reconciler.notify.encode import event_json
from reconciler.notify.events import EventKind, RolloutEvent
from reconciler.notify.sink import Delivery, Retry

SOURCE: Final = "lambda-reconciler"
DETAIL_TYPES: Final[Mapping[EventKind, str]] = {
    EventKind.STARTED: "Rollout Started",
    EventKind.STEP: "Rollout Step",
    EventKind.HOLDING: "Rollout Holding",
    EventKind.ROLLED_BACK: "Rollout Rolled Back",
    EventKind.COMPLETE: "Rollout Complete",
}
if set(DETAIL_TYPES) != set(EventKind):  # a new kind without its DetailType fails at import
    raise RuntimeError(f"event kinds without a DetailType: {set(EventKind) - set(DETAIL_TYPES)}")


RETRY: Final = Retry(attempts=4, base=0.2)  # 0.2 s, 0.4 s, 0.8 s between the rounds


class EventPublisher(Protocol):
    """`reconciler.aws.events.EventBridge`, as this sink uses it."""

    def put_events(self, bus: str, entries: Sequence[EventEntry]) -> Sequence[EntryResult]: ...


def entry(e: RolloutEvent) -> EventEntry:
    """The `PutEvents` entry of one event."""
    return EventEntry(SOURCE, DETAIL_TYPES[e.kind], event_json(e), (e.alias_arn,), e.at)


def _failure(e: RolloutEvent, code: str, message: str | None) -> str:
    return f"{e.function}:{e.alias} {e.kind.value}: {code}" + (f" ({message})" if message else "")


class EventBridgeSink:
    """Sends events to `bus` (a name or an ARN) through `publisher`; `attempts` bounds the
    sends of one entry (first try included), `retry` paces the rounds."""

    def __init__(
        self,
        publisher: EventPublisher,
        bus: str,
        retry: Retry = RETRY,
    ) -> None:
        self.publisher = publisher
        self.bus = bus
        self.retry = retry

    @property
    def name(self) -> str:
        return f"eventbridge {self.bus}"

    def send(self, events: Sequence[RolloutEvent]) -> Delivery:
        pending = list(events)
        failures: list[str] = []
        sent = 0
        left: list[tuple[RolloutEvent, str, str | None]] = []
        for _ in self.retry.tries():
            left = []
            for start in range(0, len(pending), MAX_ENTRIES):
                n, again, lost = self._batch(pending[start : start + MAX_ENTRIES])
                sent += n
                left.extend(again)
                failures.extend(lost)
            pending = [e for e, _, _ in left]
            if not pending:
                break
        # entries whose retryable failure outlasted every attempt
        failures.extend(_failure(e, code, msg) for e, code, msg in left)
        return Delivery(sent, tuple(failures))

    def _batch(
        self, batch: Sequence[RolloutEvent]
    ) -> tuple[int, list[tuple[RolloutEvent, str, str | None]], list[str]]:
        """One request: (delivered, entries to retry with their code, reported failures)."""
        try:
            results = self.publisher.put_events(self.bus, [entry(e) for e in batch])
        except ReconcilerError as err:  # whole request failed after botocore's retries
            return 0, [], [_failure(e, "request failed", str(err)) for e in batch]
        if len(results) != len(batch):  # one result per entry, or nothing is known
            return 0, [], [_failure(e, "no result for the entry", None) for e in batch]
        sent, again, lost = 0, [], []
        for e, r in zip(batch, results, strict=True):
            if r.ok:
                sent += 1
            elif r.retryable:
                again.append((e, r.error_code or "", r.error_message))
            else:
                lost.append(_failure(e, r.error_code or "no EventId", r.error_message))
        return sent, again, lost
