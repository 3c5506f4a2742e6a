"""Every word the plan is shown in: the text and Markdown renderers and the JSON plan's
`changes`, `reason` and `message` fields all come from here, so they say the same thing.

The plan itself holds data (`reconciler.plan`); each function here turns one kind of value into
English. No dependencies beyond the plan's types: `validate` imports `plural` too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone

from typing_extensions import assert_never

from reconciler.aws import AliasTie, CodeStorage
from reconciler.manifest import weight_text
from reconciler.plan.types import (
    Action,
    AlarmFired,
    AlarmNoData,
    AliasDeletion,
    Aliased,
    AliasField,
    AliasState,
    Brake,
    ClockSkew,
    CodeChanged,
    ConfigChanged,
    CreateAlias,
    DeleteAlias,
    DeleteLayerVersion,
    DeleteVersion,
    ErrorRateAbove,
    HoldCause,
    HookFailed,
    HookPhase,
    InUse,
    KeepReason,
    Kept,
    KeptLayer,
    LayerKeepReason,
    ManualRollback,
    MetricsPending,
    MetricsUnread,
    NewVersion,
    NothingPublished,
    Operation,
    Previous,
    Protected,
    PublishReason,
    PublishVersion,
    RollbackCause,
    RolloutPhase,
    RolloutStage,
    RolloutStatus,
    Route,
    Shared,
    UnmanagedAlias,
    UpdateAlias,
    UsedBy,
    VersionNote,
    VersionRef,
    WorseThanPrevious,
    Young,
    version_label,
)

KNOWN_AFTER_APPLY = "new version (known after apply)"


def plural(n: int, one: str, many: str) -> str:
    """`1 function`, `2 functions`, `0 functions`."""
    return f"{n} {one if n == 1 else many}"


def weight(w: float) -> str:
    """0.1 → "10%", 0.055 → "5.5%", 0.9999 → "99.99%": the digits Lambda keeps, no more."""
    return weight_text(w)


Notes = Mapping[str, VersionNote]


def age(minutes: int) -> str:
    """A version's age in a plan line: "<1 min", "40 min", "5 h", "3 d"."""
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


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


def count(action: Action, n: int) -> str:
    """The summary line's words for `n` operations of one kind."""
    match action:
        case Action.PUBLISH_VERSION:
            return f"{n} to publish"
        case Action.CREATE_ALIAS:
            return f"{n} to create"
        case Action.UPDATE_ALIAS:
            return f"{n} to update"
        case Action.DELETE_ALIAS:
            return f"{plural(n, 'alias', 'aliases')} to delete"
        case Action.DELETE_VERSION:
            return f"{plural(n, 'version', 'versions')} to delete"
        case Action.DELETE_LAYER_VERSION:
            return f"{plural(n, 'layer version', 'layer versions')} to delete"
        case _:
            assert_never(action)


# ---- publish -----------------------------------------------------------------------------


def publish_reason(reason: PublishReason) -> str:
    match reason:
        case NothingPublished():
            return "no version published yet"
        case CodeChanged(before=before, after=after):
            return f"code changed: sha256 {before[:4]}… → {after[:4]}…"
        case ConfigChanged(fields=fields):
            return "configuration changed: " + ", ".join(fields)
        case _:
            assert_never(reason)


# ---- rollouts ----------------------------------------------------------------------------


def _at_step(s: RolloutStatus, step: int | None = None) -> str:
    """ "step 1/2 at 10%"; a schedule without steps (AllAtOnce) is "all at once at 100%"."""
    if not s.steps:
        return f"all at once at {weight(s.weight or 1.0)}"
    return f"step {s.step if step is None else step}/{s.steps} at {weight(s.weight)}"


def _waiting(s: RolloutStatus) -> str:
    since = utc_time(s.since) if s.since else "?"
    due = utc_time(s.due) if s.due else "never"
    return f"{_at_step(s)} since {since}, next at {due}"


def _rolled_back_at(s: RolloutStatus) -> str:
    """ "rolled back at step 2"; before any step, or with no steps (AllAtOnce), no number."""
    if isinstance(s.cause, HookFailed) and s.cause.phase is HookPhase.PRE_TRAFFIC:
        return "stopped before any traffic moved"
    if not s.steps or not s.step:
        return "rolled back"
    return f"rolled back at step {s.step}"


def _serving(s: RolloutStatus) -> str:
    return s.previous or "the previous version"


def _serves(s: RolloutStatus) -> str:
    """What serves traffic, as read from AWS ("2 serves 90%, 1 serves 10%"); without a live
    alias (a saved plan of an earlier release), the previous version."""
    return routing(s.live) if s.live is not None else f"{_serving(s)} serves all traffic"


def rate(errors: int, invocations: int) -> str:
    """10 errors in 200 invocations → "5%", 1 in 3 → "33.33%"; none at all → "0%"."""
    share = errors / invocations if invocations else 0.0
    return f"{round(share * 100, 2):g}%"


def cause(c: RollbackCause) -> str:
    """What rolled a rollout back (or holds it before its start), as a past or standing fact."""
    match c:
        case AlarmFired(alarm=alarm):
            return f"alarm {alarm}"
        case HookFailed(phase=phase, function=function, reason=reason):
            name = phase.value.replace("_", "-")
            return f"{name} hook {function} failed" + (f": {reason}" if reason else "")
        case ErrorRateAbove(errors=e, invocations=n, max_error_rate=m):
            return (
                f"gate: error rate {rate(e, n)} > {weight(m)} "
                f"({e} errors in {plural(n, 'invocation', 'invocations')})"
            )
        case WorseThanPrevious():
            new = rate(c.errors, c.invocations)
            old = rate(c.previous_errors, c.previous_invocations)
            return (
                f"gate: error rate {new} > the previous version's {old} + "
                f"{weight(c.max_error_rate)} ({c.errors} errors in "
                f"{plural(c.invocations, 'invocation', 'invocations')}; the previous version "
                f"{c.previous_errors} in {c.previous_invocations})"
            )
        case ManualRollback(by=by):
            return "rolled back with `rollback`" if by == "rollback" else "rolled back by hand"
        case _:
            assert_never(c)


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


def cause_now(c: RollbackCause) -> str:
    """The cause as it stands at this moment: an alarm is "in ALARM"."""
    return cause(c) + (" in ALARM" if isinstance(c, AlarmFired) else "")


def _why(s: RolloutStatus) -> str:
    if s.hold is not None:
        return hold(s.hold)
    return cause_now(s.cause) if s.cause is not None else "a failed check"


def hold(h: HoldCause) -> str:
    """Why a due step forward waits: "this runner's clock is 95s behind AWS's (more than 30s)"."""
    match h:
        case ClockSkew(seconds=off, bound=bound):
            way = "behind" if off > 0 else "ahead of"
            return (
                f"this runner's clock is {duration(round(abs(off)))} {way} AWS's (more than "
                f"{duration(bound)}); steps forward wait for a corrected clock"
            )
        case MetricsUnread(error=error):
            return f"the gate's metrics could not be read: {error}"
        case MetricsPending(ready=ready):
            return f"waiting for CloudWatch's metrics of the step's end, in by {utc_time(ready)}"
        case AlarmNoData(alarms=alarms):
            names = ", ".join(alarms)
            return f"alarm {names} has insufficient data (rollout.insufficient_data: hold)"
        case _:
            assert_never(h)


_ROLLOUT: Mapping[RolloutPhase, Callable[[RolloutStatus], str]] = {
    RolloutPhase.CREATED: lambda s: f"new alias: created at {version_label(s.target)}",
    RolloutPhase.COMPLETE: lambda s: f"complete: {version_label(s.target)} takes all traffic",
    RolloutPhase.FINISHING_ROLLBACK: lambda s: f"rolling back to {s.previous}",
    RolloutPhase.FAILED: lambda s: (
        f"{_rolled_back_at(s)}: {cause(s.cause) if s.cause else 'a failed check'}; "
        f"{_serves(s)}; retry with rollout.attempt: {s.attempt + 1}, or name another version"
    ),
    RolloutPhase.RECORDING_ROLLBACK: lambda s: (
        f"rolled back by hand to {s.previous}: recording {version_label(s.target)} as failed; "
        f"{routing(s.live)}; retry with rollout.attempt: {s.attempt + 1}, or name another version"
    ),
    RolloutPhase.VERIFYING: lambda s: (
        f"{version_label(s.target)} takes all traffic; running the post-traffic hook "
        f"{s.post_traffic} (it has not passed yet)"
    ),
    RolloutPhase.UNVERIFIED: lambda s: f"not moving traffic: {s.problem}; {routing(s.live)}",
    RolloutPhase.ROLLING_BACK: lambda s: f"rolling back: {_why(s)}",
    RolloutPhase.RETAKING: lambda s: f"retaking {_at_step(s)}",
    RolloutPhase.WAITING: _waiting,
    RolloutPhase.ADVANCING: lambda s: f"advancing to {_at_step(s)}",
    RolloutPhase.PROMOTING: lambda s: f"promoting {version_label(s.target)} to all traffic",
    RolloutPhase.SWITCHING: lambda s: f"switching to {version_label(s.target)} directly",
    RolloutPhase.HELD: lambda s: f"waiting: {_why(s)}; not starting, {_serves(s)}",
    RolloutPhase.STARTING: lambda s: f"starting: {_at_step(s, 1)}",
    RolloutPhase.GATED: lambda s: (
        f"holding at step {s.step}/{s.steps}: {hold(s.hold)}"
        if s.hold is not None
        else f"holding at step {s.step}/{s.steps}: {s.invocations or 0} invocations of "
        f"{version_label(s.target)} so far, fewer than the gate's minimum"
    ),
    RolloutPhase.BAKING: lambda s: (
        f"baking: {version_label(s.target)} takes all traffic; alarms roll back until "
        f"{utc_time(s.due) if s.due else '?'}"
    ),
}
if set(_ROLLOUT) != set(RolloutPhase):  # a new phase without its words fails at import
    raise RuntimeError(f"rollout phases without words: {set(RolloutPhase) - set(_ROLLOUT)}")


def rollout_message(s: RolloutStatus) -> str:
    return _ROLLOUT[s.phase](s)


def no_data(s: RolloutStatus) -> str | None:
    """Its alarms in INSUFFICIENT_DATA, while the rollout is under way: shown, not hidden."""
    if not s.no_data or s.stage not in _UNDER_WAY:
        return None
    verb = "has" if len(s.no_data) == 1 else "have"
    return f"alarm {', '.join(s.no_data)} {verb} insufficient data (INSUFFICIENT_DATA)"


_UNDER_WAY = (RolloutStage.PENDING, RolloutStage.IN_PROGRESS, RolloutStage.HOLDING)


def duration(seconds: float) -> str:
    """45 → "45s", 90 → "1m 30s", 7500 → "2h 5m": the two largest units, rounded down."""
    s = max(int(seconds), 0)
    hours, minutes = divmod(s // 60, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {s % 60}s" if minutes else f"{s}s"


def _live_next(s: RolloutStatus, now: datetime) -> str:
    """The last cell of a live row: when the next step comes, or why it does not."""
    due = duration((s.due - now).total_seconds()) if s.due is not None else "?"
    match s.phase:
        case RolloutPhase.WAITING:
            return f"next step in {due}"
        case RolloutPhase.BAKING:
            return f"baking, ends in {due}"
        case RolloutPhase.GATED:
            return f"holding: {hold(s.hold)}" if s.hold else "holding: too few invocations"
        case RolloutPhase.HELD:
            return f"holding: {_why(s)}"
        case RolloutPhase.FAILED:
            return f"rolled back: {cause(s.cause) if s.cause else 'a failed check'}"
        case _:
            return rollout_message(s)


LIVE_COLUMNS = ("rollout", "step", "traffic", "next")


def live_row(function: str, s: RolloutStatus, now: datetime) -> tuple[str, str, str, str]:
    """One row of `apply --wait`'s live display: the rollout, its step, the new version's
    traffic share and what comes next ("next step in 1m 30s", "holding: too few invocations")."""
    step = f"step {s.step}/{s.steps}" if s.steps else "all at once"
    return f"{function}:{s.alias}", step, weight(s.weight), _live_next(s, now)


def rolled_back(s: RolloutStatus) -> str:
    """What a rollback did: "rolled back to 2: alarm orders-errors in ALARM"."""
    return f"rolled back to {s.previous or 'the previous version'}: {_why(s)}"


def off_course(function: str, s: RolloutStatus) -> str:
    """One line for a rollout that failed, was rolled back or cannot start: git names a version
    that AWS does not serve, and no apply moves towards it until the manifest changes."""
    why = cause(s.cause) if s.cause is not None else s.problem or "a failed check"
    stage = s.stage.value.replace("_", " ")
    serves = routing(s.live) if s.live is not None else f"{s.previous} serves all traffic"
    return (
        f"rollout of {function}:{s.alias} to {version_label(s.target)} {stage} ({why}): "
        f"git names {version_label(s.target)}; in AWS {serves}"
    )


def off_course_headline(n: int) -> str:
    return f"{plural(n, 'rollout', 'rollouts')} failed or held: git and AWS disagree"


# ---- alias changes -----------------------------------------------------------------------


def _field_change(
    f: AliasField, before: AliasState, after: AliasState, notes: Notes | None = None
) -> str:
    match f:
        case AliasField.VERSION:
            text = f"version: {noted(before.version, notes)} → {noted(after.version, notes)}"
            return text + (" (back to an older version)" if _older(after, before) else "")
        case AliasField.CANARY:
            return f"canary: {canary(before.canary)} → {canary(after.canary)}"
        case AliasField.DESCRIPTION:
            return f"description: {before.description or ''!r} → {after.description or ''!r}"
        case _:
            assert_never(f)


def _older(after: AliasState, before: AliasState) -> bool:
    """The primary moves to a lower version number: a rollback, shown as one."""
    a, b = after.version, before.version
    return (
        isinstance(a, str)
        and isinstance(b, str)
        and a.isdigit()
        and b.isdigit()
        and int(a) < int(b)
    )


def alias_deletion(reason: AliasDeletion) -> str:
    match reason:
        case AliasDeletion.NOT_IN_MANIFEST:
            return "not in the manifest (prune_aliases: true)"
        case _:
            assert_never(reason)


def deletion_reason(op: DeleteVersion | DeleteLayerVersion) -> str:
    outside = f"outside keep_last={op.keep_last}, " if op.keep_last is not None else ""
    return f"{outside}{op.age_days} days old"


def changes(op: Operation, notes: Notes | None = None) -> tuple[str, ...]:
    """The human-readable differences an operation makes (the JSON plan's `changes`); with
    `notes`, each version an alias moves to or from with its description or age."""
    match op:
        case PublishVersion():
            return tuple(publish_reason(r) for r in op.reasons)
        case CreateAlias():
            primary = noted(op.after.version, notes)
            tail = "" if op.after.canary is None else f" + {canary(op.after.canary)}"
            return (f"→ {primary}{tail}",)
        case UpdateAlias():
            lines = tuple(_field_change(f, op.before, op.after, notes) for f in op.fields)
            if op.rollout is not None:
                lines += (f"rollout: {rollout_message(op.rollout.status)}",)
            if op.untag:
                lines += (MIGRATION,)
            return lines
        case DeleteAlias():
            return (f"{op.alias} → {state(op.before)} (not in the manifest)",)
        case DeleteVersion() | DeleteLayerVersion():
            return ()
        case _:
            assert_never(op)


MIGRATION = "an earlier release's state tags → the alias record (the tags are then removed)"


def reason(op: Operation) -> str:
    """Why an operation happens, in one phrase (the JSON plan's `reason`)."""
    match op:
        case PublishVersion():
            return "; ".join(publish_reason(r) for r in op.reasons)
        case CreateAlias():
            return ""
        case UpdateAlias():
            return "" if op.rollout is None else rollout_message(op.rollout.status)
        case DeleteAlias():
            return alias_deletion(op.reason)
        case DeleteVersion() | DeleteLayerVersion():
            return deletion_reason(op)
        case _:
            assert_never(op)


def target(op: Operation) -> str:
    """What an operation acts on: `$LATEST`, an alias name, or a version number."""
    match op:
        case PublishVersion():
            return "$LATEST"
        case CreateAlias() | UpdateAlias() | DeleteAlias():
            return op.alias
        case DeleteVersion() | DeleteLayerVersion():
            return str(op.version)
        case _:
            assert_never(op)


def quoted(text: str, limit: int = 40) -> str:
    """A description in a plan line: in quotes, cut to `limit` characters with "…"."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    return f'"{short}"'


def _publishes_into(s: AliasState) -> bool:
    return any(isinstance(v, NewVersion) for v in s.versions())


def detail(op: Operation, notes: Notes | None = None) -> str:
    """What an operation changes, or why it happens, in one line (text and Markdown); `notes`
    (`FunctionPlan.notes()`) add each version's description or age."""
    match op:
        case PublishVersion():
            why = reason(op)
            new = "→ new version"
            if op.description is not None:
                new += f" described {quoted(op.description)}"
            return f"{new} ({why})" if why else new
        case CreateAlias() | UpdateAlias():
            text = "; ".join(changes(op, notes)) or f"→ {state(op.after)}"
            if _publishes_into(op.after) and KNOWN_AFTER_APPLY not in text:
                text = text.replace("new version", KNOWN_AFTER_APPLY, 1)
            return text
        case DeleteAlias():
            return f"routes to {state(op.before)}; {alias_deletion(op.reason)}"
        case DeleteVersion() | DeleteLayerVersion():
            return deletion_reason(op)
        case _:
            assert_never(op)


# ---- retention and the brake -------------------------------------------------------------


def keep_reason(r: KeepReason) -> str:
    match r:
        case Aliased(aliases=aliases):
            return "aliased by " + ", ".join(aliases)
        case Protected():
            return "protected"
        case Previous(alias=alias, n=n):
            return f"{alias}'s previous version" + ("" if n == 1 else f" ({n} back)")
        case Young(days=days, keep_days=keep_days):
            return f"young ({days} days old, keep_days={keep_days})"
        case InUse(what=what):
            return "used by " + (
                ", ".join(what) if what else "an event source mapping or provisioned concurrency"
            )
        case _:
            assert_never(r)


def kept(k: Kept) -> str:
    return "; ".join(keep_reason(r) for r in k.reasons)


def layer_keep_reason(r: LayerKeepReason) -> str:
    match r:
        case Protected():
            return "protected"
        case Young(days=days, keep_days=keep_days):
            return f"young ({days} days old, keep_days={keep_days})"
        case UsedBy(functions=functions, total=n):
            more = f" and {n - len(functions)} more" if n > len(functions) else ""
            return f"used by {', '.join(functions)}{more}"
        case Shared(grantees=grantees):
            return f"shared: its policy grants {', '.join(grantees)} (their use cannot be seen)"
        case _:
            assert_never(r)


def kept_layer(k: KeptLayer) -> str:
    return "; ".join(layer_keep_reason(r) for r in k.reasons)


# ---- code storage ------------------------------------------------------------------------


def storage_size(n: int) -> str:
    """Binary units, as the quota is stated: 80_530_636_800 → "75 GB", 13_314_398_617 →
    "12.4 GB" (whole numbers without a decimal)."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            text = f"{size:.1f}".removesuffix(".0") if unit != "B" else f"{n}"
            return f"{text} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def percent(used: int, limit: int) -> str:
    return f"{used * 100 / limit:.0f} %" if limit else "? %"


def storage_line(s: CodeStorage, freed: int) -> str:
    """ "code storage in us-east-1: 12.4 GB of 75 GB, 17 %; this plan frees 1.2 MB"."""
    if s.error:
        return f"code storage in {s.region}: unknown ({s.error})"
    text = f"code storage in {s.region}: {storage_size(s.used)} of {storage_size(s.limit)}, "
    text += percent(s.used, s.limit)
    return text + (f"; this plan frees {storage_size(freed)}" if freed else "")


def storage_warning(s: CodeStorage, threshold: float) -> str | None:
    """A warning when the region's use is above `threshold` (a share of the quota)."""
    if s.error or not s.limit or s.used <= s.limit * threshold:
        return None
    return (
        f"code storage in {s.region} is at {percent(s.used, s.limit)} of its quota, above "
        f"--storage-warn {threshold * 100:g} %: delete unused versions (retention) or ask AWS "
        "for more"
    )


def brake(b: Brake) -> str:
    return (
        f"{plural(b.deletions, 'deletion', 'deletions')} in this run (versions and aliases), "
        f"more than --max-deletions={b.limit}; apply refuses the whole plan "
        "(check retention and prune_aliases, or raise the limit)"
    )


def alias_tie(tie: AliasTie) -> str:
    match tie:
        case AliasTie.PROVISIONED_CONCURRENCY:
            return "provisioned concurrency"
        case AliasTie.PERMISSION:
            return "a resource-policy statement"
        case AliasTie.EVENT_SOURCE_MAPPING:
            return "an event source mapping"
        case AliasTie.FUNCTION_URL:
            return "a function URL"
        case _:
            assert_never(tie)


def unmanaged(u: UnmanagedAlias) -> str:
    """An unmanaged alias's row: where it routes, and why prune_aliases left it."""
    text = f"→ {state(u.state)}"
    if u.ties:
        carried = ", ".join(alias_tie(t) for t in u.ties)
        text += f"; not deleted: it carries {carried} (prune_aliases: force deletes it)"
    return text


def housekeeping(versions: int, layer_versions: int) -> str | None:
    """The retention deletions due that `drift` shows but does not count as drift."""
    parts = []
    if versions:
        parts.append(plural(versions, "version", "versions"))
    if layer_versions:
        parts.append(plural(layer_versions, "layer version", "layer versions"))
    if not parts:
        return None
    return (
        f"Housekeeping due: {' and '.join(parts)} to delete under retention (apply deletes "
        "them; not drift, see --housekeeping-is-drift)."
    )


def rollout_checks(s: RolloutStatus) -> str | None:
    """What a rollout that still moves traffic checks: its alarms, hooks and metric gates."""
    if s.stage not in (RolloutStage.PENDING, RolloutStage.IN_PROGRESS, RolloutStage.HOLDING):
        return None
    parts = [f"alarm {a}" for a in s.alarms]
    if s.pre_traffic:
        parts.append(f"pre-traffic hook {s.pre_traffic}")
    if s.post_traffic:
        parts.append(f"post-traffic hook {s.post_traffic}")
    if s.gates is not None:
        g = s.gates
        over = " over the previous version's" if g.compare_to_previous else ""
        least = f", at least {g.min_invocations} invocations a step" if g.min_invocations else ""
        parts.append(f"gate: error rate at most {weight(g.max_error_rate)}{over}{least}")
    return ", ".join(parts) or None


def drift_unknown(errors: int, first: str) -> str:
    """The drift headline when some live state could not be read: no verdict, its cause once."""
    return (
        f"Drift unknown: {plural(errors, 'error', 'errors')} kept live state from being read or "
        f"planned (first: {first}); nothing can be said of what was not read."
    )


def young_run(least: int, most: int, keep_days: int) -> str:
    """The reason of a run of versions kept for being young, said once."""
    days = f"{least} days" if least == most else f"{least}–{most} days"
    return f"young ({days} old, keep_days={keep_days})"
