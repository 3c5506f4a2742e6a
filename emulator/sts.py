"""STS AssumeRole as the project's reference describes it, on moto's IAM roles and STS backend.

moto's AssumeRole accepts any role ARN (even one that does not exist), any session name and
duration, and never reads the role's trust policy. Here, before moto issues the credentials:

- `RoleSessionName` 2–64 characters of `[\\w+=,.@-]`, `DurationSeconds` 900–43200,
  `ExternalId` 2–1224 characters of `[\\w+=,.@:/-]` → 400 ValidationError (AWS's
  "1 validation error detected" form);
- the role must exist in its account and its trust policy must let the caller assume it
  (`Principal` `*`, the caller's account id or `arn:aws:iam::ACCOUNT:root`, the caller's user
  ARN, or — for a role session — its role's ARN or the session's ARN; `Action` matching
  `sts:AssumeRole`; conditions evaluated by `iam_eval` with `sts:ExternalId`,
  `sts:RoleSessionName`, `aws:PrincipalAccount` and `aws:PrincipalArn`; a `Deny` wins) → else
  403 AccessDenied;
- a caller that is itself a role session (role chaining) gets at most one hour, and no role
  more than its `MaxSessionDuration` → 400 ValidationError with AWS's exact texts.

The credentials moto issues are in the role's account (moto's multi-account rule), so every
later call signed with them lands there (`emulator/accounts.py`). The emulator remembers when
each expires, on AWS's clock (the host's plus the `clock` control offset): a Lambda call with
an expired session → 403 ExpiredTokenException.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from emulator.iam_eval import Unsupported, _conditions_hold, glob_match
from emulator.layer import ApiError

SESSION_NAME = re.compile(r"^[\w+=,.@-]*$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]*$")
ROLE_ARN = re.compile(r"^arn:aws:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]+)$")
CHAIN_LIMIT = 3600
MAX_SESSION_MESSAGE = (
    "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
)
CHAIN_MESSAGE = (
    "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
    "role chaining."
)
NS = "https://sts.amazonaws.com/doc/2011-06-15/"


@dataclass
class Session:
    account: str
    role_arn: str
    session_name: str
    expires: datetime  # on AWS's clock
    chained: bool


@dataclass
class StsState:
    sessions: dict[str, Session] = field(default_factory=dict)  # access key id → session


def _validation(field_name: str, value: str, constraint: str) -> ApiError:
    return ApiError(
        400,
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{field_name}' failed to satisfy "
        f"constraint: {constraint}",
    )


def _check_string(
    field_name: str, value: str, low: int, high: int, pattern: re.Pattern[str]
) -> None:
    if len(value) < low:
        raise _validation(
            field_name, value, f"Member must have length greater than or equal to {low}"
        )
    if len(value) > high:
        raise _validation(
            field_name, value, f"Member must have length less than or equal to {high}"
        )
    if not pattern.match(value):
        raise _validation(
            field_name,
            value,
            "Member must satisfy regular expression pattern: " + pattern.pattern.strip("^$"),
        )


def _duration(raw: str | None) -> int:
    if raw is None or raw == "":
        return 3600
    try:
        value = int(raw)
    except ValueError:
        raise _validation("durationSeconds", raw, "Member must be an integer") from None
    if value < 900:
        raise _validation(
            "durationSeconds", raw, "Member must have value greater than or equal to 900"
        )
    if value > 43200:
        raise _validation(
            "durationSeconds", raw, "Member must have value less than or equal to 43200"
        )
    return value


@dataclass
class Caller:
    account: str
    arn: str  # the user's ARN, or the session's assumed-role ARN
    role_arn: str | None  # the role of a role session (role chaining)


def caller_of(access_key: str, account: str, state: StsState) -> Caller:
    """Who signs with `access_key` in `account`: a role session, an IAM user, or the account."""
    from moto.iam.models import iam_backends

    session = state.sessions.get(access_key)
    if session is not None:
        name = session.role_arn.rsplit("/", 1)[-1]
        arn = f"arn:aws:sts::{account}:assumed-role/{name}/{session.session_name}"
        return Caller(account, arn, session.role_arn)
    iam = dict.get(iam_backends[account], "aws")  # without creating an IAM backend
    if iam is not None:
        user = iam.get_user_from_access_key_id(access_key)
        if user is not None:
            return Caller(account, str(user.arn), None)
    return Caller(account, f"arn:aws:iam::{account}:root", None)


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    values = principal.get("AWS", [])
    names = {caller.arn, *([caller.role_arn] if caller.role_arn else [])}
    for p in values if isinstance(values, list) else [values]:
        p = str(p)
        if p in ("*", caller.account, f"arn:aws:iam::{caller.account}:root") or p in names:
            return True
    return False


def trusts(policy: Any, caller: Caller, context: dict[str, list[str]]) -> bool:
    """Does the trust policy let `caller` call sts:AssumeRole (with `context`)?"""
    if isinstance(policy, str):
        policy = json.loads(policy) if policy else {}
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    allowed = False
    for st in statements if isinstance(statements, list) else [statements]:
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if not any(glob_match(a, "sts:AssumeRole", ignore_case=True) for a in actions):
            continue
        if not _principal_matches(st.get("Principal"), caller):
            continue
        try:
            if not _conditions_hold(st.get("Condition"), context):
                continue
        except Unsupported:
            continue
        if st.get("Effect") == "Deny":
            return False
        allowed = allowed or st.get("Effect") == "Allow"
    return allowed


def assume_role(
    params: dict[str, str],
    access_key: str,
    account: str,
    region: str,
    now: datetime,
    state: StsState,
    entry: dict[str, Any],
) -> bytes:
    """Validate and authorize an AssumeRole request, then let moto issue the credentials."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    role_arn = params.get("RoleArn", "")
    name = params.get("RoleSessionName", "")
    entry.update(role_arn=role_arn, role_session_name=name)
    _check_string("roleSessionName", name, 2, 64, SESSION_NAME)
    duration = _duration(params.get("DurationSeconds"))
    entry["duration_seconds"] = duration
    external_id = params.get("ExternalId")
    if external_id is not None:
        _check_string("externalId", external_id, 2, 1224, EXTERNAL_ID)
    caller = caller_of(access_key, account, state)
    denied = ApiError(
        403,
        "AccessDenied",
        f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
    )
    m = ROLE_ARN.match(role_arn)
    if m is None:
        raise _validation("roleArn", role_arn, "Member must satisfy the role ARN format")
    role_account = m.group(1)
    try:
        role = iam_backends[role_account]["aws"].get_role_by_arn(role_arn)
    except Exception:
        raise denied from None
    context = {
        "sts:RoleSessionName": [name],
        "aws:PrincipalAccount": [account],
        "aws:PrincipalArn": [caller.role_arn or caller.arn],
    }
    if external_id is not None:
        context["sts:ExternalId"] = [external_id]
    if not trusts(role.assume_role_policy_document, caller, context):
        raise denied
    chained = caller.role_arn is not None
    if chained and duration > CHAIN_LIMIT:
        raise ApiError(400, "ValidationError", CHAIN_MESSAGE)
    if duration > int(role.max_session_duration or 3600):
        raise ApiError(400, "ValidationError", MAX_SESSION_MESSAGE)
    assumed = sts_backends[account]["aws"].assume_role(
        region_name=region,
        role_session_name=name,
        role_arn=role_arn,
        policy=params.get("Policy", ""),
        duration=duration,
        external_id=external_id or "",
    )
    expires = now + timedelta(seconds=duration)
    state.sessions[assumed.access_key_id] = Session(role_account, role_arn, name, expires, chained)
    entry["assumed_account"] = role_account
    return _response(assumed, role_arn, name, expires)


def _response(assumed: Any, role_arn: str, name: str, expires: datetime) -> bytes:
    role_name = role_arn.rsplit("/", 1)[-1]
    account = role_arn.split(":")[4]
    stamp = expires.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = (
        f'<AssumeRoleResponse xmlns="{NS}"><AssumeRoleResult>'
        "<Credentials>"
        f"<SessionToken>{escape(assumed.session_token)}</SessionToken>"
        f"<SecretAccessKey>{escape(assumed.secret_access_key)}</SecretAccessKey>"
        f"<Expiration>{stamp}</Expiration>"
        f"<AccessKeyId>{escape(assumed.access_key_id)}</AccessKeyId>"
        "</Credentials>"
        "<AssumedRoleUser>"
        f"<AssumedRoleId>{escape(assumed.user_id)}</AssumedRoleId>"
        f"<Arn>arn:aws:sts::{account}:assumed-role/{escape(role_name)}/{escape(name)}</Arn>"
        "</AssumedRoleUser>"
        "<PackedPolicySize>0</PackedPolicySize>"
        "</AssumeRoleResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</AssumeRoleResponse>"
    )
    return xml.encode()


def error_xml(err: ApiError) -> bytes:
    kind = "Receiver" if err.status >= 500 else "Sender"
    return (
        f'<ErrorResponse xmlns="{NS}"><Error><Type>{kind}</Type><Code>{escape(err.code)}</Code>'
        f"<Message>{escape(err.message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()


def register_role(body: dict[str, Any]) -> dict[str, Any]:
    """The control call `POST roles`: create (or replace) a role in an account with a trust
    policy built from `trusted` (account ids or principal ARNs), an optional required
    `external_id`, `max_session_duration` (seconds, default 3600) and identity `policies`
    (IAM policy documents, attached inline; the enforced IAM mode applies them to calls made
    with the role's credentials). A full `trust_policy` document may be given instead."""
    from moto.iam.models import iam_backends

    account = str(body["account"])
    name = str(body["name"])
    trust = body.get("trust_policy")
    if trust is None:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": [str(p) for p in body.get("trusted", [])]},
            "Action": "sts:AssumeRole",
        }
        if body.get("external_id") is not None:
            statement["Condition"] = {"StringEquals": {"sts:ExternalId": body["external_id"]}}
        trust = {"Version": "2012-10-17", "Statement": [statement]}
    iam = iam_backends[account]["aws"]
    if any(r.name == name for r in iam.roles.values()):
        for policy_name in list(iam.list_role_policies(name)):
            iam.delete_role_policy(name, policy_name)
        iam.delete_role(name)
    role = iam.create_role(
        role_name=name,
        assume_role_policy_document=json.dumps(trust),
        path="/",
        permissions_boundary=None,
        description="",
        tags=[],
        max_session_duration=str(int(body.get("max_session_duration", 3600))),
        linked_service=None,
    )
    for i, doc in enumerate(body.get("policies") or []):
        iam.put_role_policy(name, f"policy-{i}", json.dumps(doc))
    return {"arn": role.arn, "account": account, "trust_policy": trust}
