"""AWS error translation: every botocore failure becomes one line a person can act on."""

from __future__ import annotations

import botocore.exceptions
import pytest

from reconciler.aws.errors import explain
from reconciler.errors import AwsError


def client_error(code: str, status: int, message: str = "  the service said so  ") -> Exception:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return botocore.exceptions.ClientError(response, "UpdateAlias")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status", "hint"),
    [
        ("PreconditionFailedException", 412, " — changed since it was read; re-run plan"),
        ("SomethingElse", 412, " — changed since it was read; re-run plan"),
        (
            "AccessDeniedException",
            403,
            " — check the IAM policy (lambda-reconciler iam-policy prints the one needed)",
        ),
        (
            "AccessDenied",
            403,
            " — check the IAM policy (lambda-reconciler iam-policy prints the one needed)",
        ),
        (
            "UnrecognizedClientException",
            403,
            " — AWS does not accept these credentials (an unknown, mistyped or deactivated "
            "key): check AWS_PROFILE / AWS_ACCESS_KEY_ID; this is not about the IAM policy",
        ),
        (
            "ExpiredTokenException",
            403,
            " — the credentials have expired: renew the session (aws sso login, re-assume the "
            "role)",
        ),
        ("TooManyRequestsException", 429, " — throttled even after retries; lower --parallelism"),
        ("ThrottlingException", 400, " — throttled even after retries; lower --parallelism"),
        ("Throttling", 400, " — throttled even after retries; lower --parallelism"),
        ("ResourceConflictException", 409, " — another change is in progress; re-run plan"),
        ("ResourceNotFoundException", 404, ""),
    ],
)
def test_client_errors_name_the_call_code_status_and_what_to_do(
    code: str, status: int, hint: str
) -> None:
    """A ClientError keeps its code and status (for callers that branch on them) and reads
    `DOING: CODE (STATUS): MESSAGE` plus the hint for that kind of failure, message trimmed."""
    e = explain(client_error(code, status), "moving prod")
    assert isinstance(e, AwsError)
    assert (e.code, e.status) == (code, status)
    assert str(e) == f"moving prod: {code} ({status}): the service said so{hint}"


def test_a_client_error_without_details_still_reads_as_one_line() -> None:
    """No Error block and no status: empty code, status 0, still one line."""
    error = botocore.exceptions.ClientError({}, "GetAlias")
    e = explain(error, "reading prod")
    assert (e.code, e.status) == ("", 0)
    assert str(e) == "reading prod:  (0): "


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            botocore.exceptions.NoCredentialsError(),
            "reading orders: no AWS credentials found (set a profile, or AWS_* variables)",
        ),
        (
            botocore.exceptions.NoRegionError(),
            "reading orders: no region: set `region:` in the manifest or pass --region",
        ),
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
            "reading orders: cannot reach the endpoint: "
            'Could not connect to the endpoint URL: "http://127.0.0.1:9"',
        ),
        (
            botocore.exceptions.ParamValidationError(report="Invalid length for parameter Name"),
            "reading orders: invalid request: Parameter validation failed:\n"
            "Invalid length for parameter Name",
        ),
        (
            botocore.exceptions.ProfileNotFound(profile="prod"),
            "reading orders: The config profile (prod) could not be found",
        ),
        (ValueError("bad value"), "reading orders: ValueError: bad value"),
    ],
    ids=["no-credentials", "no-region", "no-endpoint", "invalid", "other-botocore", "other"],
)
def test_sdk_failures_say_what_to_do(error: Exception, expected: str) -> None:
    """Failures before any answer (credentials, region, network, parameters, anything else)
    each get their own wording, with no code or status."""
    e = explain(error, "reading orders")
    assert (str(e), e.code, e.status) == (expected, "", 0)


def test_an_html_page_is_one_line_with_its_title_never_raw() -> None:
    """An HTML error page where the Lambda API was expected (a wrong endpoint, a proxy): one
    line naming the page's title and what to check, never the markup; it concerns every call
    of the run (`everywhere`), so it is reported once."""
    page = (
        "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
        "<hr><address>nginx</address></body></html>"
    )
    e = explain(client_error("404", 404, page), "reading orders")
    assert str(e) == (
        "reading orders: the endpoint answered with an HTML page (404 Not Found), not the Lambda "
        "API — check --endpoint-url (or AWS_ENDPOINT_URL), the region and any proxy"
    )
    assert e.everywhere
    e = explain(client_error("502", 502, "<!DOCTYPE html>\n<p>bad gateway</p>"), "reading")
    assert "(HTTP 502)" in str(e)
    assert "<" not in str(e)
