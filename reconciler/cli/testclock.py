"""The test clock: `LAMBDA_RECONCILER_NOW` pins the time rollouts and retention compare against.

It exists for tests and rehearsals against a local endpoint, where `apply --wait` sleeps only
advance it. Against AWS it would drive a real rollout through its steps in no time, so it is
honoured only when every endpoint the run's time matters to is local — the Lambda and
CloudWatch endpoints (`--endpoint-url`, else `AWS_ENDPOINT_URL_LAMBDA` /
`AWS_ENDPOINT_URL_CLOUDWATCH`, else `AWS_ENDPOINT_URL`, as botocore resolves them) on
`localhost`, 127.0.0.0/8 or `::1` — or when `LAMBDA_RECONCILER_UNSAFE_CLOCK=1` says so
explicitly, which warns on standard error. Anything else is refused before any call.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from datetime import datetime, timezone
from urllib.parse import urlsplit

from reconciler.errors import ReconcilerError

NOW = "LAMBDA_RECONCILER_NOW"
UNSAFE = "LAMBDA_RECONCILER_UNSAFE_CLOCK"
_SERVICES = ("LAMBDA", "CLOUDWATCH")


def is_local(url: str | None) -> bool:
    """An endpoint URL on this machine: localhost, 127.0.0.0/8 or ::1."""
    if not url:
        return False
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoints(explicit: str | None) -> list[str | None]:
    """The endpoint each service of the run calls, as botocore picks it (None: AWS's own)."""
    if explicit:
        return [explicit]
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return [None]
    common = os.environ.get("AWS_ENDPOINT_URL")
    return [os.environ.get(f"AWS_ENDPOINT_URL_{s}") or common for s in _SERVICES]


def pinned(endpoint_url: str | None, warn: Callable[[str], None]) -> datetime | None:
    """The pinned time, or None when `LAMBDA_RECONCILER_NOW` is not set. Refused (exit 1)
    when an endpoint of the run is not local, unless `LAMBDA_RECONCILER_UNSAFE_CLOCK=1`."""
    text = os.environ.get(NOW)
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ReconcilerError(f"{NOW}={text!r} is not an ISO 8601 time") from None
    remote = [e for e in endpoints(endpoint_url) if not is_local(e)]
    if remote:
        where = remote[0] or "AWS"
        if os.environ.get(UNSAFE) != "1":
            raise ReconcilerError(
                f"{NOW} is a test clock for a local endpoint; refused against {where} "
                f"(set {UNSAFE}=1 to pin the time there anyway)"
            )
        warn(
            f"warning: {UNSAFE}=1: the time is pinned to {text} against {where}; rollout "
            "steps follow that clock, not AWS's"
        )
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
