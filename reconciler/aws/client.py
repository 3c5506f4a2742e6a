"""The only module that imports boto3: typed reads and writes, error translation, retries.

Reads return `reconciler.aws.live` dataclasses; writes take plain values. Every botocore error is
translated into an `AwsError` whose message a person can act on. Clients use botocore's adaptive
retry mode (retries on throttling, then client-side rate limiting), one client per region, shared
by all threads; every Lambda request waits for its slot in the region's pacer for its quota
(`--max-rate` for control-plane calls, default Lambda's 15 requests per second; `GetFunction` at
its own 100/s), so a run stays under the quota instead of tripping it.

Live state is kept small: a `Snapshot`'s configuration mapping and its role are shared by every
version that has the same ones (`_Interner`), and the live dataclasses use slots, so a version
costs a few hundred bytes however many fields Lambda returns.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import boto3
import botocore.exceptions
from botocore.config import Config
from typing_extensions import assert_never

from reconciler.aws.live import (
    LATEST,
    AliasTie,
    Canary,
    CodeStorage,
    LiveAlias,
    LiveFunction,
    LiveLatest,
    LiveLayerVersion,
    LiveVersion,
    Snapshot,
)
from reconciler.aws.pacing import LAMBDA_REQUESTS_PER_SECOND, RegionPacers
from reconciler.aws.protocols import Invocation, MetricQuery
from reconciler.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient

# Configuration fields that PublishVersion snapshots and that decide whether `$LATEST` differs
# from the newest version (contract §3). The description is deliberately absent.
SNAPSHOT_FIELDS: tuple[tuple[str, str], ...] = (
    ("runtime", "Runtime"),
    ("handler", "Handler"),
    ("memory", "MemorySize"),
    ("timeout", "Timeout"),
    ("environment", "Environment"),
    ("layers", "Layers"),
    ("role", "Role"),
    ("architectures", "Architectures"),
    ("ephemeral_storage", "EphemeralStorage"),
    ("vpc", "VpcConfig"),
    ("tracing", "TracingConfig"),
    ("dead_letter", "DeadLetterConfig"),
    ("file_systems", "FileSystemConfigs"),
    ("image_config", "ImageConfigResponse"),
    ("logging", "LoggingConfig"),
)

# What ListFunctions with FunctionVersion=ALL returns of each version (the project's Lambda
# reference): a subset of the configuration. Of SNAPSHOT_FIELDS it lacks the handler, the
# dead-letter configuration and others, so a function whose plan compares configurations
# (`publish`) or checks a canary's dead-letter target is never read that way
# (`reconciler.engine.reads`).
LIST_FUNCTIONS_FIELDS = frozenset(
    {
        "FunctionName",
        "FunctionArn",
        "Version",
        "CodeSha256",
        "CodeSize",
        "Description",
        "LastModified",
        "RevisionId",
        "Layers",
        "Role",
        "Runtime",
        "MemorySize",
        "Timeout",
        "Environment",
    }
)
SWEEP_SNAPSHOT_FIELDS = tuple((k, f) for k, f in SNAPSHOT_FIELDS if f in LIST_FUNCTIONS_FIELDS)
SWEEP_PAGE = 50  # ListFunctions returns at most 50 items a page

# Bound on waiting for an in-progress `$LATEST` update (the SDK waiter's own default is 5 min).
WAIT_DELAY_S = 1
WAIT_MAX_ATTEMPTS = 60

CallLogger = Callable[[str], None]


def _prune_empty(value: Any) -> Any:
    """Drop empty containers and strings so that absent and empty settings compare equal."""
    if isinstance(value, Mapping):
        out = {k: _prune_empty(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_prune_empty(v) for v in value]
    return value


def _canonical(key: str, value: Any) -> str:
    value = _prune_empty(value)
    if key == "layers" and isinstance(value, list):
        value = [layer.get("Arn") for layer in value if isinstance(layer, Mapping)]
    if key == "vpc" and isinstance(value, Mapping):
        value = {k: sorted(v) if isinstance(v, list) else v for k, v in value.items()}
        value.pop("VpcId", None)
    if key == "logging" and isinstance(value, Mapping) and value.get("LogFormat") == "Text":
        value = {k: v for k, v in value.items() if k not in ("LogFormat",)}
    text = json.dumps(value, sort_keys=True, default=str)
    if key == "environment":
        # Environment values are secrets as far as this tool is concerned: keep only a digest,
        # so no plan, log or saved plan file can ever contain them.
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


class _Interner:
    """Shares equal values between versions: most versions of a fleet have the same role,
    description and configuration, so one object serves them all. Keys of the configuration
    cache are digests, so no environment value is kept as a key."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._configs: dict[bytes, Mapping[str, str]] = {}
        self._lock = threading.Lock()

    def string(self, value: str) -> str:
        with self._lock:
            return self._strings.setdefault(value, value)

    def config(
        self, raw: Mapping[str, Any], fields: tuple[tuple[str, str], ...]
    ) -> Mapping[str, str]:
        digest = hashlib.sha256(
            repr([(f, raw.get(f)) for _, f in fields]).encode("utf-8", "replace")
        ).digest()
        with self._lock:
            cached = self._configs.get(digest)
        if cached is not None:
            return cached
        built = {key: self.string(_canonical(key, raw.get(f))) for key, f in fields}
        with self._lock:
            return self._configs.setdefault(digest, built)


_INTERNED = _Interner()


def snapshot_from(
    config: Mapping[str, Any], fields: tuple[tuple[str, str], ...] = SNAPSHOT_FIELDS
) -> Snapshot:
    """`fields` are the configuration fields compared; ListFunctions items carry fewer
    (`SWEEP_SNAPSHOT_FIELDS`), and their `dead_letter_arn` is unknown (None)."""
    raw_modified = str(config.get("LastModified") or "1970-01-01T00:00:00.000+0000")
    dlq = config.get("DeadLetterConfig") or {}
    return Snapshot(
        code_sha256=str(config.get("CodeSha256", "")),
        code_size=int(config.get("CodeSize") or 0),
        last_modified=parse_time(raw_modified),
        description=_INTERNED.string(str(config.get("Description") or "")),
        role=_INTERNED.string(str(config.get("Role") or "")),
        dead_letter_arn=dlq.get("TargetArn") or None,
        config=_INTERNED.config(config, fields),
    )


def parse_time(raw: str) -> datetime:
    """Lambda's LastModified, e.g. 2024-05-01T12:00:00.000+0000, as an aware datetime."""
    try:
        fast = datetime.fromisoformat(raw)  # C code: a fifth of strptime's time per version
    except ValueError:
        fast = None
    if fast is not None and fast.tzinfo is not None:
        return fast
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def alias_from(item: Mapping[str, Any]) -> LiveAlias:
    weights = (item.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    canary = None
    if weights:
        version, weight = sorted(weights.items())[0]
        canary = Canary(version=str(version), weight=float(weight))
    return LiveAlias.of(
        name=str(item["Name"]),
        version=str(item["FunctionVersion"]),
        canary=canary,
        description=str(item.get("Description") or ""),
        revision_id=str(item.get("RevisionId") or ""),
    )


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


def _has_tie(client: LambdaClient, tie: AliasTie, name: str, arn: str, alias: str) -> bool:
    """Whether `tie` hangs on the alias; the Get calls answer 404 when it does not."""
    match tie:
        case AliasTie.PROVISIONED_CONCURRENCY:
            client.get_provisioned_concurrency_config(FunctionName=name, Qualifier=alias)
        case AliasTie.PERMISSION:
            client.get_policy(FunctionName=name, Qualifier=alias)
        case AliasTie.EVENT_SOURCE_MAPPING:
            page = client.list_event_source_mappings(FunctionName=f"{arn}:{alias}", MaxItems=1)
            return bool(page.get("EventSourceMappings"))
        case AliasTie.FUNCTION_URL:
            client.get_function_url_config(FunctionName=name, Qualifier=alias)
        case _:
            assert_never(tie)
    return True


class ServerClock:
    """AWS's clock as this runner sees it: the offset of the `Date` of AWS's responses from the
    midpoint of each call's last send and its response (as smithy-rs estimates skew; botocore
    corrects none). `Date` has one-second resolution and is truncated, so a sample is
    `Date + 0.5 s - midpoint`, within about half a second plus half the round trip; the
    estimate is the median of the last `SAMPLES` (one slow or odd response does not move it).
    Responses carrying `Age` (served from a cache) are ignored."""

    SAMPLES = 15

    def __init__(self) -> None:
        self._samples: list[float] = []
        self._lock = threading.Lock()

    def observe(self, date: str | None, sent: float, received: float) -> None:
        if not date:
            return
        try:
            server = email.utils.parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        with self._lock:
            self._samples = [*self._samples, server + 0.5 - (sent + received) / 2][-self.SAMPLES :]

    def offset(self) -> float | None:
        """AWS's clock minus this runner's, in seconds; None before any response."""
        with self._lock:
            return statistics.median(self._samples) if self._samples else None


class Aws:
    """Lambda, STS and CloudWatch access for one credential set (one profile)."""

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = 10,
        log: CallLogger | None = None,
        pool_size: int = 16,
        max_rate: float = LAMBDA_REQUESTS_PER_SECOND,
        read_mode: str = "auto",
    ) -> None:
        try:
            self._session = boto3.Session(profile_name=profile, region_name=region)
        except botocore.exceptions.BotoCoreError as e:
            raise explain(e, "starting an AWS session") from e
        self._endpoint_url = endpoint_url
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": max_attempts},
            # A CLI waits seconds, not a minute, to learn that an endpoint is not there.
            connect_timeout=5,
            max_pool_connections=pool_size,
            user_agent_extra="lambda-reconciler",
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._log = log
        self._account: str | None = None
        self._max_rate = max_rate
        self.pacers: dict[str, RegionPacers] = {}
        self.calls = 0
        self.server_clock = ServerClock()
        # How live state is read (`reconciler.engine.reads`): auto, per-function or bulk.
        self.read_mode = read_mode

    @property
    def default_region(self) -> str | None:
        return self._session.region_name

    def clock_offset(self) -> float | None:
        """AWS's clock minus this runner's (`ServerClock`), from the responses so far."""
        return self.server_clock.offset()

    def _client(self, service: str, region: str | None) -> Any:
        region = region or self._session.region_name
        if not region:
            raise AwsError("no region: set `region:` in the manifest, --region, or AWS_REGION")
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._session.client(
                    service,  # type: ignore[call-overload]
                    region_name=region,
                    endpoint_url=self._endpoint_url,
                    config=self._config,
                )
                self._watch(client)
                if service == "lambda" and self._max_rate > 0:
                    # Every attempt, retries included, waits for its slot under its quota.
                    pacers = self.pacers[region] = RegionPacers(self._max_rate)
                    client.meta.events.register("before-send.lambda", pacers.wait)
                self._clients[key] = client
            return client

    def probe(self, name: str, region: str | None) -> None:
        """One ListAliases page with a single attempt, before a run fans out: a failure that
        awaits every call (no credentials, an expired token, an unreachable endpoint) is
        raised at once, instead of after each function's retries."""
        paced = self.lambda_client(region)  # the region's pacers, and its region check
        client = self._session.client(
            "lambda",
            region_name=paced.meta.region_name,
            endpoint_url=self._endpoint_url,
            config=self._config.merge(Config(retries={"mode": "standard", "max_attempts": 1})),
        )
        self._watch(client)
        pacers = self.pacers.get(paced.meta.region_name)
        if pacers is not None:
            client.meta.events.register("before-send.lambda", pacers.wait)
        try:
            client.list_aliases(FunctionName=name, MaxItems=1)
        except Exception as e:
            err = explain(e, f"reaching Lambda in {paced.meta.region_name}")
            if err.everywhere:
                raise err from e

    def lambda_client(self, region: str | None) -> LambdaClient:
        client: LambdaClient = self._client("lambda", region)
        return client

    def _invoke_client(self, region: str | None) -> LambdaClient:
        """Invoke is a data-plane call: not paced by the control-plane quota, never retried
        (a hook must not run twice), and waited for as long as a function can run."""
        region = region or self._session.region_name
        if not region:
            raise AwsError("no region: set `region:` in the manifest, --region, or AWS_REGION")
        key = ("lambda-invoke", region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                config = Config(
                    retries={"mode": "standard", "max_attempts": 1},
                    read_timeout=960,
                    user_agent_extra="lambda-reconciler",
                )
                client = self._session.client(
                    "lambda", region_name=region, endpoint_url=self._endpoint_url, config=config
                )
                self._watch(client)
                self._clients[key] = client
        typed: LambdaClient = client
        return typed

    def invoke(self, function: str, region: str | None, payload: bytes) -> Invocation:
        """Invoke `function` (name or ARN, optionally qualified) synchronously."""
        client = self._invoke_client(region)
        try:
            out = client.invoke(
                FunctionName=function, InvocationType="RequestResponse", Payload=payload
            )
        except Exception as e:
            raise explain(e, f"invoking {function}") from e
        return Invocation(out.get("FunctionError"), out["Payload"].read())

    # -- call accounting and -v logging ---------------------------------------------------------

    def _watch(self, client: Any) -> None:
        """Count every call of `client`, and with `-v` log it (`call_line`)."""
        region = str(client.meta.region_name or "")

        def before_parameters(params: Any, context: Any, **_: Any) -> None:
            context["lr_subject"] = call_subject(params if isinstance(params, Mapping) else {})

        def before_call(context: Any, **_: Any) -> None:
            context["lr_start"] = time.monotonic()

        def before_send(request: Any, **_: Any) -> None:
            context = getattr(request, "context", None)
            if isinstance(context, dict):
                context["lr_sent"] = time.time()  # each attempt's: the last one's answers

        def after_call(http_response: Any, parsed: Any, model: Any, context: Any, **_: Any) -> None:
            with self._lock:
                self.calls += 1
            headers = getattr(http_response, "headers", None) or {}
            if "lr_sent" in context and "Age" not in headers:
                self.server_clock.observe(headers.get("Date"), context["lr_sent"], time.time())
            if self._log is None:
                return
            elapsed = (time.monotonic() - context.get("lr_start", time.monotonic())) * 1000
            meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, Mapping) else {}
            self._log(
                call_line(
                    f"{model.service_model.service_name}.{model.name}",
                    context.get("lr_subject", ""),
                    region,
                    getattr(http_response, "status_code", "?"),
                    elapsed,
                    str(meta.get("RequestId") or ""),
                )
            )

        client.meta.events.register("before-parameter-build", before_parameters)
        client.meta.events.register("before-call", before_call)
        client.meta.events.register("before-send", before_send)
        client.meta.events.register("after-call", after_call)

    # -- STS ------------------------------------------------------------------------------------

    def account_id(self) -> str:
        """The caller's account: one GetCallerIdentity per credential set, cached."""
        if self._account is None:
            try:
                sts = self._client("sts", self._session.region_name or "us-east-1")
                self._account = str(sts.get_caller_identity()["Account"])
            except Exception as e:
                raise explain(e, "checking the AWS account (sts:GetCallerIdentity)") from e
        return self._account

    # -- reads ----------------------------------------------------------------------------------

    def read_function(
        self,
        name: str,
        region: str | None,
        *,
        wait: bool = False,
        aliases: tuple[LiveAlias, ...] | None = None,
    ) -> LiveFunction:
        """One paginated ListVersionsByFunction and one paginated ListAliases (none when the
        `aliases` are given, already read).

        With `wait`, first wait (bounded) for an in-progress `$LATEST` update to finish, so the
        `$LATEST` that gets compared and published is the finished one.
        """
        client = self.lambda_client(region)
        doing = f"reading {name}"
        try:
            if wait:
                client.get_waiter("function_updated_v2").wait(
                    FunctionName=name,
                    WaiterConfig={"Delay": WAIT_DELAY_S, "MaxAttempts": WAIT_MAX_ATTEMPTS},
                )
            configs: list[Mapping[str, Any]] = []
            for page in client.get_paginator("list_versions_by_function").paginate(
                FunctionName=name
            ):
                configs.extend(page.get("Versions", []))
            if aliases is None:
                read: list[LiveAlias] = []
                for alias_page in client.get_paginator("list_aliases").paginate(FunctionName=name):
                    read.extend(alias_from(a) for a in alias_page.get("Aliases", []))
                aliases = tuple(read)
        except botocore.exceptions.WaiterError as e:
            raise AwsError(f"{doing}: $LATEST is still being updated after waiting: {e}") from e
        except Exception as e:
            raise explain(e, doing) from e
        return live_function_from(name, configs, aliases)

    def sweep_region(
        self, region: str, names: Iterable[str], *, max_pages: int | None = None
    ) -> dict[str, LiveFunction] | None:
        """One ListFunctions(FunctionVersion=ALL) sweep of a region: the versions and `$LATEST`
        of every function in `names` that exists there, aliases not read (empty).

        Pages of 50 items in an undocumented order (one function's versions need not be
        contiguous), so items are grouped by name, and converted to compact live objects as
        they arrive; items of other functions are dropped at once. With `max_pages`, give up
        (None) when the sweep has not ended after that many pages.
        """
        wanted = set(names)
        client = self.lambda_client(region)
        latest: dict[str, LiveLatest] = {}
        versions: dict[str, list[LiveVersion]] = {}
        arns: dict[str, str] = {}
        pages = 0
        kwargs: dict[str, Any] = {"FunctionVersion": "ALL", "MaxItems": SWEEP_PAGE}
        try:
            while True:
                if max_pages is not None and pages >= max_pages:
                    return None
                page = client.list_functions(**kwargs)
                pages += 1
                for item in page.get("Functions", []):
                    name = str(item.get("FunctionName", ""))
                    if name not in wanted:
                        continue
                    version = str(item.get("Version", ""))
                    snap = snapshot_from(item, SWEEP_SNAPSHOT_FIELDS)
                    if version == LATEST:
                        latest[name] = LiveLatest(snap, str(item.get("RevisionId", "")))
                    elif version.isdigit():
                        versions.setdefault(name, []).append(LiveVersion(int(version), snap))
                    else:
                        continue
                    if name not in arns and item.get("FunctionArn"):
                        arns[name] = _unqualified(str(item["FunctionArn"]), name)
                marker = page.get("NextMarker")
                if not marker:
                    break
                kwargs["Marker"] = marker
        except Exception as e:
            raise explain(e, f"listing the functions of {region} (ListFunctions)") from e
        out: dict[str, LiveFunction] = {}
        for name, lat in latest.items():
            arn = arns.get(name) or self._function_arn(region, name)
            out[name] = LiveFunction(
                name=name,
                arn=arn,
                region=region,
                account=arn.split(":")[4],
                latest=lat,
                versions=tuple(sorted(versions.get(name, ()), key=lambda v: v.number)),
                aliases=(),
            )
        return out

    def _function_arn(self, region: str, name: str) -> str:
        """A function's ARN where a listing left it out: this account, the region's partition."""
        partition = "aws"
        if region.startswith("cn-"):
            partition = "aws-cn"
        elif region.startswith("us-gov-"):
            partition = "aws-us-gov"
        return f"arn:{partition}:lambda:{region}:{self.account_id()}:function:{name}"

    def versions_in_use(
        self, name: str, region: str | None, arn: str
    ) -> dict[int, tuple[str, ...]]:
        """Versions bound to an event source mapping or a provisioned-concurrency config, each
        with what uses it ("event source mapping UUID", "provisioned concurrency").

        Event source mappings are listed by each qualified ARN's owner: ListEventSourceMappings
        filtered by the unqualified function name is not documented to return version-bound
        mappings, so the listing is unfiltered for the function's region and matched on the
        `FunctionArn` of each mapping. Provisioned-concurrency configs are listed per function.
        """
        client = self.lambda_client(region)
        used: dict[int, list[str]] = {}
        prefix = arn + ":"
        try:
            for page in client.get_paginator("list_event_source_mappings").paginate():
                for m in page.get("EventSourceMappings", []):
                    fa = str(m.get("FunctionArn", ""))
                    qualifier = fa[len(prefix) :] if fa.startswith(prefix) else ""
                    if qualifier.isdigit():
                        what = f"event source mapping {m.get('UUID', '')}".rstrip()
                        used.setdefault(int(qualifier), []).append(what)
            for pc_page in client.get_paginator("list_provisioned_concurrency_configs").paginate(
                FunctionName=name
            ):
                for c in pc_page.get("ProvisionedConcurrencyConfigs", []):
                    qualifier = str(c.get("FunctionArn", "")).rsplit(":", 1)[-1]
                    if qualifier.isdigit():
                        used.setdefault(int(qualifier), []).append("provisioned concurrency")
        except Exception as e:
            raise explain(e, f"listing what uses the versions of {name}") from e
        return {n: tuple(what) for n, what in used.items()}

    def alias_ties(
        self, name: str, region: str | None, arn: str, aliases: Iterable[str]
    ) -> dict[str, tuple[AliasTie, ...]]:
        """What hangs on each alias: provisioned concurrency, a policy statement, an event
        source mapping, a function URL. One read of each per alias; a 404 means "none"."""
        client = self.lambda_client(region)
        out: dict[str, tuple[AliasTie, ...]] = {}
        for alias in aliases:
            ties: list[AliasTie] = []
            for tie in AliasTie:
                try:
                    if _has_tie(client, tie, name, arn, alias):
                        ties.append(tie)
                except Exception as e:
                    err = explain(e, f"reading what hangs on alias {name}:{alias}")
                    if err.status != 404:
                        raise err from e
            out[alias] = tuple(ties)
        return out

    def list_function_names(self, region: str | None, prefix: str) -> list[str]:
        """Names of the functions in a region starting with `prefix` (paginated ListFunctions)."""
        client = self.lambda_client(region)
        names: list[str] = []
        try:
            for page in client.get_paginator("list_functions").paginate():
                names.extend(
                    str(f["FunctionName"])
                    for f in page.get("Functions", [])
                    if str(f.get("FunctionName", "")).startswith(prefix)
                )
        except Exception as e:
            raise explain(e, f"listing functions starting with {prefix!r}") from e
        return sorted(names)

    def list_aliases(self, name: str, region: str | None) -> tuple[LiveAlias, ...]:
        client = self.lambda_client(region)
        try:
            out: list[LiveAlias] = []
            for page in client.get_paginator("list_aliases").paginate(FunctionName=name):
                out.extend(alias_from(a) for a in page.get("Aliases", []))
        except Exception as e:
            raise explain(e, f"listing the aliases of {name}") from e
        return tuple(sorted(out, key=lambda a: a.name))

    def function_tags(self, name: str, region: str | None, arn: str) -> dict[str, str]:
        """ListTags (not paginated); read only for functions with a rollout."""
        client = self.lambda_client(region)
        try:
            return dict(client.list_tags(Resource=arn).get("Tags", {}))
        except Exception as e:
            raise explain(e, f"reading the tags of {name}") from e

    def function_exists(self, function: str, region: str | None) -> bool:
        """GetFunction of `function` (name or ARN, maybe qualified, as a hook is named): False
        on ResourceNotFoundException, any other failure raised. Paced at GetFunction's own
        100 requests per second."""
        client = self.lambda_client(region)
        try:
            client.get_function(FunctionName=function)
        except Exception as e:
            err = explain(e, f"checking that traffic hook {function} exists")
            if err.code == "ResourceNotFoundException":
                return False
            raise err from e
        return True

    def alarm_states(self, region: str | None, names: Iterable[str]) -> dict[str, str]:
        """Alarm name → StateValue, batched: one DescribeAlarms call per 100 names."""
        wanted = sorted(set(names))
        states: dict[str, str] = {}
        client = self._client("cloudwatch", region)
        try:
            for i in range(0, len(wanted), 100):
                batch = wanted[i : i + 100]
                for page in client.get_paginator("describe_alarms").paginate(
                    AlarmNames=batch, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
                ):
                    for kind in ("MetricAlarms", "CompositeAlarms"):
                        for a in page.get(kind, []):
                            states[str(a["AlarmName"])] = str(a["StateValue"])
        except Exception as e:
            raise explain(e, "reading CloudWatch alarm states") from e
        return states

    def metric_sums(self, region: str | None, queries: Sequence[MetricQuery]) -> dict[str, float]:
        """Sums of `AWS/Lambda` metrics by FunctionName, Resource and ExecutedVersion: one
        GetMetricData call (pages aside) for every query of a region."""
        client = self._client("cloudwatch", region)
        sums: dict[str, float] = {q.key: 0.0 for q in queries}
        by_id = {f"q{i}": q for i, q in enumerate(queries)}
        items = list(by_id.items())
        for chunk in range(0, len(items), 500):  # GetMetricData takes at most 500 queries
            batch = items[chunk : chunk + 500]
            start = min(q.start for _, q in batch).replace(second=0, microsecond=0)
            end = max(q.end for _, q in batch)
            # one-minute periods, so each query counts only the minutes of its own window
            request = [_metric_query(qid, q, 60) for qid, q in batch]
            try:
                for page in client.get_paginator("get_metric_data").paginate(
                    MetricDataQueries=request, StartTime=start, EndTime=end
                ):
                    for result in page.get("MetricDataResults", []):
                        q = by_id[result["Id"]]
                        since = q.start.replace(second=0, microsecond=0)
                        pairs = zip(
                            result.get("Timestamps", []), result.get("Values", []), strict=True
                        )
                        sums[q.key] += sum(v for t, v in pairs if t >= since)
            except Exception as e:
                raise explain(e, "reading CloudWatch metrics for rollout gates") from e
        return sums

    # -- layers and code storage ----------------------------------------------------------------

    def list_layer_versions(self, layer: str, region: str | None) -> tuple[LiveLayerVersion, ...]:
        """Every version of a layer (ListLayerVersions, pages of 50), ascending by number."""
        client = self.lambda_client(region)
        out: list[LiveLayerVersion] = []
        try:
            for page in client.get_paginator("list_layer_versions").paginate(LayerName=layer):
                out.extend(
                    LiveLayerVersion(
                        number=int(v["Version"]),
                        arn=str(v["LayerVersionArn"]),
                        created=parse_time(str(v.get("CreatedDate") or "")),
                    )
                    for v in page.get("LayerVersions", [])
                )
        except Exception as e:
            raise explain(e, f"listing the versions of layer {layer}") from e
        return tuple(sorted(out, key=lambda v: v.number))

    def layer_version_size(self, layer: str, region: str | None, version: int) -> int:
        """The CodeSize of one layer version (GetLayerVersion); ListLayerVersions omits it."""
        client = self.lambda_client(region)
        try:
            out = client.get_layer_version(LayerName=layer, VersionNumber=version)
        except Exception as e:
            raise explain(e, f"reading layer version {layer}:{version}") from e
        return int((out.get("Content") or {}).get("CodeSize") or 0)

    def layer_version_policy(self, layer: str, region: str | None, version: int) -> str | None:
        """The layer version's policy document (GetLayerVersionPolicy); None when it has none."""
        client = self.lambda_client(region)
        try:
            return str(
                client.get_layer_version_policy(LayerName=layer, VersionNumber=version)["Policy"]
            )
        except Exception as e:
            err = explain(e, f"reading the policy of layer version {layer}:{version}")
            if err.code == "ResourceNotFoundException":
                return None
            raise err from e

    def layer_usage(self, region: str | None) -> dict[str, tuple[str, ...]]:
        """Which function versions of the region use which layer versions: one
        ListFunctions(FunctionVersion=ALL) sweep, pages of 50, every published version and
        `$LATEST` of every function (managed here or not). Layer version ARN → "name:version"."""
        client = self.lambda_client(region)
        usage: dict[str, list[str]] = {}
        try:
            pages = client.get_paginator("list_functions").paginate(
                FunctionVersion="ALL", PaginationConfig={"PageSize": 50}
            )
            for page in pages:
                for f in page.get("Functions", []):
                    user = f"{f.get('FunctionName', '')}:{f.get('Version', LATEST)}"
                    for layer in f.get("Layers") or []:
                        usage.setdefault(str(layer.get("Arn", "")), []).append(user)
        except Exception as e:
            raise explain(e, "listing which function versions use layers") from e
        return {arn: tuple(sorted(users)) for arn, users in usage.items()}

    def code_storage(self, region: str | None) -> CodeStorage:
        """The region's code storage used and its quota (GetAccountSettings)."""
        client = self.lambda_client(region)
        where = region or self.default_region or ""
        try:
            out = client.get_account_settings()
        except Exception as e:
            return CodeStorage(where, 0, 0, str(explain(e, "reading the code-storage quota")))
        used = int((out.get("AccountUsage") or {}).get("TotalCodeSize") or 0)
        limit = int((out.get("AccountLimit") or {}).get("TotalCodeSize") or 0)
        return CodeStorage(where, used, limit)

    # -- writes ---------------------------------------------------------------------------------

    def delete_layer_version(self, layer: str, region: str | None, version: int) -> None:
        client = self.lambda_client(region)
        try:
            client.delete_layer_version(LayerName=layer, VersionNumber=version)
        except Exception as e:
            raise explain(e, f"deleting layer version {layer}:{version}") from e

    def untag_function(self, name: str, region: str | None, arn: str, keys: Sequence[str]) -> None:
        """Remove an earlier release's rollout tags, once their state is in the alias record."""
        client = self.lambda_client(region)
        try:
            client.untag_resource(Resource=arn, TagKeys=list(keys))
        except Exception as e:
            raise explain(e, f"removing the old rollout tags of {name}") from e

    def publish_version(
        self,
        name: str,
        region: str | None,
        code_sha256: str,
        revision_id: str,
        description: str | None = None,
    ) -> str:
        """PublishVersion guarded by `$LATEST`'s hash and revision; `description` overrides the
        one the new version would take from `$LATEST`."""
        client = self.lambda_client(region)
        kwargs: dict[str, Any] = {"FunctionName": name, "CodeSha256": code_sha256}
        kwargs["RevisionId"] = revision_id
        if description is not None:
            kwargs["Description"] = description
        try:
            out = client.publish_version(**kwargs)
        except Exception as e:
            raise explain(e, f"publishing {name}") from e
        return str(out["Version"])

    def create_alias(
        self,
        name: str,
        region: str | None,
        alias: str,
        version: str,
        weights: Mapping[str, float],
        description: str | None,
    ) -> str:
        """CreateAlias; the new alias's RevisionId."""
        client = self.lambda_client(region)
        kwargs: dict[str, Any] = {"FunctionName": name, "Name": alias, "FunctionVersion": version}
        if weights:
            kwargs["RoutingConfig"] = {"AdditionalVersionWeights": dict(weights)}
        if description is not None:
            kwargs["Description"] = description
        try:
            out = client.create_alias(**kwargs)
        except Exception as e:
            raise explain(e, f"creating alias {name}:{alias}") from e
        return str(out.get("RevisionId") or "")

    def update_alias(
        self,
        name: str,
        region: str | None,
        alias: str,
        version: str,
        weights: Mapping[str, float],
        description: str | None,
        revision_id: str,
    ) -> str:
        """UpdateAlias guarded by `revision_id`; the alias's new RevisionId."""
        client = self.lambda_client(region)
        # Always send the full routing config: UpdateAlias keeps the old one when it is omitted.
        kwargs: dict[str, Any] = {
            "FunctionName": name,
            "Name": alias,
            "FunctionVersion": version,
            "RoutingConfig": {"AdditionalVersionWeights": dict(weights)},
            "RevisionId": revision_id,
        }
        if description is not None:
            kwargs["Description"] = description
        try:
            out = client.update_alias(**kwargs)
        except Exception as e:
            raise explain(e, f"updating alias {name}:{alias}") from e
        return str(out.get("RevisionId") or "")

    def delete_alias(self, name: str, region: str | None, alias: str) -> None:
        client = self.lambda_client(region)
        try:
            client.delete_alias(FunctionName=name, Name=alias)
        except Exception as e:
            raise explain(e, f"deleting alias {name}:{alias}") from e

    def delete_version(self, name: str, region: str | None, version: str) -> None:
        if not version.isdigit():
            # A missing or non-numeric qualifier would delete the whole function or be refused.
            raise AwsError(f"refusing to delete {name} qualifier {version!r}: not a version number")
        client = self.lambda_client(region)
        try:
            client.delete_function(FunctionName=name, Qualifier=version)
        except Exception as e:
            raise explain(e, f"deleting version {name}:{version}") from e


def _unqualified(arn: str, name: str) -> str:
    """A function ARN without its `:$LATEST` or `:N` qualifier."""
    head = arn.rpartition(":")[0]
    return head if head.endswith(":function:" + name) else arn


def live_function_from(
    name: str, configs: Iterable[Mapping[str, Any]], aliases: Iterable[LiveAlias]
) -> LiveFunction:
    latest: LiveLatest | None = None
    versions: list[LiveVersion] = []
    arn = ""
    for c in configs:
        version = str(c.get("Version", ""))
        if version == LATEST:
            latest = LiveLatest(snapshot_from(c), str(c.get("RevisionId", "")))
            arn = str(c.get("FunctionArn", ""))
        elif version.isdigit():
            versions.append(LiveVersion(int(version), snapshot_from(c)))
            if not arn:
                arn = str(c.get("FunctionArn", "")).rsplit(":", 1)[0]
    if latest is None:
        raise AwsError(f"reading {name}: ListVersionsByFunction returned no $LATEST")
    if arn.endswith(":" + LATEST):
        arn = arn[: -len(LATEST) - 1]
    parts = arn.split(":")
    region = parts[3] if len(parts) > 4 else ""
    account = parts[4] if len(parts) > 4 else ""
    return LiveFunction(
        name=name,
        arn=arn,
        region=region,
        account=account,
        latest=latest,
        versions=tuple(sorted(versions, key=lambda v: v.number)),
        aliases=tuple(sorted(aliases, key=lambda a: a.name)),
    )


def _metric_query(qid: str, q: MetricQuery, period: int) -> dict[str, Any]:
    dims = {"FunctionName": q.function, "Resource": f"{q.function}:{q.alias}"}
    dims["ExecutedVersion"] = q.version
    metric = {
        "Namespace": "AWS/Lambda",
        "MetricName": q.metric,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
    }
    return {
        "Id": qid,
        "MetricStat": {"Metric": metric, "Period": period, "Stat": "Sum"},
        "ReturnData": True,
    }


def call_subject(params: Mapping[str, Any]) -> str:
    """What a call is about, from its parameters: `orders`, `orders:prod` (an alias or a
    version qualifier), `shared-libs:3` (a layer version); "" for a call about no function."""
    name = str(params.get("FunctionName") or params.get("LayerName") or "")
    if not name and str(params.get("Resource") or "").startswith("arn:"):
        name = str(params["Resource"])  # ListTags, TagResource: the function's ARN
    for kind in (":function:", ":layer:"):
        if name.startswith("arn:") and kind in name:
            name = name.split(kind, 1)[1]  # the name, with the ARN's qualifier if any
    # Qualifier: GetFunction, DeleteFunction…; VersionNumber: a layer's; Name: an alias's.
    qualifier = params.get("Qualifier") or params.get("VersionNumber") or params.get("Name")
    return f"{name}:{qualifier}" if name and qualifier is not None else name


def call_line(
    operation: str, subject: str, region: str, status: object, elapsed_ms: float, request_id: str
) -> str:
    """One `-v` line: `aws lambda.ListAliases orders us-east-1 → 200 (47 ms) req 1a2b…`."""
    words = " ".join(w for w in (f"aws {operation}", subject, region) if w)
    tail = f" req {request_id}" if request_id else ""
    return f"{words} → {status} ({elapsed_ms:.0f} ms){tail}"


_LOG_LOCK = threading.Lock()


def stderr_logger(line: str) -> None:
    """One write of the whole line, under a lock: lines from the reading threads never mix."""
    with _LOG_LOCK:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
