"""Rollout notifications: typed events derived from the executor's rollout writes, sent to
EventBridge and webhooks by a `Notifier` that never fails a run.

    events.py      `RolloutEvent` and its pure derivation from a write or a rollout's status
    encode.py      the event as JSON (the documented keys)
    sink.py        the `Sink` Protocol and a sink's `Delivery`
    eventbridge.py PutEvents in batches of 10, retrying only retryable failed entries
    webhook.py     a signed HTTPS POST (JSON or Slack-compatible), bounded retries
    notifier.py    fans events out to the sinks; failures are one warning line each
    config.py      `defaults.notifications` (pydantic) and `build_notifier`
"""

from reconciler.notify.config import (
    EventBridgeSpec,
    NotificationsSpec,
    WebhookSpec,
    build_notifier,
    build_notifiers,
)
from reconciler.notify.encode import event_data, event_json
from reconciler.notify.eventbridge import EventBridgeSink, EventPublisher
from reconciler.notify.events import (
    EventKind,
    RolloutEvent,
    RunInfo,
    Written,
    events_for_mark,
    events_for_status,
    events_for_write,
)
from reconciler.notify.notifier import Notifier, Notifiers
from reconciler.notify.sink import Delivery, Sink
from reconciler.notify.webhook import WebhookSink, signature

__all__ = [
    "Delivery",
    "EventBridgeSink",
    "EventBridgeSpec",
    "EventKind",
    "EventPublisher",
    "NotificationsSpec",
    "Notifier",
    "Notifiers",
    "RolloutEvent",
    "RunInfo",
    "Sink",
    "WebhookSink",
    "WebhookSpec",
    "Written",
    "build_notifier",
    "build_notifiers",
    "event_data",
    "event_json",
    "events_for_mark",
    "events_for_status",
    "events_for_write",
    "signature",
]
