"""Reaching another account: STS AssumeRole from the ambient credentials, the session's name
(the run and the commit, so CloudTrail names who wrote), role chaining's one-hour cap, and
credentials that assume the role again before they expire (a long `apply --wait`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

SESSION_PREFIX = "lambda-reconciler-"
CHAINED_MAX_SECONDS = 3600  # AWS's limit for a role assumed with a role session's credentials
_UNSAFE = re.compile(r"[^\w+=,.@-]")


@dataclass(frozen=True)
class AssumeRole:
    """What `Session` assumes: the role, the session's name, the external id, the duration;
    `source` names where it was asked for (a manifest's `target:`), for error messages."""

    role_arn: str
    session_name: str
    external_id: str | None = None
    duration: int = 3600
    source: str = ""


def session_name(
    env: Mapping[str, str] | None = None, now: datetime | None = None, pid: int | None = None
) -> str:
    """`lambda-reconciler-<run>`: in GitHub Actions the run id, its attempt and the commit's
    first 7 characters (`lambda-reconciler-1234-1-abc1234`), else a UTC timestamp and the
    process id; only the characters STS allows (`[\\w+=,.@-]`), 2-64 of them."""
    env = os.environ if env is None else env
    run_id = env.get("GITHUB_RUN_ID", "")
    if run_id:
        parts = [run_id, env.get("GITHUB_RUN_ATTEMPT", ""), env.get("GITHUB_SHA", "")[:7]]
    else:
        when = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
        parts = [when, str(os.getpid() if pid is None else pid)]
    name = SESSION_PREFIX + "-".join(p for p in parts if p)
    return _UNSAFE.sub("_", name)[:64]


def is_role_session(identity_arn: str) -> bool:
    """Whether credentials are a role session's (`arn:aws:sts::ACCOUNT:assumed-role/…`):
    assuming a role with them is role chaining, capped at one hour."""
    return ":assumed-role/" in identity_arn


def chained_duration(duration: int, identity_arn: str) -> int:
    """The duration to ask for: capped at `CHAINED_MAX_SECONDS` when chaining."""
    return min(duration, CHAINED_MAX_SECONDS) if is_role_session(identity_arn) else duration


def request(assume: AssumeRole) -> dict[str, Any]:
    """The AssumeRole parameters."""
    params: dict[str, Any] = {
        "RoleArn": assume.role_arn,
        "RoleSessionName": assume.session_name,
        "DurationSeconds": assume.duration,
    }
    if assume.external_id is not None:
        params["ExternalId"] = assume.external_id
    return params


def credential_metadata(response: Mapping[str, Any]) -> dict[str, str]:
    """AssumeRole's `Credentials` in the form botocore's refreshable credentials take."""
    creds = response["Credentials"]
    expiry = creds["Expiration"]
    if isinstance(expiry, datetime):
        expiry = expiry.astimezone(timezone.utc).isoformat()
    return {
        "access_key": str(creds["AccessKeyId"]),
        "secret_key": str(creds["SecretAccessKey"]),
        "token": str(creds["SessionToken"]),
        "expiry_time": str(expiry),
    }
