"""The emulator's HTTP server: moto's WSGI app behind a middleware that adds the real-AWS Lambda
rules (`layer.py`), fault injection, a call log and a control API under `/_emulator/`."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session
from moto.moto_api._internal.models import moto_api_backend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from emulator import events as eventbridge
from emulator import metrics, sts
from emulator.accounts import (
    access_key_of,
    account_for_key,
    create_key,
    current_account,
    using_account,
)
from emulator.attachments import Attachments
from emulator.invoke import Invoker
from emulator.layer import ApiError, Layer, Response, dispatch, json_body, parse_query, rng
from emulator.layers import Layers, dispatch_layers

Environ = dict[str, Any]
StartResponse = Callable[..., Any]

LAMBDA_WRITES = {
    "PublishVersion",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "DeleteFunction",
    "PutProvisionedConcurrencyConfig",
    "DeleteProvisionedConcurrencyConfig",
    "TagResource",
    "UntagResource",
    "AddPermission",
    "RemovePermission",
    "CreateFunctionUrlConfig",
    "UpdateFunctionUrlConfig",
    "DeleteFunctionUrlConfig",
    "PutFunctionEventInvokeConfig",
    "UpdateFunctionEventInvokeConfig",
    "DeleteFunctionEventInvokeConfig",
    "PutFunctionConcurrency",
    "PublishLayerVersion",
    "DeleteLayerVersion",
    "AddLayerVersionPermission",
    "RemoveLayerVersionPermission",
}
LATEST_RESPONSES = {
    "CreateFunction",
    "UpdateFunctionCode",
    "UpdateFunctionConfiguration",
    "GetFunction",
    "GetFunctionConfiguration",
}
# Lambda's quota table (the project's Lambda reference): `rate_limit_per_s` is the control-plane
# quota; these operations have a quota of their own (requests/s per region), and invocations
# are data plane, not limited by requests per second at all.
OWN_QUOTAS = {"GetFunction": 100.0, "GetPolicy": 15.0}
UNLIMITED = {"Invoke", "InvokeAsync", "InvokeWithResponseStream"}
# Answered by sts.py and events.py rather than moto (see emulator/README.md).
ACCOUNT_CALLS = {
    ("sts", "AssumeRole"),
    ("sts", "AssumeRoleWithWebIdentity"),
    ("events", "PutEvents"),
}
_CRED = re.compile(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/aws4_request")


@dataclass
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    query: dict[str, str]
    literal: int  # literal characters: more specific routes first


def _lambda_routes() -> list[_Route]:
    model = botocore.session.get_session().get_service_model("lambda")
    routes: list[_Route] = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"]
        path, _, q = uri.partition("?")
        regex = re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", path.rstrip("/"))
        query = dict(p.split("=", 1) for p in q.split("&") if "=" in p)
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        routes.append(_Route(name, http["method"], re.compile(f"^{regex}/?$"), query, literal))
    routes.sort(key=lambda r: (-len(r.query), -r.literal))
    return routes


@dataclass
class Faults:
    latency_ms: float = 0.0
    rate_limit_per_s: float = 0.0
    throttle_probability: float = 0.0
    seed: int | None = None
    fail_write: dict[str, Any] | None = None
    kill: dict[str, Any] | None = None
    hold: dict[str, Any] | None = None
    held_writes: int = 0
    writes_seen: int = 0
    # (account, region, quota) → (tokens, time of the last refill)
    buckets: dict[tuple[str, str, str], tuple[float, float]] = field(default_factory=dict)
    random: Any = None


class Emulator:
    """The WSGI application."""

    def __init__(self) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.layer = Layer()
        self.layers = Layers(self.layer)
        self.invoker = Invoker(self.layer, self.layers.layer_code)
        metrics.install()
        self.routes = _lambda_routes()
        self.faults = Faults()
        self.calls: list[dict[str, Any]] = []
        self.log_lock = threading.Lock()
        self.fault_lock = threading.Lock()
        self.seq = 0
        self.enforce_iam = False
        self.clock_offset = 0.0  # seconds the `Date` of every response is ahead of the host
        self.sts = sts.StsState()  # role sessions AssumeRole issued (accounts: accounts.py)
        self.events = eventbridge.EventsState()  # PutEvents received, injected entry failures
        # What hangs on versions and aliases; its time is the emulator's clock.
        self.attach = Attachments(self.layer, lambda: time.time() + self.clock_offset)

    # -- helpers ---------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str]) -> tuple[str, dict[str, str]]:
        for r in self.routes:
            if r.method != method:
                continue
            m = r.pattern.match(path)
            if m and all(query.get(k) == v for k, v in r.query.items()):
                return r.operation, m.groupdict()
        return "Unknown", {}

    @staticmethod
    def _json(start: StartResponse, resp: Response) -> list[bytes]:
        data = b"" if resp.body is None else json.dumps(resp.body).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ]
        start(f"{resp.status} {_REASONS.get(resp.status, 'OK')}", headers)
        return [data]

    @staticmethod
    def _error(
        start: StartResponse, err: ApiError, extra: dict[str, str] | None = None
    ) -> list[bytes]:
        body: dict[str, Any] = {"Type": "User", "Message": err.message, "message": err.message}
        if err.code == "TooManyRequestsException":
            body["Reason"] = "CallerRateLimitExceeded"
        data = json.dumps(body).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("x-amzn-errortype", err.code),
            ("x-amzn-RequestId", str(uuid.uuid4())),
            *(extra or {}).items(),
        ]
        start(f"{err.status} {_REASONS.get(err.status, 'Error')}", headers)
        return [data]

    def _log(self, entry: dict[str, Any]) -> None:
        with self.log_lock:
            self.seq += 1
            entry["seq"] = self.seq
            entry["t"] = time.time()
            self.calls.append(entry)

    # -- faults ----------------------------------------------------------------------------

    def _throttled(self, region: str, operation: str = "") -> bool:
        """Injected random throttling, or the request-rate quota the operation counts against
        (a token bucket per account, region and quota, full at the start: each account's
        quota is its own, as in AWS)."""
        f = self.faults
        with self.fault_lock:
            if (
                f.throttle_probability
                and f.random is not None
                and f.random.random() < f.throttle_probability
            ):
                return True
            if f.rate_limit_per_s and operation not in UNLIMITED:
                quota = operation if operation in OWN_QUOTAS else "control plane"
                rate = OWN_QUOTAS.get(operation, f.rate_limit_per_s)
                now = time.monotonic()
                key = (current_account(), region, quota)
                tokens, last = f.buckets.get(key, (rate, now))
                tokens = min(rate, tokens + (now - last) * rate)
                if tokens < 1:
                    f.buckets[key] = (tokens, now)
                    return True
                f.buckets[key] = (tokens - 1, now)
        return False

    def _hold(self, environ: Environ) -> None:
        """Delay the Nth write of clients whose User-Agent contains `agent` (race tests)."""
        hold = self.faults.hold
        if not hold or str(hold.get("agent", "")) not in environ.get("HTTP_USER_AGENT", ""):
            return
        with self.fault_lock:
            self.faults.held_writes += 1
            n = self.faults.held_writes
        if n == int(hold.get("write", 1)):
            time.sleep(float(hold.get("seconds", 1)))

    def _write_faults(self, operation: str) -> tuple[ApiError | None, int | None]:
        """(injected failure, pid to kill after the write) for the Nth write."""
        f = self.faults
        with self.fault_lock:
            f.writes_seen += 1
            n = f.writes_seen
            fail = f.fail_write
            kill = f.kill
        if kill and int(kill.get("write", 0)) == n:
            if kill.get("when", "before") == "before":
                os.kill(int(kill["pid"]), signal.SIGKILL)
                time.sleep(0.2)
                return ApiError(500, "ServiceException", "client killed before the write"), None
            return None, int(kill["pid"])
        if fail and int(fail.get("n", 0)) == n:
            return (
                ApiError(
                    int(fail.get("status", 500)),
                    str(fail.get("code", "ServiceException")),
                    str(fail.get("message", f"injected failure on write {n}")),
                ),
                None,
            )
        return None, None

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: Environ, start: StartResponse) -> Iterable[bytes]:
        """Serve a request in the account its access key belongs to (`accounts.py`)."""
        if environ.get("PATH_INFO", "").startswith("/_emulator/"):
            return self._control(environ, start)
        key = access_key_of(environ)
        with self.layer.lock:
            account = account_for_key(key)
        # moto's backends pick the account from this header before anything else
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        with using_account(account):
            return self._serve(environ, start, key)

    def _serve(self, environ: Environ, start: StartResponse, key: str) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        m = _CRED.search(environ.get("HTTP_AUTHORIZATION", ""))
        region, service = (m.group(1), m.group(2)) if m else ("us-east-1", "unknown")
        query = parse_query(environ.get("QUERY_STRING", ""))
        entry: dict[str, Any] = {
            "service": service,
            "region": region,
            "method": method,
            "path": path,
            "function": None,
            "qualifier": None,
            "write": False,
            "throttled": False,
            "account": current_account(),
        }
        if service != "lambda":
            entry["operation"] = self._other_operation(environ, raw)
            if entry["operation"] == "AssumeRoleWithWebIdentity":  # unsigned: no service
                entry["service"] = "sts"
            if (entry["service"], entry["operation"]) in ACCOUNT_CALLS:
                return self._accounts_call(environ, start, raw, key, entry)
            return self._pass(environ, start, entry)
        operation, params = self._route(method, path, query)
        entry["operation"] = operation
        expired = self._expired(key)
        if expired is not None:
            entry["status"] = expired.status
            self._log(entry)
            return self._error(start, expired)
        # Tag calls name the function by its ARN in `Resource`; IAM checks them on that ARN.
        resource = unquote(params.get("Resource", ""))
        named = params.get("FunctionName") or (resource if ":function:" in resource else None)
        if named:
            from emulator.layer import _name_from

            entry["function"], q = _name_from(named)
            entry["named"] = named
            entry["qualifier"] = query.get("Qualifier") or q
        entry["write"] = operation in LAMBDA_WRITES
        if operation in ("CreateAlias", "UpdateAlias"):  # the routing asked for, for tests
            asked = json_body(raw)
            entry["alias_version"] = asked.get("FunctionVersion")
            routing = asked.get("RoutingConfig") or {}
            entry["alias_weights"] = routing.get("AdditionalVersionWeights") or {}
        if params.get("LayerName") and params.get("VersionNumber"):
            # Layer version calls: IAM checks them on the layer version ARN.
            layer = unquote(params["LayerName"]).split(":")[-1]
            entry["layer_arn"] = (
                f"arn:aws:lambda:{region}:{current_account()}:layer:{layer}:"
                f"{params['VersionNumber']}"
            )
        denied = self._authorize(environ, raw, operation, region, entry)
        entry.pop("layer_arn", None)
        entry.pop("named", None)
        if denied is not None:
            entry["status"] = denied.status
            self._log(entry)
            return self._error(start, denied)
        if self.faults.latency_ms:
            time.sleep(self.faults.latency_ms / 1000)
        # Invoke is data plane: no request quota applies to it (UNLIMITED); GetFunction has its own.
        if self._throttled(region, operation):
            entry.update(status=429, throttled=True)
            self._log(entry)
            return self._error(
                start,
                ApiError(429, "TooManyRequestsException", "Rate exceeded"),
                {"Retry-After": "1"},
            )
        kill_after = None
        if entry["write"]:
            self._hold(environ)
            injected, kill_after = self._write_faults(operation)
            if injected is not None:
                entry["status"] = injected.status
                entry["injected"] = True
                self._log(entry)
                return self._error(start, injected)
        if operation == "Invoke":
            return self._invoke(environ, start, region, params, query, raw, entry)
        body = json_body(raw)
        try:
            with self.layer.lock:
                self.attach.settle()
                resp = dispatch_layers(self.layers, operation, region, params, query, body)
                if resp is None:
                    resp = self.attach.dispatch(operation, region, params, query, body)
                if resp is None:
                    resp = dispatch(self.layer, operation, region, params, query, body)
                if resp is None:
                    result = self._moto(environ, operation, region, entry, raw)
        except ApiError as e:
            entry["status"] = e.status
            self._log(entry)
            return self._error(start, e)
        if resp is None:
            status, headers, data = result
            entry["status"] = status
            self._log(entry)
            self._after(kill_after)
            start(f"{status} {_REASONS.get(status, 'OK')}", headers)
            return [data]
        entry["status"] = resp.status
        self._log(entry)
        self._after(kill_after)
        return self._json(start, resp)

    def _invoke(
        self,
        environ: Environ,
        start: StartResponse,
        region: str,
        params: dict[str, str],
        query: dict[str, str],
        raw: bytes,
        entry: dict[str, Any],
    ) -> list[bytes]:
        """Invoke: resolve the target under the lock, run the handler without it."""
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        try:
            with self.layer.lock:
                self.attach.settle()
                target = self.invoker.target(region, params.get("FunctionName", ""), query)
                self.attach.check_invoke(region, target.name, target.version)
            outcome = self.invoker.invoke(target, headers, raw)
        except ApiError as e:
            entry["status"] = e.status
            self._log(entry)
            return self._error(start, e)
        entry.update(
            status=outcome.status,
            executed_version=outcome.executed_version,
            function_error=outcome.function_error,
        )
        self._log(entry)
        out = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(outcome.payload))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
            *outcome.headers.items(),
        ]
        start(f"{outcome.status} {_REASONS.get(outcome.status, 'OK')}", out)
        return [outcome.payload]

    def _authorize(
        self, environ: Environ, raw: bytes, operation: str, region: str, entry: dict[str, Any]
    ) -> ApiError | None:
        """IAM enforcement for every Lambda call, also those this layer answers itself.

        Off unless enabled with `POST /_emulator/auth {"enabled": true}`; then each Lambda call
        is checked against the IAM policies of the caller's access key (inline and attached,
        of the user and its groups, as moto stores them) with the action `lambda:<Operation>`
        on the function's ARN, qualified with the alias or version the call names, and the
        request context IAM gives Lambda: `aws:ResourceTag/*` (the function's tags, which apply
        to its versions and aliases too), and for TagResource / UntagResource
        `aws:RequestTag/*` and `aws:TagKeys`. `iam_eval` evaluates the policies as IAM does.
        Signatures are not verified; other services stay open.
        """
        from moto.core.exceptions import HTTPException
        from moto.iam.access_control import IAMPolicy, IAMRequest

        from emulator.iam_eval import Unsupported, evaluate

        if not self.enforce_iam:
            return None
        name = entry.get("function")
        resource = entry.get("layer_arn") or "*"
        context: dict[str, list[str]] = {}
        if name:
            named = unquote(entry.get("named") or "")
            account, fn_region = current_account(), region
            if named.startswith("arn:") and len(named.split(":")) >= 7:
                fn_region, account = named.split(":")[3], named.split(":")[4]
            resource = f"arn:aws:lambda:{fn_region}:{account}:function:{name}"
            alias = entry.get("qualifier") or parse_query(environ.get("QUERY_STRING", "")).get(
                "Qualifier"
            )
            route_alias = re.search(r"/aliases/([^/?]+)", environ.get("PATH_INFO", ""))
            if route_alias:
                alias = unquote(route_alias.group(1))
            if alias:
                resource += f":{alias}"
            with self.layer.lock:
                fn = self.layer.storage(region)._functions.get(name)
                tags = dict(fn["latest"].tags or {}) if fn else {}
            context.update({f"aws:ResourceTag/{k}": [v] for k, v in tags.items()})
        if operation == "TagResource":
            requested = json_body(raw).get("Tags") or {}
            context.update({f"aws:RequestTag/{k}": [str(v)] for k, v in requested.items()})
            context["aws:TagKeys"] = list(requested)
        elif operation == "UntagResource":
            keys = parse_qs(environ.get("QUERY_STRING", "")).get("tagKeys", [])
            context["aws:TagKeys"] = keys
        headers = {
            k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        headers["Authorization"] = environ.get("HTTP_AUTHORIZATION", "")
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        path = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        denied = ApiError(
            403,
            "AccessDeniedException",
            f"User is not authorized to perform: lambda:{operation} on resource: {resource}",
        )
        try:
            request = IAMRequest(
                account_id=current_account(),
                method=environ["REQUEST_METHOD"],
                path=path,
                data={},
                body=raw,
                headers=headers,
                action=operation,
            )
            documents = [IAMPolicy(p)._policy_json for p in request._access_key.collect_policies()]
        except HTTPException:
            # An access key IAM does not know: Lambda refuses the credentials themselves
            # (the answer every call of the run gets), not the action.
            return ApiError(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        try:
            # IAM names most actions after their operation; Invoke is `lambda:InvokeFunction`
            action = "InvokeFunction" if operation == "Invoke" else operation
            decision = evaluate(documents, f"lambda:{action}", resource, context)
        except Unsupported as e:
            return ApiError(500, "ServiceException", f"emulator IAM: unsupported {e}")
        if decision == "allow":
            return None
        if decision == "deny":
            denied.message += " with an explicit deny in an identity-based policy"
        return denied

    # -- accounts: role sessions (sts.py) and EventBridge PutEvents (events.py) -------------

    def _aws_now(self) -> datetime:
        """AWS's clock as the emulator plays it (the host's plus the `clock` offset)."""
        return datetime.now(timezone.utc) + timedelta(seconds=self.clock_offset)

    def _expired(self, key: str) -> ApiError | None:
        session = self.sts.sessions.get(key)
        if session is None or self._aws_now() < session.expires:
            return None
        return ApiError(
            403, "ExpiredTokenException", "The security token included in the request is expired"
        )

    def _accounts_call(
        self, environ: Environ, start: StartResponse, raw: bytes, key: str, entry: dict[str, Any]
    ) -> Iterable[bytes]:
        """STS AssumeRole and EventBridge PutEvents, answered here rather than by moto."""
        is_sts = entry["service"] == "sts"
        try:
            with self.layer.lock:
                if is_sts:
                    params = parse_query(environ.get("QUERY_STRING", ""))
                    params.update(parse_query(raw.decode("utf-8", "replace")))
                    if entry["operation"] == "AssumeRoleWithWebIdentity":
                        data = sts.assume_role_with_web_identity(
                            params, self._aws_now(), self.sts, entry
                        )
                    else:
                        data = sts.assume_role(
                            params, key, current_account(), self._aws_now(), self.sts, entry
                        )
                else:
                    result = eventbridge.put_events(
                        self.events,
                        json_body(raw),
                        current_account(),
                        entry["region"],
                        self._aws_now(),
                    )
                    entry.update(entries=len(result["Entries"]), failed=result["FailedEntryCount"])
                    data = json.dumps(result).encode()
        except ApiError as e:
            entry["status"] = e.status
            self._log(entry)
            if not is_sts:  # the JSON protocol names the error in `__type`
                return self._json(
                    start, Response(e.status, {"__type": e.code, "message": e.message})
                )
            data = sts.error_xml(e)
            start(
                f"{e.status} {_REASONS.get(e.status, 'Error')}",
                [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))],
            )
            return [data]
        entry["status"] = 200
        self._log(entry)
        kind = "text/xml" if is_sts else "application/x-amz-json-1.1"
        start(
            "200 OK",
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(data))),
                ("x-amzn-RequestId", str(uuid.uuid4())),
            ],
        )
        return [data]

    def _after(self, pid: int | None) -> None:
        if pid is not None:
            os.kill(pid, signal.SIGKILL)

    def _moto(
        self,
        environ: Environ,
        operation: str,
        region: str,
        entry: dict[str, Any],
        raw: bytes = b"",
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc: Any = None) -> None:
            captured["status"] = int(status.split()[0])
            captured["headers"] = list(headers)

        data = b"".join(self.moto(environ, start))
        status = int(captured["status"])
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        name = entry.get("function")
        if status < 300 and name and operation in LATEST_RESPONSES:
            if operation in ("CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration"):
                self.layer.mark_changed(region, name)
            data = self._add_revision(data, region, name, operation)
            if operation in ("CreateFunction", "UpdateFunctionConfiguration"):
                self.attach.note_function_config(region, name, json_body(raw))
            data = self.attach.after_moto(operation, region, name, entry.get("qualifier"), data)
        if status < 300 and operation == "DeleteFunction" and name:
            self.layer.state.functions.pop((current_account(), region, name), None)
        if operation == "CreateAlias" and status == 409:
            status = 409
        headers.append(("Content-Length", str(len(data))))
        return status, headers, data

    def _add_revision(self, data: bytes, region: str, name: str, operation: str) -> bytes:
        try:
            doc = json.loads(data)
        except ValueError:
            return data
        config = doc.get("Configuration") if operation == "GetFunction" else doc
        if isinstance(config, dict) and str(config.get("Version", "$LATEST")) == "$LATEST":
            config["RevisionId"] = self.layer.fstate(region, name).latest_revision
        return json.dumps(doc).encode()

    def _other_operation(self, environ: Environ, raw: bytes) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            return target.rsplit(".", 1)[-1]
        params = parse_query(environ.get("QUERY_STRING", ""))
        if "Action" not in params and raw:
            params.update(parse_query(raw.decode("utf-8", "replace")))
        return params.get("Action", "Unknown")

    def _pass(
        self, environ: Environ, start: StartResponse, entry: dict[str, Any]
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            captured["status"] = status
            return start(status, headers, exc) if exc else start(status, headers)

        out = list(self.moto(environ, capture))
        entry["status"] = int(str(captured.get("status", "200")).split()[0])
        self._log(entry)
        return out

    # -- control API -----------------------------------------------------------------------

    def _control(self, environ: Environ, start: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ["PATH_INFO"].removeprefix("/_emulator/").strip("/")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json_body(environ["wsgi.input"].read(length) if length else b"")
        query = parse_query(environ.get("QUERY_STRING", ""))
        try:
            # `account` (body or query) selects the account a control call reads or changes
            with using_account(body.get("account") or query.get("account")):
                result = self._control_call(method, path, body, query)
        except ApiError as e:
            return self._error(start, e)
        except (KeyError, ValueError, TypeError) as e:
            return self._error(start, ApiError(400, "BadRequest", f"{type(e).__name__}: {e}"))
        return self._json(start, Response(200, result))

    def _control_call(
        self, method: str, path: str, body: dict[str, Any], query: dict[str, str]
    ) -> Any:
        layer = self.layer
        match (method, path):
            case ("POST", "reset"):
                with layer.lock:
                    moto_api_backend.reset()
                    layer.reset()
                    self.layers.reset()
                    self.attach.reset()
                    self.invoker.configure()
                self.enforce_iam = False
                self.sts = sts.StsState()
                self.events = eventbridge.EventsState()
                self.clock_offset = 0.0
                self.faults = Faults()
                with self.log_lock:
                    self.calls = []
                return {"reset": True}
            case ("POST", "faults"):
                f = Faults(
                    latency_ms=float(body.get("latency_ms", 0)),
                    rate_limit_per_s=float(body.get("rate_limit_per_s", 0)),
                    throttle_probability=float(body.get("throttle_probability", 0)),
                    seed=body.get("seed"),
                    fail_write=body.get("fail_write"),
                    kill=body.get("kill"),
                    hold=body.get("hold"),
                )
                f.random = rng(f.seed)
                self.faults = f
                return {"faults": body}
            case ("POST", "invoke"):
                # Invoke's random choice of an alias's version (seeded) and its metrics.
                self.invoker.configure(
                    body.get("seed"), bool(body.get("metrics", True)), body.get("metrics_time")
                )
                return {"invoke": body}
            case ("POST", "account"):
                # Override a region's code-storage quota (AccountLimit.TotalCodeSize).
                region = body.get("region", "us-east-1")
                if body.get("total_code_size") is None:
                    self.layers.state.code_limit.pop(region, None)
                else:
                    self.layers.state.code_limit[region] = int(body["total_code_size"])
                return {"account": body}
            case ("POST", "clock"):
                # AWS's clock ahead of (positive) or behind the host's: the `Date` header.
                self.clock_offset = float(body.get("offset_seconds", 0))
                return {"clock": {"offset_seconds": self.clock_offset}}
            case ("POST", "auth"):
                # Enforce IAM on every Lambda call from now on (or stop enforcing it).
                self.enforce_iam = bool(body.get("enabled"))
                return {"auth": self.enforce_iam}
            case ("POST", "accounts/keys"):
                with layer.lock:
                    return create_key(current_account(), str(body.get("user", "emulator")))
            case ("POST", "roles"):
                with layer.lock:
                    return sts.register_role({**body, "account": current_account()})
            case ("GET", "events"):
                with layer.lock:
                    return eventbridge.received(self.events, query)
            case ("POST", "events/fail"):
                with layer.lock:
                    return eventbridge.fail_entries(self.events, body)
            case ("POST", "events/settings"):
                with layer.lock:
                    limit = body.get("max_request_bytes")
                    self.events.max_request_bytes = int(
                        limit if limit is not None else eventbridge.DEFAULT_REQUEST_BYTES
                    )
                    return {"max_request_bytes": self.events.max_request_bytes}
            case ("GET", "calls"):
                with self.log_lock:
                    return list(self.calls)
            case ("DELETE", "calls"):
                with self.log_lock:
                    self.calls = []
                return {"cleared": True}
            case ("POST", "age"):
                with layer.lock:
                    region = body.get("region", "us-east-1")
                    stamp = datetime.fromisoformat(
                        str(body["last_modified"]).replace("Z", "+00:00")
                    )
                    text = stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
                    for v in layer.versions(region, body["function"]):
                        if str(v.version) == str(body["version"]):
                            v.last_modified = text
                            return {"aged": True}
                raise ApiError(404, "ResourceNotFoundException", "no such version")
            case ("POST", "provisioned"):
                with layer.lock:
                    return self.attach.declare_provisioned(
                        body.get("region", "us-east-1"),
                        body["function"],
                        str(body["qualifier"]),
                        int(body.get("count", 1)),
                    )
            case ("POST", "provisioned-settings" | "snapstart-settings" | "edge"):
                with layer.lock:
                    return self.attach.control(path, body)
            case ("POST", "seed"):
                with layer.lock:
                    return seed(layer, body)
            case ("GET", "state"):
                with layer.lock:
                    region = query.get("region", "us-east-1")
                    name = query["function"]
                    return {
                        "versions": [str(v.version) for v in layer.versions(region, name)],
                        "aliases": {
                            a.name: layer.alias_json(a)
                            for a in layer.aliases(region, name).values()
                        },
                        "latest_revision": layer.fstate(region, name).latest_revision,
                    }
        raise ApiError(404, "NotFound", f"no control call {method} /_emulator/{path}")


def seed(layer: Layer, body: dict[str, Any]) -> dict[str, Any]:
    """Create functions with published versions and aliases directly in the backend."""
    from moto.awslambda.models import LambdaAlias, lambda_backends

    from emulator.fixtures import ensure_role_in_backend, zip_code

    region = body.get("region", "us-east-1")
    account = current_account()
    role_arn = ensure_role_in_backend(account)
    backend = lambda_backends[account][region]
    created = 0
    for spec in body.get("functions", []):
        name = spec["name"]
        backend.create_function(
            {
                "FunctionName": name,
                "Runtime": "python3.12",
                "Role": role_arn,
                "Handler": "index.handler",
                "Code": {"ZipFile": base64.b64encode(zip_code(f"{name}-1")).decode()},
            }
        )
        layer.mark_changed(region, name)
        latest = layer.latest(region, name)
        for i in range(1, int(spec.get("versions", 1)) + 1):
            if i > 1:
                latest.code_sha_256 = f"{name}-{i}-sha"
                layer.mark_changed(region, name)
            layer.new_version(region, name)
        aliases = layer.aliases(region, name)
        for alias, version in (spec.get("aliases") or {}).items():
            aliases[alias] = LambdaAlias(
                account_id=account,
                region=region,
                name=alias,
                function_name=name,
                function_version=str(version),
                description="",
                routing_config=None,  # type: ignore[arg-type]
            )
        created += 1
    return {"created": created}


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
