"""What could not be read is never "No drift": the headline says so with the cause once, and
an HTML page answered instead of the Lambda API is one line, never printed raw."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import TEST_ENV, run_cli, run_main, write_manifest

PAGE = (
    b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
    b"<hr><address>nginx</address></body></html>"
)


class _Html404(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def html_endpoint() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Html404)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


FLEET = "version: 1\nregion: us-east-1\nfunctions:\n" + "".join(
    f"  f{i}: {{aliases: {{prod: {{version: 1}}}}}}\n" for i in range(12)
)


def test_an_endpoint_answering_html_is_one_line(html_endpoint: str, tmp_path: Path) -> None:
    """12 functions against a web server that answers 404 pages: exit 1, one line naming the
    page's title and what to check, no markup and no "No drift"."""
    m = write_manifest(tmp_path, FLEET)
    env = {
        **TEST_ENV,
        "AWS_ENDPOINT_URL": html_endpoint,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
    }
    r = run_main(["drift", m], env)
    assert r.returncode == 1
    assert "No drift" not in r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "the endpoint answered with an HTML page (404 Not Found), not the Lambda API" in lines[0]
    assert "<" not in r.stdout + r.stderr


def test_unreadable_functions_are_never_no_drift(emulator: Any, tmp_path: Path) -> None:
    """One function read, one that cannot be: the headline says drift is unknown, with the
    first cause, and drift exits 1 (not 0)."""
    emulator.seed([{"name": "orders", "versions": 1, "aliases": {"prod": 1}}])
    body = """
    version: 1
    region: us-east-1
    functions:
      orders: {aliases: {prod: {version: 1}}}
      gone: {aliases: {prod: {version: 1}}}
    """
    m = write_manifest(tmp_path, body)
    r = run_cli(emulator, "drift", m)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.splitlines()[0] == (
        "Drift unknown: 1 error kept live state from being read or planned (first: function "
        "gone not found in us-east-1); nothing can be said of what was not read."
    )
    assert "No drift" not in r.stdout
