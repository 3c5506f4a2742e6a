"""Manifest arguments on the command line: directories, quoted patterns and `-` for standard
input, for `validate` and for the commands that read AWS (`plan`), against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_helpers import run_cli


def _manifest(name: str, version: int = 1) -> str:
    return (
        "version: 1\nregion: us-east-1\n"
        f"functions:\n  {name}:\n    aliases:\n      live: {{version: {version}}}\n"
    )


def test_validate_a_directory_and_a_quoted_pattern(emulator: Any, tmp_path: Path) -> None:
    """A directory and a `**` pattern expand to their manifests; the count says how many."""
    (tmp_path / "team").mkdir()
    (tmp_path / "a.yaml").write_text(_manifest("a"))
    (tmp_path / "team" / "b.yml").write_text(_manifest("b"))
    (tmp_path / "team" / "c.yaml").write_text(_manifest("c"))
    r = run_cli(emulator, "validate", str(tmp_path / "team"), f"{tmp_path}/**/*.yaml")
    assert (r.returncode, r.stderr.strip()) == (0, "3 manifests valid: 3 functions."), r.stderr


def test_validate_reads_standard_input(emulator: Any) -> None:
    """`-` reads the manifest from standard input; its problems are located at <stdin>."""
    r = run_cli(emulator, "validate", "-", input=_manifest("api", 0))
    assert r.returncode == 1
    assert r.stderr.splitlines()[0] == (
        "<stdin>:6:23: functions.api.aliases.live.version: version numbers start at 1, got 0"
    )


def test_an_empty_directory_is_a_located_error(emulator: Any, tmp_path: Path) -> None:
    """A directory with no manifest fails like a missing file, never silently passes."""
    r = run_cli(emulator, "validate", str(tmp_path))
    assert r.returncode == 1
    assert r.stderr.splitlines()[0] == f"{tmp_path}:1:1: no *.yaml or *.yml file in this directory"


def test_plan_takes_a_directory(emulator: Any, tmp_path: Path) -> None:
    """plan reads every manifest of a directory: both functions are planned, in name order."""
    emulator.seed([{"name": "a", "versions": 2}, {"name": "b", "versions": 2}])
    (tmp_path / "2.yaml").write_text(_manifest("b", 2))
    (tmp_path / "1.yaml").write_text(_manifest("a", 1))
    r = run_cli(emulator, "plan", str(tmp_path), "--format", "json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert plan["manifests"] == [str(tmp_path / "1.yaml"), str(tmp_path / "2.yaml")]
    assert [f["function"] for f in plan["functions"]] == ["a", "b"]


def test_plan_reads_standard_input(emulator: Any) -> None:
    """plan - reads the manifest from standard input and plans it."""
    emulator.seed([{"name": "api", "versions": 3}])
    r = run_cli(emulator, "plan", "-", "--detailed-exitcode", input=_manifest("api", 3))
    assert r.returncode == 2, r.stderr
    assert "live" in r.stdout
