"""Function ARNs naming an account: planned only with credentials for that account, refused
before any Lambda call otherwise, and never rewritten to the caller's account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import run_cli, write_manifest

OTHER = "arn:aws:lambda:us-east-1:999999999999:function:orders"
OWN = "arn:aws:lambda:us-east-1:123456789012:function:orders"


def _manifest(tmp_path: Path, key: str, guard: bool = False) -> str:
    allowed = 'allowed_account_ids: ["123456789012", "999999999999"]\n' if guard else ""
    return write_manifest(
        tmp_path,
        f"version: 1\nregion: us-east-1\n{allowed}functions:\n"
        f'  "{key}":\n    aliases:\n      prod: {{version: 2}}\n',
    )


@pytest.mark.parametrize(
    ("command", "guard"), [(["plan"], False), (["apply", "--auto-approve"], True)]
)
def test_arn_of_another_account_is_refused_before_any_lambda_call(
    emulator: Any, tmp_path: Path, command: list[str], guard: bool
) -> None:
    """An ARN in another account than the credentials' exits 1 at the function's
    FILE:LINE:COL after one STS call and no Lambda call, with or without
    allowed_account_ids."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    m = _manifest(tmp_path, OTHER, guard)
    emulator.clear_calls()
    r = run_cli(emulator, command[0], m, *command[1:])
    assert r.returncode == 1, r.stdout + r.stderr
    line = 5 if guard else 4  # the function key's line
    assert f"error: {m}:{line}:3: {OTHER} is in account 999999999999" in r.stderr
    assert "these credentials are for 123456789012" in r.stderr
    assert "Traceback" not in r.stderr
    services = [(c["service"], c["operation"]) for c in emulator.calls()]
    assert services == [("sts", "GetCallerIdentity")]
    assert emulator.state("orders")["aliases"]["prod"]["FunctionVersion"] == "1"


def test_arn_of_the_callers_account_is_planned_as_written(emulator: Any, tmp_path: Path) -> None:
    """An ARN in the credentials' account plans normally, the JSON plan keeps its ARN and
    account, and allowed_account_ids adds no second STS call."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    m = _manifest(tmp_path, OWN, guard=True)
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m, "--format", "json")
    assert r.returncode == 0, r.stderr
    sts = [c for c in emulator.calls() if c["service"] == "sts"]
    assert len(sts) == 1
    plan = json.loads(r.stdout)
    (fn,) = plan["functions"]
    assert (fn["account"], fn["arn"]) == ("123456789012", OWN)
