"""Shared machinery of the reliability and security suites (this module holds no tests).

- `Proxy`: an HTTP proxy on 127.0.0.1 that records every exchange, request and response bodies
  included. As a reverse proxy (`upstream=` the emulator, used as the CLI's endpoint) it lets a
  test replay exactly what the CLI wrote; as a forward proxy (no upstream, used through
  `HTTP_PROXY`) it proves that the CLI honours the proxy variables. `hold_writes=N` makes the
  first N Lambda writes wait for each other, so N concurrent runs all plan from the same state.
- `gated_cli`: starts the real CLI as a process that waits on its standard input before it
  imports anything, so a test can arm a fault naming its pid before it can make a call.
- `Replay`: rebuilds a function's versions and aliases from a state snapshot plus the recorded
  writes, checking after every write that no alias routes to a missing version and that no
  version was deleted while an alias routed to it.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


@dataclass
class Exchange:
    """One request the proxy forwarded, and what came back."""

    method: str
    target: str  # the request line's target: a path, or an absolute URL (forward proxy)
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response: bytes = b""

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def response_json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.response or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    @property
    def is_lambda_write(self) -> bool:
        lambda_path = "/functions/" in self.path or self.path.startswith("/2017-03-31/tags/")
        return self.method in ("POST", "PUT", "DELETE") and lambda_path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _forward(self) -> None:
        proxy = self.server.proxy
        proxy.started()
        ex: Exchange | None = None
        answer: tuple[list[tuple[str, str]], bytes] | None = None
        try:
            ex = self._exchange()
            if ex is not None:
                answer = self._send_upstream(ex)
        finally:
            # Recorded before answering: the client may already be dead (kill faults).
            proxy.record(ex if answer is not None else None)
        if ex is None or answer is None:
            self.send_error(400, "no upstream for a relative request")
            return
        headers, data = answer
        self.send_response(ex.status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _exchange(self) -> Exchange | None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        if not (parts.scheme and parts.netloc) and self.server.proxy.upstream is None:
            return None
        return Exchange(
            method=self.command,
            target=self.path,
            path=parts.path or "/",
            query={k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers={k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP},
            body=body,
        )

    def _send_upstream(self, ex: Exchange) -> tuple[list[tuple[str, str]], bytes]:
        proxy = self.server.proxy
        parts = urlsplit(ex.target)
        if parts.scheme and parts.netloc:  # forward-proxy form: GET http://host:port/path
            host, port = parts.hostname or "", parts.port or 80
        else:
            assert proxy.upstream is not None
            host, port = proxy.upstream
        if ex.is_lambda_write and proxy.hold is not None:
            proxy.hold_if_first()
        conn = http.client.HTTPConnection(host, port, timeout=120)
        try:
            path = ex.path + (f"?{parts.query}" if parts.query else "")
            conn.request(ex.method, path, ex.body, ex.headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        ex.status = resp.status
        ex.response = data
        headers = [
            (k, v)
            for k, v in resp.getheaders()
            if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
        ]
        return headers, data

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    def do_CONNECT(self) -> None:
        """HTTPS through the proxy: record the tunnel's target and refuse to open it."""
        self.server.proxy.connect_seen(self.path)
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: Proxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client killed mid-exchange is expected here


class Proxy:
    """A recording HTTP proxy on 127.0.0.1; use as a context manager."""

    def __init__(self, upstream: str | None = None, hold_writes: int = 0) -> None:
        if upstream is not None:
            u = urlsplit(upstream)
            self.upstream: tuple[str, int] | None = (u.hostname or "127.0.0.1", u.port or 80)
        else:
            self.upstream = None
        self.exchanges: list[Exchange] = []
        self.connects: list[str] = []
        self.connect_event = threading.Event()
        self._lock = threading.Lock()
        self.hold = threading.Barrier(hold_writes, timeout=60) if hold_writes else None
        self._held = 0
        self._in_flight = 0
        self._idle = threading.Condition(self._lock)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def record(self, ex: Exchange | None) -> None:
        with self._lock:
            if ex is not None:
                self.exchanges.append(ex)
            self._in_flight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 30) -> None:
        """Wait until every forwarded request has its answer recorded (a killed client's last
        request may still be in the emulator when the client's exit is seen)."""
        with self._lock:
            if not self._idle.wait_for(lambda: self._in_flight == 0, timeout):
                raise TimeoutError("the proxy still has requests in flight")

    def connect_seen(self, target: str) -> None:
        with self._lock:
            self.connects.append(target)
        self.connect_event.set()

    def hold_if_first(self) -> None:
        """The first `hold_writes` Lambda writes wait until all of them have arrived."""
        assert self.hold is not None
        with self._lock:
            self._held += 1
            mine = self._held <= self.hold.parties
        if mine:
            self.hold.wait()

    def lambda_writes(self) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.is_lambda_write]

    def clear(self) -> None:
        with self._lock:
            self.exchanges = []
            self.connects = []
        self.connect_event.clear()


# -- the CLI as a process that waits for a go ------------------------------------------------

_GATE = (
    "import os, sys\n"
    "sys.stdin.readline()\n"
    "os.execv(sys.executable, [sys.executable, '-m', 'reconciler', *sys.argv[1:]])\n"
)


def gated_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """The real CLI (`python -m reconciler ARGS`), held before its first import.

    Its pid is known at once and stays the same after the go (the gate `exec`s the CLI), so a
    fault naming the pid can be armed before the CLI can make any call. `communicate("go\\n")`
    releases it and collects its output.
    """
    return subprocess.Popen(
        [sys.executable, "-c", _GATE, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def run_gated(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str, str]:
    out, err = proc.communicate("go\n", timeout=timeout)
    return proc.returncode, out, err


# -- replaying recorded writes over a snapshot -----------------------------------------------


@dataclass
class AliasRoute:
    version: str
    weights: dict[str, float] = field(default_factory=dict)

    def versions(self) -> set[str]:
        return {self.version, *self.weights}


def routes_from_state(state: dict[str, Any]) -> dict[str, AliasRoute]:
    """Alias name → route, from `EmulatorClient.state()`."""
    out: dict[str, AliasRoute] = {}
    for name, a in state["aliases"].items():
        weights = (a.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        out[name] = AliasRoute(
            str(a["FunctionVersion"]), {str(k): float(v) for k, v in weights.items()}
        )
    return out


class InvariantViolation(AssertionError):
    pass


@dataclass
class Replay:
    """Versions and aliases of one function, advanced write by write."""

    function: str
    versions: set[str]
    aliases: dict[str, AliasRoute]
    applied: list[str] = field(default_factory=list)  # operation of every successful write
    deleted_versions: list[str] = field(default_factory=list)

    @classmethod
    def from_state(cls, function: str, state: dict[str, Any]) -> Replay:
        r = cls(function, {str(v) for v in state["versions"]}, routes_from_state(state))
        r.check("initial state")
        return r

    def routed(self) -> set[str]:
        return {v for a in self.aliases.values() for v in a.versions()}

    def check(self, after: str) -> None:
        for name, a in self.aliases.items():
            for v in a.versions():
                if v != "$LATEST" and v not in self.versions:
                    raise InvariantViolation(
                        f"after {after}: alias {name} routes to missing version {v}"
                    )
            for v, w in a.weights.items():
                if not 0 < w < 1 or v == a.version:
                    raise InvariantViolation(f"after {after}: alias {name} has weight {v}={w}")

    def apply(self, ex: Exchange) -> None:
        """Advance by one recorded exchange (ignored unless it is a successful write here)."""
        if not ex.is_lambda_write or ex.status >= 300:
            return
        parts = [unquote(p) for p in ex.path.strip("/").split("/")]
        # /2017-03-31/tags/ARN: tags (an earlier release's state, removed once migrated) change
        # no version or alias, but count as a write in the order they were made
        if len(parts) == 3 and parts[1] == "tags" and ex.method in ("POST", "DELETE"):
            if parts[2].split(":function:")[-1].split(":")[0] == self.function:
                self.applied.append("TagResource" if ex.method == "POST" else "UntagResource")
            return
        # /2015-03-31/functions/NAME[/versions|/aliases[/ALIAS]]
        if len(parts) < 3 or parts[1] != "functions":
            return
        name = parts[2].split(":function:")[-1].split(":")[0]
        if name != self.function:
            return
        body = ex.json()
        rest = parts[3:]
        if ex.method == "POST" and rest == ["versions"]:
            op = "PublishVersion"
            self.versions.add(str(ex.response_json()["Version"]))
        elif ex.method == "POST" and rest == ["aliases"]:
            op = "CreateAlias"
            self.aliases[str(body["Name"])] = self._route(body, None)
        elif ex.method == "PUT" and len(rest) == 2 and rest[0] == "aliases":
            op = "UpdateAlias"
            self.aliases[rest[1]] = self._route(body, self.aliases.get(rest[1]))
        elif ex.method == "DELETE" and len(rest) == 2 and rest[0] == "aliases":
            op = "DeleteAlias"
            self.aliases.pop(rest[1], None)
        elif ex.method == "DELETE" and not rest:
            op = "DeleteFunction"
            version = ex.query.get("Qualifier", "")
            if not version.isdigit():
                raise InvariantViolation(f"DeleteFunction without a version qualifier: {ex.target}")
            if version in self.routed():
                raise InvariantViolation(f"version {version} deleted while an alias routed to it")
            self.versions.discard(version)
            self.deleted_versions.append(version)
        else:
            return
        self.applied.append(op)
        self.check(f"{op} {ex.method} {ex.target}")

    @staticmethod
    def _route(body: dict[str, Any], old: AliasRoute | None) -> AliasRoute:
        version = str(body.get("FunctionVersion") or (old.version if old else ""))
        if "RoutingConfig" in body:
            weights = (body.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        else:
            weights = old.weights if old else {}
        return AliasRoute(version, {str(k): float(v) for k, v in weights.items()})

    def matches(self, state: dict[str, Any]) -> bool:
        live = routes_from_state(state)
        return self.versions == {str(v) for v in state["versions"]} and live == self.aliases


def emulator_writes(calls: list[dict[str, Any]]) -> list[str]:
    """Operations of the successful Lambda writes in the emulator's call log, in order."""
    return [
        c["operation"]
        for c in sorted(calls, key=lambda c: int(c["seq"]))
        if c.get("service") == "lambda"
        and c.get("write")
        and not c.get("throttled")
        and int(c.get("status", 0)) < 300
    ]


def cli_env(emulator: Any, endpoint: str | None = None, **extra: str) -> dict[str, str]:
    env: dict[str, str] = emulator.env()
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    env.update(extra)
    return env
