"""The small phrases every part of the plan's words uses: counts, weights, ages, times, routes.

Re-exported by `reconciler.plan.wording`, where callers find them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone

from reconciler.manifest import weight_text
from reconciler.plan.types import (
    AliasState,
    Route,
    VersionNote,
    VersionRef,
    version_label,
)

KNOWN_AFTER_APPLY = "new version (known after apply)"


def plural(n: int, one: str, many: str) -> str:
    """`1 function`, `2 functions`, `0 functions`."""
    return f"{n} {one if n == 1 else many}"


def weight(w: float) -> str:
    """0.1 → "10%", 0.055 → "5.5%", 0.9999 → "99.99%": the digits Lambda keeps, no more."""
    return weight_text(w)


def age(minutes: int) -> str:
    """A version's age in a plan line: "<1 min", "40 min", "5 h", "3 d"."""
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


Notes = Mapping[str, VersionNote]


def noted(v: VersionRef, notes: Notes | None) -> str:
    """A version with what the listing says of it: its description (cut short) if it has one,
    else its age: `5 ("release 3f2a…")`, `6 (3 d old)`; just the number without a note."""
    text = version_label(v)
    note = notes.get(v) if notes is not None and isinstance(v, str) else None
    if note is None:
        return text
    if note.description:
        return f"{text} ({quoted(note.description, 24)})"
    return f"{text} ({age(note.age_minutes)} old)"


def canary(c: Route | None) -> str:
    return "none" if c is None else f"{version_label(c.version)} @ {weight(c.weight)}"


def state(s: AliasState | None) -> str:
    """ "5", "5 + 6 @ 10%", "none"."""
    if s is None:
        return "none"
    text = version_label(s.version)
    return text if s.canary is None else f"{text} + {canary(s.canary)}"


def utc_time(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def rate(errors: int, invocations: int) -> str:
    """10 errors in 200 invocations → "5%", 1 in 3 → "33.33%"; none at all → "0%"."""
    share = errors / invocations if invocations else 0.0
    return f"{round(share * 100, 2):g}%"


def routing(state: AliasState | None) -> str:
    """Where an alias sends traffic, as read from AWS: "7 serves all traffic", "7 serves 90%,
    8 serves 10%"."""
    if state is None:
        return "the alias does not exist"
    if state.canary is None:
        return f"{version_label(state.version)} serves all traffic"
    w = state.canary.weight
    return (
        f"{version_label(state.version)} serves {weight(1 - w)}, "
        f"{version_label(state.canary.version)} serves {weight(w)}"
    )


def duration(seconds: float) -> str:
    """45 → "45s", 90 → "1m 30s", 7500 → "2h 5m": the two largest units, rounded down."""
    s = max(int(seconds), 0)
    hours, minutes = divmod(s // 60, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {s % 60}s" if minutes else f"{s}s"


def quoted(text: str, limit: int = 40) -> str:
    """A description in a plan line: in quotes, cut to `limit` characters with "…"."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return f'"{short}"'
