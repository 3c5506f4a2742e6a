"""EventBridge PutEvents as the project's reference describes it, for rollout notifications.

moto's PutEvents checks the entry count and that each entry has `Source`, `DetailType` and
`Detail` (valid JSON), but accepts a `Detail` that is not an object, a `DetailType` of any
length and requests of any size, answers 200 even when no entry is valid, keeps nothing a test
could read back (only rules' targets get the events) and cannot be made to fail an entry.
Here:

- 1–10 entries (more → 400 ValidationException); an entry without `Source`, `DetailType` or
  `Detail` fails alone (`InvalidArgument`, moto's and AWS's texts); a `Detail` that is not a
  JSON object → `MalformedDetail`; if no entry has all three, the whole request fails (400
  ValidationException ⚠ text); a `DetailType` over 128 characters → 400 ValidationException;
- the total entry size (UTF-8 bytes of `Source`, `DetailType`, `Detail` and each of
  `Resources`, plus 14 with `Time`) must stay under the request limit, 1 MB by default (the
  installed botocore model's figure; `events_settings` sets 256 KB, the older one) → else
  400 ValidationException ⚠ text;
- a custom bus (name or ARN) must exist in moto's backend of the account and region (create it
  with CreateEventBus) → else 400 ResourceNotFoundException for the request (moto's answer ⚠);
- partial failure is HTTP 200 with `FailedEntryCount` and `Entries` in request order;
- `fail_entries(n, code)` makes the next `n` entries that would succeed fail with `code`
  (ThrottlingException and InternalFailure are retryable, AccessDeniedException is not);
- every accepted event is kept per (account, region, bus) in arrival order, for tests.

Events are not passed on to moto's rules and targets.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from emulator.layer import ApiError

MAX_ENTRIES = 10
MAX_DETAIL_TYPE = 128
DEFAULT_REQUEST_BYTES = 1024 * 1024
MESSAGES = {
    "ThrottlingException": "Request rate exceeded.",
    "InternalFailure": "An internal failure occurred.",
    "AccessDeniedException": "Not authorized to put events on this event bus.",
}


@dataclass
class EventsState:
    received: dict[tuple[str, str, str], list[dict[str, Any]]] = field(default_factory=dict)
    fail_next: list[tuple[str, str]] = field(default_factory=list)  # (ErrorCode, ErrorMessage)
    max_request_bytes: int = DEFAULT_REQUEST_BYTES
    seq: int = 0


def _validation(message: str) -> ApiError:
    return ApiError(400, "ValidationException", message)


def entry_size(entry: dict[str, Any]) -> int:
    """The entry size AWS's "Calculating PutEvents event entry size" page defines."""
    size = 14 if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        if entry.get(key):
            size += len(str(entry[key]).encode())
    for resource in entry.get("Resources") or []:
        size += len(str(resource).encode())
    return size


def _bus_name(raw: Any) -> str:
    name = str(raw or "default")
    return name.split(":event-bus/", 1)[1] if name.startswith("arn:") else name


def _entry_error(entry: dict[str, Any]) -> tuple[str, str] | None:
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return (
                "InvalidArgument",
                f"Parameter {key} is not valid. Reason: {key} is a required argument.",
            )
    try:
        detail = json.loads(str(entry["Detail"]))
    except ValueError:
        return ("MalformedDetail", "Detail is malformed.")
    if not isinstance(detail, dict):
        return ("MalformedDetail", "Detail is malformed.")
    return None


def _check_request(entries: Any, account: str, region: str, limit: int) -> list[dict[str, Any]]:
    from moto.events.models import events_backends

    if not isinstance(entries, list) or not entries:
        raise _validation(
            "1 validation error detected: Value '[]' at 'entries' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    if len(entries) > MAX_ENTRIES:
        raise _validation(
            "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed "
            f"to satisfy constraint: Member must have length less than or equal to {MAX_ENTRIES}"
        )
    for i, e in enumerate(entries, 1):
        if len(str(e.get("DetailType") or "")) > MAX_DETAIL_TYPE:
            raise _validation(
                f"1 validation error detected: Value '{e['DetailType']}' at "
                f"'entries.{i}.member.detailType' failed to satisfy constraint: Member must "
                f"have length less than or equal to {MAX_DETAIL_TYPE}"
            )
    if sum(entry_size(e) for e in entries) > limit:
        raise _validation("Total size of the entries in the request is over the limit.")
    if all(not (e.get("Source") and e.get("DetailType") and e.get("Detail")) for e in entries):
        raise _validation("None of the entries in the request has Source, DetailType and Detail.")
    buses = events_backends[account][region].event_buses
    for e in entries:
        bus = _bus_name(e.get("EventBusName"))
        if bus != "default" and bus not in buses:
            raise ApiError(404, "ResourceNotFoundException", f"Event bus {bus} does not exist.")
    return entries


def put_events(
    state: EventsState, body: dict[str, Any], account: str, region: str, now: datetime
) -> dict[str, Any]:
    """Answer one PutEvents request; raises ApiError when the whole request fails."""
    entries = _check_request(body.get("Entries"), account, region, state.max_request_bytes)
    results: list[dict[str, Any]] = []
    for e in entries:
        error = _entry_error(e)
        if error is None and state.fail_next:
            error = state.fail_next.pop(0)
        if error is not None:
            results.append({"ErrorCode": error[0], "ErrorMessage": error[1]})
            continue
        event_id = str(uuid.uuid4())
        bus = _bus_name(e.get("EventBusName"))
        state.seq += 1
        when = e.get("Time")
        stamp = (
            datetime.fromtimestamp(float(when), timezone.utc)
            if isinstance(when, (int, float))
            else now
        )
        state.received.setdefault((account, region, bus), []).append(
            {
                "seq": state.seq,
                "id": event_id,
                "account": account,
                "region": region,
                "bus": bus,
                "source": e["Source"],
                "detail_type": e["DetailType"],
                "detail": json.loads(e["Detail"]),
                "resources": list(e.get("Resources") or []),
                "time": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "trace_header": e.get("TraceHeader"),
            }
        )
        results.append({"EventId": event_id})
    failed = sum(1 for r in results if "ErrorCode" in r)
    return {"FailedEntryCount": failed, "Entries": results}


def fail_entries(state: EventsState, body: dict[str, Any]) -> dict[str, Any]:
    """The control call `POST events/fail`: the next `count` entries fail with `code`."""
    code = str(body.get("code", "InternalFailure"))
    message = str(body.get("message") or MESSAGES.get(code, f"injected {code}"))
    state.fail_next = [(code, message)] * int(body.get("count", 1))
    return {"fail_next": len(state.fail_next), "code": code}


def received(state: EventsState, query: dict[str, str]) -> list[dict[str, Any]]:
    """The control call `GET events`: accepted events in arrival order, filtered by `account`,
    `region` and `bus` when given."""
    out = [
        event
        for (account, region, bus), events in state.received.items()
        if query.get("account", account) == account
        and query.get("region", region) == region
        and query.get("bus", bus) == bus
        for event in events
    ]
    return sorted(out, key=lambda ev: int(ev["seq"]))
