"""Throttling: random 429 storms and a request quota far below the CLI's request rate.

The emulator answers throttled calls with 429 TooManyRequestsException (Retry-After: 1) before
they reach the backend. The CLI's clients use botocore's adaptive retry mode, so a throttled call
is retried and the client slows itself down; an apply must converge with exit 0, not fail.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from emulator.fixtures import update_code
from tests.cli_helpers import run_cli, write_manifest, writes

FUNCTIONS = ["orders"]


def arrange(emulator: Any, names: list[str], versions: int = 5) -> Any:
    emulator.seed([{"name": n, "versions": versions} for n in names])
    client = emulator.boto3_client("lambda")
    for n in names:
        client.create_alias(FunctionName=n, Name="prod", FunctionVersion="1")
        client.create_alias(FunctionName=n, Name="old", FunctionVersion="2")
    return client


def survived(calls: list[dict[str, Any]]) -> tuple[int, int]:
    """(throttled calls, of which later answered): a throttled call survived when the same
    operation on the same function and qualifier was answered without a 429 afterwards."""
    throttled = [c for c in calls if c.get("throttled")]
    ok = 0
    for t in throttled:
        key = (t["operation"], t.get("function"), t.get("qualifier"), t["path"])
        if any(
            (c["operation"], c.get("function"), c.get("qualifier"), c["path"]) == key
            and c["seq"] > t["seq"]
            and not c.get("throttled")
            for c in calls
        ):
            ok += 1
    return len(throttled), ok


def test_random_throttle_storm_converges(emulator: Any, tmp_path: Path) -> None:
    """30 % of Lambda calls answered 429 (seeded, so the run is repeatable): apply still exits 0
    with every write done, the plan after it (still under the storm) is empty, and every
    throttled call was retried until it was answered. One function keeps the calls sequential,
    hence the same throttled calls on every run; the backoff makes each one cost seconds."""
    client = arrange(emulator, FUNCTIONS)
    for n in FUNCTIONS:
        update_code(client, n, "v6")
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    for n in FUNCTIONS:
        body += (
            f"  {n}:\n    publish: true\n    prune_aliases: true\n"
            "    aliases:\n      prod: {version: latest}\n      staging: {version: 5}\n"
            "    retention: {keep_last: 2}\n"
        )
    m = write_manifest(tmp_path, body)
    emulator.clear_calls()
    emulator.faults(throttle_probability=0.3, seed=2)
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "throttled even after retries" not in r.stderr
    plan = run_cli(emulator, "plan", m, "--detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    calls = emulator.calls()
    emulator.faults()
    throttled, ok = survived(calls)
    print(f"\nFIGURE throttle storm: {ok}/{throttled} throttled calls survived")
    assert throttled >= 5
    assert ok == throttled
    # Per function: publish, create staging, record prod's history, update prod, delete old,
    # delete versions 2-4 (1 stays: prod's previous version, its rollback target).
    done = writes(emulator)
    for n in FUNCTIONS:
        state = emulator.state(n)
        assert sorted(state["versions"], key=int) == ["1", "5", "6"], (n, state)
        assert {a: s["FunctionVersion"] for a, s in state["aliases"].items()} == {
            "prod": "6",
            "staging": "5",
        }
        assert done.count(("PublishVersion", n)) == 1


def test_quota_far_below_request_rate_slows_down_instead_of_failing(
    emulator: Any, tmp_path: Path
) -> None:
    """A quota of 2 calls/s against --parallelism 8 over 4 functions: many calls are throttled,
    the CLI backs off and paces itself, and apply exits 0 with every alias moved; it took at
    least as long as the quota requires."""
    names = [f"fn-{i}" for i in range(4)]
    arrange(emulator, names, versions=2)
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    for n in names:
        body += f"  {n}:\n    aliases:\n      prod: {{version: 2}}\n"
    m = write_manifest(tmp_path, body)
    emulator.clear_calls()
    emulator.faults(rate_limit_per_s=2)
    started = time.monotonic()
    r = run_cli(emulator, "apply", m, "--auto-approve", "--parallelism", "8")
    elapsed = time.monotonic() - started
    calls = emulator.calls()
    emulator.faults()
    assert r.returncode == 0, r.stdout + r.stderr
    answered = [c for c in calls if c.get("service") == "lambda" and not c.get("throttled")]
    throttled, ok = survived(calls)
    print(
        f"\nFIGURE quota 2/s, parallelism 8: {ok}/{throttled} throttled calls survived, "
        f"{len(answered)} calls answered in {elapsed:.1f} s"
    )
    assert throttled > 0
    assert ok == throttled
    # 4 × (ListVersionsByFunction, ListAliases, UpdateAlias) and the region's
    # GetAccountSettings answered at ≤ 2/s after a burst of 2.
    assert len(answered) == 13
    assert elapsed >= (len(answered) - 2) / 2
    for n in names:
        assert emulator.state(n)["aliases"]["prod"]["FunctionVersion"] == "2"
