"""`--region` fills the regions a manifest leaves out and never overrides one it names; plan
headers and errors name the region actually used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.cli_helpers import lambda_calls, run_cli, write_manifest


def test_a_missing_function_is_named_with_the_region_used(emulator: Any, tmp_path: Path) -> None:
    """A function that is not there is reported in the region `--region` filled in, in the
    text and the Markdown plan and on standard error; "default region" appears nowhere."""
    m = write_manifest(tmp_path, "version: 1\nfunctions:\n  ghost: {aliases: {a: {version: 1}}}\n")
    text = run_cli(emulator, "plan", m, "--region", "eu-west-1")
    assert text.returncode == 1
    assert "ghost (eu-west-1)" in text.stdout.splitlines()
    assert "function ghost not found in eu-west-1" in text.stderr
    md = run_cli(emulator, "plan", m, "--region", "eu-west-1", "--format", "markdown")
    assert "```text\nghost (eu-west-1)\n" in md.stdout
    for out in (text.stdout, text.stderr, md.stdout):
        assert "default region" not in out
    env_only = run_cli(emulator, "plan", m)  # the SDK's region: AWS_DEFAULT_REGION=us-east-1
    assert "ghost (us-east-1)" in env_only.stdout.splitlines()


def test_the_manifest_region_wins_over_region_option(emulator: Any, tmp_path: Path) -> None:
    """A function whose manifest names us-east-1 is read there whatever --region says, and a
    --region that fills no gap is reported as unused."""
    emulator.seed([{"name": "orders", "versions": 1, "aliases": {"live": 1}}])
    m = write_manifest(
        tmp_path,
        "version: 1\nregion: us-east-1\nfunctions:\n  orders: {aliases: {live: {version: 1}}}\n",
    )
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m, "--region", "eu-west-1")
    assert r.returncode == 0, r.stderr
    assert {"us-east-1"} == {c["region"] for c in lambda_calls(emulator)}
    assert r.stderr == (
        "warning: --region eu-west-1 is not used: every function and layer of the manifests "
        "names its own region (us-east-1); a manifest's region wins\n"
    )


def test_region_option_fills_only_the_gaps(emulator: Any, tmp_path: Path) -> None:
    """One function names us-east-1, the other none: --region eu-west-1 places only the second
    there, and no warning is given since it is used."""
    emulator.seed([{"name": "east", "versions": 1, "aliases": {"live": 1}}])
    emulator.seed([{"name": "west", "versions": 1, "aliases": {"live": 1}}], region="eu-west-1")
    m = write_manifest(
        tmp_path,
        "version: 1\nfunctions:\n"
        "  east: {region: us-east-1, aliases: {live: {version: 1}}}\n"
        "  west: {aliases: {live: {version: 1}}}\n",
    )
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m, "--region", "eu-west-1")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    by_function = {(c["function"], c["region"]) for c in lambda_calls(emulator) if c["function"]}
    assert {("east", "us-east-1"), ("west", "eu-west-1")} == by_function
