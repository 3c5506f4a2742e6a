"""Rollout events to an HTTPS webhook: one POST per event, signed, bounded retries.

The body is the event's JSON (`reconciler.notify.encode`), or with `slack` format a
Slack-compatible `{"text": "..."}` (one line: where, then the plan's sentence). Headers:

    Content-Type: application/json
    X-Reconciler-Event: the event's kind (started, step, …)
    X-Reconciler-Timestamp: Unix seconds when the request was signed
    X-Reconciler-Signature: sha256=HEX, HMAC-SHA256 with the secret over
                            TIMESTAMP + "." + BODY (bytes), when a secret is configured

A receiver recomputes the signature with its copy of the secret (`signature`) and rejects a
timestamp older than a few minutes. The secret comes from an environment variable the manifest
names; it is never in the manifest, an event, or a message.

5xx, 429, timeouts and connection failures are retried with exponential backoff, up to
`attempts` sends; any other answer is final. Failures are reported, never raised.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import Final, Literal

from reconciler.notify.encode import event_json, summary_line
from reconciler.notify.events import RolloutEvent
from reconciler.notify.sink import Delivery, Retry

SIGNATURE_HEADER: Final = "X-Reconciler-Signature"
TIMESTAMP_HEADER: Final = "X-Reconciler-Timestamp"
EVENT_HEADER: Final = "X-Reconciler-Event"
Format = Literal["json", "slack"]
RETRY: Final = Retry()  # 3 sends, 0.5 s then 1 s apart


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of `TIMESTAMP.BODY`."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body(e: RolloutEvent, fmt: Format) -> bytes:
    if fmt == "slack":
        return json.dumps({"text": summary_line(e)}, ensure_ascii=False).encode()
    return event_json(e).encode()


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class WebhookSink:
    """POSTs each event to `url`, signed with `secret` (None: unsigned)."""

    def __init__(
        self,
        url: str,
        *,
        secret: bytes | None = None,
        fmt: Format = "json",
        timeout: float = 5.0,
        retry: Retry = RETRY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret
        self.fmt: Format = fmt
        self.timeout = timeout
        self.retry = retry
        self.clock = clock

    @property
    def name(self) -> str:
        """The host only: a webhook URL's path or query often is the credential (Slack)."""
        return f"webhook {urllib.parse.urlsplit(self.url).hostname or '?'}"

    def send(self, events: Sequence[RolloutEvent]) -> Delivery:
        sent, failures = 0, []
        for e in events:
            why = self._post(e)
            if why is None:
                sent += 1
            else:
                failures.append(f"{e.function}:{e.alias} {e.kind.value}: {why}")
        return Delivery(sent, tuple(failures))

    def _request(self, e: RolloutEvent) -> urllib.request.Request:
        data = body(e, self.fmt)
        stamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "lambda-reconciler",
            EVENT_HEADER: e.kind.value,
            TIMESTAMP_HEADER: stamp,
        }
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = signature(self.secret, stamp, data)
        return urllib.request.Request(self.url, data=data, headers=headers, method="POST")

    def _post(self, e: RolloutEvent) -> str | None:
        """None once delivered (2xx), else why the last attempt failed."""
        why = "not sent"
        for _ in self.retry.tries():
            try:  # signed afresh each attempt: the timestamp is the send's
                with urllib.request.urlopen(self._request(e), timeout=self.timeout) as answer:
                    answer.read(1024)
                return None
            except urllib.error.HTTPError as err:
                why = f"HTTP {err.code}"
                if not _retryable(err.code):
                    return why
            except (urllib.error.URLError, OSError) as err:  # refused, reset, timed out
                reason = err.reason if isinstance(err, urllib.error.URLError) else err
                why = f"cannot reach it: {type(reason).__name__}"
        return f"{why} after {max(1, self.retry.attempts)} attempts"
