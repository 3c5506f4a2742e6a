"""Behaviour tests again with every sweepable function read by a ListFunctions sweep.

A representative subset of the end-to-end retention tests (ages, counts, the deletion brake,
event source mappings, unmanaged aliases, an alias appearing during apply) runs here with
`LAMBDA_RECONCILER_READ_MODE=bulk`, which the CLI honours like `--read-mode bulk`; the whole
suite passes the same way (`LAMBDA_RECONCILER_READ_MODE=bulk make pytest`) except the tests
that assert the exact per-function read calls.
"""

from __future__ import annotations

import pytest

from tests.test_cli_retention import (
    test_age_and_count_rules_combined,
    test_alias_appearing_during_apply_is_respected,
    test_event_source_mapping_keeps_a_version,
    test_mass_deletion_brake,
    test_prune_aliases_on_and_off,
)

__all__ = [
    "test_age_and_count_rules_combined",
    "test_alias_appearing_during_apply_is_respected",
    "test_event_source_mapping_keeps_a_version",
    "test_mass_deletion_brake",
    "test_prune_aliases_on_and_off",
]


@pytest.fixture(autouse=True)
def bulk_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CLI run of these tests reads with the region sweep."""
    monkeypatch.setenv("LAMBDA_RECONCILER_READ_MODE", "bulk")
