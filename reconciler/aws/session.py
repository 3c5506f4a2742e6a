"""The AWS session and its clients: one client per service and region, shared by all threads,
each call counted, timed against AWS's clock and, with `-v`, logged.

Clients use botocore's adaptive retry mode (retries on throttling, then client-side rate
limiting); every Lambda request waits for its slot in the region's pacer for its quota
(`--max-rate` for control-plane calls, default Lambda's 15 requests per second; `GetFunction` at
its own 100/s), so a run stays under the quota instead of tripping it. `Invoke` has a client of
its own: not paced, never retried.
"""

from __future__ import annotations

import email.utils
import statistics
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import boto3
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.config import Config

from reconciler.aws.errors import explain
from reconciler.aws.events import EventBridge
from reconciler.aws.pacing import LAMBDA_REQUESTS_PER_SECOND, RegionPacers
from reconciler.aws.sts import AssumeRole, credential_metadata, request
from reconciler.errors import AwsError

if TYPE_CHECKING:
    from mypy_boto3_lambda.client import LambdaClient

CallLogger = Callable[[str], None]


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


_LOADERS: dict[str | None, Any] = {}
_LOADERS_LOCK = threading.Lock()


def _botocore_session() -> botocore.session.Session:
    """A botocore session reading the service models and endpoints through the process's one
    loader (per `AWS_DATA_PATH`): each session would otherwise parse and keep its own copy of
    the same JSON, about 20 MB and 60 ms of CPU each, which a run over many accounts (a
    session each) pays per account."""
    core = botocore.session.get_session()
    path = core.get_config_variable("data_path")
    with _LOADERS_LOCK:
        loader = _LOADERS.setdefault(path, core.get_component("data_loader"))
    core.register_component("data_loader", loader)
    return core


class Session:
    """The clients of one credential set (one profile): what `Aws`'s reads, writes and
    observations call through."""

    def __init__(  # noqa: PLR0913 - keyword-only settings of one client set
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
        assume: AssumeRole | None = None,
    ) -> None:
        """With `assume`, every client uses that role's credentials, assumed with STS from the
        ambient ones (the profile's, the environment's) and assumed again shortly before they
        expire (botocore's refreshable credentials)."""
        try:
            self._session = boto3.Session(
                botocore_session=_botocore_session(), profile_name=profile, region_name=region
            )
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
        self._max_rate = max_rate
        self.pacers: dict[str, RegionPacers] = {}
        self.calls = 0
        self.server_clock = ServerClock()
        # How live state is read (`reconciler.engine.reads`): auto, per-function or bulk.
        self.read_mode = read_mode
        self._identity: tuple[str, str] | None = None
        self.assumed = assume
        if assume is not None:
            self._session = self._assumed_session(assume)

    def _assumed_session(self, assume: AssumeRole) -> boto3.Session:
        # The ambient credentials' STS client: not kept with the clients, which use the role's.
        sts = self._session.client(
            "sts",
            region_name=self.default_region or "us-east-1",
            endpoint_url=self._endpoint_url,
            config=self._config,
        )
        self._watch(sts)
        where = f"{assume.source}: " if assume.source else ""

        def fetch(first: bool = False) -> dict[str, str]:
            try:
                return credential_metadata(sts.assume_role(**request(assume)))
            except Exception as e:
                err = explain(e, f"assuming role {assume.role_arn} (sts:AssumeRole)")
                if first:
                    raise AwsError(f"{where}{err}; nothing was read or written") from e
                raise AwsError(
                    f"{where}{err} (assuming it again before its session expired)"
                ) from e

        refreshable = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=fetch(first=True), refresh_using=fetch, method="sts-assume-role"
        )
        # botocore assumes again from 15 minutes before expiry (10: blocking); a session of 15
        # minutes would then be assumed again on every call. A third (a sixth) of it instead.
        advisory, mandatory = min(15 * 60, assume.duration // 3), min(10 * 60, assume.duration // 6)
        refreshable._advisory_refresh_timeout = advisory  # type: ignore[attr-defined]
        refreshable._mandatory_refresh_timeout = mandatory  # type: ignore[attr-defined]
        core = _botocore_session()
        # botocore has no public setter for refreshable credentials (boto3's own assume-role
        # providers do the same)
        core._credentials = refreshable  # type: ignore[attr-defined]
        return boto3.Session(botocore_session=core, region_name=self._session.region_name)

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

    def event_bridge(self, region: str | None) -> EventBridge:
        """`PutEvents` through the `events` client of `region` (None: the default region),
        for rollout notifications; its failures explained like every other call's."""
        return EventBridge(self._client("events", region), explain)

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
        return self.identity()[0]

    def identity(self) -> tuple[str, str]:
        """(account, ARN) of these credentials: one GetCallerIdentity, cached."""
        if self._identity is None:
            try:
                sts = self._client("sts", self._session.region_name or "us-east-1")
                got = sts.get_caller_identity()
                self._identity = (str(got["Account"]), str(got["Arn"]))
            except Exception as e:
                what = f"role {self.assumed.role_arn}" if self.assumed else "the AWS account"
                raise explain(e, f"checking {what} (sts:GetCallerIdentity)") from e
        return self._identity


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
