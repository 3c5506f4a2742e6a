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

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from xml.sax.saxutils import escape

from emulator.iam_eval import Unsupported, _as_list, _conditions_hold, glob_match
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


def trusts(
    policy: Any, caller: Caller, context: dict[str, list[str]], *, web: bool = False
) -> bool:
    """Does the trust policy let `caller` call sts:AssumeRole (with `context`)? With `web`,
    sts:AssumeRoleWithWebIdentity by the `Federated` principal `caller.arn` (an OIDC
    provider)."""
    action = "sts:AssumeRoleWithWebIdentity" if web else "sts:AssumeRole"
    if isinstance(policy, str):
        policy = json.loads(policy) if policy else {}
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    allowed = False
    for st in statements if isinstance(statements, list) else [statements]:
        actions = st.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if not any(glob_match(a, action, ignore_case=True) for a in actions):
            continue
        principal = st.get("Principal")
        if web:
            if not isinstance(principal, dict) or caller.arn not in _as_list(
                principal.get("Federated", [])
            ):
                continue
        elif not _principal_matches(principal, caller):
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


def _role(role_arn: str, denied: ApiError) -> Any:
    """The IAM role an ARN names (in its account), or `denied`."""
    from moto.iam.models import iam_backends

    m = ROLE_ARN.match(role_arn)
    if m is None:
        raise _validation("roleArn", role_arn, "Member must satisfy the role ARN format")
    try:
        return iam_backends[m.group(1)]["aws"].get_role_by_arn(role_arn)
    except Exception:
        raise denied from None


def _issue(
    role: Any,
    params: dict[str, str],
    duration: int,
    chained: bool,
    now: datetime,
    state: StsState,
    entry: dict[str, Any],
) -> tuple[Any, datetime]:
    """Role chaining's one hour and the role's MaxSessionDuration, then moto's credentials
    (in the role's account), remembered as a session."""
    from moto.sts.models import sts_backends

    if chained and duration > CHAIN_LIMIT:
        raise ApiError(400, "ValidationError", CHAIN_MESSAGE)
    if duration > int(role.max_session_duration or 3600):
        raise ApiError(400, "ValidationError", MAX_SESSION_MESSAGE)
    role_account = str(role.arn).split(":")[4]
    name = params.get("RoleSessionName", "")
    assumed = sts_backends[role_account]["aws"].assume_role(
        region_name="us-east-1",
        role_session_name=name,
        role_arn=str(role.arn),
        policy=params.get("Policy", ""),
        duration=duration,
        external_id=params.get("ExternalId", ""),
    )
    expires = now + timedelta(seconds=duration)
    state.sessions[assumed.access_key_id] = Session(
        role_account, str(role.arn), name, expires, chained
    )
    entry["assumed_account"] = role_account
    return assumed, expires


def _session_params(params: dict[str, str], entry: dict[str, Any]) -> int:
    name = params.get("RoleSessionName", "")
    entry.update(role_arn=params.get("RoleArn", ""), role_session_name=name)
    _check_string("roleSessionName", name, 2, 64, SESSION_NAME)
    duration = _duration(params.get("DurationSeconds"))
    entry["duration_seconds"] = duration
    return duration


def assume_role(
    params: dict[str, str],
    access_key: str,
    account: str,
    now: datetime,
    state: StsState,
    entry: dict[str, Any],
) -> bytes:
    """Validate and authorize an AssumeRole request, then let moto issue the credentials."""
    duration = _session_params(params, entry)
    role_arn, name = params.get("RoleArn", ""), params.get("RoleSessionName", "")
    external_id = params.get("ExternalId")
    if external_id is not None:
        _check_string("externalId", external_id, 2, 1224, EXTERNAL_ID)
    caller = caller_of(access_key, account, state)
    role = _role(
        role_arn,
        ApiError(
            403,
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}",
        ),
    )
    context = {
        "sts:RoleSessionName": [name],
        "aws:PrincipalAccount": [account],
        "aws:PrincipalArn": [caller.role_arn or caller.arn],
    }
    if external_id is not None:
        context["sts:ExternalId"] = [external_id]
    if not trusts(role.assume_role_policy_document, caller, context):
        raise ApiError(
            403,
            "AccessDenied",
            f"User: {caller.arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}",
        )
    chained = caller.role_arn is not None
    assumed, expires = _issue(role, params, duration, chained, now, state, entry)
    return _response("AssumeRole", assumed, role_arn, name, expires)


def _claims(token: str) -> dict[str, Any]:
    """The claims of a JWT (its signature is not checked)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise ApiError(400, "InvalidIdentityToken", "Couldn't parse the token.") from None
    if not isinstance(claims, dict):
        raise ApiError(400, "InvalidIdentityToken", "Couldn't parse the token.")
    return claims


def assume_role_with_web_identity(
    params: dict[str, str], now: datetime, state: StsState, entry: dict[str, Any]
) -> bytes:
    """AssumeRoleWithWebIdentity (GitHub OIDC): the token's issuer must be an OpenID Connect
    provider of the role's account (IAM's CreateOpenIDConnectProvider) whose client ids hold
    the token's audience; the trust policy must name that provider as `Federated` principal
    with `sts:AssumeRoleWithWebIdentity`, its conditions read `ISSUER:sub` and `ISSUER:aud`;
    an `exp` claim in the past → ExpiredTokenException. The signature is not checked."""
    from moto.iam.models import iam_backends

    duration = _session_params(params, entry)
    role_arn = params.get("RoleArn", "")
    denied = ApiError(
        403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    )
    role = _role(role_arn, denied)
    claims = _claims(params.get("WebIdentityToken", ""))
    issuer = str(claims.get("iss", "")).removeprefix("https://")
    account = role_arn.split(":")[4]
    provider_arn = f"arn:aws:iam::{account}:oidc-provider/{issuer}"
    provider = iam_backends[account]["aws"].open_id_providers.get(provider_arn)
    if provider is None:
        raise ApiError(
            400,
            "InvalidIdentityToken",
            f"No OpenIDConnect provider found in your account for https://{issuer}",
        )
    audiences = claims.get("aud", [])
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not set(map(str, audiences)) & set(provider.client_id_list or []):
        raise ApiError(400, "InvalidIdentityToken", "Incorrect token audience")
    if "exp" in claims and float(claims["exp"]) <= now.timestamp():
        raise ApiError(400, "ExpiredTokenException", "Token expired")
    context = {
        f"{issuer}:sub": [str(claims.get("sub", ""))],
        f"{issuer}:aud": [str(a) for a in audiences],
        "sts:RoleSessionName": [params.get("RoleSessionName", "")],
    }
    federated = Caller(account, provider_arn, None)
    if not trusts(role.assume_role_policy_document, federated, context, web=True):
        raise denied
    entry["subject"] = str(claims.get("sub", ""))
    assumed, expires = _issue(role, params, duration, False, now, state, entry)
    name = params.get("RoleSessionName", "")
    return _response("AssumeRoleWithWebIdentity", assumed, role_arn, name, expires, claims)


def _response(
    operation: str,
    assumed: Any,
    role_arn: str,
    name: str,
    expires: datetime,
    claims: dict[str, Any] | None = None,
) -> bytes:
    role_name = role_arn.rsplit("/", 1)[-1]
    account = role_arn.split(":")[4]
    stamp = expires.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    web = ""
    if claims is not None:
        audience = claims.get("aud", "")
        web = (
            f"<SubjectFromWebIdentityToken>{escape(str(claims.get('sub', '')))}"
            "</SubjectFromWebIdentityToken>"
            f"<Provider>{escape(str(claims.get('iss', '')))}</Provider>"
            f"<Audience>{escape(str(audience[0] if isinstance(audience, list) else audience))}"
            "</Audience>"
        )
    xml = (
        f'<{operation}Response xmlns="{NS}"><{operation}Result>'
        "<Credentials>"
        f"<SessionToken>{escape(assumed.session_token)}</SessionToken>"
        f"<SecretAccessKey>{escape(assumed.secret_access_key)}</SecretAccessKey>"
        f"<Expiration>{stamp}</Expiration>"
        f"<AccessKeyId>{escape(assumed.access_key_id)}</AccessKeyId>"
        "</Credentials>"
        f"{web}"
        "<AssumedRoleUser>"
        f"<AssumedRoleId>{escape(assumed.user_id)}</AssumedRoleId>"
        f"<Arn>arn:aws:sts::{account}:assumed-role/{escape(role_name)}/{escape(name)}</Arn>"
        "</AssumedRoleUser>"
        "<PackedPolicySize>0</PackedPolicySize>"
        f"</{operation}Result>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        f"</{operation}Response>"
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
