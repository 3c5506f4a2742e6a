"""An alias's attachments as manifest values: what `import` writes for the URL, event-invoke
configuration and policy statements found live, and the edits `adopt` makes where a declared
one differs from live (an undeclared key stays undeclared: it is not managed)."""

from __future__ import annotations

from reconciler.adopt.edit import Edit, NullValue, Value
from reconciler.aws import INVOKE_FUNCTION, AsyncConfig, FunctionUrl, LiveAttachments, Permission
from reconciler.manifest import AliasSpec
from reconciler.planning import desired_async, desired_permission, desired_url


def url_value(u: FunctionUrl | None) -> Value:
    if u is None:
        return NullValue()
    out: dict[str, Value] = {"auth_type": u.auth_type}
    if u.invoke_mode != "BUFFERED":
        out["invoke_mode"] = u.invoke_mode
    c = u.cors
    if c is not None:
        cors: dict[str, Value] = {}
        for key, items in (
            ("allow_origins", c.allow_origins),
            ("allow_methods", c.allow_methods),
            ("allow_headers", c.allow_headers),
            ("expose_headers", c.expose_headers),
        ):
            if items:
                cors[key] = tuple(items)
        if c.allow_credentials:
            cors["allow_credentials"] = True
        if c.max_age:
            cors["max_age"] = c.max_age
        out["cors"] = cors
    return out


def async_value(a: AsyncConfig | None) -> Value:
    if a is None:
        return NullValue()
    out: dict[str, Value] = {}
    if a.maximum_event_age is not None:
        out["maximum_event_age"] = a.maximum_event_age
    if a.maximum_retry_attempts is not None:
        out["maximum_retry_attempts"] = a.maximum_retry_attempts
    if a.on_success:
        out["on_success"] = a.on_success
    if a.on_failure:
        out["on_failure"] = a.on_failure
    return out


def permission_value(p: Permission) -> Value:
    out: dict[str, Value] = {"sid": p.sid, "principal": p.principal}
    if p.action != INVOKE_FUNCTION:
        out["action"] = p.action
    for key, value in (
        ("source_arn", p.source_arn),
        ("source_account", p.source_account),
        ("principal_org_id", p.principal_org_id),
        ("function_url_auth_type", p.function_url_auth_type),
    ):
        if value is not None:
            out[key] = value
    return out


def permissions_value(perms: tuple[Permission, ...]) -> Value:
    return tuple(permission_value(p) for p in perms)


def imported(got: LiveAttachments | None) -> dict[str, Value]:
    """The keys `import` writes for an alias: only what exists live (none: nothing written,
    the attachment stays unmanaged and the imported manifest plans empty)."""
    if got is None:
        return {}
    out: dict[str, Value] = {}
    if got.url_read and got.url is not None:
        out["url"] = url_value(got.url)
    if got.async_read and got.async_config is not None:
        out["async"] = async_value(got.async_config)
    if got.policy_read and got.permissions:
        out["permissions"] = permissions_value(got.permissions)
    return out


def attachment_edits(
    name: str, path: tuple[str, ...], spec: AliasSpec, got: LiveAttachments | None
) -> tuple[list[Edit], list[str]]:
    """Adopt: each declared attachment that differs from live is rewritten whole as it is live."""
    edits: list[Edit] = []
    changes: list[str] = []
    if got is None:
        return edits, changes
    if spec.declares_url and got.url_read:
        want = None if spec.url is None else desired_url(spec.url)
        if want != got.url:
            edits.append(Edit((*path, "url"), url_value(got.url)))
            changes.append(f"{name}: url as live")
    if spec.declares_async and got.async_read:
        config = None if spec.async_ is None else desired_async(spec.async_)
        if config != got.async_config:
            edits.append(Edit((*path, "async"), async_value(got.async_config)))
            changes.append(f"{name}: async as live")
    if spec.declares_permissions and got.policy_read:
        declared = sorted((desired_permission(p) for p in spec.permissions or ()), key=_sid)
        if tuple(declared) != got.permissions:
            edits.append(Edit((*path, "permissions"), permissions_value(got.permissions)))
            changes.append(f"{name}: permissions as live")
    return edits, changes


def _sid(p: Permission) -> str:
    return p.sid
