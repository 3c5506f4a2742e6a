"""Rollout notifications in process: events derived from a canary's writes, their JSON, the
EventBridge sink's batching and per-entry retries, the notifier's containment of failures, and
the `defaults.notifications` model. No network, no sleeps (sleep is injected)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from reconciler.aws.events import EntryResult, EventBridge, EventEntry
from reconciler.errors import AwsError, ReconcilerError
from reconciler.notify import (
    Delivery,
    EventBridgeSink,
    EventKind,
    NotificationsSpec,
    Notifier,
    RolloutEvent,
    RunInfo,
    Written,
    build_notifier,
    build_notifiers,
    event_data,
    events_for_mark,
    events_for_status,
    events_for_write,
)
from reconciler.notify.encode import cause_data
from reconciler.notify.eventbridge import EventPublisher
from reconciler.notify.events import Cause
from reconciler.notify.sink import Retry
from reconciler.plan import (
    AlarmFired,
    AlarmNoData,
    ClockSkew,
    ErrorRateAbove,
    FunctionPlan,
    HookFailed,
    HookPhase,
    ManualRollback,
    MetricsPending,
    MetricsUnread,
    RolloutPhase,
    RolloutState,
    RolloutStatus,
    WorseThanPrevious,
)

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
FP = FunctionPlan(
    key="orders",
    function="orders",
    region="eu-west-1",
    account="123456789012",
    source="m.yaml:3:3",
    arn="arn:aws:lambda:eu-west-1:123456789012:function:orders",
)
RUN = RunInfo("42/1", "3f2a9c1")


def status(phase: RolloutPhase, step: int, weight: float, **kw: Any) -> RolloutStatus:
    base: dict[str, Any] = {"previous": "6", "weights": (0.1, 0.5), "interval": 600}
    return RolloutStatus("prod", "7", step, 2, weight, phase, **{**base, **kw})


def state(step: int, minutes: int, st: str = "running", **kw: Any) -> RolloutState:
    return RolloutState("7", "6", step, T0 + timedelta(minutes=minutes), st, **kw)


def written(
    record: RolloutState | None, version: str, weights: dict[str, float], minutes: int
) -> Written:
    return Written("prod", "7", version, weights, record, T0 + timedelta(minutes=minutes))


def canary_story() -> list[RolloutEvent]:
    """A canary of 7 over 6 that starts, steps, holds, rolls back on an alarm, then (attempt 2,
    all at once) completes: the events the executor's calls would derive, in order."""
    alarm = AlarmFired("orders-errors")
    pending = MetricsPending(T0 + timedelta(minutes=23))
    out: list[RolloutEvent] = []
    out += events_for_write(
        FP, status(RolloutPhase.STARTING, 1, 0.1), written(state(1, 0), "6", {"7": 0.1}, 0), RUN
    )
    out += events_for_write(
        FP, status(RolloutPhase.ADVANCING, 2, 0.5), written(state(2, 10), "6", {"7": 0.5}, 10), RUN
    )
    gated = status(RolloutPhase.GATED, 2, 0.5, hold=pending)
    out += events_for_status(FP, gated, T0 + timedelta(minutes=20), RUN)
    out += events_for_status(FP, status(RolloutPhase.WAITING, 2, 0.5), T0, RUN)  # no news
    failed = state(2, 25, "failed", cause=alarm)
    rolling = status(RolloutPhase.ROLLING_BACK, 2, 0.5, cause=alarm)
    out += events_for_write(FP, rolling, written(failed, "6", {}, 25), RUN)
    again = RolloutStatus("prod", "7", 0, 0, 1.0, RolloutPhase.STARTING, previous="6", attempt=2)
    done = RolloutState("7", "6", 1, T0 + timedelta(minutes=30), "done", attempt=2)
    out += events_for_write(FP, again, written(done, "7", {}, 30), RUN)
    return out


def test_a_canary_that_steps_holds_rolls_back_and_completes_gives_its_events_in_order() -> None:
    """Each write (and the hold) becomes the event of what changed, with the target's share
    after the write, the AWS time of the write and the typed cause; a rollout merely waiting
    out its interval is no event; an all-at-once start is `started` then `complete`."""
    events = canary_story()
    assert [(e.kind, e.weight, e.step, e.phase) for e in events] == [
        (EventKind.STARTED, 0.1, 1, RolloutPhase.STARTING),
        (EventKind.STEP, 0.5, 2, RolloutPhase.ADVANCING),
        (EventKind.HOLDING, 0.5, 2, RolloutPhase.GATED),
        (EventKind.ROLLED_BACK, 0.0, 2, RolloutPhase.ROLLING_BACK),
        (EventKind.STARTED, 1.0, 1, RolloutPhase.STARTING),
        (EventKind.COMPLETE, 1.0, 1, RolloutPhase.COMPLETE),
    ]
    assert [e.at - T0 for e in events] == [timedelta(minutes=m) for m in (0, 10, 20, 25, 30, 30)]
    assert events[3].cause == AlarmFired("orders-errors")
    assert isinstance(events[2].cause, MetricsPending)
    assert {e.cause for e in events if e.kind is not EventKind.ROLLED_BACK} - {events[2].cause} == {
        None
    }
    assert {(e.from_version, e.to_version, e.alias_arn) for e in events} == {
        ("6", "7", "arn:aws:lambda:eu-west-1:123456789012:function:orders:prod")
    }
    assert [e.attempt for e in events] == [1, 1, 1, 1, 2, 2]
    assert events[0].message == "starting: step 1/2 at 10%"
    assert events[3].message == "rolled back to 6: alarm orders-errors in ALARM"
    assert events[5].message == "complete: 7 takes all traffic"


def test_hook_outcomes_are_rolled_back_or_complete() -> None:
    """A pre-traffic hook's failure mark (routing unchanged) is `rolled_back` with the hook as
    cause and no share for the target; a post-traffic hook's pass (`done`) is `complete`."""
    hook = HookFailed(HookPhase.PRE_TRAFFIC, "orders-smoke", "boom")
    marked = state(1, 0, "failed", cause=hook)
    (e,) = events_for_write(FP, status(RolloutPhase.STARTING, 1, 0.1), written(marked, "6", {}, 0))
    assert (e.kind, e.weight, e.cause) == (EventKind.ROLLED_BACK, 0.0, hook)
    promoted = status(RolloutPhase.PROMOTING, 2, 1.0)
    (c,) = events_for_write(FP, promoted, written(state(3, 40, "done"), "7", {}, 40))
    assert (c.kind, c.weight, c.step) == (EventKind.COMPLETE, 1.0, 3)
    verifying = state(3, 40, "verifying")
    (v,) = events_for_write(FP, promoted, written(verifying, "7", {}, 40))
    assert (v.kind, v.weight) == (EventKind.STEP, 1.0)  # at 100 %, the hook still to pass
    edit = status(RolloutPhase.WAITING, 1, 0.1)  # a description edit while waiting
    assert events_for_write(FP, edit, written(state(1, 0), "6", {"7": 0.1}, 5)) == ()


def test_the_rollback_commands_mark_is_a_manual_rollback_and_other_writes_are_not() -> None:
    """`rollback` moves the alias back and marks the version it left failed: `rolled_back`,
    cause manual, the target's share 0; a write without a failure mark is no event."""
    mark = RolloutState("7", "6", 0, T0, "failed", ManualRollback("rollback"))
    (e,) = events_for_mark(FP, written(mark, "6", {}, 0))
    assert (e.kind, e.cause, e.weight, e.from_version, e.to_version) == (
        EventKind.ROLLED_BACK,
        ManualRollback("rollback"),
        0.0,
        "6",
        "7",
    )
    assert e.message.startswith("rolled back to 6: ")
    assert events_for_mark(FP, written(None, "6", {}, 0)) == ()
    assert events_for_mark(FP, written(state(1, 0), "6", {"7": 0.1}, 0)) == ()


def test_event_json_has_the_documented_keys_in_order_and_typed_cause() -> None:
    """The Detail/body is a JSON object with every documented key, in order; the cause is
    data with the JSON plan's kind names; times are UTC to the second."""
    rolled = canary_story()[3]
    data = json.loads(json.dumps(event_data(rolled)))
    assert list(data) == [
        "detail_version", "kind", "function", "region", "account", "alias", "alias_arn",
        "from_version", "to_version", "weight", "step", "steps", "attempt", "phase", "cause",
        "time", "run_id", "commit", "message",
    ]  # fmt: skip
    assert data["cause"] == {"kind": "alarm", "alarm": "orders-errors"}
    assert (data["kind"], data["time"], data["run_id"], data["commit"]) == (
        "rolled_back",
        "2026-12-07T12:25:00Z",
        "42/1",
        "3f2a9c1",
    )
    held = event_data(canary_story()[2])["cause"]
    assert held == {"kind": "metrics_pending", "ready": "2026-12-07T12:23:00Z"}


@pytest.mark.parametrize(
    ("cause", "data"),
    [
        (
            HookFailed(HookPhase.POST_TRAFFIC, "smoke", "boom"),
            {"kind": "hook_failed", "phase": "post_traffic", "function": "smoke", "reason": "boom"},
        ),
        (
            ErrorRateAbove(5, 100, 0.01),
            {"kind": "error_rate", "errors": 5, "invocations": 100, "max_error_rate": 0.01},
        ),
        (
            WorseThanPrevious(5, 100, 1, 100, 0.01),
            {
                "kind": "compare_to_previous",
                "errors": 5,
                "invocations": 100,
                "previous_errors": 1,
                "previous_invocations": 100,
                "max_error_rate": 0.01,
            },
        ),
        (ManualRollback("hand"), {"kind": "manual", "by": "hand"}),
        (ClockSkew(95.0, 30.0), {"kind": "clock_skew", "seconds": 95.0, "bound": 30.0}),
        (MetricsUnread("denied"), {"kind": "metrics_unread", "error": "denied"}),
        (AlarmNoData(("a", "b")), {"kind": "alarm_no_data", "alarms": ["a", "b"]}),
    ],
)
def test_every_cause_is_data_with_the_json_plans_kind(cause: Cause, data: dict[str, Any]) -> None:
    """Each rollback and hold cause becomes its typed fields under a stable `kind`."""
    assert cause_data(cause) == data


def test_run_info_comes_from_github_variables() -> None:
    """The run id carries the attempt; nothing set means unknown, not empty strings."""
    env = {"GITHUB_RUN_ID": "9", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_SHA": "abc"}
    assert RunInfo.from_env(env) == RunInfo("9/2", "abc")
    assert RunInfo.from_env({}) == RunInfo(None, None)


# ---- EventBridge ---------------------------------------------------------------------------


class FakePublisher:
    """Answers each PutEvents with the codes scripted per (round, entry index in the request);
    records every request."""

    def __init__(self, fail: dict[tuple[int, str], str] | None = None) -> None:
        self.fail = fail or {}  # (call number, entry detail's message+kind) -> error code
        self.calls: list[list[EventEntry]] = []

    def put_events(self, bus: str, entries: Sequence[EventEntry]) -> tuple[EntryResult, ...]:
        assert bus == "deployments"
        self.calls.append(list(entries))
        n = len(self.calls)
        out = []
        for i, e in enumerate(entries):
            code = self.fail.get((n, json.loads(e.detail)["function"]))
            out.append(EntryResult(None, code, "nope") if code else EntryResult(f"id-{n}-{i}"))
        return tuple(out)


def many(n: int) -> list[RolloutEvent]:
    base = canary_story()[0]
    return [replace(base, function=f"fn{i}") for i in range(n)]


def test_eventbridge_sends_at_most_ten_entries_per_request() -> None:
    """23 events are three requests (10, 10, 3), each entry with the Source, DetailType,
    Resources (alias ARN) and Time the sink documents."""
    pub = FakePublisher()
    delivery = EventBridgeSink(pub, "deployments").send(many(23))
    assert delivery == Delivery(23)
    assert [len(c) for c in pub.calls] == [10, 10, 3]
    first = pub.calls[0][0]
    assert (first.source, first.detail_type, first.resources, first.time) == (
        "lambda-reconciler",
        "Rollout Started",
        ("arn:aws:lambda:eu-west-1:123456789012:function:orders:prod",),
        T0,
    )


def test_eventbridge_retries_only_the_retryable_failed_entries() -> None:
    """Of a request where one entry is throttled and one is malformed, only the throttled one
    is sent again (alone, after a backoff); the malformed one is reported, not raised."""
    sleeps: list[float] = []
    pub = FakePublisher({(1, "fn1"): "ThrottlingException", (1, "fn2"): "MalformedDetail"})
    sink = EventBridgeSink(pub, "deployments", Retry(attempts=4, base=0.2, sleep=sleeps.append))
    delivery = sink.send(many(3))
    assert [[json.loads(e.detail)["function"] for e in c] for c in pub.calls] == [
        ["fn0", "fn1", "fn2"],
        ["fn1"],
    ]
    assert sleeps == [0.2]
    assert delivery.sent == 2
    assert delivery.failures == ("fn2:prod started: MalformedDetail (nope)",)


def test_eventbridge_gives_up_after_its_attempts_with_backoff() -> None:
    """An entry throttled every time is sent `attempts` times, the waits doubling to the cap,
    then reported."""
    sleeps: list[float] = []
    pub = FakePublisher({(n, "fn0"): "InternalFailure" for n in range(1, 10)})
    retry = Retry(attempts=4, base=0.5, cap=1.5, sleep=sleeps.append)
    delivery = EventBridgeSink(pub, "deployments", retry).send(many(1))
    assert len(pub.calls) == 4
    assert sleeps == [0.5, 1.0, 1.5]
    assert delivery == Delivery(0, ("fn0:prod started: InternalFailure (nope)",))


def test_eventbridge_request_failure_is_reported_for_its_entries() -> None:
    """A request that fails whole (botocore already retried it) is reported, not retried."""

    class Down:
        calls = 0

        def put_events(self, bus: str, entries: Sequence[EventEntry]) -> tuple[EntryResult, ...]:
            Down.calls += 1
            raise AwsError("PutEvents to event bus deployments: AccessDeniedException (400)")

    delivery = EventBridgeSink(Down(), "deployments").send(many(2))
    assert Down.calls == 1
    assert delivery.sent == 0
    assert len(delivery.failures) == 2
    assert "AccessDeniedException" in delivery.failures[0]


def test_aws_events_wrapper_sends_the_request_shape_and_reads_results_in_order() -> None:
    """`reconciler.aws.events.EventBridge` builds PutEvents' entries (bus on each) and maps the
    answer's Entries in order; a client failure goes through the boundary's `explain`."""
    seen: dict[str, Any] = {}

    class Client:
        def put_events(self, **kwargs: Any) -> dict[str, Any]:
            seen.update(kwargs)
            return {
                "FailedEntryCount": 1,
                "Entries": [{"EventId": "e1"}, {"ErrorCode": "ThrottlingException"}],
            }

    entries = [EventEntry("s", "Rollout Step", "{}", ("arn:x",), T0), EventEntry("s", "t", "{}")]
    results = EventBridge(Client()).put_events("bus", entries)
    assert [(r.ok, r.retryable) for r in results] == [(True, False), (False, True)]
    assert seen["Entries"][0] == {
        "Source": "s",
        "DetailType": "Rollout Step",
        "Detail": "{}",
        "EventBusName": "bus",
        "Resources": ["arn:x"],
        "Time": T0,
    }
    assert "Resources" not in seen["Entries"][1]

    class Broken:
        def put_events(self, **kwargs: Any) -> dict[str, Any]:
            raise RuntimeError("socket closed")

    with pytest.raises(AwsError, match="PutEvents to event bus bus: RuntimeError: socket closed"):
        EventBridge(Broken()).put_events("bus", entries)
    with pytest.raises(ValueError, match="1 to 10"):
        EventBridge(Client()).put_events("bus", entries * 6)


# ---- the notifier --------------------------------------------------------------------------


class Recorder:
    def __init__(self, name: str, log: list[tuple[str, EventKind]]) -> None:
        self._name = name
        self.log = log

    @property
    def name(self) -> str:
        return self._name

    def send(self, events: Sequence[RolloutEvent]) -> Delivery:
        self.log.extend((self._name, e.kind) for e in events)
        return Delivery(len(events))


class Exploding:
    name = "webhook hooks.example.com"

    def send(self, events: Sequence[RolloutEvent]) -> Delivery:
        raise ConnectionResetError("reset by peer")


def test_notifier_fans_out_in_order_and_a_failing_sink_is_one_warning() -> None:
    """Every sink gets every event, sinks in order; a sink that raises costs one warning line
    and the sinks after it still get the events; `notify` itself never raises."""
    log: list[tuple[str, EventKind]] = []
    warnings: list[str] = []
    n = Notifier([Recorder("a", log), Exploding(), Recorder("b", log)], warnings.append)
    events = canary_story()[:2]
    n.notify(events)
    assert log == [
        ("a", EventKind.STARTED),
        ("a", EventKind.STEP),
        ("b", EventKind.STARTED),
        ("b", EventKind.STEP),
    ]
    assert warnings == [
        "warning: notification to webhook hooks.example.com: 2 of 2 events not delivered: "
        "ConnectionResetError: reset by peer"
    ]


def test_notifier_survives_a_broken_warn_and_sends_a_repeated_hold_once() -> None:
    """A `warn` that raises is swallowed too; the same hold seen again (apply --wait's next
    round) is not announced twice, a changed one is."""
    log: list[tuple[str, EventKind]] = []

    def broken(line: str) -> None:
        raise OSError("stderr closed")

    n = Notifier([Recorder("a", log), Exploding()], broken)
    hold = canary_story()[2]
    n.notify([hold])
    n.notify([replace(hold, at=hold.at + timedelta(minutes=1))])
    n.notify([replace(hold, weight=0.4)])
    assert log == [("a", EventKind.HOLDING), ("a", EventKind.HOLDING)]


# ---- configuration -------------------------------------------------------------------------


def test_notifications_model_accepts_the_documented_forms() -> None:
    """Both sinks, a bus ARN whose region is taken from it, and Slack format."""
    spec = NotificationsSpec.model_validate(
        {
            "eventbridge": {"bus": "arn:aws:events:eu-west-1:123456789012:event-bus/deploys"},
            "webhook": {"url": "https://hooks.example.com/x", "secret_env": "HOOK_SECRET"},
        }
    )
    assert spec.eventbridge is not None
    assert spec.eventbridge.bus_region == "eu-west-1"
    assert spec.webhook is not None
    assert spec.webhook.format == "json"


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"webhook": {"url": "http://hooks.example.com/T0/secretpath"}}, "https://HOST"),
        ({"webhook": {"url": "https://h.example.com", "secret": "x"}}, "Extra inputs"),
        ({"webhook": {"url": "https://h.example.com", "secret_env": "1BAD"}}, "variable name"),
        ({"eventbridge": {"bus": "a b"}}, "invalid event bus"),
        (
            {
                "eventbridge": {
                    "bus": "arn:aws:events:eu-west-1:123456789012:event-bus/d",
                    "region": "us-east-1",
                }
            },
            "differs from the bus ARN",
        ),
    ],
)
def test_notifications_model_refuses_bad_values(doc: dict[str, Any], fragment: str) -> None:
    """Plain http to another host, a secret in the manifest, a bad variable name or bus, and
    a region contradicting the ARN are refused; a URL is never echoed (its path may be the
    credential)."""
    with pytest.raises(ValidationError) as err:
        NotificationsSpec.model_validate(doc)
    messages = " ".join(e["msg"] for e in err.value.errors())  # what diagnostics print
    assert fragment in messages
    assert "secretpath" not in messages


def test_build_notifier_needs_the_secret_variable_and_builds_sinks_in_order() -> None:
    """An unset secret variable is a one-line error before any write; set, the notifier has
    the EventBridge sink (client of the bus's region) then the webhook."""
    spec = NotificationsSpec.model_validate(
        {
            "eventbridge": {"bus": "deployments", "region": "eu-west-1"},
            "webhook": {"url": "https://h.example.com/x", "secret_env": "HOOK_SECRET"},
        }
    )
    regions: list[str | None] = []

    def publisher(region: str | None) -> EventPublisher:
        regions.append(region)
        return FakePublisher()

    with pytest.raises(ReconcilerError, match="HOOK_SECRET is not set"):
        build_notifier(spec, publisher=publisher, warn=print, environ={})
    n = build_notifier(spec, publisher=publisher, warn=print, environ={"HOOK_SECRET": "s"})
    assert [s.name for s in n.sinks] == ["eventbridge deployments", "webhook h.example.com"]
    assert regions[-1] == "eu-west-1"
    assert not build_notifier(None, publisher=publisher, warn=print)


def test_functions_of_one_setting_share_one_notifier() -> None:
    """Two manifests with the same `notifications` share a notifier (one hold memory, one
    client); another setting gets its own; a function without one gets no sink."""
    same = NotificationsSpec.model_validate({"eventbridge": {"bus": "deployments"}})
    other = NotificationsSpec.model_validate({"eventbridge": {"bus": "audit"}})
    built: list[str | None] = []

    def publisher(region: str | None) -> EventPublisher:
        built.append(region)
        return FakePublisher()

    ns = build_notifiers(
        [
            (("orders", "eu-west-1"), same),
            (("billing", "eu-west-1"), same.model_copy()),  # an equal setting of another file
            (("audit", "us-east-1"), other),
            (("quiet", "us-east-1"), None),
        ],
        publisher=publisher,
        warn=print,
    )
    assert ns.of("orders", "eu-west-1") is ns.of("billing", "eu-west-1")
    assert [s.name for s in ns.of("audit", "us-east-1").sinks] == ["eventbridge audit"]
    assert not ns.of("quiet", "us-east-1")
    assert not ns.of("unknown", "us-east-1")
    assert len(built) == 2
    assert ns
