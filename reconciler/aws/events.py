"""EventBridge `PutEvents` for rollout notifications: typed entries in, per-entry results out.

This module imports no boto3: it wraps an `events` client built where clients are built
(`reconciler.aws.session`), and turns that client's failures into `AwsError` through the
`explain` it is given (`reconciler.aws.errors.explain`, the translation of botocore's errors).
botocore retries a whole request (throttling, 5xx); a request that still fails raises
`AwsError`. A request that succeeds may still fail some entries (HTTP 200 with
`FailedEntryCount`): each result says which, in request order, and whether retrying that entry
alone may help (`retryable`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol

from reconciler.errors import AwsError

MAX_ENTRIES: Final = 10  # entries per PutEvents request
MAX_DETAIL_TYPE: Final = 128  # characters of `Source` and of `DetailType`
# Per-entry error codes AWS documents as worth retrying; every other code is not
# (AccessDeniedException, InvalidArgument, MalformedDetail, NotAuthorizedFor…, …).
RETRYABLE: Final = frozenset({"InternalFailure", "ThrottlingException"})


@dataclass(frozen=True)
class EventEntry:
    """One `PutEventsRequestEntry`: `detail` is a JSON object's text; `resources` are ARNs."""

    source: str
    detail_type: str
    detail: str
    resources: tuple[str, ...] = ()
    time: datetime | None = None


@dataclass(frozen=True)
class EntryResult:
    """One `PutEventsResultEntry`: an `event_id`, or an `error_code` and its message."""

    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None and self.event_id is not None

    @property
    def retryable(self) -> bool:
        return self.error_code in RETRYABLE


class EventsClient(Protocol):
    """What this module calls on the boto3 `events` client."""

    def put_events(self, **kwargs: Any) -> Mapping[str, Any]: ...


def _unexplained(error: Exception, doing: str) -> AwsError:
    return AwsError(f"{doing}: {type(error).__name__}: {error}")


def _request(bus: str, entries: Sequence[EventEntry]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for e in entries:
        entry: dict[str, Any] = {
            "Source": e.source,
            "DetailType": e.detail_type,
            "Detail": e.detail,
            "EventBusName": bus,
        }
        if e.resources:
            entry["Resources"] = list(e.resources)
        if e.time is not None:
            entry["Time"] = e.time
        out.append(entry)
    return out


class EventBridge:
    """`PutEvents` to one bus (a name or an ARN) through one regional `events` client."""

    def __init__(
        self,
        client: EventsClient,
        explain: Callable[[Exception, str], AwsError] = _unexplained,
    ) -> None:
        self.client = client
        self.explain = explain

    def put_events(self, bus: str, entries: Sequence[EventEntry]) -> tuple[EntryResult, ...]:
        """Send 1 to 10 entries in one request; one result per entry, in request order.
        Raises `AwsError` when the request itself fails (after botocore's retries)."""
        if not 1 <= len(entries) <= MAX_ENTRIES:
            raise ValueError(f"PutEvents takes 1 to {MAX_ENTRIES} entries, not {len(entries)}")
        doing = f"PutEvents to event bus {bus}"
        try:
            answer = self.client.put_events(Entries=_request(bus, entries))
        except AwsError:
            raise
        except Exception as e:  # the boundary's explain names every botocore failure
            raise self.explain(e, doing) from e
        results = tuple(
            EntryResult(r.get("EventId"), r.get("ErrorCode"), r.get("ErrorMessage"))
            for r in answer.get("Entries", ())
        )
        if len(results) != len(entries):  # AWS promises one per entry: anything else failed
            raise AwsError(f"{doing}: {len(results)} results for {len(entries)} entries")
        return results
