"""What the engine reads and writes of alias attachments (function URLs, event-invoke
configurations, alias policy statements), beside the alias reads and writes.

Reads: only for the aliases whose manifest declares `url`, `async` or `permissions`, and only
what they declare: one GetFunctionUrlConfig per alias declaring `url`, one
ListFunctionEventInvokeConfigs per function with an alias declaring `async`, one GetPolicy per
alias declaring `permissions`. A function whose manifest declares none costs no call.

Writes (`AttachmentRun`, one per function run of the executor): each is applied only while the
live value is still the one planned. AWS guards the policy statements (the policy's
RevisionId, 412 when it moved); for the first statement write of an alias the planned
RevisionId is sent, for the next ones the policy is read again and the statement checked.
URLs and event-invoke configurations have no guard in AWS: they are read again right before
each write and compared with what the plan saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar, cast

from typing_extensions import assert_never

from reconciler.aws import (
    AttachmentWriter,
    LambdaReader,
    LiveAttachments,
    LiveFunction,
    LiveReach,
)
from reconciler.errors import AwsError, ReconcilerError
from reconciler.plan import (
    AddPermission,
    AttachmentOperation,
    CreateFunctionUrl,
    DeleteEventInvokeConfig,
    DeleteFunctionUrl,
    PutEventInvokeConfig,
    RemovePermission,
    UpdateFunctionUrl,
)
from reconciler.planning import Observed, guarded_aliases

T = TypeVar("T")


def _declares(obs: Observed) -> bool:
    """Something to read: a declared attachment, or an alias the bypass audit guards."""
    if obs.live is None:
        return False
    declared = any(a.declares_attachments for a in obs.target.spec.aliases.values())
    return declared or bool(guarded_aliases(obs.target, obs.live))


def _reach(aws: LambdaReader, obs: Observed, aliases: Sequence[str]) -> LiveReach:
    """The function's own policy (GetPolicy, unqualified), the mappings on the function (one
    listing by its ARN), and the mappings on each guarded alias (one listing each)."""
    live = obs.live
    assert live is not None
    region = obs.target.region
    statements, _ = aws.alias_policy(obs.target.key, region, None)
    unqualified = {live.arn, f"{live.arn}:$LATEST"}
    mappings = aws.mappings_of(live.arn, region)
    on_alias = {a: tuple(u for u, _ in aws.mappings_of(f"{live.arn}:{a}", region)) for a in aliases}
    return LiveReach(
        function_statements=tuple(p.sid for p in statements),
        unqualified_mappings=tuple(u for u, arn in mappings if arn in unqualified),
        alias_mappings={a: m for a, m in on_alias.items() if m},
    )


def _read_one(aws: LambdaReader, obs: Observed) -> Observed:
    live = obs.live
    assert live is not None
    key, region = obs.target.key, obs.target.region
    aliases = obs.target.spec.aliases
    configs = None
    if any(a.declares_async for a in aliases.values()):
        configs = aws.async_configs(key, region)
    out: dict[str, LiveAttachments] = {}
    for name, spec in aliases.items():
        if not spec.declares_attachments:
            continue
        got = LiveAttachments()
        if spec.declares_url:
            got = replace(got, url_read=True, url=aws.function_url(key, region, name))
        if configs is not None and spec.declares_async:
            got = replace(got, async_read=True, async_config=configs.get(name))
        if spec.declares_permissions:
            perms, revision = aws.alias_policy(key, region, name)
            got = replace(got, policy_read=True, permissions=perms, policy_revision=revision)
        out[name] = got
    guarded = guarded_aliases(obs.target, live)
    reach = _reach(aws, obs, guarded) if guarded else None
    return replace(obs, live=replace(live, attachments=out, reach=reach))


def read_attachments(
    aws: LambdaReader, observed: Sequence[Observed], parallelism: int
) -> list[Observed]:
    """The declared attachments of every function read (its live state), concurrently; a
    failure to read them is the function's error, as a failure to read its aliases is."""

    def read(obs: Observed) -> Observed:
        if not _declares(obs):
            return obs
        try:
            return _read_one(aws, obs)
        except AwsError as e:
            if e.everywhere:
                raise
            return replace(obs, live=None, error=str(e))

    todo = [o for o in observed if _declares(o)]
    if not todo:
        return list(observed)
    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        return list(pool.map(read, observed))


def with_every_attachment(
    aws: LambdaReader, live: LiveFunction, region: str | None
) -> LiveFunction:
    """`import`: every alias's URL and policy, and the function's event-invoke configurations
    (one GetFunctionUrlConfig and one GetPolicy per alias, one listing per function). A kind
    the credentials may not read (403) is left out: it stays unmanaged in the manifest."""
    if not live.aliases:
        return live
    name = live.name
    configs = _allowed(lambda: aws.async_configs(name, region))
    out: dict[str, LiveAttachments] = {}
    for a in live.aliases:
        got = LiveAttachments()
        url = _allowed(partial(aws.function_url, name, region, a.name))
        if url is not _DENIED:
            got = replace(got, url_read=True, url=url)
        if configs is not _DENIED:
            got = replace(got, async_read=True, async_config=configs.get(a.name))
        policy = _allowed(partial(aws.alias_policy, name, region, a.name))
        if policy is not _DENIED:
            got = replace(got, policy_read=True, permissions=policy[0], policy_revision=policy[1])
        out[a.name] = got
    return replace(live, attachments=out)


_DENIED: Any = object()


def _allowed(read: Callable[[], T]) -> T:
    """`read()`, or `_DENIED` when AWS answers 403 (AccessDenied)."""
    try:
        return read()
    except AwsError as e:
        if e.status == 403:
            return cast(T, _DENIED)
        raise


class AttachmentRun:
    """The attachment writes of one function's run, each checked against what was planned."""

    def __init__(self, aws: AttachmentWriter, key: str, region: str | None) -> None:
        self.aws = aws
        self.key = key
        self.region = region
        self.policy_written: set[str] = set()  # aliases whose policy this run changed

    def do(self, op: AttachmentOperation) -> str:
        """Apply `op`; ReconcilerError when live state is no longer what was planned."""
        match op:
            case CreateFunctionUrl():
                self.aws.create_function_url(self.key, self.region, op.alias, op.after)
            case UpdateFunctionUrl():
                self._check_url(op.alias, op.before)
                self.aws.update_function_url(self.key, self.region, op.alias, op.after)
            case DeleteFunctionUrl():
                self._check_url(op.alias, op.before)
                self.aws.delete_function_url(self.key, self.region, op.alias)
            case PutEventInvokeConfig():
                self._check_async(op.alias, op)
                self.aws.put_async_config(self.key, self.region, op.alias, op.after)
            case DeleteEventInvokeConfig():
                self._check_async(op.alias, op)
                self.aws.delete_async_config(self.key, self.region, op.alias)
            case AddPermission() | RemovePermission():
                self._permission(op)
            case _:
                assert_never(op)
        return ""

    def _changed(self, alias: str, what: str) -> ReconcilerError:
        return ReconcilerError(
            f"{alias}: the {what} changed since the plan; run plan again (nothing was written)"
        )

    def _check_url(self, alias: str, before: object) -> None:
        if self.aws.function_url(self.key, self.region, alias) != before:
            raise self._changed(alias, "function URL")

    def _check_async(self, alias: str, op: PutEventInvokeConfig | DeleteEventInvokeConfig) -> None:
        if self.aws.async_config(self.key, self.region, alias) != op.before:
            raise self._changed(alias, "event-invoke configuration")

    def _permission(self, op: AddPermission | RemovePermission) -> None:
        revision = op.revision_id
        if op.alias in self.policy_written or not revision:
            perms, revision = self.aws.alias_policy(self.key, self.region, op.alias)
            present = {p.sid: p for p in perms}
            if isinstance(op, AddPermission) and op.statement.sid in present:
                raise self._changed(op.alias, f"policy (statement {op.statement.sid} exists)")
            if isinstance(op, RemovePermission) and present.get(op.statement.sid) != op.statement:
                raise self._changed(op.alias, f"policy (statement {op.statement.sid})")
        if isinstance(op, AddPermission):
            self.aws.add_permission(self.key, self.region, op.alias, op.statement, revision)
        else:
            self.aws.remove_permission(self.key, self.region, op.alias, op.statement.sid, revision)
        self.policy_written.add(op.alias)
