"""What hangs on an alias and a manifest may declare: its function URL, its event-invoke
configuration and its own resource-policy statements, as frozen data with no boto3 types.

The same values are the desired state (the planner builds them from the manifest) and the
observed one (`attachments.py` builds them from Lambda's answers), so the two compare with `==`.
Lists AWS keeps as sets (CORS origins, methods, headers) are sorted tuples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_ROOT = re.compile(r"arn:[^:]+:iam::([0-9]{12}):root")
INVOKE_FUNCTION = "lambda:InvokeFunction"
INVOKE_URL = "lambda:InvokeFunctionUrl"


@dataclass(frozen=True, slots=True)
class Cors:
    """A function URL's CORS settings (`Cors` of Create/UpdateFunctionUrlConfig)."""

    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    allow_credentials: bool = False
    max_age: int = 0


def principal(text: str) -> str:
    """A principal as the policy is compared: an account's root ARN is its account id (as
    AddPermission takes it and the policy document spells it either way)."""
    m = _ROOT.fullmatch(text)
    return m.group(1) if m else text


def no_cors(c: Cors | None) -> Cors | None:
    """Settings that allow nothing are no CORS at all (AWS answers either form)."""
    return None if c is None or c == Cors() else c


@dataclass(frozen=True, slots=True)
class FunctionUrl:
    """A function URL on an alias (`Qualifier` = the alias)."""

    auth_type: str  # AWS_IAM | NONE
    invoke_mode: str = "BUFFERED"  # BUFFERED | RESPONSE_STREAM
    cors: Cors | None = None


@dataclass(frozen=True, slots=True)
class AsyncConfig:
    """An alias's event-invoke configuration; None in a field: not set (AWS's default)."""

    maximum_event_age: int | None = None  # seconds, 60–21600
    maximum_retry_attempts: int | None = None  # 0–2
    on_success: str | None = None  # destination ARN
    on_failure: str | None = None


@dataclass(frozen=True, slots=True)
class Permission:
    """One statement of an alias's own resource policy, as AddPermission takes it. `principal`
    is a service (`s3.amazonaws.com`), an account id, an ARN, or `*`."""

    sid: str
    principal: str
    action: str = INVOKE_FUNCTION
    source_arn: str | None = None
    source_account: str | None = None
    principal_org_id: str | None = None
    function_url_auth_type: str | None = None


@dataclass(frozen=True, slots=True)
class LiveAttachments:
    """What was read of one alias's attachments; each `*_read` False: not read (not declared),
    then its value means nothing. `url` / `async_config` None when read: there is none."""

    url_read: bool = False
    url: FunctionUrl | None = None
    async_read: bool = False
    async_config: AsyncConfig | None = None
    policy_read: bool = False
    permissions: tuple[Permission, ...] = ()
    policy_revision: str = ""  # the alias policy's RevisionId ("" when it has none)
    extra: tuple[str, ...] = field(default=())  # statements that could not be understood (sids)


@dataclass(frozen=True, slots=True)
class LiveReach:
    """What reaches a function other than through its weighted aliases (the alias-bypass
    audit), read only for functions with a managed alias under a canary or a rollout."""

    function_statements: tuple[str, ...] = ()  # sids of the unqualified function's policy
    unqualified_mappings: tuple[str, ...] = ()  # UUIDs of mappings on the function or $LATEST
    alias_mappings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # alias → UUIDs
