"""What the executor does for what hangs on versions and aliases: provisioned concurrency put on
or removed from a qualifier, and the SnapStart state of versions (an alias never moves to a
version still Pending or Failed)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from reconciler.aws import LambdaWriter
from reconciler.errors import ReconcilerError
from reconciler.plan import FunctionPlan, SetProvisionedConcurrency

# How long the executor waits for a SnapStart version it published to leave Pending before it
# leaves the alias writes to it to the next apply (AWS: up to about two minutes; botocore's
# own waiter allows 26), and the longest pause between two reads of its State.
SNAPSHOT_WAIT_S = 300.0
SNAPSHOT_POLL_MAX_S = 10.0
_sleep: Callable[[float], None] = time.sleep


def set_capacity(aws: LambdaWriter, fp: FunctionPlan, op: SetProvisionedConcurrency) -> str:
    """Put the declared provisioned concurrency on the qualifier where the alias's capacity
    lives (Lambda allocates it afterwards: the next plan sees it IN_PROGRESS, then READY), or
    Delete it (0)."""
    region = fp.region or None
    if op.after > 0:
        aws.put_provisioned_concurrency(fp.key, region, op.qualifier, op.after)
        return f"{op.after} requested on {op.qualifier}; Lambda allocates it"
    aws.delete_provisioned_concurrency(fp.key, region, op.qualifier)
    return f"removed from {op.qualifier}"


class Snapshots:
    """The `State` of SnapStart versions, read at most once each per run (after a publish, until
    it leaves Pending)."""

    def __init__(self, aws: LambdaWriter, fp: FunctionPlan) -> None:
        self.aws = aws
        self.fp = fp
        self.states: dict[str, tuple[str, str]] = {}

    def await_active(self, version: str) -> str:
        """Poll a version this run published (bounded, backing off) until it leaves Pending;
        Failed stops the function's run: no alias is moved to it."""
        deadline = time.monotonic() + SNAPSHOT_WAIT_S
        pause = 1.0
        while True:
            state, reason = self.aws.version_state(self.fp.key, self.fp.region or None, version)
            self.states[version] = (state, reason)
            if state != "Pending" or time.monotonic() >= deadline:
                break
            _sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, SNAPSHOT_POLL_MAX_S)
        self._refuse_failed(version)
        return state

    def _refuse_failed(self, version: str) -> None:
        state, reason = self.states[version]
        if state == "Failed":
            why = f" ({reason})" if reason else ""
            raise ReconcilerError(
                f"version {version} failed its SnapStart snapshot{why}; no alias is moved to "
                "it (publish a fixed version)"
            )

    def not_active(self, versions: Sequence[str]) -> str | None:
        """Why an alias write routing to `versions` must wait (a SnapStart version still
        Pending), None when it may go; a Failed one raises."""
        for version in versions:
            if version not in self.states and version in self.fp.snapstart_versions:
                region = self.fp.region or None
                self.states[version] = self.aws.version_state(self.fp.key, region, version)
            if version not in self.states:
                continue
            self._refuse_failed(version)
            if self.states[version][0] == "Pending":
                return (
                    f"version {version} is still Pending (SnapStart snapshot); the next apply "
                    "moves the alias"
                )
        return None
