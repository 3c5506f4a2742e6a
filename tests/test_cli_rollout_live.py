"""`apply --wait` on a terminal (contract §9): a live table, one row per rollout, redrawn each
round. The table is given a rich Console that believes it writes to a terminal (a StringIO),
so the rows are read back without a pty; the clock is virtual and the Lambda in memory."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rich.console import Console

from reconciler.engine import Stopped, VirtualClock, Waiter
from reconciler.manifest import load_manifests
from reconciler.render.progress import LiveTable
from tests.cli_helpers import write_manifest
from tests.memlambda import MemLambda, snap

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def fleet(tmp_path: Path) -> tuple[MemLambda, str]:
    """orders: 10 % then 50 %, two minutes each; payments: one 10 % step of a minute behind a
    gate of 100 invocations, which the in-memory Lambda never reports (it holds there)."""
    mem = MemLambda()
    for name in ("orders", "payments"):
        mem.add(name, snap("v3"))
        for code in ("v1", "v2", "v3"):
            mem.add_version(name, snap(code))
        mem.set_alias(name, "prod", "2")
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            aliases: {prod: {version: 3, rollout: {steps: [10%, 50%], interval: 2m}}}
          payments:
            aliases:
              prod:
                version: 3
                rollout:
                  {steps: [10%], interval: 1m, gates: {max_error_rate: 1%, min_invocations: 100}}
        """,
    )
    return mem, m


def last_frame(out: str) -> list[str]:
    """The rows of the table as last drawn: each row's last occurrence, without escapes."""
    lines = [_ANSI.sub("", line).strip() for line in out.replace("\r", "\n").splitlines()]
    rows: dict[str, str] = {}
    for line in lines:
        words = line.split()
        if words and words[0] in ("orders:prod", "payments:prod"):  # not "orders:prod: …"
            rows[words[0]] = " ".join(words)
    return [rows[k] for k in sorted(rows)]


def test_the_live_table_shows_step_share_and_time_to_next_step(tmp_path: Path) -> None:
    """A minute into the run: orders at step 1/2, 10 %, next step in 1 minute; payments at its
    due step, holding for CloudWatch's metrics of the step's end (three minutes after it);
    no per-rollout waiting lines."""
    mem, m = fleet(tmp_path)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    clock = VirtualClock(T0)
    table = LiveTable(console)

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now >= T0 + timedelta(minutes=1, seconds=30):
            waiter.stop.set()  # stop after the round that finds payments holding

    waiter = Waiter(
        load_manifests([m]),
        mem,
        clock,
        sleep,
        table.say,
        display=table,
        poll=timedelta(seconds=30),
    )
    with table, pytest.raises(Stopped):
        waiter.run()
    expected = [
        "orders:prod step 1/2 10% next step in 1m 0s",
        "payments:prod step 1/1 10% holding: waiting for CloudWatch's metrics of the step's end, "
        "in by 2026-11-01 12:04:00 UTC",
    ]
    assert expected == last_frame(out.getvalue())
    assert "since 2026-11-01" not in out.getvalue()  # the table replaces the waiting lines
    assert "orders: ~ update_alias prod … done" in _ANSI.sub("", out.getvalue())
