"""What an apply did: each operation's status and message, the run's summary, and the JSON of
`apply --format json`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from reconciler.plan import Operation, UpdateAlias
from reconciler.plan.planfile import FORMAT_VERSION
from reconciler.plan.wording import rolled_back, target


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
    new_version: str | None = None  # what a publish created


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
        """Rollouts rolled back by this apply: the run exits 1 and names the cause."""
        out = []
        for r in self.results:
            op = r.operation
            if r.status is not Status.DONE or not isinstance(op, UpdateAlias):
                continue
            if op.rollout is not None and op.rollout.rolls_back:
                out.append(f"{r.function}:{op.alias} {rolled_back(op.rollout.status)}")
        return out

    def summary(self) -> str:
        return (
            f"Apply {'complete' if self.ok else 'failed'}: {self.count(Status.DONE)} done, "
            f"{self.count(Status.FAILED)} failed, {self.count(Status.SKIPPED)} skipped, "
            f"{self.count(Status.NOT_ATTEMPTED)} not attempted."
        )


def result_to_json(result: ApplyResult, *, interrupted: str | None = None) -> str:
    """What `apply --format json` did, per operation, in plan order within each function;
    `interrupted` names the signal that stopped the run (SIGINT, SIGTERM), if one did."""
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "kind": "apply",
        "ok": result.ok,
        "results": [
            {
                "function": r.function,
                "action": r.operation.action.value,
                "target": target(r.operation),
                "status": r.status.value,
                "message": r.message,
                "new_version": r.new_version,
            }
            for r in result.results
        ],
        "summary": {s.value: result.count(s) for s in Status},
        "rollbacks": result.rollbacks,
    }
    if interrupted is not None:
        doc["interrupted"] = interrupted
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
