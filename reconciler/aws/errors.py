"""botocore's failures as `AwsError`s a person can act on: what was being done, AWS's code and
message, and what to do about it. A failure every call of the run would meet (credentials, an
unreachable endpoint, an HTML page instead of the API) is marked `everywhere`."""

from __future__ import annotations

import re

import botocore.exceptions

from reconciler.errors import AwsError

# Credentials that no call of the run will get past.
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
    }
)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _html(message: str, status: int) -> str | None:
    """An HTML page where an AWS API error was expected (a proxy, a web server, a wrong
    `--endpoint-url`), said in one line with its title instead of printed raw; None otherwise."""
    if not re.match(r"\s*<(!doctype|html|head|body|\?xml[^>]*>\s*<html)", message, re.IGNORECASE):
        return None
    title = _TITLE.search(message)
    said = " ".join(title.group(1).split())[:80] if title else f"HTTP {status}"
    return (
        f"the endpoint answered with an HTML page ({said}), not the Lambda API — check "
        "--endpoint-url (or AWS_ENDPOINT_URL), the region and any proxy"
    )


_EXPIRED = " — the credentials have expired: renew the session (aws sso login, re-assume the role)"
_REJECTED = (
    " — AWS does not accept these credentials (an unknown, mistyped or deactivated key): check "
    "AWS_PROFILE / AWS_ACCESS_KEY_ID; this is not about the IAM policy"
)
# Error code → what to do, after the 412 and the credential checks of `_hint`.
_HINTS = {
    "AccessDeniedException": " — check the IAM policy (lambda-reconciler iam-policy prints the "
    "one needed)",
    "TooManyRequestsException": " — throttled even after retries; lower --parallelism",
    "ResourceConflictException": " — another change is in progress; re-run plan",
}
_HINTS["AccessDenied"] = _HINTS["AccessDeniedException"]
_HINTS["ThrottlingException"] = _HINTS["Throttling"] = _HINTS["TooManyRequestsException"]


def _hint(code: str, status: int) -> str:
    if code == "PreconditionFailedException" or status == 412:
        return " — changed since it was read; re-run plan"
    if code in ("ExpiredToken", "ExpiredTokenException"):
        return _EXPIRED
    if code in _CREDENTIAL_CODES:
        return _REJECTED
    return _HINTS.get(code, "")


def _client_error(error: botocore.exceptions.ClientError, doing: str) -> AwsError:
    err = error.response.get("Error", {})
    code = str(err.get("Code", ""))
    message = str(err.get("Message", "")).strip()
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    page = _html(message, status)
    if page is not None:  # not AWS answering: every call of the run would get the same
        return AwsError(f"{doing}: {page}", code=code, status=status, everywhere=True)
    everywhere = code in _CREDENTIAL_CODES
    text = f"{doing}: {code} ({status}): {message}{_hint(code, status)}"
    return AwsError(text, code=code, status=status, everywhere=everywhere)


def explain(error: Exception, doing: str) -> AwsError:
    """One line a person can act on, for any botocore failure."""
    if isinstance(error, botocore.exceptions.ClientError):
        return _client_error(error, doing)
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return AwsError(
            f"{doing}: no AWS credentials found (set a profile, or AWS_* variables)",
            everywhere=True,
        )
    if isinstance(error, botocore.exceptions.NoRegionError):
        return AwsError(f"{doing}: no region: set `region:` in the manifest or pass --region")
    if isinstance(
        error,
        botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectTimeoutError,
    ):
        return AwsError(f"{doing}: cannot reach the endpoint: {error}", everywhere=True)
    if isinstance(error, botocore.exceptions.ParamValidationError):
        return AwsError(f"{doing}: invalid request: {error}")
    if isinstance(error, botocore.exceptions.BotoCoreError):
        return AwsError(f"{doing}: {error}")
    return AwsError(f"{doing}: {type(error).__name__}: {error}")
