"""A model-based test of rollout state kept in the alias record (docs/design/rollout-state.md).

A hypothesis state machine drives the real planner (`reconciler.planner.plan`, as
`tests/planner_helpers.py` calls it) and the real executor (`reconciler.apply.apply_plan`), and
`rollback_plan`, against the in-memory Lambda (`tests/memlambda.py`) as AWS: two runners, each
with its own clock (the true time plus a skew of up to five minutes either way), plan and apply
in any interleaving, so a runner may apply a plan that another's writes made stale; a run can be
killed at any write (before it is applied, or right after); alarms flip between OK, ALARM and
INSUFFICIENT_DATA; each traffic hook passes, answers `Failed` or `FAILED`, raises a
FunctionError, or cannot be invoked (404, 403, 429); someone forges state (an earlier release's
rollout tag, a block appended to the alias description, valid-looking or malformed, or an edit
of the record the tool wrote), moves the alias by hand as `aws lambda update-alias
--function-version` does, or runs `rollback`; the manifest changes its target, `attempt`, steps
and interval, hooks and `bake`, and retention comes and goes while versions are published.

After every step it checks:

1. After any apply, no version that failed its checks for the manifest's current (target,
   attempt) gained traffic: a failure mark the tool wrote, a `rollback` away from it, or a hand
   move back (or a canary removed by hand mid-rollout) that a run read before the alias moved
   again. Within one apply that was not killed, a hook that failed for a version, or an alarm
   in ALARM, means that version gained no traffic. Only the manifest naming it anew (another
   version, or another attempt) clears this; so does a forged description (whoever may write it
   may move the alias anyway), and a `rollback` that routes it again (the documented undo).
2. A failure mark the tool wrote for the manifest's (target, attempt) is never lost while the
   manifest still names them, unless the machine forged the description since.
3. Every rollout status a plan returns carries the alias exactly as it was read for that plan,
   its phase agrees with it (complete and baking: all on the target; waiting and gated: the
   target is the canary), and its weight is the target's share of traffic in the routing that
   plan leaves (the live routing when it writes nothing).
4. The rollout part of the alias record names versions that exist — its target while the
   manifest names it, its previous version (`p`, which may be `$LATEST`) unless it failed —
   unless the machine forged the description since the tool last wrote it; no alias routes to a
   missing version (the in-memory Lambda's own `violations`). And an apply never gives traffic
   to a version other than a rollout's target, what the alias already routed to, or the primary
   the alias really had before (the rollback target): never to a version named only by forged
   state (a forged description may name the rollback target of an alias all on one version).

Why in process: hundreds of steps per example over HTTP to the emulator do not fit `make test`'s
time budget. What each rule does through the real CLI against the emulator is covered by other
tests: hooks in tests/test_cli_rollout_hooks.py and tests/test_cli_rollout_causes.py, the phases,
attempts, alarms and bake in tests/test_cli_rollout_states.py, `rollback` in
tests/test_cli_rollback.py, kills at every write in tests/test_reliability_crash.py, and two
applies at once in tests/test_reliability_concurrency.py.

`MODEL_EXAMPLES` (default 100 in `make test`) and `MODEL_STEPS` (default 40) set the examples and
the steps of each; unset, the runs are derandomized (the same cases every time), set (`make
test-slow`), they explore.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from reconciler.aws.live import LATEST, Canary, LiveAlias
from reconciler.engine import apply_plan, rollback_plan
from reconciler.errors import ReconcilerError
from reconciler.manifest import FunctionTarget
from reconciler.plan import (
    AlarmFired,
    AliasState,
    CreateAlias,
    ManualRollback,
    Plan,
    RolloutPhase,
    RolloutState,
    UpdateAlias,
)
from reconciler.plan.record import BadRecord, decode, describe
from reconciler.planning.rollout import history_key, tag_key
from tests.legacy import legacy_tag
from tests.memlambda import HOOK_OUTCOMES, NOW, Killed, MemLambda, snap
from tests.planner_helpers import apply_to, plan_against, target

MODEL_EXAMPLES = int(os.environ.get("MODEL_EXAMPLES", "100"))
MODEL_STEPS = int(os.environ.get("MODEL_STEPS", "40"))
EXPLORE = "MODEL_EXAMPLES" in os.environ
MODEL = settings(
    max_examples=MODEL_EXAMPLES,
    stateful_step_count=MODEL_STEPS,
    deadline=None,
    derandomize=not EXPLORE,
    suppress_health_check=list(HealthCheck),
)
if not EXPLORE:
    MODEL = settings(MODEL, database=None)

FN, ALIAS, ALARM = "fn", "prod", "fn-errors"
PRE, POST = "fn-pre-traffic", "fn-post-traffic"
MAX_VERSIONS = 9
TOTALS: Counter[str] = Counter()

SCHEDULES: tuple[tuple[str, ...], ...] = ((), ("10%",), ("10%", "50%"), ("20%", "40%", "80%"))
VERSIONISH = ("1", "2", "3", "4", "5", "6", "9", "42", "0", "abc", LATEST)


def share(alias: LiveAlias | AliasState | None, version: str) -> float:
    """The share of the alias's traffic that goes to `version`."""
    if alias is None:
        return 0.0
    canary = alias.canary
    weight = 0.0 if canary is None else canary.weight
    if str(alias.version) == version:
        return round(1.0 - weight, 6)
    if canary is not None and str(canary.version) == version:
        return round(weight, 6)
    return 0.0


def routed(alias: LiveAlias | None) -> set[str]:
    if alias is None:
        return set()
    return {alias.version} | ({alias.canary.version} if alias.canary else set())


def rollout_of(alias: LiveAlias | None) -> RolloutState | None:
    """The rollout part of the alias's record; None without one (or when it does not parse)."""
    if alias is None or not alias.record:
        return None
    try:
        return decode(alias.record).rollout
    except BadRecord:
        return None


@dataclass
class Manifest:
    version: int = 2
    attempt: int = 1
    steps: tuple[str, ...] = ("10%", "50%")
    interval: str = "10m"
    pre: bool = True
    post: bool = False
    bake: str | None = None
    retention: bool = False

    def target(self) -> FunctionTarget:
        rollout: dict[str, Any] = {"alarms": [ALARM], "attempt": self.attempt}
        if self.steps:
            rollout.update(steps=list(self.steps), interval=self.interval)
        else:
            rollout["preset"] = "AllAtOnce"
        hooks = {"pre_traffic": PRE} if self.pre else {}
        if self.post:
            hooks["post_traffic"] = POST
        if hooks:
            rollout["hooks"] = hooks
        if self.bake:
            rollout["bake"] = self.bake
        spec: dict[str, Any] = {"aliases": {ALIAS: {"version": self.version, "rollout": rollout}}}
        if self.retention:
            spec["retention"] = {"keep_last": 2}
        return target(FN, **spec)


@dataclass
class Runner:
    skew: timedelta = timedelta(0)
    plan: Plan | None = None


@st.composite
def forged_blocks(draw: st.DrawFn) -> str:
    """A record block someone puts at the end of the description: none (the record removed),
    malformed, or well formed with any fields (versions that exist or not, any step, time,
    status, attempt and cause)."""
    kind = draw(st.sampled_from(["none", "malformed", "fields"]))
    if kind == "none":
        return ""
    if kind == "malformed":
        return draw(
            st.sampled_from(
                [
                    "[lr:1 v=]",
                    "[lr:1 v=3 p=2 s=x t=0]",
                    "[lr:1 at=abc]",
                    "[lr:1 v=2 v=3 p=1 s=1 t=0]",
                    "[lr:1 h=1,x]",
                    "[lr:1 v=3 p=2 s=1 t=1767225600 c=bogus]",
                    "[lr:1 v=3 p=2 s=1 t=99999999999999 st=run]",
                    "[lr:2 v=3]",
                ]
            )
        )
    v = st.sampled_from(VERSIONISH)
    parts = ["[lr:1"]
    if draw(st.booleans()):
        parts.append(f"at={draw(v)}")
    history = draw(st.lists(v, max_size=3))
    if history:
        parts.append("h=" + ",".join(history))
    if draw(st.booleans()):
        parts += [f"v={draw(v)}", f"p={draw(v)}", f"s={draw(st.integers(0, 5))}"]
        t = NOW + timedelta(minutes=draw(st.integers(-600, 600)))
        parts += [
            f"t={int(t.timestamp())}",
            f"st={draw(st.sampled_from(['run', 'verify', 'done', 'fail']))}",
        ]
        parts.append(f"a={draw(st.integers(1, 3))}")
        if draw(st.booleans()):
            parts += ["c=alarm", "al=nothing"]
    return " ".join(parts) + "]"


class RolloutModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        TOTALS["runs"] += 1
        self.mem = MemLambda()
        self.mem.add(FN, snap("latest"))
        for i in range(1, 6):
            self.mem.add_version(FN, snap(f"c{i}", days_old=50 - i))
        for hook in (PRE, POST):
            self.mem.add(hook, snap(hook))
            self.mem.hooks[hook] = "pass"
        self.mem.alarms[ALARM] = "OK"
        self.now = NOW
        self.runners = {"A": Runner(), "B": Runner()}
        self.manifest = Manifest()
        self.failed = False  # the manifest's (target, attempt) failed its checks
        self.mark = False  # the tool wrote a failure mark for it, which must stay
        self.forged = False  # the description was forged since the tool last wrote it
        self.previous_primary: str | None = None  # the primary the alias had before this one
        self.forged_previous: set[str] = set()  # rollback targets forged descriptions named
        # the alias revision a hand rollback left, until the tool reads it (a later move before
        # that leaves nothing the tool could see)
        self.pending: str | None = None
        self.broken: list[str] = []

    # -- helpers ---------------------------------------------------------------------------------
    def alias(self) -> LiveAlias | None:
        return self.mem.functions[FN].aliases.get(ALIAS)

    @property
    def key(self) -> tuple[str, int]:
        return str(self.manifest.version), self.manifest.attempt

    def ours(self, state: RolloutState | None) -> bool:
        return state is not None and (str(state.target), state.attempt) == self.key

    def violate(self, what: str) -> None:
        TOTALS["violations"] += 1
        self.broken.append(what)

    def moved(self, before: LiveAlias | None, after: LiveAlias | None) -> None:
        """Follow the alias's real primary history, whoever moved it."""
        if before is not None and after is not None and before.version != after.version:
            self.previous_primary = before.version

    def step(self) -> None:
        TOTALS["steps"] += 1

    def rename(self) -> None:
        """The manifest names another (target, attempt): earlier failures no longer hold."""
        self.failed = self.mark = False
        self.pending = None

    def observe(self) -> None:
        """The tool reads the alias: a hand rollback it shows is now the tool's to keep."""
        current = self.alias()
        if self.pending is not None and current is not None:
            if current.revision_id == self.pending:
                self.failed = True
            self.pending = None

    # -- setup -----------------------------------------------------------------------------------
    @initialize(
        start=st.sampled_from(["1", "2", "3", LATEST]),
        text=st.sampled_from(["", "Production"]),
        skew_a=st.integers(-300, 300),
        skew_b=st.integers(-300, 300),
        version=st.integers(2, 5),
    )
    def setup(self, start: str, text: str, skew_a: int, skew_b: int, version: int) -> None:
        self.mem.set_alias(FN, ALIAS, start, description=text)
        self.runners["A"].skew = timedelta(seconds=skew_a)
        self.runners["B"].skew = timedelta(seconds=skew_b)
        self.manifest.version = version

    # -- the runners -----------------------------------------------------------------------------
    @rule(runner=st.sampled_from(["A", "B"]))
    def plan(self, runner: str) -> None:
        self.step()
        self.plan_now(runner)

    def plan_now(self, runner: str) -> None:
        r = self.runners[runner]
        self.observe()
        before = self.alias()
        p = plan_against(
            self.mem, [self.manifest.target()], alarms=dict(self.mem.alarms), now=self.now + r.skew
        )
        self.check_statuses(p, before)
        r.plan = p

    def check_statuses(self, p: Plan, before: LiveAlias | None) -> None:
        """(3) Every status carries the routing read for the plan, its phase agrees with it,
        and its weight is the target's share of the routing the plan leaves."""
        fp = p.functions[0]
        writes = {
            op.alias: op.after for op in fp.operations if isinstance(op, CreateAlias | UpdateAlias)
        }
        for s in fp.rollouts:
            read = None if before is None else AliasState.of(before)
            if s.live != read:
                self.violate(f"(3) {s.phase.value}: status shows {s.live}, AWS has {read}")
            routes = share(read, str(s.target))
            canary = read is not None and read.canary is not None
            if s.phase in (RolloutPhase.COMPLETE, RolloutPhase.BAKING) and routes != 1.0:
                self.violate(f"(3) {s.phase.value}, yet {s.target} has {routes:g} of {read}")
            if s.phase in (RolloutPhase.WAITING, RolloutPhase.GATED) and not (canary and routes):
                self.violate(f"(3) {s.phase.value}, yet {s.target} is no canary of {read}")
            leaves = writes.get(s.alias, read)
            expected = share(leaves, str(s.target))
            if abs(s.weight - expected) > 1e-6:
                self.violate(
                    f"(3) {s.phase.value}: status weight {s.weight:g} for version {s.target}, "
                    f"but the plan leaves it {expected:g} ({leaves})"
                )

    @precondition(lambda self: any(r.plan is not None for r in self.runners.values()))
    @rule(
        runner=st.sampled_from(["A", "B"]),
        kill=st.none() | st.tuples(st.integers(1, 4), st.booleans()),
    )
    def apply(self, runner: str, kill: tuple[int, bool] | None) -> None:
        self.step()
        r = self.runners[runner]
        if r.plan is None:
            r = next(x for x in self.runners.values() if x.plan is not None)
        p, r.plan = r.plan, None
        assert p is not None
        self.run(p, self.now + r.skew, kill, rollback=False)

    @rule(
        runner=st.sampled_from(["A", "B"]),
        kill=st.none() | st.tuples(st.integers(1, 4), st.booleans()),
    )
    def plan_and_apply(self, runner: str, kill: tuple[int, bool] | None) -> None:
        """A runner's whole `apply`: plan, then apply that plan at once."""
        self.step()
        self.plan_now(runner)
        r = self.runners[runner]
        p, r.plan = r.plan, None
        assert p is not None
        self.run(p, self.now + r.skew, kill, rollback=False)

    @rule(first=st.sampled_from(["A", "B"]), between=st.sampled_from(["none", "alarm", "hook"]))
    def race(self, first: str, between: str) -> None:
        """Two applies at once: both plan from the same state, one applies, then the other
        applies its now stale plan (an alarm or a hook may change in between)."""
        self.step()
        second = "B" if first == "A" else "A"
        self.plan_now(second)
        self.plan_now(first)
        for runner in (first, second):
            r = self.runners[runner]
            p, r.plan = r.plan, None
            assert p is not None
            self.run(p, self.now + r.skew, None, rollback=False)
            if between == "alarm":
                self.mem.alarms[ALARM] = "ALARM"
            elif between == "hook":
                self.mem.hooks[POST] = self.mem.hooks[PRE] = "Failed"

    def run(self, p: Plan, now: datetime, kill: tuple[int, bool] | None, rollback: bool) -> None:
        before, alarm = self.alias(), self.mem.alarms[ALARM]
        invoked = len(self.mem.invocations)
        self.mem.write_calls, self.mem.kill_at = 0, kill
        killed = False
        try:
            apply_plan(p, self.mem, parallelism=1, progress=lambda _line: None, clock=lambda: now)
        except Killed:
            killed = True
            TOTALS["kills"] += 1
        except ReconcilerError:
            pass  # refused whole (plan errors): nothing written
        finally:
            self.mem.kill_at = None
        TOTALS["applies"] += 1
        TOTALS["writes"] += self.mem.write_calls
        after = self.alias()
        if rollback:
            self.after_rollback(before, after)
        else:
            self.after_apply(p, before, after, alarm, self.mem.invocations[invoked:], killed)
        self.moved(before, after)

    def after_apply(
        self,
        p: Plan,
        before: LiveAlias | None,
        after: LiveAlias | None,
        alarm: str,
        invocations: list[tuple[str, str, str]],
        killed: bool,
    ) -> None:
        version = str(self.manifest.version)
        targets = {str(s.target) for fp in p.functions for s in fp.rollouts}
        # (1) a version that failed its checks gains no traffic
        if self.failed and share(after, version) > share(before, version):
            self.violate(f"(1) version {version} failed, yet an apply gave it more traffic")
        if alarm == "ALARM":
            for t in targets:
                if share(after, t) > share(before, t):
                    self.violate(f"(1) alarm in ALARM, yet an apply moved traffic to {t}")
        if not killed:
            for hook, to, outcome in invocations:
                if outcome != "pass" and share(after, to) > share(before, to):
                    self.violate(f"(1) hook {hook} answered {outcome} for {to}, yet it gained")
        # (4) traffic only to a target, to what was routed, or back to the real previous primary
        # (a rollback from a weighted alias goes to its live primary; from an alias all on one
        # version, to the primary it really had before, or to what a forged description names:
        # whoever may write the description may move the alias anyway)
        allowed = targets | routed(before)
        if before is not None and before.canary is None:
            if self.previous_primary is not None:
                allowed.add(self.previous_primary)
            allowed |= self.forged_previous
        for v in routed(after) - allowed:
            self.violate(f"(4) an apply routed traffic to {v}, named by no manifest or move")
        if after is not None and (before is None or after.revision_id != before.revision_id):
            self.forged = False  # the tool wrote the description since
            state = rollout_of(after)
            if self.ours(state) and state is not None and state.status == "failed":
                self.failed = self.mark = True

    def after_rollback(self, before: LiveAlias | None, after: LiveAlias | None) -> None:
        if after is None or before is None or after.revision_id == before.revision_id:
            return
        version = str(self.manifest.version)
        self.forged = False
        if share(before, version) == 0 and share(after, version) > 0:
            self.rename()  # routed again by hand: the documented undo of a rollback
        elif share(before, version) > 0 and share(after, version) == 0:
            self.failed = True
        state = rollout_of(after)
        if self.ours(state) and state is not None and state.status == "failed":
            self.failed = self.mark = True

    # -- what others do --------------------------------------------------------------------------
    @rule(kill=st.none() | st.tuples(st.integers(1, 2), st.booleans()))
    def rollback(self, kill: tuple[int, bool] | None) -> None:
        """`rollback` as the CLI runs it (cli.py: the function's tags read, not folded in)."""
        self.step()
        self.observe()
        live = self.mem.read_function(FN, None)
        live = replace(live, tags=dict(self.mem.functions[FN].tags))
        now = self.now + self.runners["A"].skew
        try:
            p = rollback_plan(self.manifest.target(), live, ALIAS, now)
        except ReconcilerError:
            return
        self.run(p, now, kill, rollback=True)

    @rule(kind=st.sampled_from(["back", "drop canary", "elsewhere"]), to=st.integers(1, 9))
    def hand_move(self, kind: str, to: int) -> None:
        """UpdateAlias without a description, as `aws lambda update-alias --function-version`
        (with `--routing-config AdditionalVersionWeights={}`) does."""
        self.step()
        before = self.alias()
        if before is None:
            return
        state = rollout_of(before)
        if kind == "back":
            version = state.previous if state is not None else self.previous_primary
        elif kind == "drop canary":
            version = before.version
        else:
            version = str(to)
        if version is None:
            return
        try:
            self.mem.update_alias(FN, None, ALIAS, version, {}, None, before.revision_id)
        except ReconcilerError:
            return
        after = self.alias()
        self.moved(before, after)
        # back to where the rollout moved from, or its canary removed mid-rollout (design
        # invariant 6), on a record the tool wrote
        back = (
            not self.forged
            and self.ours(state)
            and state is not None
            and state.status != "failed"
            and after is not None
            and after.canary is None
            and (after.version == state.previous or state.status == "running")
        )
        mine = str(self.manifest.version)
        rolled_back = back and share(before, mine) > 0 and share(after, mine) == 0
        self.pending = after.revision_id if rolled_back and after is not None else None

    @rule(block=forged_blocks(), keep_text=st.booleans())
    def forge_description(self, block: str, keep_text: bool) -> None:
        """Someone who may update the alias writes a record of their own (or none)."""
        self.step()
        current = self.alias()
        if current is None:
            return
        text = current.description if keep_text else ""
        whole = f"{text} {block}" if text and block else text or block
        weights = {current.canary.version: current.canary.weight} if current.canary else {}
        self.mem.update_alias(FN, None, ALIAS, current.version, weights, whole, current.revision_id)
        self.forged = True
        state = rollout_of(self.alias())
        if state is not None:
            self.forged_previous.add(state.previous)
        self.rename()  # a principal that may write the description may move the alias anyway

    @rule(
        status=st.sampled_from(["running", "verifying", "done", "failed"]),
        previous=st.sampled_from(VERSIONISH),
        step=st.integers(0, 4),
        ours=st.booleans(),
    )
    def tamper(self, status: str, previous: str, step: int, ours: bool) -> None:
        """Someone who may update the alias edits the record the tool wrote: its status, its
        previous version, its step, and (`ours`) the manifest's target and attempt."""
        self.step()
        current = self.alias()
        if current is None:
            return
        try:
            record = decode(current.record)
        except BadRecord:
            return
        state = record.rollout or RolloutState(str(self.manifest.version), current.version, 1, NOW)
        cause = ManualRollback("hand") if status == "failed" else None
        state = replace(state, status=status, previous=previous, step=step, cause=cause)
        if ours:
            state = replace(state, target=str(self.manifest.version), attempt=self.manifest.attempt)
        whole = describe(current.description, replace(record, rollout=state))
        weights = {current.canary.version: current.canary.weight} if current.canary else {}
        self.mem.update_alias(FN, None, ALIAS, current.version, weights, whole, current.revision_id)
        self.forged = True
        self.forged_previous.add(previous)
        self.rename()

    @rule(
        v=st.sampled_from(VERSIONISH),
        p=st.sampled_from(VERSIONISH),
        step=st.integers(0, 4),
        minutes=st.integers(-600, 600),
        status=st.sampled_from(["running", "done", "failed", "verifying"]),
        attempt=st.integers(1, 3),
        alarm=st.booleans(),
        history=st.lists(st.sampled_from(VERSIONISH), max_size=3),
    )
    def forge_tag(
        self,
        v: str,
        p: str,
        step: int,
        minutes: int,
        status: str,
        attempt: int,
        alarm: bool,
        history: list[str],
    ) -> None:
        """Someone with only `lambda:TagResource` writes an earlier release's rollout tags."""
        self.step()
        since = NOW + timedelta(minutes=minutes)
        cause = AlarmFired("nothing") if alarm else None
        tags = self.mem.functions[FN].tags
        tags[tag_key(ALIAS)] = legacy_tag(RolloutState(v, p, step, since, status, cause, attempt))
        if history:
            tags[history_key(ALIAS)] = " ".join(history)

    @rule(state=st.sampled_from(["OK", "ALARM", "INSUFFICIENT_DATA"]))
    def flip_alarm(self, state: str) -> None:
        self.step()
        self.mem.alarms[ALARM] = state

    @rule(hook=st.sampled_from([PRE, POST]), outcome=st.sampled_from(HOOK_OUTCOMES))
    def hook_outcome(self, hook: str, outcome: str) -> None:
        self.step()
        self.mem.hooks[hook] = outcome

    @rule(minutes=st.sampled_from([0.5, 1, 4, 9, 10, 11, 30, 120]))
    def advance(self, minutes: float) -> None:
        self.step()
        self.now += timedelta(minutes=minutes)

    @rule(runner=st.sampled_from(["A", "B"]), skew=st.integers(-300, 300))
    def reskew(self, runner: str, skew: int) -> None:
        self.step()
        self.runners[runner].skew = timedelta(seconds=skew)

    @precondition(lambda self: len(self.mem.functions[FN].versions) < MAX_VERSIONS)
    @rule()
    def publish(self) -> None:
        """Someone else's pipeline publishes a version."""
        self.step()
        fn = self.mem.functions[FN]
        self.mem.add_version(FN, snap(f"c{fn.next_version}"))

    # -- the manifest ----------------------------------------------------------------------------
    @rule(
        change=st.one_of(
            st.tuples(st.just("version"), st.integers(1, 7)),
            st.tuples(st.just("attempt"), st.integers(1, 3)),
            st.tuples(st.just("steps"), st.sampled_from(SCHEDULES)),
            st.tuples(st.just("interval"), st.sampled_from(["1m", "10m", "1h"])),
            st.tuples(st.just("pre"), st.booleans()),
            st.tuples(st.just("post"), st.booleans()),
            st.tuples(st.just("bake"), st.sampled_from([None, "10m", "1h"])),
            st.tuples(st.just("retention"), st.booleans()),
        )
    )
    def change_manifest(self, change: tuple[str, Any]) -> None:
        """Another commit: a target, an attempt, a schedule, hooks on or off, a bake, retention."""
        self.step()
        field, value = change
        if field in ("version", "attempt") and getattr(self.manifest, field) != value:
            self.rename()
        setattr(self.manifest, field, value)

    # -- invariants ------------------------------------------------------------------------------
    @invariant()
    def nothing_broken(self) -> None:
        """(1), (3) and the routing part of (4), found by the rules as they ran."""
        assert not self.broken, self.broken

    @invariant()
    def failure_mark_kept(self) -> None:
        """(2) A failure mark the tool wrote stays while the manifest names its target."""
        if not self.mark:
            return
        alias = self.alias()
        raw = alias.record if alias is not None else ""
        try:
            state = decode(raw).rollout
        except BadRecord:
            state = None
        if not (self.ours(state) and state is not None and state.status == "failed"):
            TOTALS["violations"] += 1
            raise AssertionError(f"(2) the failure mark of {self.key} is lost: {raw!r}")

    @invariant()
    def records_name_versions(self) -> None:
        """(4) A record names versions that exist: the target, while the manifest names it (a
        failed one is retried by a new attempt), and the version it rolls back to, unless it
        failed. No alias routes to a missing version."""
        if self.mem.violations:
            TOTALS["violations"] += 1
            raise AssertionError(self.mem.violations)
        state = rollout_of(self.alias())
        if self.forged or state is None:
            return
        needs = [str(state.target)] if self.ours(state) else []
        if state.status != "failed":
            needs.append(state.previous)  # kept by retention whatever the manifest names
        versions = {str(n) for n in self.mem.functions[FN].versions} | {LATEST}
        missing = [v for v in needs if v not in versions]
        if missing:
            TOTALS["violations"] += 1
            raise AssertionError(f"(4) the record names missing version(s) {missing}: {state}")


@pytest.mark.no_cover  # thousands of plans of the same code: tracing would double the time
def test_rollout_state_model() -> None:
    """Two runners, kills, skew, alarms, hooks, forged state and manifest changes: the four
    invariants in the module docstring hold after every step."""
    run_state_machine_as_test(RolloutModel, settings=MODEL)
    print(
        f"\nFIGURE rollout model: {TOTALS['runs']} runs × {TOTALS['steps']} steps "
        f"({TOTALS['applies']} applies, {TOTALS['writes']} writes, {TOTALS['kills']} killed), "
        f"{TOTALS['violations']} violations"
    )


# -- what the machine found, each kept as a focused regression test ------------------------------


def _lambda() -> MemLambda:
    mem = MemLambda()
    mem.add(FN, snap("latest"))
    for i in range(1, 6):
        mem.add_version(FN, snap(f"c{i}", days_old=50 - i))
    mem.alarms[ALARM] = "OK"
    mem.set_alias(FN, ALIAS, "1")
    return mem


def _step(mem: MemLambda, manifest: Manifest, now: datetime = NOW) -> Plan:
    p = plan_against(mem, [manifest.target()], alarms=dict(mem.alarms), now=now)
    apply_to(mem, p, now)
    return p


def test_retention_keeps_a_failed_target_that_the_manifest_still_names() -> None:
    """Rolled back by hand, version 2 is marked failed; retention (keep_last 2 of 5) deleted it
    in the same plan, so the manifest named a missing version and no new attempt could retry it."""
    mem = _lambda()
    manifest = Manifest(version=2, pre=False, retention=True)
    _step(mem, manifest)
    prod = mem.functions[FN].aliases[ALIAS]
    assert (prod.version, prod.canary) == ("1", Canary("2", 0.1))
    mem.update_alias(FN, None, ALIAS, "1", {}, None, prod.revision_id)  # back by hand
    p = _step(mem, manifest)
    assert [s.phase.value for s in p.functions[0].rollouts] == ["recording_rollback"]
    assert 2 in mem.functions[FN].versions
    state = rollout_of(mem.functions[FN].aliases[ALIAS])
    assert state is not None
    assert (state.target, state.status) == ("2", "failed")
    retried = _step(mem, replace(manifest, attempt=2))
    assert [s.phase.value for s in retried.functions[0].rollouts] == ["starting"]


def test_a_held_rollout_reports_the_canary_it_leaves() -> None:
    """A new attempt while the old attempt's canary is live and the alarm fires: held, and the
    status says the 10 % the target still has (it said 0 %)."""
    mem = _lambda()
    _step(mem, Manifest(version=2, pre=False))
    mem.alarms[ALARM] = "ALARM"
    p = plan_against(mem, [Manifest(version=2, pre=False, attempt=2).target()], alarms=mem.alarms)
    (status,) = p.functions[0].rollouts
    assert (status.phase.value, status.weight) == ("held", 0.1)


def test_rollback_from_a_canary_marks_the_canary_failed() -> None:
    """`rollback` while version 2 is the canary beside 3: it marked 3 (the primary) failed, and
    the next apply rolled 2 out again."""
    mem = _lambda()
    _step(mem, Manifest(version=3, pre=False, steps=()))  # 1 → 3 at once: history 1
    _step(mem, Manifest(version=2, pre=False))  # 3 + 2 @ 10 %
    live = mem.read_function(FN, None)
    apply_to(mem, rollback_plan(Manifest(version=2).target(), live, ALIAS, NOW))
    prod = mem.functions[FN].aliases[ALIAS]
    assert (prod.version, prod.canary) == ("1", None)
    state = rollout_of(prod)
    assert state is not None
    assert (state.target, state.status) == ("2", "failed")
    p = _step(mem, Manifest(version=2, pre=False), NOW + timedelta(hours=1))
    assert [s.phase.value for s in p.functions[0].rollouts] == ["failed"]
    assert mem.functions[FN].aliases[ALIAS].canary is None


def test_rollback_keeps_the_failure_mark_of_the_target_the_manifest_names() -> None:
    """Version 2's pre-traffic hook failed with prod on 3; `rollback` (3 → 1) replaced 2's mark
    with one for 3, which the manifest does not name, and the next apply rolled 2 out."""
    mem = _lambda()
    for hook in (PRE, POST):
        mem.add(hook, snap(hook))
    _step(mem, Manifest(version=3, pre=False, steps=()))  # 1 → 3 at once: history 1
    mem.hooks[PRE] = "Failed"
    _step(mem, Manifest(version=2))
    assert mem.functions[FN].aliases[ALIAS].version == "3"
    live = mem.read_function(FN, None)
    apply_to(mem, rollback_plan(Manifest(version=2).target(), live, ALIAS, NOW))
    prod = mem.functions[FN].aliases[ALIAS]
    assert (prod.version, prod.canary) == ("1", None)
    state = rollout_of(prod)
    assert state is not None
    assert (state.target, state.status) == ("2", "failed")
    mem.hooks[PRE] = "pass"
    p = _step(mem, Manifest(version=2), NOW + timedelta(hours=1))
    assert [s.phase.value for s in p.functions[0].rollouts] == ["failed"]
    assert share(mem.functions[FN].aliases[ALIAS], "2") == 0


def test_tag_state_naming_a_missing_version_is_not_written_into_the_record() -> None:
    """An earlier release's tag (or a forged one) naming version 42: the migration wrote it into
    the description, where it is trusted as the tool's own record. Now the migration writes a
    record without that state (the routing unchanged) and removes the tag."""
    mem = _lambda()
    since = NOW - timedelta(minutes=5)
    mem.functions[FN].tags[tag_key(ALIAS)] = legacy_tag(RolloutState("42", "1", 1, since))
    before = mem.functions[FN].aliases[ALIAS]
    p = _step(mem, Manifest(version=1))
    ops = p.functions[0].operations
    assert len(ops) == 1
    assert isinstance(ops[0], UpdateAlias)
    assert ops[0].untag == (tag_key(ALIAS),)
    after = mem.functions[FN].aliases[ALIAS]
    assert (after.version, after.canary) == (before.version, before.canary)
    assert "42" not in after.record
    assert tag_key(ALIAS) not in mem.functions[FN].tags


def test_a_canary_removed_by_hand_sticks_wherever_the_primary_went() -> None:
    """Mid-rollout (1 + 3 @ 10 %), someone moves prod to 2 with no canary: the rollout started
    again from 2, as if 3 had not been taken out by hand."""
    mem = _lambda()
    _step(mem, Manifest(version=3, pre=False))
    prod = mem.functions[FN].aliases[ALIAS]
    assert (prod.version, prod.canary) == ("1", Canary("3", 0.1))
    mem.update_alias(FN, None, ALIAS, "2", {}, None, prod.revision_id)
    p = _step(mem, Manifest(version=3, pre=False), NOW + timedelta(minutes=1))
    assert [s.phase.value for s in p.functions[0].rollouts] == ["recording_rollback"]
    prod = mem.functions[FN].aliases[ALIAS]
    assert (prod.version, prod.canary) == ("2", None)
    state = rollout_of(prod)
    assert state is not None
    assert (state.target, state.status) == ("3", "failed")


def test_rollback_after_a_canary_removed_by_hand_marks_the_target() -> None:
    """3 + 2 @ 10 %, the canary removed by hand, then `rollback` (3 → 1) before any apply: the
    record of 2's rollout was replaced by a mark for 3, and the next apply rolled 2 out again."""
    mem = _lambda()
    _step(mem, Manifest(version=3, pre=False, steps=()))  # 1 → 3 at once: history 1
    _step(mem, Manifest(version=2, pre=False))  # 3 + 2 @ 10 %
    prod = mem.functions[FN].aliases[ALIAS]
    mem.update_alias(FN, None, ALIAS, "3", {}, None, prod.revision_id)  # canary removed by hand
    live = mem.read_function(FN, None)
    apply_to(mem, rollback_plan(Manifest(version=2).target(), live, ALIAS, NOW))
    assert mem.functions[FN].aliases[ALIAS].version == "1"
    p = _step(mem, Manifest(version=2, pre=False), NOW + timedelta(hours=1))
    assert [s.phase.value for s in p.functions[0].rollouts] == ["failed"]
    assert share(mem.functions[FN].aliases[ALIAS], "2") == 0


def test_a_failed_post_traffic_hook_after_a_canary_goes_back_to_the_live_primary() -> None:
    """2 + 1 @ 10 %, the record edited to say the rollout moved from 1 and is verifying: the
    promotion's post-traffic hook failed and the rollback went to the record's 1, leaving all
    traffic on the version that failed."""
    mem = _lambda()
    for hook in (PRE, POST):
        mem.add(hook, snap(hook))
        mem.hooks[hook] = "pass"
    mem.set_alias(FN, ALIAS, "2")
    manifest = Manifest(version=1, post=True)
    _step(mem, manifest)
    prod = mem.functions[FN].aliases[ALIAS]
    assert (prod.version, prod.canary) == ("2", Canary("1", 0.1))
    record = decode(prod.record)
    assert record.rollout is not None
    edited = replace(record.rollout, previous="1", status="verifying")
    whole = describe("", replace(record, rollout=edited))
    mem.update_alias(FN, None, ALIAS, "2", {"1": 0.1}, whole, prod.revision_id)
    mem.hooks[POST] = "Failed"
    _step(mem, manifest)
    prod = mem.functions[FN].aliases[ALIAS]
    assert (prod.version, prod.canary) == ("2", None)
