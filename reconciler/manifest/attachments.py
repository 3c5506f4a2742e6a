"""What an alias may carry: a function URL (`url`), an event-invoke configuration (`async`) and
its own resource-policy statements (`permissions`). Each key absent leaves the live one alone;
`url: null` / `async: null` mean "none" (deleted if present), `permissions: []` "no statement"."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema

from reconciler.manifest._base import AsTuple, Issue, StrictModel, show

if TYPE_CHECKING:
    from reconciler.manifest.models import AliasSpec

_ARN = r"^arn:aws(-[a-z]+)*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12})?:.+$"
_ARN_RE = re.compile(_ARN)


def _arn(value: Any) -> str:
    if not isinstance(value, str) or not _ARN_RE.fullmatch(value) or len(value) > 350:
        raise ValueError(
            f"expected an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE), got {show(value)}"
        )
    return value


Arn = Annotated[
    str, PlainValidator(_arn), WithJsonSchema({"type": "string", "pattern": _ARN, "maxLength": 350})
]
DestinationArn = Arn
Strings = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], AsTuple]


class CorsSpec(StrictModel):
    """A function URL's CORS settings (absent ones: AWS's defaults, none allowed).

    ```yaml
    cors: {allow_origins: ["https://example.com"], allow_methods: [GET, POST], max_age: 300}
    ```
    """

    allow_origins: Strings = Field(default=(), description='Origins allowed, or ["*"].')
    allow_methods: Strings = Field(default=(), description='HTTP methods allowed, or ["*"].')
    allow_headers: Strings = Field(default=(), description="Request headers allowed.")
    expose_headers: Strings = Field(default=(), description="Response headers exposed.")
    allow_credentials: bool = Field(default=False, description="Allow cookies and credentials.")
    max_age: Annotated[int, Field(ge=0, le=86400)] = Field(
        default=0, description="Seconds a browser caches the preflight answer (0–86400)."
    )


class UrlSpec(StrictModel):
    """The alias's function URL.

    ```yaml
    url: {auth_type: AWS_IAM, invoke_mode: BUFFERED, cors: {allow_origins: ["*"]}}
    ```
    """

    auth_type: Literal["AWS_IAM", "NONE"] = Field(
        description="AWS_IAM: callers sign; NONE: public (the policy must still grant "
        "lambda:InvokeFunctionUrl: declare that statement in `permissions`)."
    )
    invoke_mode: Literal["BUFFERED", "RESPONSE_STREAM"] = Field(
        default="BUFFERED", description="BUFFERED (default) or RESPONSE_STREAM."
    )
    cors: CorsSpec | None = Field(default=None, description="CORS settings; absent: none.")


class AsyncSpec(StrictModel):
    """The alias's event-invoke configuration; what is left out is not set (Put replaces the
    live configuration whole).

    ```yaml
    async: {maximum_event_age: 3600, maximum_retry_attempts: 1, on_failure: arn:aws:sqs:...}
    ```
    """

    maximum_event_age: Annotated[int, Field(ge=60, le=21600)] | None = Field(
        default=None, description="Seconds an event may wait before it is dropped (60–21600)."
    )
    maximum_retry_attempts: Annotated[int, Field(ge=0, le=2)] | None = Field(
        default=None, description="Retries after a function error (0–2)."
    )
    on_success: DestinationArn | None = Field(
        default=None, description="Destination ARN of successful invocations."
    )
    on_failure: DestinationArn | None = Field(
        default=None, description="Destination ARN of failed or dropped invocations."
    )


class PermissionSpec(StrictModel):
    """One statement of the alias's own resource policy (AddPermission with Qualifier=alias).

    ```yaml
    - {sid: s3-upload, principal: s3.amazonaws.com, source_arn: "arn:aws:s3:::uploads"}
    ```
    """

    sid: Annotated[str, Field(pattern=r"^[a-zA-Z0-9_.-]{1,100}$")] = Field(
        description="The statement id, unique in the alias's policy."
    )
    principal: Annotated[str, Field(min_length=1, max_length=256)] = Field(
        description="A service (s3.amazonaws.com), an account id, an ARN, or *."
    )
    action: Annotated[str, Field(pattern=r"^(lambda:[a-zA-Z*]+|\*)$")] = Field(
        default="lambda:InvokeFunction",
        description="The action granted (default lambda:InvokeFunction).",
    )
    source_arn: Arn | None = Field(
        default=None, description="Only for calls on behalf of this resource."
    )
    source_account: Annotated[str, Field(pattern=r"^[0-9]{12}$")] | None = Field(
        default=None, description="Only for calls on behalf of this account."
    )
    principal_org_id: Annotated[str, Field(pattern=r"^o-[a-z0-9]{10,32}$")] | None = Field(
        default=None, description="Only principals of this AWS Organizations organization."
    )
    function_url_auth_type: Literal["AWS_IAM", "NONE"] | None = Field(
        default=None, description="With lambda:InvokeFunctionUrl: the URL's auth type."
    )


Permissions = Annotated[tuple[PermissionSpec, ...], AsTuple]


def permission_issues(permissions: tuple[PermissionSpec, ...] | None) -> list[Issue]:
    """Each `sid` once in an alias's policy."""
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, p in enumerate(permissions or ()):
        if p.sid in seen:
            issues.append((("permissions", i, "sid"), f"sid {p.sid} is declared twice", False))
        seen.add(p.sid)
    return issues


def capacity_issues(spec: AliasSpec) -> list[Issue]:
    """`provisioned_concurrency` needs a published version and an alias without a static
    canary (Lambda manages no provisioned concurrency on an alias with routing)."""
    if not spec.provisioned_concurrency:
        return []
    if spec.version == "$LATEST":
        return [
            (
                ("provisioned_concurrency",),
                "provisioned concurrency needs a published version; $LATEST cannot carry it",
                False,
            )
        ]
    if spec.canary is not None:
        return [
            (
                ("provisioned_concurrency",),
                "`provisioned_concurrency` and `canary` exclude each other (Lambda manages no "
                "provisioned concurrency on an alias with routing); use `rollout`",
                False,
            )
        ]
    return []
