"""Shared fixtures: one emulator process per test session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.client import EmulatorClient, start_emulator


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorClient]:
    with start_emulator() as emu:
        yield emu


@pytest.fixture
def emulator(emulator_server: EmulatorClient) -> EmulatorClient:
    emulator_server.reset()
    return emulator_server
