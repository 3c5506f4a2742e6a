"""Run the real CLI as a subprocess against the emulator, and read what it did."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WRITES = {
    "PublishVersion",
    "CreateAlias",
    "UpdateAlias",
    "DeleteAlias",
    "DeleteFunction",
    "TagResource",
}


def run_cli(
    emu: Any, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**emu.env(), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=180,
    )


def write_manifest(tmp_path: Path, body: str, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).lstrip())
    return str(path)


def lambda_calls(emu: Any) -> list[dict[str, Any]]:
    return [c for c in emu.calls() if c.get("service") == "lambda"]


def writes(emu: Any) -> list[tuple[str, str | None]]:
    """(operation, function) of every successful write, in order."""
    return [
        (c["operation"], c.get("function"))
        for c in emu.calls()
        if c.get("write") and not c.get("throttled") and int(c.get("status", 0)) < 300
    ]


def run_cli_interfered(
    emu: Any, after: str, change: Callable[[], Any], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run the CLI; as soon as the emulator has answered its first `after` call, make
    `change` (someone else's change) — then check the change really happened."""
    done = threading.Event()

    def interfere() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(c["operation"] == after for c in emu.calls()):
                change()
                done.set()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=interfere)
    thread.start()
    result = run_cli(emu, *args)
    thread.join()
    assert done.is_set(), f"no {after} call was seen"
    return result
