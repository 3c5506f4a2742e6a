"""The words of alias attachments: their operations (`changes`, `reason`, the summary count) and
the warnings about them. Re-exported through `reconciler.plan.wording`'s functions."""

from __future__ import annotations

from typing_extensions import assert_never

from reconciler.aws import AsyncConfig, Cors, FunctionUrl, Permission
from reconciler.plan.attachment_types import (
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
from reconciler.plan.phrases import plural
from reconciler.plan.routes import Action


def count(action: Action, n: int) -> str:
    """The summary line's words for `n` attachment operations of one kind."""
    url = plural(n, "function URL", "function URLs")
    config = plural(n, "event-invoke config", "event-invoke configs")
    statement = plural(n, "policy statement", "policy statements")
    words = {
        Action.CREATE_FUNCTION_URL: f"{url} to create",
        Action.UPDATE_FUNCTION_URL: f"{url} to update",
        Action.DELETE_FUNCTION_URL: f"{url} to delete",
        Action.PUT_EVENT_INVOKE_CONFIG: f"{config} to put",
        Action.DELETE_EVENT_INVOKE_CONFIG: f"{config} to delete",
        Action.ADD_PERMISSION: f"{statement} to add",
        Action.REMOVE_PERMISSION: f"{statement} to remove",
    }
    return words[action]


def cors(c: Cors | None) -> str:
    if c is None:
        return "no CORS"
    parts = [f"origins {','.join(c.allow_origins) or '-'}"]
    if c.allow_methods:
        parts.append(f"methods {','.join(c.allow_methods)}")
    if c.allow_headers:
        parts.append(f"headers {','.join(c.allow_headers)}")
    if c.expose_headers:
        parts.append(f"expose {','.join(c.expose_headers)}")
    if c.allow_credentials:
        parts.append("credentials")
    if c.max_age:
        parts.append(f"max age {c.max_age}s")
    return "CORS " + " ".join(parts)


def url(u: FunctionUrl) -> str:
    return f"auth {u.auth_type}, {u.invoke_mode}, {cors(u.cors)}"


def async_config(a: AsyncConfig | None) -> str:
    if a is None:
        return "none"
    parts = []
    if a.maximum_event_age is not None:
        parts.append(f"maximum event age {a.maximum_event_age}s")
    if a.maximum_retry_attempts is not None:
        parts.append(f"{plural(a.maximum_retry_attempts, 'retry', 'retries')}")
    if a.on_success:
        parts.append(f"on success {a.on_success}")
    if a.on_failure:
        parts.append(f"on failure {a.on_failure}")
    return ", ".join(parts) or "AWS's defaults"


def statement(p: Permission) -> str:
    text = f"{p.sid}: {p.principal} may {p.action}"
    conditions = [
        f"{name} {value}"
        for name, value in (
            ("from", p.source_arn),
            ("account", p.source_account),
            ("organization", p.principal_org_id),
            ("URL auth", p.function_url_auth_type),
        )
        if value is not None
    ]
    return text + (f" ({', '.join(conditions)})" if conditions else "")


def _url_changes(before: FunctionUrl, after: FunctionUrl) -> tuple[str, ...]:
    out = []
    if before.auth_type != after.auth_type:
        out.append(f"url auth: {before.auth_type} → {after.auth_type}")
    if before.invoke_mode != after.invoke_mode:
        out.append(f"url invoke mode: {before.invoke_mode} → {after.invoke_mode}")
    if before.cors != after.cors:
        out.append(f"url {cors(before.cors)} → {cors(after.cors)}")
    return tuple(out)


def changes(op: AttachmentOperation) -> tuple[str, ...]:
    match op:
        case CreateFunctionUrl():
            return (f"url → {url(op.after)}",)
        case UpdateFunctionUrl():
            return _url_changes(op.before, op.after)
        case DeleteFunctionUrl():
            return (f"url ({url(op.before)}) → none",)
        case PutEventInvokeConfig():
            return (f"async: {async_config(op.before)} → {async_config(op.after)}",)
        case DeleteEventInvokeConfig():
            return (f"async: {async_config(op.before)} → none",)
        case AddPermission():
            return (f"+ statement {statement(op.statement)}",)
        case RemovePermission():
            return (f"- statement {statement(op.statement)}",)
        case _:
            assert_never(op)


def reason(op: AttachmentOperation) -> str:
    match op:
        case DeleteFunctionUrl() | DeleteEventInvokeConfig():
            return "null in the manifest"
        case RemovePermission():
            return "not declared in permissions as it is"
        case CreateFunctionUrl() | UpdateFunctionUrl() | PutEventInvokeConfig() | AddPermission():
            return ""
        case _:
            assert_never(op)


def symbol(action: Action) -> str:
    if action in (Action.CREATE_FUNCTION_URL, Action.ADD_PERMISSION):
        return "+"
    if action in (Action.DELETE_FUNCTION_URL, Action.DELETE_EVENT_INVOKE_CONFIG):
        return "-"
    if action is Action.REMOVE_PERMISSION:
        return "-"
    return "~"


def label(action: Action) -> str:
    """The Markdown table's name of an attachment action."""
    return {
        Action.CREATE_FUNCTION_URL: "➕ create function URL",
        Action.UPDATE_FUNCTION_URL: "🔄 update function URL",
        Action.DELETE_FUNCTION_URL: "🗑️ delete function URL",
        Action.PUT_EVENT_INVOKE_CONFIG: "🔄 put event-invoke config",
        Action.DELETE_EVENT_INVOKE_CONFIG: "🗑️ delete event-invoke config",
        Action.ADD_PERMISSION: "➕ add policy statement",
        Action.REMOVE_PERMISSION: "🗑️ remove policy statement",
    }[action]


def warning(w: AttachmentWarning) -> str:
    match w:
        case AliasBypass(alias=alias, via=via, what=what):
            return _bypass(alias, via, what)
        case PublicUrlWithoutGrant(alias=alias):
            return (
                f"alias {alias}'s function URL has auth NONE and no declared statement grants "
                "lambda:InvokeFunctionUrl: it answers 403 to everyone (declare one in "
                "permissions, with function_url_auth_type: NONE)"
            )
        case _:
            assert_never(w)


def _bypass(alias: str, kind: BypassKind, what: tuple[str, ...]) -> str:
    listed = ", ".join(what)
    match kind:
        case BypassKind.FUNCTION_POLICY:
            return (
                f"invocations through the function's own policy ({listed}) bypass alias "
                f"{alias}'s canary: they do not go through the alias's weights"
            )
        case BypassKind.MAPPING_UNQUALIFIED:
            mappings = plural(len(what), "event source mapping", "event source mappings")
            return (
                f"{mappings} ({listed}) invoke the unqualified function or $LATEST: their "
                f"events bypass alias {alias}'s canary"
            )
        case BypassKind.MAPPING_ON_WEIGHTED_ALIAS:
            mappings = plural(len(what), "event source mapping", "event source mappings")
            return (
                f"{mappings} ({listed}) invoke alias {alias} while it is weighted: whether "
                "mappings follow alias weights is not documented by AWS (their events may all "
                "go to the primary version)"
            )
        case _:
            assert_never(kind)
