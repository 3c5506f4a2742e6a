"""Alias attachments: what the manifest declares of an alias's function URL (`url`),
event-invoke configuration (`async`) and own policy statements (`permissions`), against what
was read; pure. An alias without the key is left as it is (its attachment is not even read).

Order (contract §4, after the alias writes, so an alias created by this plan exists): statements
declared otherwise are removed, then statements added (before a URL with auth NONE is created,
so it answers from its first request), URLs created or updated, configurations put; then what
`null` removes (URLs, configurations) and the statements no longer declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.aws import (
    INVOKE_URL,
    AsyncConfig,
    Cors,
    FunctionUrl,
    LiveAttachments,
    LiveFunction,
    Permission,
)
from reconciler.aws.attached import no_cors, principal
from reconciler.manifest import AliasSpec, AsyncSpec, FunctionTarget, PermissionSpec, UrlSpec
from reconciler.plan import (
    AddPermission,
    AliasBypass,
    AttachmentOperation,
    AttachmentWarning,
    BypassKind,
    CreateFunctionUrl,
    DeleteEventInvokeConfig,
    DeleteFunctionUrl,
    PublicUrlWithoutGrant,
    PutEventInvokeConfig,
    RemovePermission,
    UpdateFunctionUrl,
)


def desired_url(spec: UrlSpec) -> FunctionUrl:
    c = spec.cors
    cors = None
    if c is not None:
        cors = Cors(
            allow_origins=tuple(sorted(c.allow_origins)),
            allow_methods=tuple(sorted(c.allow_methods)),
            allow_headers=tuple(sorted(c.allow_headers)),
            expose_headers=tuple(sorted(c.expose_headers)),
            allow_credentials=c.allow_credentials,
            max_age=c.max_age,
        )
    return FunctionUrl(spec.auth_type, spec.invoke_mode, no_cors(cors))


def desired_async(spec: AsyncSpec) -> AsyncConfig:
    return AsyncConfig(
        spec.maximum_event_age, spec.maximum_retry_attempts, spec.on_success, spec.on_failure
    )


def desired_permission(spec: PermissionSpec) -> Permission:
    return Permission(
        sid=spec.sid,
        principal=principal(spec.principal),
        action=spec.action,
        source_arn=spec.source_arn,
        source_account=spec.source_account,
        principal_org_id=spec.principal_org_id,
        function_url_auth_type=spec.function_url_auth_type,
    )


@dataclass
class AttachmentPlan:
    """One function's attachment operations, in the two groups the planner places."""

    writes: list[AttachmentOperation] = field(default_factory=list)  # after the alias writes
    removals: list[AttachmentOperation] = field(default_factory=list)  # after the writes
    warnings: list[AttachmentWarning] = field(default_factory=list)


def _url(name: str, spec: AliasSpec, live: LiveAttachments, out: AttachmentPlan) -> None:
    have = live.url
    if spec.url is None:
        if have is not None:
            out.removals.append(DeleteFunctionUrl(name, have))
        return
    want = desired_url(spec.url)
    if have is None:
        out.writes.append(CreateFunctionUrl(name, want))
    elif have != want:
        out.writes.append(UpdateFunctionUrl(name, have, want))


def _async(name: str, spec: AliasSpec, live: LiveAttachments, out: AttachmentPlan) -> None:
    have = live.async_config
    if spec.async_ is None:
        if have is not None:
            out.removals.append(DeleteEventInvokeConfig(name, have))
        return
    want = desired_async(spec.async_)
    if have != want:
        out.writes.append(PutEventInvokeConfig(name, have, want))


def _permissions(
    name: str, spec: AliasSpec, live: LiveAttachments, out: AttachmentPlan
) -> list[AttachmentOperation]:
    """The statement writes; the removals of changed statements come first (returned)."""
    want = {p.sid: desired_permission(p) for p in spec.permissions or ()}
    have = {p.sid: p for p in live.permissions}
    revision = live.policy_revision
    first: list[AttachmentOperation] = []
    for sid, p in want.items():
        old = have.get(sid)
        if old == p:
            continue
        if old is not None:
            first.append(RemovePermission(name, old, revision))
        out.writes.append(AddPermission(name, p, revision))
    out.removals += [RemovePermission(name, p, revision) for s, p in have.items() if s not in want]
    return first


def _grants_url(permissions: tuple[PermissionSpec, ...]) -> bool:
    return any(p.action in (INVOKE_URL, "lambda:*", "*") for p in permissions)


def plan_attachments(target: FunctionTarget, live: LiveFunction) -> AttachmentPlan:
    out = AttachmentPlan()
    first: list[AttachmentOperation] = []
    for name, spec in target.spec.aliases.items():
        got = live.attachments.get(name)
        if got is None:
            continue
        if spec.declares_permissions and got.policy_read:
            first += _permissions(name, spec, got, out)
        if spec.declares_url and got.url_read:
            _url(name, spec, got, out)
            public = spec.url is not None and spec.url.auth_type == "NONE"
            if public and spec.declares_permissions and not _grants_url(spec.permissions or ()):
                out.warnings.append(PublicUrlWithoutGrant(name))
        if spec.declares_async and got.async_read:
            _async(name, spec, got, out)
    out.warnings += bypass_warnings(target, live)
    out.writes = first + _ordered(out.writes)
    out.removals = sorted(out.removals, key=lambda op: _LAST.index(type(op)))
    return out


_ORDER = (
    RemovePermission,
    AddPermission,
    CreateFunctionUrl,
    UpdateFunctionUrl,
    PutEventInvokeConfig,
    DeleteFunctionUrl,
    DeleteEventInvokeConfig,
)

# a URL goes before the statement that let it be called publicly
_LAST = (DeleteFunctionUrl, DeleteEventInvokeConfig, RemovePermission)


def _ordered(ops: list[AttachmentOperation]) -> list[AttachmentOperation]:
    """Statement writes first, then URLs, then configurations (stable within each kind)."""
    return sorted(ops, key=lambda op: _ORDER.index(type(op)))


# ---- the alias-bypass audit --------------------------------------------------------------


def guarded_aliases(target: FunctionTarget, live: LiveFunction) -> tuple[str, ...]:
    """The managed aliases with a canary (declared) or a rollout under way (weighted live):
    what reaches the function around them escapes their weights."""
    out = []
    for name, spec in target.spec.aliases.items():
        current = live.alias(name)
        weighted = current is not None and current.canary is not None
        if spec.canary is not None or (spec.rollout is not None and weighted):
            out.append(name)
    return tuple(out)


def bypass_warnings(target: FunctionTarget, live: LiveFunction) -> list[AttachmentWarning]:
    """Per guarded alias: statements of the function's own policy, mappings on the function
    or `$LATEST` (they bypass the alias), and mappings on the alias itself (AWS does not
    document whether they follow its weights)."""
    reach = live.reach
    if reach is None:
        return []
    out: list[AttachmentWarning] = []
    for alias in guarded_aliases(target, live):
        if reach.function_statements:
            out.append(AliasBypass(alias, BypassKind.FUNCTION_POLICY, reach.function_statements))
        if reach.unqualified_mappings:
            kind = BypassKind.MAPPING_UNQUALIFIED
            out.append(AliasBypass(alias, kind, reach.unqualified_mappings))
        on_alias = reach.alias_mappings.get(alias, ())
        if on_alias:
            out.append(AliasBypass(alias, BypassKind.MAPPING_ON_WEIGHTED_ALIAS, on_alias))
    return out
