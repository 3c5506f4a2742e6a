"""The operations on what hangs on an alias (its function URL, event-invoke configuration and
own policy statements), the warnings about them and the Lambda@Edge reason retention keeps a
version, as inert data. Re-exported by `reconciler.plan.types`, which puts the operations into
the `Operation` union.

Each write is checked by the executor against the `before` it was planned with: AWS guards the
policy statements with the policy's RevisionId; for URLs and event-invoke configurations, which
AWS does not guard, the executor reads the live value again right before the write.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, NamedTuple

from reconciler.aws import AsyncConfig, FunctionUrl, Permission
from reconciler.plan.fields import tag
from reconciler.plan.routes import Action


@dataclass(frozen=True)
class CreateFunctionUrl:
    action: ClassVar[Action] = Action.CREATE_FUNCTION_URL
    alias: str
    after: FunctionUrl


@dataclass(frozen=True)
class UpdateFunctionUrl:
    """UpdateFunctionUrlConfig with every field; applied only while the live URL is `before`."""

    action: ClassVar[Action] = Action.UPDATE_FUNCTION_URL
    alias: str
    before: FunctionUrl
    after: FunctionUrl


@dataclass(frozen=True)
class DeleteFunctionUrl:
    """`url: null`: the alias's URL goes (its host name with it: a new one differs)."""

    action: ClassVar[Action] = Action.DELETE_FUNCTION_URL
    alias: str
    before: FunctionUrl


@dataclass(frozen=True)
class PutEventInvokeConfig:
    """PutFunctionEventInvokeConfig: the declared configuration replaces the live one whole;
    applied only while the live one is `before` (None: none)."""

    action: ClassVar[Action] = Action.PUT_EVENT_INVOKE_CONFIG
    alias: str
    before: AsyncConfig | None
    after: AsyncConfig


@dataclass(frozen=True)
class DeleteEventInvokeConfig:
    action: ClassVar[Action] = Action.DELETE_EVENT_INVOKE_CONFIG
    alias: str
    before: AsyncConfig


@dataclass(frozen=True)
class AddPermission:
    """AddPermission(Qualifier=alias) guarded by the alias policy's RevisionId as planned ("":
    the alias had no policy; the executor then checks again that the sid is still free)."""

    action: ClassVar[Action] = Action.ADD_PERMISSION
    alias: str
    statement: Permission
    revision_id: str


@dataclass(frozen=True)
class RemovePermission:
    """RemovePermission(Qualifier=alias) of a statement not declared (or declared otherwise:
    then removed before its new form is added), guarded like `AddPermission`."""

    action: ClassVar[Action] = Action.REMOVE_PERMISSION
    alias: str
    statement: Permission
    revision_id: str


AttachmentOperation = (
    CreateFunctionUrl
    | UpdateFunctionUrl
    | DeleteFunctionUrl
    | PutEventInvokeConfig
    | DeleteEventInvokeConfig
    | AddPermission
    | RemovePermission
)
ATTACHMENT_OPERATIONS = (
    CreateFunctionUrl,
    UpdateFunctionUrl,
    DeleteFunctionUrl,
    PutEventInvokeConfig,
    DeleteEventInvokeConfig,
    AddPermission,
    RemovePermission,
)
ATTACHMENT_ACTIONS = frozenset(op.action for op in ATTACHMENT_OPERATIONS)


# ---- Lambda@Edge: why retention keeps a version -----------------------------------------


@tag("replicated")
class Replicated(NamedTuple):
    """A `KeepReason`: a CloudFront distribution's cache behaviour names this version (Lambda@
    Edge); AWS refuses to delete it until CloudFront lets go (its replicas go hours after)."""

    distribution: str
    event_type: str


# ---- warnings: what the plan cannot fix but a person should know ------------------------


class BypassKind(str, Enum):
    """How invocations can reach a function without going through its managed alias."""

    FUNCTION_POLICY = "function_policy"  # statements on the unqualified function
    MAPPING_UNQUALIFIED = "mapping_unqualified"  # a mapping on the function or $LATEST
    MAPPING_ON_WEIGHTED_ALIAS = "mapping_on_weighted_alias"  # weights and mappings: undocumented


@tag("alias_bypass")
@dataclass(frozen=True)
class AliasBypass:
    """While `alias` has a canary or a rollout under way, `what` (statement ids or mapping
    UUIDs) reach the function another way (`via`), or in a way AWS does not document."""

    alias: str
    via: BypassKind
    what: tuple[str, ...]


@tag("public_url_without_grant")
@dataclass(frozen=True)
class PublicUrlWithoutGrant:
    """`url: {auth_type: NONE}` and no declared statement grants lambda:InvokeFunctionUrl:
    the URL answers 403 to everyone."""

    alias: str


AttachmentWarning = AliasBypass | PublicUrlWithoutGrant
