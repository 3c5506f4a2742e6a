"""`rollback`: the break-glass way back, for when CI is down.

Moves one managed alias to the version it pointed to before (the first entry of the history in
its record, which `apply` writes whenever it moves an alias) and clears any canary. The move is
an ordinary plan of one `UpdateAlias`, applied by the executor with the same guard (the alias
RevisionId read here), recording the history like any move, so a second rollback returns to
where the first one started. The same call marks the version it moves away from as failed for
that alias (the canary, when the alias has one: the version being rolled out), as an alarm
rollback does: the next `apply` does not roll it out again until the manifest names another
version or a new `rollout.attempt`. When the version the manifest names is out of the alias
already (its rollout failed, or its canary was removed by hand), its mark is kept (or made)
instead: it is the one the next `apply` reads. Git is not changed: `drift` reports the
difference until the manifest says the same.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from reconciler.aws import LiveFunction
from reconciler.errors import ReconcilerError
from reconciler.manifest import FunctionTarget
from reconciler.plan import (
    AliasField,
    AliasRecord,
    AliasState,
    FunctionPlan,
    ManualRollback,
    Plan,
    RolloutState,
    UpdateAlias,
)
from reconciler.plan.record import is_version, moved
from reconciler.plan.wording import record_problem
from reconciler.planning import fingerprint, record_of, rollback_capacity


def rollback_plan(target: FunctionTarget, live: LiveFunction, alias: str, now: datetime) -> Plan:
    """The plan that moves `alias` back to its recorded previous version (ReconcilerError when
    there is none, or it no longer exists)."""
    current = live.alias(alias)
    if current is None:
        raise ReconcilerError(f"{target.name}: alias {alias} does not exist")
    record, problem = record_of(live, alias)
    if problem is not None:
        why = record_problem(problem)
        raise ReconcilerError(f"{target.name}:{alias}: {why}; nothing was written")
    back = _way_back(target, live, alias, record)
    before = AliasState.of(current)
    after = AliasState(back, None, current.description)
    fields = tuple(
        f
        for f, changed in (
            (AliasField.VERSION, before.version != back),
            (AliasField.CANARY, before.canary is not None),
        )
        if changed
    )
    if not fields:
        raise ReconcilerError(f"{target.name}:{alias} is already on version {back}")
    rest = tuple(v for v in record.history if v != back)
    mark = _mark(target, live, alias, record, back, now)
    written = AliasRecord(back, moved(rest, current.version), mark)
    op = UpdateAlias(alias, before, after, current.revision_id, fields, record=written)
    function = FunctionPlan(
        key=target.key,
        function=target.name,
        region=live.region,
        account=live.account,
        source=str(target.location),
        arn=live.arn,
        fingerprint=fingerprint(live),
        operations=(op, *rollback_capacity(target, live, alias, back)),
    )
    return Plan(functions=(function,), manifests=(target.manifest,))


def _way_back(target: FunctionTarget, live: LiveFunction, alias: str, record: AliasRecord) -> str:
    """The recorded previous version, which must still exist."""
    history = tuple(v for v in record.history if is_version(v))
    if not history:
        raise ReconcilerError(
            f"{target.name}:{alias}: no previous version is recorded (apply records one each "
            "time it moves the alias); nothing was written"
        )
    back = history[0]
    if live.version(int(back)) is None:
        raise ReconcilerError(
            f"{target.name}:{alias}: the previous version {back} no longer exists; nothing was "
            "written"
        )
    return back


def _mark(
    target: FunctionTarget,
    live: LiveFunction,
    alias: str,
    record: AliasRecord,
    back: str,
    now: datetime,
) -> RolloutState | None:
    """The failure mark the rollback leaves: the version it moves traffic away from fails, as
    after an alarm — the canary when there is one other than the way back (the version being
    rolled out), else the primary. When the manifest's target is out of the alias already (it
    failed, or its canary was removed by hand), its mark is the one the next apply reads, so it
    stays (or is made): one for another version would be ignored."""
    current = live.alias(alias)
    assert current is not None
    spec = target.spec.aliases.get(alias)
    attempt = spec.rollout.attempt if spec is not None and spec.rollout is not None else 1
    canary = current.canary.version if current.canary is not None else None
    rolled = canary if canary is not None and canary != back else current.version
    mark = None
    if is_version(rolled):
        mark = RolloutState(rolled, back, 0, now, "failed", ManualRollback("rollback"), attempt)
    held = record.rollout
    if (
        held is not None
        and spec is not None
        and isinstance(spec.version, int)
        and (str(spec.version), attempt) == (held.target, held.attempt)
        and held.target not in (current.version, rolled)
        and live.version(spec.version) is not None
    ):
        mark = held
        if held.status != "failed":
            mark = replace(held, status="failed", cause=ManualRollback("hand"), since=now)
    return mark


def find_target(targets: tuple[FunctionTarget, ...], function: str) -> FunctionTarget:
    """The manifests' function named `function` (its name or its key)."""
    found = [t for t in targets if function in (t.name, t.key)]
    if not found:
        raise ReconcilerError(f"no function {function} in the manifests")
    if len(found) > 1:
        regions = ", ".join(t.region or "default region" for t in found)
        raise ReconcilerError(
            f"{function} is declared in several regions ({regions}): give its ARN"
        )
    return found[0]
