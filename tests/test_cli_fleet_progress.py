"""Progress while `plan` and `drift` read live state: a bar on a terminal, nothing otherwise."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from reconciler.aws.client import Aws
from reconciler.cli.options import Options
from reconciler.engine import ReadProgress, build_plan
from reconciler.manifest import load_manifests
from reconciler.render.progress import reading_progress
from tests.cli_helpers import TEST_ENV, exact_environment, run_cli, write_manifest

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def two_region_fleet(emulator: Any, tmp_path: Path) -> str:
    """Three functions in us-east-1, two in eu-west-1, each with `live` on version 1."""
    emulator.seed([{"name": f"east-{i}", "versions": 1, "aliases": {"live": 1}} for i in range(3)])
    emulator.seed(
        [{"name": f"west-{i}", "versions": 1, "aliases": {"live": 1}} for i in range(2)],
        region="eu-west-1",
    )
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(f"  east-{i}: {{aliases: {{live: {{version: 1}}}}}}\n" for i in range(3))
    body += "".join(
        f"  west-{i}: {{region: eu-west-1, aliases: {{live: {{version: 1}}}}}}\n" for i in range(2)
    )
    return write_manifest(tmp_path, body)


@pytest.mark.parametrize("read_mode", ["per-function", "bulk"])
def test_the_engine_reports_each_function_read_per_region(
    emulator: Any, tmp_path: Path, read_mode: str
) -> None:
    """build_plan calls the progress callback once per function, counting in all and per
    region, whether functions are read one by one or from a region sweep."""
    m = two_region_fleet(emulator, tmp_path)
    events: list[ReadProgress] = []
    with exact_environment({**emulator.env(), **TEST_ENV}):
        aws = Aws(endpoint_url=emulator.env()["AWS_ENDPOINT_URL"], read_mode=read_mode)
        build_plan(load_manifests([m]), aws, parallelism=4, progress=events.append)
    assert [e.done for e in events] == [1, 2, 3, 4, 5]
    assert {5} == {e.total for e in events}
    last = {e.region: (e.region_done, e.region_total) for e in events}
    assert last == {"us-east-1": (3, 3), "eu-west-1": (2, 2)}


def test_a_region_sweep_counts_functions_as_their_aliases_arrive(
    emulator: Any, tmp_path: Path
) -> None:
    """In bulk mode a function counts as read once the sweep found it and its aliases are in,
    so the bar moves while the aliases are read instead of jumping to the end; each function
    is counted once. (One worker: the sweep, then the aliases one by one.)"""
    m = two_region_fleet(emulator, tmp_path)
    listed: list[str] = []
    seen_at_event: list[int] = []
    with exact_environment({**emulator.env(), **TEST_ENV}):
        aws = Aws(endpoint_url=emulator.env()["AWS_ENDPOINT_URL"], read_mode="bulk")
        list_aliases = aws.list_aliases

        def counting(name: str, region: str | None) -> Any:
            listed.append(name)
            return list_aliases(name, region)

        aws.list_aliases = counting  # type: ignore[method-assign]
        build_plan(
            load_manifests([m]),
            aws,
            parallelism=1,
            progress=lambda e: seen_at_event.append(len(listed)),
        )
    assert len(listed) == 5
    assert seen_at_event == [1, 2, 3, 4, 5]


def test_the_terminal_bar_shows_functions_read_and_regions() -> None:
    """On a terminal the bar counts the functions read of the total, and each region's count."""
    out = StringIO()
    console = Console(force_terminal=True, file=out, width=120)
    with reading_progress(Options(), 5, console=console) as progress:
        assert progress is not None
        progress(ReadProgress(1, 5, "us-east-1", 1, 3))
        progress(ReadProgress(2, 5, "eu-west-1", 1, 2))
        progress(ReadProgress(3, 5, "us-east-1", 2, 3))
    shown = ANSI.sub("", out.getvalue())
    assert "reading" in shown
    assert "3/5" in shown
    assert "eu-west-1 1/2  us-east-1 2/3" in shown


def test_one_region_is_not_repeated_beside_the_total() -> None:
    """With one region the bar shows only the total: the region's count would repeat it."""
    out = StringIO()
    console = Console(force_terminal=True, file=out, width=120)
    with reading_progress(Options(), 2, console=console) as progress:
        assert progress is not None
        progress(ReadProgress(1, 2, "us-east-1", 1, 2))
        progress(ReadProgress(2, 2, "us-east-1", 2, 2))
    shown = ANSI.sub("", out.getvalue())
    assert "2/2" in shown
    assert "us-east-1" not in shown


def test_without_a_terminal_there_is_no_bar(emulator: Any, tmp_path: Path) -> None:
    """Standard error not a terminal: plan and drift print nothing but their output, and the
    progress callback is not even made."""
    m = two_region_fleet(emulator, tmp_path)
    with reading_progress(Options(), 5) as progress:
        assert progress is None
    for command in ("plan", "drift"):
        r = run_cli(emulator, command, m)
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""
        assert "5 functions in sync." in r.stdout
