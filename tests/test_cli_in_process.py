"""The in-process CLI runner the tests use behaves as a new process would."""

from __future__ import annotations

import os
from pathlib import Path

import click

from emulator.client import EmulatorClient
from reconciler.aws.pacing import LAMBDA_REQUESTS_PER_SECOND
from reconciler.cli.main import main
from tests.cli_helpers import TEST_ENV, run_cli, run_cli_subprocess, run_main, write_manifest

MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: 2}
"""


def test_in_process_and_subprocess_runs_agree(emulator: EmulatorClient, tmp_path: Path) -> None:
    """The same commands (a plan with changes, a usage error, an invalid manifest, --version)
    give the same exit code, standard output and standard error in process and in a new
    interpreter."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    m = write_manifest(tmp_path, MANIFEST)
    bad = write_manifest(tmp_path, "version: 1\nfunctions: {orders: {publish: maybe}}\n", "b.yaml")
    for args in (
        ["plan", m, "--detailed-exitcode", "--no-color"],
        ["plan", "--format", "yaml", m],
        ["apply", bad, "--auto-approve"],
        ["--version"],
    ):
        inside = run_cli(emulator, *args)
        outside = run_cli_subprocess(emulator, *args)
        assert (outside.returncode, outside.stdout, outside.stderr) == (
            inside.returncode,
            inside.stdout,
            inside.stderr,
        ), args
    assert run_cli(emulator, "plan", m, "--detailed-exitcode").returncode == 2


def test_the_environment_is_the_runs_own_and_is_restored(tmp_path: Path) -> None:
    """A run sees exactly the environment given (here a pinned clock that is not ISO 8601,
    refused), nothing it does leaks into the test's environment, and the working directory
    comes back."""
    before, cwd = dict(os.environ), os.getcwd()
    m = write_manifest(tmp_path, MANIFEST)
    r = run_main(["plan", m], {"LAMBDA_RECONCILER_NOW": "yesterday"}, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr == "error: LAMBDA_RECONCILER_NOW='yesterday' is not an ISO 8601 time\n"
    assert (dict(os.environ), os.getcwd()) == (before, cwd)


def test_the_cli_paces_at_the_lambda_quota_unless_told_otherwise() -> None:
    """Without --max-rate or LAMBDA_RECONCILER_MAX_RATE the CLI paces at Lambda's quota of 15
    requests per second; the tests' faster pacer against the emulator is their own setting."""
    option = next(p for p in main.params if p.name == "max_rate")
    assert isinstance(option, click.Option)
    assert (option.default, option.envvar) == (15.0, "LAMBDA_RECONCILER_MAX_RATE")
    assert LAMBDA_REQUESTS_PER_SECOND == 15.0
    assert float(TEST_ENV["LAMBDA_RECONCILER_MAX_RATE"]) > LAMBDA_REQUESTS_PER_SECOND
