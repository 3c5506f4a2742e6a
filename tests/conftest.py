"""Shared fixtures: one emulator process per test session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.client import EmulatorClient, start_emulator
from tests.cli_forkserver import cli_forkserver


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorClient]:
    with start_emulator() as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: EmulatorClient) -> EmulatorClient:
    emulator_server.reset()
    return emulator_server


@pytest.fixture(scope="session")
def cli_bin() -> Iterator[Path]:
    """A directory whose `lambda-reconciler` runs the console script as a new process without
    the interpreter's imports (tests/cli_forkserver.py): for shell scripts that run it often."""
    with cli_forkserver() as bin_dir:
        yield bin_dir
