"""`Invoke` of Python zip functions without Docker, and the `AWS/Lambda` metrics it emits.

moto runs invocations in Docker only. Here the handler named by the function's `Handler`
(`module.func`) runs in a child Python process (`runtime.py`) with the unzipped code as its task
root, the layers' `python/` folders importable, the function's environment variables, and the
function's timeout counted from the end of the import (init) phase. The answer is what the
Lambda reference describes: 200 with `X-Amz-Executed-Version`, and for a failure the
`X-Amz-Function-Error: Unhandled` header with an error object as the payload.

The qualifier (query `Qualifier`, or a qualified name or ARN) is `$LATEST`, a version or an
alias; an alias with a routing config picks its additional version with the configured
probability, from a random generator a test can seed (`POST /_emulator/invoke {"seed": N}`).
Each invocation puts `Invocations`, `Errors` and `Duration` into moto's CloudWatch (namespace
`AWS/Lambda`) by the dimension sets real Lambda uses, unless turned off (`"metrics": false`).
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import io
import json
import os
import random
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from emulator.layer import ApiError, Layer, _name_from, invalid, not_found

RUNTIME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime.py")
INIT_TIMEOUT_S = 10.0  # the init phase's own limit in Lambda
MAX_PAYLOAD = 6 * 1024 * 1024  # synchronous request and response payloads, each way
SITE_PACKAGES = [p for p in sys.path if p.endswith("site-packages")]  # boto3, as in Lambda
LOG_TAIL = 4096  # `LogType: Tail` returns the last 4 KB of the log


@dataclass
class Target:
    """Everything one invocation needs, copied out of the backend under its lock."""

    region: str
    name: str
    version: str  # the version that runs: "$LATEST" or digits
    resource: str | None  # "NAME:QUALIFIER" when the call named a version or an alias
    alias: str | None
    arn: str  # the ARN as invoked (qualified when the call was)
    code: bytes
    code_sha: str
    handler: str
    runtime: str
    package_type: str
    timeout: float
    memory: int
    env: dict[str, str]
    layers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Outcome:
    status: int
    payload: bytes
    headers: dict[str, str]
    executed_version: str | None
    function_error: str | None


class Invoker:
    def __init__(self, layer: Layer, layer_code: Callable[[str, str], bytes | None]) -> None:
        self.layer = layer
        self.layer_code = layer_code  # (region, layer version ARN) → zip, also deleted ones
        self.random = random.Random()
        self.metrics = True
        self.metrics_time: datetime | None = None
        self.root = tempfile.mkdtemp(prefix="lambda-emulator-code-")
        self.unpack_lock = threading.Lock()
        atexit.register(self.close)

    def configure(
        self, seed: int | None = None, metrics: bool = True, metrics_time: str | None = None
    ) -> None:
        """Seed the choice of an alias's version; turn metrics off; stamp every invocation's
        metrics with `metrics_time` (ISO 8601) instead of the wall clock."""
        self.random = random.Random(seed)
        self.metrics = metrics
        self.metrics_time = (
            datetime.fromisoformat(metrics_time.replace("Z", "+00:00")) if metrics_time else None
        )

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # -- resolution (under the layer's lock) -----------------------------------------------

    def target(self, region: str, raw_name: str, query: dict[str, str]) -> Target:
        name, from_name = _name_from(raw_name)
        given = query.get("Qualifier") or None
        if given and from_name and given != from_name:
            raise invalid(
                "The derived qualifier from the function name does not match the specified "
                "qualifier."
            )
        qualifier = given or from_name
        latest = self.layer.latest(region, name)
        base = latest.function_arn.split(":$LATEST")[0]
        alias = None
        if qualifier is None or qualifier == "$LATEST":
            fn, version = latest, "$LATEST"
        elif qualifier.isdigit():
            found = [v for v in self.layer.versions(region, name) if str(v.version) == qualifier]
            if not found:
                raise not_found(f"Function not found: {base}:{qualifier}")
            fn, version = found[0], qualifier
        else:
            a = self.layer.aliases(region, name).get(qualifier)
            if a is None:
                raise not_found(f"Function not found: {base}:{qualifier}")
            alias = qualifier
            version = str(a.function_version)
            routing: Any = a.routing_config or {}
            weights: dict[str, float] = routing.get("AdditionalVersionWeights") or {}
            for extra, weight in weights.items():
                if self.random.random() < float(weight):
                    version = str(extra)
            if version == "$LATEST":
                fn = latest
            else:
                fn = next(v for v in self.layer.versions(region, name) if str(v.version) == version)
        layers = []
        for item in getattr(fn, "layers", None) or []:
            code = self.layer_code(region, item["Arn"])
            if code is not None:
                layers.append((item["Arn"], code))
        return Target(
            region=region,
            name=name,
            version=version,
            resource=f"{name}:{qualifier}" if qualifier else None,
            alias=alias,
            arn=f"{base}:{qualifier}" if qualifier else base,
            code=bytes(getattr(fn, "code_bytes", b"") or b""),
            code_sha=str(fn.code_sha_256),
            handler=str(fn.handler or ""),
            runtime=str(fn.run_time or ""),
            package_type=str(fn.package_type or "Zip"),
            timeout=float(fn.timeout or 3),
            memory=int(fn.memory_size or 128),
            env={str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
            layers=layers,
        )

    # -- the invocation (no lock held) -----------------------------------------------------

    def invoke(self, target: Target, headers: dict[str, str], payload: bytes) -> Outcome:
        kind = headers.get("x-amz-invocation-type") or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            raise ApiError(
                400,
                "ValidationException",
                f"1 validation error detected: Value '{kind}' at 'invocationType' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                "[Event, RequestResponse, DryRun]",
            )
        if len(payload) > MAX_PAYLOAD:
            raise ApiError(
                413,
                "RequestTooLargeException",
                f"Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction "
                "operation",
            )
        text = payload.decode("utf-8", "replace") if payload else "{}"
        try:
            json.loads(text)
        except ValueError as e:
            raise ApiError(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {e}",
            ) from None
        if not target.runtime.startswith("python") or target.package_type != "Zip":
            raise ApiError(
                500,
                "ServiceException",
                f"the emulator runs only Python zip functions, not {target.runtime or 'image'}",
            )
        if kind == "DryRun":
            return Outcome(204, b"", {}, None, None)
        request_id = str(uuid.uuid4())
        if kind == "Event":
            threading.Thread(target=self._run, args=(target, text, request_id), daemon=True).start()
            return Outcome(202, b"", {}, None, None)
        error, body, log = self._run(target, text, request_id)
        out_headers = {"X-Amz-Executed-Version": target.version}
        if error:
            out_headers["X-Amz-Function-Error"] = "Unhandled"
        if headers.get("x-amz-log-type") == "Tail":
            tail = log.encode()[-LOG_TAIL:]
            out_headers["X-Amz-Log-Result"] = base64.b64encode(tail).decode()
        return Outcome(200, body, out_headers, target.version, "Unhandled" if error else None)

    def _run(self, target: Target, event: str, request_id: str) -> tuple[bool, bytes, str]:
        """Run the handler once: (function error?, payload, log text). Emits the metrics."""
        start = time.monotonic()
        task_root = self._unpack(target.code)
        layer_roots = [self._unpack(code) for _, code in target.layers]
        read_fd, write_fd = os.pipe()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            **target.env,
            "AWS_REGION": target.region,
            "AWS_DEFAULT_REGION": target.region,
            "AWS_LAMBDA_FUNCTION_NAME": target.name,
            "AWS_LAMBDA_FUNCTION_VERSION": target.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(target.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{target.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"emulator/[{target.version}]{request_id}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{target.runtime}",
            "LAMBDA_TASK_ROOT": task_root,
            "_HANDLER": target.handler,
            "_EMULATOR_REQUEST_ID": request_id,
            "_EMULATOR_INVOKED_ARN": target.arn,
            "_EMULATOR_SITE_PACKAGES": os.pathsep.join(SITE_PACKAGES),
        }
        # -S: no site initialisation (it costs more than the rest of the start); the runtime
        # appends the site-packages folders itself, after the task root and the layers.
        cmd = [sys.executable, "-S", RUNTIME, str(write_fd), task_root, target.handler]
        cmd += [str(target.timeout), *layer_roots]
        with tempfile.TemporaryFile() as log_file:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                pass_fds=(write_fd,),
            )
            os.close(write_fd)
            result, timed_out = _communicate(proc, read_fd, event, target.timeout)
            log_file.seek(0)
            output = log_file.read().decode("utf-8", "replace")
        duration_ms = (time.monotonic() - start) * 1000
        if timed_out:
            error, body = True, _timeout_payload(request_id, target.timeout)
        elif result is None:
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status "
            message += str(proc.returncode)
            body = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message})
            error = True
        else:
            error, body = bool(result.get("error")), str(result.get("payload", "null"))
        log = (
            f"START RequestId: {request_id} Version: {target.version}\n{output}"
            + (f"Task timed out after {target.timeout:.2f} seconds\n" if timed_out else "")
            + f"END RequestId: {request_id}\n"
            + f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            + f"Memory Size: {target.memory} MB\n"
        )
        if self.metrics:
            emit_metrics(target, error, duration_ms, self.metrics_time)
        return error, body.encode(), log

    def _unpack(self, code: bytes) -> str:
        """The folder holding the zip's files, unpacked once per distinct content."""
        path = os.path.join(self.root, hashlib.sha256(code).hexdigest())
        with self.unpack_lock:
            if not os.path.isdir(path):
                partial = path + ".partial"
                shutil.rmtree(partial, ignore_errors=True)
                with zipfile.ZipFile(io.BytesIO(code)) as z:
                    z.extractall(partial)
                os.rename(partial, path)
        return path


def _communicate(
    proc: subprocess.Popen[bytes], read_fd: int, event: str, timeout: float
) -> tuple[dict[str, Any] | None, bool]:
    """Send the event, wait for the init report (10 s) and then the result (`timeout`); kill
    the child if it is still running. (the final report or None, timed out?)"""
    assert proc.stdin is not None
    try:
        proc.stdin.write(event.encode())
        proc.stdin.close()
    except BrokenPipeError:
        pass
    messages = _Messages(read_fd)
    try:
        first = messages.next(INIT_TIMEOUT_S)
        if first is not None and first.get("phase") == "init":
            result = messages.next(timeout)
        else:
            result = first
        timed_out = result is None and proc.poll() is None
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        messages.close()
    return result, timed_out


class _Messages:
    """JSON lines from the child's report pipe, read with a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.selector = selectors.DefaultSelector()
        self.selector.register(fd, selectors.EVENT_READ)
        self.eof = False

    def next(self, timeout: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if self.eof or left <= 0 or not self.selector.select(left):
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.eof = True
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def close(self) -> None:
        self.selector.close()
        os.close(self.fd)


def _timeout_payload(request_id: str, timeout: float) -> str:
    # ⚠ The reference does not document this payload; this is the shape Lambda returns since
    # the Sandbox.Timedout error type (older runtimes sent only an errorMessage with the time).
    return json.dumps(
        {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after "
            f"{timeout:.2f} seconds",
        }
    )


def emit_metrics(
    target: Target, error: bool, duration_ms: float, at: datetime | None = None
) -> None:
    """Put one invocation's `Invocations`, `Errors` and `Duration` data points.

    Dimension sets, per the reference: `FunctionName`; with a qualifier also `FunctionName` +
    `Resource` (`NAME:QUALIFIER`); through an alias also `FunctionName` + `Resource` +
    `ExecutedVersion`. `Errors` is 0 for a successful invocation, so its Sum counts the errors
    and its SampleCount the invocations.
    """
    from moto.cloudwatch.models import cloudwatch_backends

    dimension_sets = [{"FunctionName": target.name}]
    if target.resource:
        dimension_sets.append({"FunctionName": target.name, "Resource": target.resource})
    if target.alias:
        dimension_sets.append(
            {
                "FunctionName": target.name,
                "Resource": target.resource or "",
                "ExecutedVersion": target.version,
            }
        )
    now = at or datetime.now(timezone.utc)
    data = []
    for dims in dimension_sets:
        dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
        for metric, value, unit in (
            ("Invocations", 1.0, "Count"),
            ("Errors", 1.0 if error else 0.0, "Count"),
            ("Duration", duration_ms, "Milliseconds"),
        ):
            data.append(
                {
                    "MetricName": metric,
                    "Dimensions": dimensions,
                    "Value": value,
                    "Unit": unit,
                    "Timestamp": now,
                }
            )
    account = target.arn.split(":")[4]  # the function's account (an Event runs in a thread)
    cloudwatch_backends[account][target.region].put_metric_data("AWS/Lambda", data)
