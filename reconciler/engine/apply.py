"""The executor: walks a Plan through the Lambda API (`LambdaWriter`, implemented by `aws.client`).

Safety policy first (`check_applicable`): a plan with errors or a tripped deletion brake is
refused whole, before any call, whoever calls `apply_plan`.

Per function, operations run in the plan's order (publish, create/update aliases, delete aliases,
delete versions) and a failure stops the rest of that function only, so no version is pruned after
an alias move before it failed. Functions run in parallel, bounded.

Guards: PublishVersion carries the planned `CodeSha256` and `RevisionId` of `$LATEST`;
UpdateAlias carries the planned alias `RevisionId` and always the full routing config. Before the
first version deletion of a function, its aliases are listed again and any version that an alias
routes to (primary or additional version) is skipped, whatever AWS itself would allow.

Traffic hooks: before a rollout's first step the pre-traffic hook is invoked; if it fails, the
target is marked failed in the tag and no traffic moves. After the promotion to 100 % the
post-traffic hook is invoked; if it fails, the tag is marked failed first (so a crash is finished
by the next plan) and the alias goes back to the previous version at once.

Rollouts: right before the run, the alarms of every rollout step that moves traffic towards its
target are read again (one DescribeAlarms per region); a step whose alarm is in `ALARM` now (or
no longer exists) is refused, so a saved plan never moves traffic while an alarm fires. The next
plan rolls the alias back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timezone

from typing_extensions import assert_never

from reconciler.aws import LATEST, Invocation, LambdaWriter, LayerUsageReader
from reconciler.engine.announce import Announcer, Write, announce_holds
from reconciler.engine.attachments import AttachmentRun
from reconciler.engine.capacity import Snapshots, set_capacity
from reconciler.engine.edge import KEPT_REPLICATED, replicated_refusal
from reconciler.engine.results import ApplyResult, OpResult, Status
from reconciler.errors import AwsError, ReconcilerError
from reconciler.notify import Notifiers, RunInfo
from reconciler.plan import (
    ATTACHMENT_OPERATIONS,
    FORWARD,
    AliasRecord,
    AliasState,
    CreateAlias,
    DeleteAlias,
    DeleteLayerVersion,
    DeleteVersion,
    FunctionPlan,
    HookFailed,
    HookPhase,
    LayerPlan,
    NewVersion,
    Operation,
    Plan,
    PublishVersion,
    RolloutPhase,
    RolloutStep,
    SetProvisionedConcurrency,
    UpdateAlias,
    VersionRef,
)
from reconciler.plan.attachment_wording import symbol as attachment_symbol
from reconciler.plan.record import describe as record_description
from reconciler.plan.record import moved
from reconciler.plan.wording import brake, cause, plural, rolled_back, target
from reconciler.planning import grants

Progress = Callable[[str], None]
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _awaits_hook(record: AliasRecord, verifying: bool) -> bool:
    """The alias is all on the target and its post-traffic hook decides what comes next."""
    state = record.rollout
    return state is not None and (verifying or state.status == "verifying")


def _kept(op: UpdateAlias, record: AliasRecord) -> tuple[str, ...]:
    """The history as it stands when the alias does not move after all (a failed hook)."""
    moves = op.after.version != op.before.version
    if moves and record.history[:1] == (op.before.version,):
        return record.history[1:]
    return record.history


def describe(op: Operation) -> str:
    """The progress line's name of an operation: `+ create_alias prod`."""
    if isinstance(op, ATTACHMENT_OPERATIONS):
        return f"{attachment_symbol(op.action)} {op.action.value} {op.alias}"
    match op:
        case PublishVersion() | CreateAlias():
            symbol = "+"
        case UpdateAlias() | SetProvisionedConcurrency():
            symbol = "~"
        case DeleteAlias() | DeleteVersion() | DeleteLayerVersion():
            symbol = "-"
        case _:
            assert_never(op)
    return f"{symbol} {op.action.value} {target(op)}"


def check_applicable(plan: Plan) -> None:
    """The plan-level safety policy: refuse, before any call, a plan with errors or a brake."""
    if plan.has_errors:
        errors = (
            len(plan.errors)
            + sum(len(fp.errors) for fp in plan.functions)
            + sum(len(lp.errors) for lp in plan.layers)
        )
        raise ReconcilerError(
            f"the plan has {plural(errors, 'error', 'errors')}; apply refuses the whole plan "
            "and nothing was written"
        )
    if plan.brake is not None:
        raise ReconcilerError(f"{brake(plan.brake)}; nothing was written")


class _FunctionRun:
    def __init__(
        self,
        aws: LambdaWriter,
        fp: FunctionPlan,
        progress: Progress,
        alarms: Mapping[str, str] | None = None,
        now: Clock = _utcnow,
        told: Announcer | None = None,
    ) -> None:
        self.aws = aws
        self.told = told  # where the events of each rollout write go (None: nowhere)
        self.now = now  # stamps a rollout step's start when its call is made
        self.alarms = alarms or {}  # alarm name → state, read right before the run
        self.fp = fp
        self.progress = progress
        self.region = fp.region or None
        self.new_version: str | None = None
        self.routed: set[str] | None = None  # versions aliases route to, read before deleting
        # versions mappings or provisioned concurrency hold, and by what (read before deleting)
        self.in_use: dict[int, tuple[str, ...]] | None = None
        self.attachments = AttachmentRun(aws, fp.key, self.region)
        self.snapshots = Snapshots(aws, fp)  # SnapStart versions' State

    def _resolve(self, version: VersionRef) -> str:
        if not isinstance(version, NewVersion):
            return version
        if self.new_version is None:
            raise ReconcilerError("the plan refers to a new version but published none")
        return self.new_version

    def _routing(self, state: AliasState) -> tuple[str, dict[str, float]]:
        version = self._resolve(state.version)
        weights: dict[str, float] = {}
        if state.canary is not None:
            canary = self._resolve(state.canary.version)
            if canary == version:
                raise ReconcilerError(
                    f"alias would route to version {version} twice (AWS published no new "
                    "version); re-run plan"
                )
            weights[canary] = state.canary.weight
        return version, weights

    def _hook(self, alias: str, step: RolloutStep, which: HookPhase, to: str) -> HookFailed | None:
        """Invoke the `which` hook of a rollout step: None when it passed, else why not. A hook
        that cannot be invoked (missing, denied, throttled, timed out) has failed."""
        s = step.status
        function = s.pre_traffic if which is HookPhase.PRE_TRAFFIC else s.post_traffic
        if function is None:
            return None
        event = {
            "function": self.fp.function,
            "alias": alias,
            "region": self.fp.region,
            "from_version": s.previous,
            "to_version": to,
            "phase": which.value,
        }
        try:
            out = self.aws.invoke(function, self.region, json.dumps(event).encode())
        except ReconcilerError as e:
            return HookFailed(which, function, f"could not be invoked: {e}")
        why = hook_failure(out)
        if why is None:
            self.progress(
                f"{self.fp.function}:{alias}: {which.value.replace('_', '-')} hook "
                f"{function} passed"
            )
            return None
        return HookFailed(which, function, why)

    def _check_alarms(self, alias: str, step: RolloutStep | None) -> None:
        """Right before a forward step, its alarms as they are now: one in ALARM (or gone)
        refuses the step (the next plan rolls back)."""
        if step is None or step.status.phase not in FORWARD:
            return
        for alarm in step.status.alarms:
            state = self.alarms.get(alarm)
            if state != "ALARM" and state is not None:
                continue
            why = "is in ALARM now" if state else "no longer exists"
            raise ReconcilerError(
                f"{alias}: alarm {alarm} {why}; rollout step not taken (the next plan rolls back)"
            )

    def _record(self, record: AliasRecord | None, restamp: bool) -> AliasRecord | None:
        """The record with this run's versions and, for a step taken now, its start time (the
        moment traffic moves, not when the plan was made)."""
        if record is None:
            return None
        at = None if record.at is None else self._resolve(record.at)
        rollout = record.rollout
        if rollout is not None:
            rollout = replace(rollout, target=self._resolve(rollout.target))
            if restamp:
                rollout = replace(rollout, since=self.now())
        return replace(record, at=at, rollout=rollout, from_tags=False)

    def _description(self, user: str | None, record: AliasRecord | None) -> str | None:
        if record is None:
            return user
        try:
            return record_description(user or "", record)
        except ValueError as e:
            raise ReconcilerError(str(e)) from None

    def run(self) -> list[OpResult]:
        results: list[OpResult] = []
        ops = list(self.fp.operations)
        for i, op in enumerate(ops):
            label = f"{self.fp.function}: {describe(op)}"
            try:
                status, message = self._do(op)
            except ReconcilerError as e:
                self.progress(f"{label} … failed: {e}")
                results.append(OpResult(self.fp.function, op, Status.FAILED, str(e)))
                results.extend(
                    OpResult(self.fp.function, rest, Status.NOT_ATTEMPTED) for rest in ops[i + 1 :]
                )
                return results
            self.progress(f"{label} … {status.value}{': ' + message if message else ''}")
            new = self.new_version if isinstance(op, PublishVersion) else None
            results.append(OpResult(self.fp.function, op, status, message, new))
        return results

    def _do(self, op: Operation) -> tuple[Status, str]:
        if isinstance(op, ATTACHMENT_OPERATIONS):
            return Status.DONE, self.attachments.do(op)
        match op:
            case PublishVersion():
                return self._publish(op)
            case CreateAlias():
                return self._not_ready(op) or self._create(op)
            case UpdateAlias():
                return self._not_ready(op) or self._update(op)
            case DeleteAlias():
                self.aws.delete_alias(self.fp.key, self.region, op.alias)
                return Status.DONE, ""
            case DeleteVersion():
                return self._delete_version(op)
            case DeleteLayerVersion():
                raise ReconcilerError("a layer version deletion in a function's plan")
            case SetProvisionedConcurrency():
                return Status.DONE, set_capacity(self.aws, self.fp, op)
            case _:
                assert_never(op)

    def _publish(self, op: PublishVersion) -> tuple[Status, str]:
        self.new_version = self.aws.publish_version(
            self.fp.key, self.region, op.code_sha256, op.revision_id, op.description
        )
        if op.snapstart:
            state = self.snapshots.await_active(self.new_version)
            if state != "Active":
                return Status.DONE, f"version {self.new_version}, still {state} (SnapStart)"
        return Status.DONE, f"version {self.new_version}"

    def _not_ready(self, op: CreateAlias | UpdateAlias) -> tuple[Status, str] | None:
        """An alias write to a SnapStart version still Pending is skipped (Failed: refused)."""
        why = self.snapshots.not_active([self._resolve(v) for v in op.after.versions()])
        return None if why is None else (Status.SKIPPED, why)

    def _create(self, op: CreateAlias) -> tuple[Status, str]:
        version, weights = self._routing(op.after)
        self._check_alarms(op.alias, op.rollout)
        record = self._record(op.record, restamp=True)
        description = self._description(op.after.description, record)
        self.aws.create_alias(self.fp.key, self.region, op.alias, version, weights, description)
        self._announce(Write(op.alias, op.rollout, version, weights, record))
        return Status.DONE, ""

    def _update(self, op: UpdateAlias) -> tuple[Status, str]:
        """One guarded UpdateAlias writes the routing and its record together. Around it: the
        pre-traffic hook before a rollout's first move (a failure is marked with the routing
        unchanged), and the post-traffic hook after a promotion (`verifying` until it passes;
        its pass writes `done`, its failure moves the alias back in the same call)."""
        version, weights = self._routing(op.after)
        step, user = op.rollout, op.after.description
        if user is None:
            user = op.before.description
        verifying = step is not None and step.status.phase is RolloutPhase.VERIFYING
        record = self._record(op.record, restamp=not verifying)
        if step is not None and record is not None and record.rollout is not None:
            starts = step.status.phase is RolloutPhase.STARTING or (
                step.status.phase is RolloutPhase.SWITCHING and record.rollout.previous == LATEST
            )
            if starts:
                self._pre_traffic(op, record, next(iter(weights), version))
        self._check_alarms(op.alias, step)
        revision = op.revision_id
        if not verifying:
            revision = self.aws.update_alias(
                self.fp.key,
                self.region,
                op.alias,
                version,
                weights,
                self._description(user, record),
                revision,
            )
            self._announce(Write(op.alias, step, version, weights, record))
        if op.untag:
            self.aws.untag_function(self.fp.key, self.region, self.fp.arn, op.untag)
        if record is not None and step is not None and _awaits_hook(record, verifying):
            self._post_traffic(op, record, version, revision, user)
        if step is not None and step.rolls_back:
            return Status.DONE, rolled_back(step.status)
        return Status.DONE, ""

    def _pre_traffic(self, op: UpdateAlias, record: AliasRecord, to: str) -> None:
        """The pre-traffic hook; on failure the record marks the target failed, in a guarded
        call that leaves the routing as it is, and no traffic moves."""
        assert op.rollout is not None
        assert record.rollout is not None
        why = self._hook(op.alias, op.rollout, HookPhase.PRE_TRAFFIC, to)
        if why is None:
            return
        failed = replace(record.rollout, status="failed", cause=why, since=self.now())
        marked = replace(record, at=self._resolve(op.before.version), history=_kept(op, record))
        here, weights = self._routing(op.before)
        user = op.after.description if op.after.description is not None else op.before.description
        self.aws.update_alias(
            self.fp.key,
            self.region,
            op.alias,
            here,
            weights,
            self._description(user, replace(marked, rollout=failed)),
            op.revision_id,
        )
        self._announce(Write(op.alias, op.rollout, here, weights, replace(marked, rollout=failed)))
        raise ReconcilerError(f"{op.alias}: {cause(why)}; no traffic moved to {to}")

    def _post_traffic(
        self, op: UpdateAlias, record: AliasRecord, version: str, revision: str, user: str | None
    ) -> None:
        """All traffic is on `version` and the record says `verifying`: the hook decides.
        Passed: `done` (the bake starts at the promotion). Failed: back to the previous
        version with the failure mark, in one call guarded by the promotion's revision."""
        assert op.rollout is not None
        assert record.rollout is not None
        state = record.rollout
        why = self._hook(op.alias, op.rollout, HookPhase.POST_TRAFFIC, version)
        if why is None:
            done = replace(record, rollout=replace(state, status="done"))
            self.aws.update_alias(
                self.fp.key,
                self.region,
                op.alias,
                version,
                {},
                self._description(user, done),
                revision,
            )
            self._announce(Write(op.alias, op.rollout, version, {}, done))
            return
        # back to the live primary when the promotion was from a canary (never to a version
        # named only by the record), else to the version the rollout moved from
        back = self._resolve(op.before.version) if op.before.canary is not None else state.previous
        failed = replace(state, status="failed", cause=why, since=self.now())
        backed = AliasRecord(back, moved(record.history, version), failed)
        self.aws.update_alias(
            self.fp.key,
            self.region,
            op.alias,
            back,
            {},
            self._description(user, backed),
            revision,
        )
        self._announce(Write(op.alias, op.rollout, back, {}, backed))
        raise ReconcilerError(f"{op.alias}: {cause(why)}; rolled back to {back}")

    def _announce(self, write: Write) -> None:
        if self.told is not None:  # the events of a rollout write; never raises
            self.told.write(self.fp, write, self._resolve, self.now)

    def _delete_version(self, op: DeleteVersion) -> tuple[Status, str]:
        name, region = self.fp.key, self.region
        if self.routed is None:
            self.routed = set()
            for a in self.aws.list_aliases(name, region):
                self.routed.add(a.version)
                if a.canary:
                    self.routed.add(a.canary.version)
        if str(op.version) in self.routed:
            return Status.SKIPPED, "an alias routes to it now"
        if self.in_use is None:  # mappings and provisioned concurrency, read again at apply
            self.in_use = self.aws.versions_in_use(name, region, self.fp.arn)
        if op.version in self.in_use:
            return Status.SKIPPED, "an event source mapping or provisioned concurrency uses it now"
        try:
            self.aws.delete_version(name, region, str(op.version))
        except AwsError as e:
            if e.code == "ResourceConflictException":
                return Status.SKIPPED, f"AWS refused: {e}"
            if replicated_refusal(e):
                return Status.SKIPPED, KEPT_REPLICATED
            raise
        return Status.DONE, ""


class _LayerRun:
    """A layer's deletions, after the functions' operations (which may stop using a version).

    Before each deletion the version is checked again: the region's function versions are
    listed once per apply (shared by the layers of a region) and the version's policy is read
    again; a version now used or shared is skipped."""

    def __init__(self, aws: LambdaWriter, usage: _Usage, lp: LayerPlan, progress: Progress) -> None:
        self.aws = aws
        self.usage = usage
        self.lp = lp
        self.progress = progress

    def run(self) -> list[OpResult]:
        results: list[OpResult] = []
        name = f"layer {self.lp.layer}"
        for op in self.lp.operations:
            try:
                status, message = self._delete(op)
            except ReconcilerError as e:
                self.progress(f"{name}: {describe(op)} … failed: {e}")
                results.append(OpResult(name, op, Status.FAILED, str(e)))
                continue
            self.progress(
                f"{name}: {describe(op)} … {status.value}{': ' + message if message else ''}"
            )
            results.append(OpResult(name, op, status, message))
        return results

    def _delete(self, op: DeleteLayerVersion) -> tuple[Status, str]:
        region = self.lp.region or None
        users = self.usage.of(self.lp.region).get(op.arn, ())
        if users:
            return Status.SKIPPED, f"used now by {', '.join(users[:3])}"
        policy = self.aws.layer_version_policy(self.lp.key, region, op.version)
        account = op.arn.split(":")[4] if op.arn.count(":") >= 4 else ""
        shared = grants(policy, account) if policy is not None else ()
        if shared:
            return Status.SKIPPED, f"its policy now grants {', '.join(shared)}"
        self.aws.delete_layer_version(self.lp.key, region, op.version)
        return Status.DONE, ""


class _Usage:
    """Which function versions use which layer versions, listed once per region per apply."""

    def __init__(self, aws: LayerUsageReader) -> None:
        self.aws = aws
        self.by_region: dict[str, dict[str, tuple[str, ...]]] = {}

    def of(self, region: str) -> dict[str, tuple[str, ...]]:
        if region not in self.by_region:
            self.by_region[region] = self.aws.layer_usage(region or None)
        return self.by_region[region]


def apply_plan(
    plan: Plan,
    aws: LambdaWriter,
    *,
    parallelism: int,
    progress: Progress,
    clock: Clock = _utcnow,
    stop: threading.Event | None = None,
    notifiers: Notifiers | None = None,
    run_info: RunInfo | None = None,
) -> ApplyResult:
    """Apply `plan` after the safety policy allows it (ReconcilerError otherwise). `clock`
    stamps the start of each rollout step when its call is made. Once `stop` is set (a signal),
    functions and layers not started are not attempted; those under way finish their
    operations, so the result says exactly what was done."""
    check_applicable(plan)
    todo = [fp for fp in plan.functions if fp.operations]
    alarms = reread_alarms(aws, todo)
    announce_holds(plan, notifiers, clock, run_info)  # rollout events: `engine.announce`

    def run(fp: FunctionPlan) -> list[OpResult]:
        if stop is not None and stop.is_set():
            return [OpResult(fp.function, op, Status.NOT_ATTEMPTED) for op in fp.operations]
        told = Announcer.of(notifiers, fp, run_info)
        return _FunctionRun(aws, fp, progress, alarms.get(fp.region), clock, told).run()

    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        per_function = list(pool.map(run, todo))
    usage = _Usage(aws)
    for lp in plan.layers:  # sequential: one usage listing per region, in plan order
        if stop is not None and stop.is_set():
            name = f"layer {lp.layer}"
            per_function.append([OpResult(name, op, Status.NOT_ATTEMPTED) for op in lp.operations])
            continue
        per_function.append(_LayerRun(aws, usage, lp, progress).run())
    return ApplyResult(tuple(r for rs in per_function for r in rs))


def reread_alarms(aws: LambdaWriter, todo: list[FunctionPlan]) -> dict[str, dict[str, str]]:
    """The alarms of every forward rollout step, read again: region → alarm → state."""
    names: dict[str, set[str]] = {}
    for fp in todo:
        for op in fp.operations:
            if not isinstance(op, CreateAlias | UpdateAlias) or op.rollout is None:
                continue
            if op.rollout.status.phase in FORWARD:
                names.setdefault(fp.region, set()).update(op.rollout.status.alarms)
    return {region: aws.alarm_states(region or None, n) for region, n in names.items() if n}


def hook_failure(out: Invocation) -> str | None:
    """Why a hook's invocation failed (a FunctionError, or `{"status": "Failed"}` with any
    `reason`), or None when it passed."""
    try:
        result = json.loads(out.payload or b"null")
    except ValueError:
        result = None
    if out.function_error:
        message = result.get("errorMessage") if isinstance(result, dict) else None
        return f"{out.function_error}: {message or out.payload.decode(errors='replace')[:200]}"
    status = result.get("status") if isinstance(result, dict) else None
    if isinstance(status, str) and status.strip().lower() == "failed":
        return str(result.get("reason") or f"status {status}")
    return None
