"""The alias record as planning reads it: the record in the alias description, or an earlier
release's function tags (`decode_tag`, `decode_history`), read only to migrate them into the record
(docs/design/rollout-state.md). Re-exported by `reconciler.planning.rollout`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from reconciler.aws import LiveFunction
from reconciler.plan import (
    AlarmFired,
    AliasRecord,
    ErrorRateAbove,
    HookFailed,
    HookPhase,
    RecordProblem,
    RecordUnparsed,
    RollbackCause,
    RolloutState,
    WorseThanPrevious,
)
from reconciler.plan.record import HISTORY_LENGTH, BadRecord, decode, is_version

TAG_PREFIX = "lambda-reconciler:rollout:"  # earlier releases' state, read to migrate it
HISTORY_PREFIX = "lambda-reconciler:history:"
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_REASON = " reason="


def tag_key(alias: str) -> str:
    """An earlier release's rollout tag of `alias` (migrated, then removed)."""
    return TAG_PREFIX + alias


def history_key(alias: str) -> str:
    """An earlier release's history tag of `alias`: `5 3 2` (migrated, then removed)."""
    return HISTORY_PREFIX + alias


def legacy_keys(tags: Mapping[str, str], alias: str) -> tuple[str, ...]:
    """The earlier release's tags of `alias` that the function still carries."""
    return tuple(k for k in (tag_key(alias), history_key(alias)) if k in tags)


def decode_history(value: str | None) -> tuple[str, ...]:
    """An earlier release's history tag: the recorded versions; anything unreadable dropped."""
    return tuple(v for v in (value or "").split() if is_version(v))[:HISTORY_LENGTH]


def _decode_cause(fields: Mapping[str, str], reason: str) -> RollbackCause | None:
    kind = fields.get("cause", "alarm" if "alarm" in fields else "")
    if kind == "alarm":
        return AlarmFired(fields["alarm"])
    if kind in (HookPhase.PRE_TRAFFIC.value, HookPhase.POST_TRAFFIC.value):
        return HookFailed(HookPhase(kind), fields["hook"], reason)
    if kind == "error_rate":
        return ErrorRateAbove(
            int(fields["errors"]), int(fields["invocations"]), float(fields["max_error_rate"])
        )
    if kind == "compare_to_previous":
        keys = ("errors", "invocations", "previous_errors", "previous_invocations")
        e, n, pe, pn = (int(fields[k]) for k in keys)
        return WorseThanPrevious(e, n, pe, pn, float(fields["max_error_rate"]))
    return None


def decode_tag(value: str | None) -> RolloutState | None:
    """An earlier release's rollout tag; None for no tag or an unreadable one."""
    if not value:
        return None
    head, _, reason = value.partition(_REASON)
    fields = dict(p.split("=", 1) for p in head.split() if "=" in p)
    try:
        state = RolloutState(
            target=fields["target"],
            previous=fields["previous"],
            step=int(fields["step"]),
            since=datetime.strptime(fields["since"], _TIME).replace(tzinfo=timezone.utc),
            status=fields.get("status", "running"),
            cause=_decode_cause(fields, reason),
            attempt=int(fields.get("attempt", "1")),
        )
    except (KeyError, ValueError):
        return None
    if state.status not in ("running", "done", "failed"):
        return None
    return state


def record_of(live: LiveFunction, alias: str) -> tuple[AliasRecord, RecordProblem | None]:
    """The alias's record, and why it is not trusted (None when it is). Without a record in the
    description, an earlier release's tags (when they were read) are migrated into one."""
    current = live.alias(alias)
    raw = current.record if current is not None else ""
    if raw:
        try:
            return decode(raw), None
        except BadRecord as e:
            return AliasRecord(), RecordUnparsed(str(e))
    if not live.tags_read:
        return AliasRecord(), None
    state = decode_tag(live.tags.get(tag_key(alias)))
    history = decode_history(live.tags.get(history_key(alias)))
    if state is None and not history:
        return AliasRecord(), None
    return AliasRecord(None, history, state, from_tags=True), None


def state_of(live: LiveFunction, alias: str) -> RolloutState | None:
    """The rollout part of the alias's record (None without one, or when it is not trusted)."""
    return record_of(live, alias)[0].rollout
