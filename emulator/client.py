"""Start the emulator as its own process and drive its control API from tests and tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config

DUMMY_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


class EmulatorClient:
    """A running emulator: its URL, control calls, and boto3 clients pointed at it."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/_emulator/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    def reset(self) -> None:
        self._call("POST", "reset", {})

    def faults(self, **kw: Any) -> None:
        self._call("POST", "faults", kw)

    def clock(self, offset_seconds: float) -> None:
        """Set how far AWS's clock (every response's `Date`) is ahead of this host's (negative:
        behind): a runner whose clock is off by the opposite amount, as AWS sees it."""
        self._call("POST", "clock", {"offset_seconds": offset_seconds})

    def calls(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "calls")
        return result

    def clear_calls(self) -> None:
        self._call("DELETE", "calls")

    def age(
        self, function: str, version: int | str, last_modified: str, region: str = "us-east-1"
    ) -> None:
        self._call(
            "POST",
            "age",
            {
                "function": function,
                "version": str(version),
                "last_modified": last_modified,
                "region": region,
            },
        )

    def provision(
        self, function: str, qualifier: int | str, count: int = 1, region: str = "us-east-1"
    ) -> None:
        self._call(
            "POST",
            "provisioned",
            {"function": function, "qualifier": str(qualifier), "count": count, "region": region},
        )

    def provisioned_settings(
        self,
        allocation_delay: float | None = None,
        *,
        fail: tuple[str, int | str] | None = None,
        succeed: tuple[str, int | str] | None = None,
        region: str = "us-east-1",
    ) -> None:
        """Set how long (seconds of the emulator's clock) provisioned concurrency takes from a
        Put to READY; `fail=(function, qualifier)` makes that config's allocation end FAILED
        with `FUNCTION_ERROR_INIT_FAILURE` instead, `succeed=` undoes it."""
        body: dict[str, Any] = {"region": region}
        if allocation_delay is not None:
            body["allocation_delay"] = allocation_delay
        target = fail or succeed
        if target is not None:
            body.update(function=target[0], qualifier=str(target[1]), fail=fail is not None)
        self._call("POST", "provisioned-settings", body)

    def snapstart_settings(
        self,
        snapshot_delay: float | None = None,
        *,
        fail: str | None = None,
        succeed: str | None = None,
        region: str = "us-east-1",
    ) -> None:
        """Set how long (emulator clock) a SnapStart version stays Pending after PublishVersion;
        `fail=function` makes that function's snapshots end Failed (`FunctionError`)."""
        body: dict[str, Any] = {"region": region}
        if snapshot_delay is not None:
            body["snapshot_delay"] = snapshot_delay
        target = fail or succeed
        if target is not None:
            body.update(function=target, fail=fail is not None)
        self._call("POST", "snapstart-settings", body)

    def edge_association(
        self,
        function: str,
        version: int | str,
        distribution_id: str,
        event_type: str = "viewer-request",
        *,
        remove: bool = False,
        region: str = "us-east-1",
    ) -> list[list[str]]:
        """Associate a version with a CloudFront distribution (Lambda@Edge: it is replicated and
        cannot be deleted), or with `remove=True` take the association and its replicas away."""
        result: list[list[str]] = self._call(
            "POST",
            "edge",
            {
                "function": function,
                "version": str(version),
                "distribution_id": distribution_id,
                "event_type": event_type,
                "remove": remove,
                "region": region,
            },
        )["associations"]
        return result

    def seed(self, functions: list[dict[str, Any]], region: str = "us-east-1") -> None:
        self._call("POST", "seed", {"region": region, "functions": functions})

    def state(self, function: str, region: str = "us-east-1") -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"state?function={function}&region={region}")
        return result

    def invoke_settings(
        self, seed: int | None = None, metrics: bool = True, metrics_time: str | None = None
    ) -> None:
        """Seed Invoke's choice between an alias's two versions; turn off (or on) the
        `AWS/Lambda` metrics each invocation puts into CloudWatch; stamp them with
        `metrics_time` (ISO 8601, e.g. a test's pinned clock) instead of the wall clock."""
        self._call(
            "POST", "invoke", {"seed": seed, "metrics": metrics, "metrics_time": metrics_time}
        )

    def account_limit(self, total_code_size: int | None, region: str = "us-east-1") -> None:
        """Set a region's code-storage quota (`AccountLimit.TotalCodeSize`); None restores 75 GB."""
        self._call("POST", "account", {"total_code_size": total_code_size, "region": region})

    def enforce_iam(self, enabled: bool = True) -> None:
        """Check every call against the caller's IAM policies (moto's access control)."""
        self._call("POST", "auth", {"enabled": enabled})

    def env(self) -> dict[str, str]:
        """Environment for a subprocess CLI: this endpoint, dummy credentials, no AWS config."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        return {**base, **DUMMY_ENV, "AWS_ENDPOINT_URL": self.url}

    def boto3_client(self, service: str, region: str = "us-east-1", *, retries: bool = True) -> Any:
        """A client of this endpoint; `retries=False` makes one attempt per call (to see a 429)."""
        config = None if retries else Config(retries={"total_max_attempts": 1, "mode": "standard"})
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )


@contextmanager
def start_emulator(port: int = 0) -> Iterator[EmulatorClient]:
    """Run `python -m emulator` on 127.0.0.1 and stop it on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("AWS_ENDPOINT_URL="):
            raise RuntimeError(f"emulator did not start: {line!r}")
        yield EmulatorClient(line.split("=", 1)[1])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
