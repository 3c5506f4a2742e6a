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
    """A running emulator: its URL, control calls, and boto3 clients pointed at it.

    `for_account(ACCOUNT)` gives a view of the same emulator in another account: its control
    calls (seed, state, provision, …) read and change that account, and its boto3 clients and
    `env()` sign with an access key of that account."""

    def __init__(
        self, url: str, account: str | None = None, credentials: dict[str, str] | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self.account = account  # None: the default account, 123456789012
        self.credentials = credentials  # access_key_id, secret_access_key[, session_token]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        if self.account:
            path += ("&" if "?" in path else "?") + f"account={self.account}"
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

    # -- several accounts (emulator/accounts.py, sts.py, events.py) -------------------------

    def for_account(self, account: str, user: str = "emulator") -> EmulatorClient:
        """This emulator as seen from `account`, with a new access key of IAM user `user`
        there (keys are forgotten on reset: call this after it)."""
        key = self.create_access_key(account, user)
        return EmulatorClient(self.url, account, key)

    def create_access_key(self, account: str, user: str = "emulator") -> dict[str, str]:
        """A long-term access key of IAM user `user` (created when missing) in `account`:
        `access_key_id`, `secret_access_key`, `account`, `user_arn`."""
        result: dict[str, str] = EmulatorClient(self.url, account)._call(
            "POST", "accounts/keys", {"user": user}
        )
        return result

    def register_role(
        self,
        name: str,
        trusted: list[str] | None = None,
        *,
        external_id: str | None = None,
        max_session_duration: int = 3600,
        policies: list[dict[str, Any]] | None = None,
        trust_policy: dict[str, Any] | None = None,
    ) -> str:
        """Create role `name` in this view's account, assumable by `trusted` (account ids or
        principal ARNs), with an optional required ExternalId, and identity `policies`
        (inline); or with a whole `trust_policy`. Returns its ARN."""
        body: dict[str, Any] = {
            "name": name,
            "trusted": trusted or [],
            "external_id": external_id,
            "max_session_duration": max_session_duration,
            "policies": policies or [],
        }
        if trust_policy is not None:
            body["trust_policy"] = trust_policy
        result: dict[str, Any] = self._call("POST", "roles", body)
        return str(result["arn"])

    def assumed(self, credentials: dict[str, Any], account: str | None = None) -> EmulatorClient:
        """A view signing with STS credentials (AssumeRole's `Credentials`); its control calls
        go to `account` (the role's)."""
        key = {
            "access_key_id": str(credentials["AccessKeyId"]),
            "secret_access_key": str(credentials["SecretAccessKey"]),
            "session_token": str(credentials["SessionToken"]),
        }
        return EmulatorClient(self.url, account, key)

    def events(
        self, account: str | None = None, region: str | None = None, bus: str | None = None
    ) -> list[dict[str, Any]]:
        """EventBridge events accepted by PutEvents, in arrival order: `seq, id, account,
        region, bus, source, detail_type, detail` (parsed), `resources, time, trace_header`."""
        wanted = {"account": account, "region": region, "bus": bus}
        query = "&".join(f"{k}={v}" for k, v in wanted.items() if v)
        result: list[dict[str, Any]] = EmulatorClient(self.url)._call(
            "GET", "events" + (f"?{query}" if query else "")
        )
        return result

    def fail_events(
        self, count: int, code: str = "InternalFailure", message: str | None = None
    ) -> None:
        """Make the next `count` PutEvents entries that would succeed fail with `code`."""
        self._call("POST", "events/fail", {"count": count, "code": code, "message": message})

    def events_settings(self, max_request_bytes: int | None = None) -> None:
        """PutEvents's request size limit (None: 1 MB, the default)."""
        self._call("POST", "events/settings", {"max_request_bytes": max_request_bytes})

    def env(self) -> dict[str, str]:
        """Environment for a subprocess CLI: this endpoint, this view's credentials (dummy
        ones for the default account), no AWS config."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env = {**base, **DUMMY_ENV, "AWS_ENDPOINT_URL": self.url}
        if self.credentials:
            env["AWS_ACCESS_KEY_ID"] = self.credentials["access_key_id"]
            env["AWS_SECRET_ACCESS_KEY"] = self.credentials["secret_access_key"]
            env.pop("AWS_SESSION_TOKEN")
            if self.credentials.get("session_token"):
                env["AWS_SESSION_TOKEN"] = self.credentials["session_token"]
        return env

    def boto3_client(self, service: str, region: str = "us-east-1", *, retries: bool = True) -> Any:
        """A client of this endpoint; `retries=False` makes one attempt per call (to see a 429)."""
        config = None if retries else Config(retries={"total_max_attempts": 1, "mode": "standard"})
        creds = self.credentials or {}
        return boto3.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.url,
            aws_access_key_id=creds.get("access_key_id", "testing"),
            aws_secret_access_key=creds.get("secret_access_key", "testing"),
            aws_session_token=creds.get("session_token"),
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
