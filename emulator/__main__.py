"""`python -m emulator [--host H] [--port P]`: serve until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any

from werkzeug.serving import make_server


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    import logging

    from moto.moto_server.werkzeug_app import MotoRequestHandler

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from emulator.server import Emulator

    app = Emulator()

    class Handler(MotoRequestHandler):
        """Every response's `Date` is AWS's clock as the emulator plays it: the host's time
        plus the offset set through the control API (`POST /_emulator/clock`)."""

        def date_time_string(self, timestamp: float | None = None) -> str:
            if timestamp is None:
                timestamp = time.time() + app.clock_offset
            return super().date_time_string(timestamp)

    server = make_server(args.host, args.port, app, threaded=True, request_handler=Handler)
    url = f"http://{args.host}:{server.server_port}"
    print(f"AWS_ENDPOINT_URL={url}", flush=True)
    if sys.stdin.isatty() or sys.stderr.isatty():
        print(
            f"Local Lambda endpoint running. In another shell:\n"
            f"  export AWS_ENDPOINT_URL={url}\n"
            "  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
            "AWS_DEFAULT_REGION=us-east-1\n"
            "Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
