"""The executor: walks a Plan through `aws.py`, the only writer.

Per function, operations run in the plan's order (publish, create/update aliases, delete aliases,
delete versions) and a failure stops the rest of that function only, so no version is pruned after
an alias move before it failed. Functions run in parallel, bounded.

Guards: PublishVersion carries the planned `CodeSha256` and `RevisionId` of `$LATEST`;
UpdateAlias carries the planned alias `RevisionId` and always the full routing config. Before the
first version deletion of a function, its aliases are listed again and any version that an alias
routes to (primary or additional version) is skipped, whatever AWS itself would allow.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum

from reconciler.aws import Aws
from reconciler.errors import AwsError, ReconcilerError
from reconciler.live import Canary
from reconciler.plan import NEW_VERSION, Action, AliasState, FunctionPlan, Operation, Plan
from reconciler.rollout import tag_key

Progress = Callable[[str], None]


class Status(str, Enum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_ATTEMPTED = "not attempted"


@dataclass(frozen=True)
class OpResult:
    function: str
    operation: Operation
    status: Status
    message: str = ""


@dataclass(frozen=True)
class ApplyResult:
    results: tuple[OpResult, ...]

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def ok(self) -> bool:
        return self.count(Status.FAILED) == 0 and not self.rollbacks

    @property
    def rollbacks(self) -> list[str]:
        """Rollouts rolled back by this apply: the run exits 1 and names the alarm."""
        return [
            f"{r.function}:{r.operation.alias} rolled back to "
            f"{r.operation.after.version if r.operation.after else '?'}: alarm "
            f"{r.operation.rollback_alarm} in ALARM"
            for r in self.results
            if r.status is Status.DONE and r.operation.rollback_alarm
        ]

    def summary(self) -> str:
        return (
            f"Apply {'complete' if self.ok else 'failed'}: {self.count(Status.DONE)} done, "
            f"{self.count(Status.FAILED)} failed, {self.count(Status.SKIPPED)} skipped, "
            f"{self.count(Status.NOT_ATTEMPTED)} not attempted."
        )


def describe(op: Operation) -> str:
    match op.action:
        case Action.PUBLISH_VERSION:
            return "+ publish_version $LATEST"
        case Action.CREATE_ALIAS:
            return f"+ create_alias {op.alias}"
        case Action.UPDATE_ALIAS:
            return f"~ update_alias {op.alias}"
        case Action.DELETE_ALIAS:
            return f"- delete_alias {op.alias}"
        case Action.DELETE_VERSION:
            return f"- delete_version {op.version}"


class _FunctionRun:
    def __init__(self, aws: Aws, fp: FunctionPlan, progress: Progress) -> None:
        self.aws = aws
        self.fp = fp
        self.progress = progress
        self.new_version: str | None = None
        self.routed: set[str] | None = None  # versions aliases route to, read before deleting

    def _resolve(self, version: str) -> str:
        if version != NEW_VERSION:
            return version
        if self.new_version is None:
            raise ReconcilerError("the plan refers to a new version but published none")
        return self.new_version

    def _routing(self, state: AliasState) -> tuple[str, dict[str, float]]:
        version = self._resolve(state.version)
        weights: dict[str, float] = {}
        if state.canary is not None:
            canary = Canary(self._resolve(state.canary.version), state.canary.weight)
            if canary.version == version:
                raise ReconcilerError(
                    f"alias would route to version {version} twice (AWS published no new "
                    "version); re-run plan"
                )
            weights[canary.version] = canary.weight
        return version, weights

    def _write_rollout_state(self, op: Operation) -> None:
        """The rollout tag goes first: a crash after it makes the next run retake the step."""
        if op.rollout_state is None or op.alias is None:
            return
        value = op.rollout_state.replace(NEW_VERSION, self.new_version or "")
        self.aws.tag_function(
            self.fp.key, self.fp.region or None, self.fp.arn, tag_key(op.alias), value
        )

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
            results.append(OpResult(self.fp.function, op, status, message))
        return results

    def _do(self, op: Operation) -> tuple[Status, str]:
        fp, aws = self.fp, self.aws
        region = fp.region or None
        name = fp.key
        match op.action:
            case Action.PUBLISH_VERSION:
                self.new_version = aws.publish_version(
                    name, region, op.code_sha256 or "", op.revision_id or ""
                )
                return Status.DONE, f"version {self.new_version}"
            case Action.CREATE_ALIAS:
                assert op.after is not None
                assert op.alias is not None
                version, weights = self._routing(op.after)
                self._write_rollout_state(op)
                aws.create_alias(name, region, op.alias, version, weights, op.after.description)
                return Status.DONE, ""
            case Action.UPDATE_ALIAS:
                assert op.after is not None
                assert op.alias is not None
                version, weights = self._routing(op.after)
                self._write_rollout_state(op)
                aws.update_alias(
                    name,
                    region,
                    op.alias,
                    version,
                    weights,
                    op.after.description,
                    op.revision_id or "",
                )
                if op.rollback_alarm:
                    return Status.DONE, f"rolled back: alarm {op.rollback_alarm} in ALARM"
                return Status.DONE, ""
            case Action.DELETE_ALIAS:
                assert op.alias is not None
                aws.delete_alias(name, region, op.alias)
                return Status.DONE, ""
            case Action.DELETE_VERSION:
                assert op.version is not None
                if self.routed is None:
                    self.routed = set()
                    for a in aws.list_aliases(name, region):
                        self.routed.add(a.version)
                        if a.canary:
                            self.routed.add(a.canary.version)
                if op.version in self.routed:
                    return Status.SKIPPED, "an alias routes to it now"
                try:
                    aws.delete_version(name, region, op.version)
                except AwsError as e:
                    if e.code == "ResourceConflictException":
                        return Status.SKIPPED, f"AWS refused: {e}"
                    raise
                return Status.DONE, ""


def apply_plan(plan: Plan, aws: Aws, *, parallelism: int, progress: Progress) -> ApplyResult:
    todo = [fp for fp in plan.functions if fp.operations]
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        per_function = list(pool.map(lambda fp: _FunctionRun(aws, fp, progress).run(), todo))
    return ApplyResult(tuple(r for rs in per_function for r in rs))
