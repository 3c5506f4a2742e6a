"""The alias record: rollout state and alias history kept in the alias's own description
(docs/design/rollout-state.md), pure.

    Production [lr:1 at=8 h=7,5 v=8 p=7 s=2 t=1796428800 st=run a=2]

The block ends the description and is written in the same guarded `UpdateAlias` as the routing it
describes, so only a principal that may move the alias can write it, and it can never disagree
with the traffic change it records. `split` separates the user's text from the block (done when
live state is read); `decode` reads a block into an `AliasRecord`, raising `BadRecord` for one
that does not parse; `describe` writes the user's text and a record back into one description of
at most 256 characters, shrinking the record to fit.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import quote, unquote

from reconciler.aws import LATEST, split_description
from reconciler.plan.types import (
    NEW_VERSION,
    AlarmFired,
    AliasRecord,
    CapacityFailed,
    ErrorRateAbove,
    HookFailed,
    HookPhase,
    ManualRollback,
    RollbackCause,
    RolloutState,
    VersionRef,
    WorseThanPrevious,
)

MARK = "[lr:1"
DESCRIPTION_LENGTH = 256  # AWS's limit on an alias description
USER_LENGTH = 128  # what a declared description may use; the rest is the record's
HISTORY_LENGTH = 10
STATUSES = {"run": "running", "verify": "verifying", "done": "done", "fail": "failed"}
_CODES = {v: k for k, v in STATUSES.items()}
_VERSION = re.compile(r"[1-9][0-9]{0,9}")
NEW = str(NEW_VERSION)  # a plan file's stand-in for the version the plan publishes


class BadRecord(ValueError):
    """A record that does not parse: it moves no traffic (invariant 5)."""


split = split_description


def is_version(value: str) -> bool:
    return _VERSION.fullmatch(value) is not None


def _fields(block: str) -> dict[str, str]:
    if not block.startswith(MARK) or not block.endswith("]"):
        raise BadRecord("not a record")
    inner = block[len(MARK) : -1].split()
    out: dict[str, str] = {}
    for part in inner:
        key, eq, value = part.partition("=")
        if not eq or key in out:
            raise BadRecord(f"malformed field {part[:20]!r}")
        out[key] = unquote(value)
    return out


def _cause(f: dict[str, str]) -> RollbackCause | None:
    kind = f.get("c")
    if kind is None:
        return None
    if kind == "alarm":
        return AlarmFired(f["al"])
    if kind in (HookPhase.PRE_TRAFFIC.value, HookPhase.POST_TRAFFIC.value):
        return HookFailed(HookPhase(kind), f["hk"], f.get("r", ""))
    if kind == "error_rate":
        return ErrorRateAbove(int(f.get("e", 0)), int(f.get("n", 0)), float(f.get("m", 0)))
    if kind == "compare_to_previous":
        e, n, pe, pn = (int(f.get(k, 0)) for k in ("e", "n", "pe", "pn"))
        return WorseThanPrevious(e, n, pe, pn, float(f.get("m", 0)))
    if kind == "manual":
        return ManualRollback(f.get("by", "hand"))
    if kind == "capacity":
        return CapacityFailed(f.get("cv", ""), f.get("cr", ""))
    raise BadRecord(f"unknown cause {kind[:20]!r}")


def _ref(value: str, new: bool) -> VersionRef:
    return NEW_VERSION if new and value == NEW else value


def decode(block: str, *, new: bool = False) -> AliasRecord:
    """The record a block holds (`split`'s second part); BadRecord when it does not parse or
    names what cannot be a version. An empty block is an empty record. `new`: a plan file's
    record, where `(new)` stands for the version the plan publishes."""
    if not block:
        return AliasRecord()
    f = _fields(block)
    at = f.get("at")
    if at is not None and at != LATEST and not is_version(at) and not (new and at == NEW):
        raise BadRecord(f"at={at[:20]!r} is not a version")
    history = tuple(v for v in f.get("h", "").split(",") if v)
    if not all(is_version(v) or v == LATEST for v in history):
        raise BadRecord("h= holds something other than version numbers")
    rollout = None
    if "v" in f:
        try:
            target, previous, step = f["v"], f["p"], int(f["s"])
            since = datetime.fromtimestamp(int(f["t"]), tz=timezone.utc)
            status = STATUSES[f.get("st", "run")]
            attempt = int(f.get("a", "1"))
            cause = _cause(f)
        except (KeyError, ValueError, OverflowError, OSError) as e:
            raise BadRecord(f"unreadable rollout fields ({e})") from None
        if not is_version(target) and not (new and target == NEW):
            raise BadRecord(f"v={target[:20]!r} is not a version")
        if previous != LATEST and not is_version(previous):
            raise BadRecord(f"p={previous[:20]!r} is not a version")
        if step < 0 or attempt < 1:
            raise BadRecord("a step or attempt out of range")
        rollout = RolloutState(_ref(target, new), previous, step, since, status, cause, attempt)
    return AliasRecord(None if at is None else _ref(at, new), history[:HISTORY_LENGTH], rollout)


def _q(value: str) -> str:
    return quote(value, safe="$-_.:/@+")


def _name(value: str, short: bool) -> str:
    return _cut(_q(value), 40) if short else _q(value)


def _cause_fields(c: RollbackCause | None, counts: bool, short: bool) -> list[str]:
    match c:
        case None:
            return []
        case AlarmFired(alarm=alarm):
            return ["c=alarm", f"al={_name(alarm, short)}"]
        case HookFailed(phase=phase, function=function):
            return [f"c={phase.value}", f"hk={_name(function, short)}"]
        case ErrorRateAbove(errors=e, invocations=n, max_error_rate=m):
            return ["c=error_rate", *([f"e={e}", f"n={n}", f"m={m!r}"] if counts else [])]
        case WorseThanPrevious():
            more = [
                f"e={c.errors}",
                f"n={c.invocations}",
                f"pe={c.previous_errors}",
                f"pn={c.previous_invocations}",
                f"m={c.max_error_rate!r}",
            ]
            return ["c=compare_to_previous", *(more if counts else [])]
        case ManualRollback(by=by):
            return ["c=manual", f"by={_q(by)}"]
        case CapacityFailed(version=version, reason=reason):
            return [
                "c=capacity",
                f"cv={_q(version)}",
                *([f"cr={_name(reason, True)}"] * bool(reason)),
            ]


def _block(
    record: AliasRecord, history: int, counts: bool, reason: int | None, short: bool = False
) -> str:
    parts = [MARK]
    if record.at is not None:
        parts.append(f"at={_q(str(record.at))}")
    if record.history[:history]:
        parts.append("h=" + ",".join(record.history[:history]))
    s = record.rollout
    if s is not None:
        parts += [
            f"v={_q(str(s.target))}",
            f"p={_q(s.previous)}",
            f"s={s.step}",
            f"t={int(s.since.timestamp())}",
            f"st={_CODES[s.status]}",
        ]
        if s.attempt != 1:
            parts.append(f"a={s.attempt}")
        parts += _cause_fields(s.cause, counts, short)
        if isinstance(s.cause, HookFailed) and s.cause.reason and reason != 0:
            text = _q(s.cause.reason)
            parts.append("r=" + (text if reason is None else _cut(text, reason)))
    return " ".join(parts) + "]"


def _cut(text: str, n: int) -> str:
    """`text` cut to `n` characters without splitting a %XX escape."""
    out = text[:n]
    cut = out.rfind("%", max(0, len(out) - 2))
    return out[:cut] if cut != -1 else out


def moved(history: tuple[str, ...], moved_from: VersionRef) -> tuple[str, ...]:
    """The history after the alias's primary moves away from `moved_from`."""
    if not isinstance(moved_from, str) or not (is_version(moved_from) or moved_from == LATEST):
        return history
    rest = tuple(v for v in history if v != moved_from)
    return (moved_from, *rest)[:HISTORY_LENGTH]


def block(record: AliasRecord) -> str:
    """The whole record as one block, uncut (a plan file's form)."""
    return _block(record, HISTORY_LENGTH, True, None)


def describe(user: str, record: AliasRecord) -> str:
    """The alias description: the user's text, then the record, within 256 characters.

    Cuts, in order, the hook's reason, the cause's counts, then the oldest history entries.
    Raises ValueError when even the smallest record does not fit beside `user`."""
    room = DESCRIPTION_LENGTH - len(user) - (1 if user else 0)
    record = replace(record, history=record.history[:HISTORY_LENGTH])
    full = _block(record, HISTORY_LENGTH, True, None)
    if len(full) <= room:
        return _join(user, full)
    without_reason = _block(record, HISTORY_LENGTH, True, 0)
    if len(without_reason) < room:
        return _join(user, _block(record, HISTORY_LENGTH, True, room - len(without_reason) - 3))
    for short in (False, True):
        for history in range(HISTORY_LENGTH, -1, -1):
            for counts in (True, False):
                block = _block(record, history, counts, 0, short)
                if len(block) <= room:
                    return _join(user, block)
    raise ValueError(
        f"the description is {len(user)} characters; at most {USER_LENGTH} leave room for the "
        "alias record"
    )


def _join(user: str, block: str) -> str:
    return f"{user} {block}" if user else block
