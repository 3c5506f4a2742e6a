"""The words of progressive rollouts: where one stands (`rollout_message`), what rolled it back
or holds it (`cause`, `hold`), why its alias record is not trusted (`record_problem`), and the
lines of `status` and drift. Re-exported by `reconciler.plan.wording`, where callers find them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime

from typing_extensions import assert_never

from reconciler.plan.phrases import (
    duration,
    plural,
    rate,
    routing,
    utc_time,
    weight,
)
from reconciler.plan.types import (
    NEW_VERSION,
    AlarmFired,
    AlarmNoData,
    CapacityAllocating,
    CapacityFailed,
    CauseKind,
    ClockSkew,
    ErrorRateAbove,
    FailedYetServing,
    HoldCause,
    HookFailed,
    HookPhase,
    ManualRollback,
    MetricsPending,
    MetricsUnread,
    NoWayBack,
    OtherProblem,
    RecordProblem,
    RecordUnparsed,
    RollbackCause,
    RolloutPhase,
    RolloutStage,
    RolloutStatus,
    StepBeyond,
    UnknownPrevious,
    UnknownTarget,
    VersionRef,
    WaveFailed,
    WaveWaiting,
    WorseThanPrevious,
    version_label,
)

_UNDER_WAY = (RolloutStage.PENDING, RolloutStage.IN_PROGRESS, RolloutStage.HOLDING)
LIVE_COLUMNS = ("rollout", "step", "traffic", "next")


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
    if isinstance(s.cause, CapacityFailed):
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
        case CapacityFailed(version=version, reason=reason):
            return f"provisioned concurrency on version {version} failed to allocate" + (
                f": {reason}" if reason else ""
            )
        case _:
            assert_never(c)


def cause_now(c: RollbackCause) -> str:
    """The cause as it stands at this moment: an alarm is "in ALARM"."""
    return cause(c) + (" in ALARM" if isinstance(c, AlarmFired) else "")


def _why(s: RolloutStatus) -> str:
    if s.hold is not None:
        return hold(s.hold)
    return cause_now(s.cause) if s.cause is not None else "a failed check"


def _few(names: tuple[str, ...], shown: int = 3) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


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
        case WaveWaiting(wave=wave, rollouts=rollouts):
            return f"waiting for wave {wave}: {_few(rollouts)} not complete yet"
        case WaveFailed(wave=wave, rollouts=rollouts):
            return (
                f"wave {wave} failed: {_few(rollouts)} rolled back; the later waves do not "
                "start until the manifest names another version or rollout.attempt"
            )
        case CapacityAllocating(version=version, allocated=allocated, requested=requested):
            where = f"version {version}" if version else "the new version"
            return (
                f"allocating {allocated}/{requested} provisioned concurrency on {where}; "
                "no traffic moves to it before it is READY"
            )
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
    RolloutPhase.UNVERIFIED: lambda s: (
        f"not moving traffic: {record_problem(s.problem)}; {routing(s.live)}"
    ),
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
    why = (
        cause(s.cause)
        if s.cause is not None
        else record_problem(s.problem)
        if s.problem is not None
        else "a failed check"
    )
    stage = s.stage.value.replace("_", " ")
    serves = routing(s.live) if s.live is not None else f"{s.previous} serves all traffic"
    return (
        f"rollout of {function}:{s.alias} to {version_label(s.target)} {stage} ({why}): "
        f"git names {version_label(s.target)}; in AWS {serves}"
    )


def off_course_headline(n: int) -> str:
    return f"{plural(n, 'rollout', 'rollouts')} failed or held: git and AWS disagree"


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


# ---- why an alias record is not trusted --------------------------------------------------

_FIRED: Mapping[CauseKind, str] = {
    CauseKind.HOOK: "a traffic hook failed",
    CauseKind.GATE: "the error-rate gate fails",
    CauseKind.MANUAL: "it was rolled back",
    CauseKind.CAPACITY: "provisioned concurrency failed to allocate",
}


def record_problem(p: RecordProblem | None) -> str:
    """Why a rollout's alias record is not trusted ("" when it is)."""
    match p:
        case None:
            return ""
        case RecordUnparsed(error=error):
            return f"its record does not parse ({error})"
        case UnknownTarget(version=v):
            return f"its record names version {v}, which does not exist"
        case UnknownPrevious(version=v):
            return f"its record names previous version {v}, which does not exist"
        case StepBeyond(step=step, steps=steps):
            return f"its record says step {step} of a {steps}-step schedule"
        case FailedYetServing(version=v):
            return (
                f"its record marks {v} failed, yet the alias sends it all traffic; "
                "move it with `rollback`, or name another version"
            )
        case NoWayBack(fired=fired, previous=previous, alarm=alarm):
            what = f"alarm {alarm} fires" if fired is CauseKind.ALARM else _FIRED[fired]
            return (
                f"{what}, but its rollback target {previous} is not the version its history "
                "records; not moving traffic: use `rollback` or name another version"
            )
        case OtherProblem(text=text):
            return text
        case _:
            assert_never(p)


def _ref(v: str) -> VersionRef:
    return NEW_VERSION if v == str(NEW_VERSION) else v


def _fired(m: re.Match[str]) -> RecordProblem:
    what, previous = m["what"], m["previous"]
    alarm = re.fullmatch(r"alarm (.*) fires", what, re.DOTALL)
    if alarm is not None:
        return NoWayBack(CauseKind.ALARM, previous, alarm[1])
    kinds = {text: kind for kind, text in _FIRED.items()}
    return NoWayBack(kinds[what], previous) if what in kinds else OtherProblem(m[0])


_PROBLEMS: tuple[tuple[str, Callable[[re.Match[str]], RecordProblem]], ...] = (
    (r"its record does not parse \((.*)\)", lambda m: RecordUnparsed(m[1])),
    (r"its record names version (.*), which does not exist", lambda m: UnknownTarget(_ref(m[1]))),
    (
        r"its record names previous version (.*), which does not exist",
        lambda m: UnknownPrevious(m[1]),
    ),
    (
        r"its record says step (\d+) of a (\d+)-step schedule",
        lambda m: StepBeyond(int(m[1]), int(m[2])),
    ),
    (
        r"its record marks (.*) failed, yet the alias sends it all traffic; .*",
        lambda m: FailedYetServing(_ref(m[1])),
    ),
    (r"(?P<what>.*), but its rollback target (?P<previous>.*) is not the version .*", _fired),
)


def record_problem_from(text: str) -> RecordProblem:
    """The problem `record_problem` words as `text` (a plan file saves the words): an
    `OtherProblem` when these are not words this version writes."""
    for pattern, problem in _PROBLEMS:
        m = re.fullmatch(pattern, text, re.DOTALL)
        if m is not None:
            found = problem(m)
            if record_problem(found) == text:
                return found
    return OtherProblem(text)
