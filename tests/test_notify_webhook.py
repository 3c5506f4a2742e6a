"""The webhook sink against a real HTTP receiver on 127.0.0.1 (a thread of this process):
the signature a receiver can verify, Slack's body, retries on 5xx/429 then giving up, no retry
on other 4xx, an unreachable host, and a notifier that never raises. Sleeps are injected."""

from __future__ import annotations

import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from reconciler.notify import EventKind, Notifier, RolloutEvent, WebhookSink, signature
from reconciler.notify.sink import Retry
from reconciler.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from reconciler.plan import AlarmFired, RolloutPhase

SECRET = b"s3cret-for-tests"
EVENT = RolloutEvent(
    kind=EventKind.ROLLED_BACK,
    function="orders",
    region="eu-west-1",
    account="123456789012",
    alias="prod",
    alias_arn="arn:aws:lambda:eu-west-1:123456789012:function:orders:prod",
    from_version="6",
    to_version="7",
    weight=0.0,
    step=2,
    steps=2,
    attempt=1,
    phase=RolloutPhase.ROLLING_BACK,
    cause=AlarmFired("orders-errors"),
    at=datetime(2026, 12, 7, 12, 25, tzinfo=timezone.utc),
    message="rolled back to 6: alarm orders-errors in ALARM",
)


@dataclass
class Receiver:
    """What the receiver got, and the statuses it answers with next (then 200)."""

    url: str
    answers: list[int] = field(default_factory=list)
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", "0"))
            state.got.append((dict(self.headers.items()), self.rfile.read(size)))
            code = state.answers.pop(0) if state.answers else 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hook/T0/path-token"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def rx(receiver: Receiver) -> Receiver:
    receiver.answers.clear()
    receiver.got.clear()
    return receiver


def test_receiver_verifies_the_signature_over_timestamp_and_body(rx: Receiver) -> None:
    """The receiver recomputes HMAC-SHA256(secret, TIMESTAMP.BODY) from the headers and the
    raw body and finds it equal; the body is the event's JSON; a changed body does not verify."""
    sink = WebhookSink(rx.url, secret=SECRET, clock=lambda: 1_796_000_000.0)
    assert sink.send([EVENT]).ok
    ((headers, body),) = rx.got
    stamp = headers[TIMESTAMP_HEADER]
    assert stamp == "1796000000"
    expected = "sha256=" + hmac.new(SECRET, stamp.encode() + b"." + body, "sha256").hexdigest()
    assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected)
    assert headers[SIGNATURE_HEADER] != signature(SECRET, stamp, body + b" ")
    assert headers["X-Reconciler-Event"] == "rolled_back"
    data = json.loads(body)
    assert (data["kind"], data["cause"], data["message"]) == (
        "rolled_back",
        {"kind": "alarm", "alarm": "orders-errors"},
        "rolled back to 6: alarm orders-errors in ALARM",
    )
    assert SECRET.decode() not in body.decode()


def test_slack_format_and_no_secret_means_no_signature(rx: Receiver) -> None:
    """`format: slack` posts `{"text": ...}` with where and the plan's sentence; without a
    secret the request carries no signature header."""
    assert WebhookSink(rx.url, fmt="slack").send([EVENT]).ok
    ((headers, body),) = rx.got
    assert json.loads(body) == {
        "text": "orders:prod (123456789012 eu-west-1): rolled back to 6: alarm orders-errors "
        "in ALARM"
    }
    assert SIGNATURE_HEADER not in headers


def test_5xx_and_429_are_retried_with_backoff_then_delivered(rx: Receiver) -> None:
    """503 then 429 then 200: three sends, waits of base then twice base; delivered."""
    rx.answers[:] = [503, 429]
    sleeps: list[float] = []
    sink = WebhookSink(rx.url, secret=SECRET, retry=Retry(3, 0.5, 5.0, sleeps.append))
    assert sink.send([EVENT]).ok
    assert len(rx.got) == 3
    assert sleeps == [0.5, 1.0]


def test_gives_up_after_its_attempts_and_does_not_retry_a_4xx(rx: Receiver) -> None:
    """500 every time: `attempts` sends, then one failure naming the status (never the URL's
    path); a 403 is final at once."""
    rx.answers[:] = [500, 500, 500, 403]
    sleeps: list[float] = []
    sink = WebhookSink(rx.url, retry=Retry(3, 0.5, 5.0, sleeps.append))
    first = sink.send([EVENT])
    assert first.failures == ("orders:prod rolled_back: HTTP 500 after 3 attempts",)
    second = sink.send([EVENT])
    assert second.failures == ("orders:prod rolled_back: HTTP 403",)
    assert len(rx.got) == 4
    assert sleeps == [0.5, 1.0]


def test_unreachable_receiver_is_retried_then_one_warning_and_notify_returns() -> None:
    """Connection refused on every try: the sink retries, gives up, and the notifier turns it
    into one warning line naming the host only; nothing is raised to the caller."""
    with socket.socket() as s:  # a port nobody listens on any more
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps: list[float] = []
    sink = WebhookSink(
        f"http://127.0.0.1:{port}/T0/path-token", retry=Retry(2, 0.1, 1.0, sleeps.append)
    )
    warnings: list[str] = []
    Notifier([sink], warnings.append).notify([EVENT])
    assert sleeps == [0.1]
    assert warnings == [
        "warning: notification to webhook 127.0.0.1: 1 of 1 event not delivered: "
        "orders:prod rolled_back: cannot reach it: ConnectionRefusedError after 2 attempts"
    ]
    assert "path-token" not in warnings[0]
