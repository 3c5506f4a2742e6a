"""Concurrency: two applies on conflicting manifests at once, and saved plans gone stale.

Both applies read the same live state and want the same aliases at different versions. The
guards (alias `RevisionId`, `$LATEST` `RevisionId` and `CodeSha256`) make the second writer fail
with 412 "changed since it was read — re-run plan" instead of overwriting the first: each run
exits 0 or 1 with that message, every alias ends at one of the two desired states, and no write
of either run leaves an alias routing to a missing version (replayed through a recording proxy).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from emulator.fixtures import publish, update_code
from tests.cli_helpers import run_cli, write_manifest, writes
from tests.test_reliability_support import (
    AliasRoute,
    Proxy,
    Replay,
    gated_cli,
    routes_from_state,
    run_gated,
)

CONFLICT = "changed since it was read"


def manifest(tmp_path: Path, name: str, version: int, retention: bool) -> str:
    body = (
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n    aliases:\n"
        f"      prod: {{version: {version}}}\n"
        f"      staging: {{version: {version}}}\n"
        f"      qa: {{version: {version}, canary: {{version: 1, weight: 5%}}}}\n"
    )
    if retention:
        body += "    retention: {keep_last: 1}\n"
    return write_manifest(tmp_path, body, name)


def desired(version: int) -> dict[str, AliasRoute]:
    v = str(version)
    return {"prod": AliasRoute(v), "staging": AliasRoute(v), "qa": AliasRoute(v, {"1": 0.05})}


def arrange(emulator: Any) -> dict[str, Any]:
    emulator.reset()
    emulator.seed([{"name": "orders", "versions": 4}])
    client = emulator.boto3_client("lambda")
    for name in ("prod", "staging", "qa"):
        client.create_alias(FunctionName="orders", Name=name, FunctionVersion="1")
    state: dict[str, Any] = emulator.state("orders")
    emulator.clear_calls()
    return state


def race(
    emulator: Any, proxy: Proxy, manifests: list[str]
) -> tuple[list[tuple[int, str]], Replay, dict[str, Any]]:
    """Start one apply per manifest at the same moment; (exit code, stderr) of each, the
    replay of every write both made, and the final state."""
    replay = Replay.from_state("orders", arrange(emulator))
    env = {**emulator.env(), "AWS_ENDPOINT_URL": proxy.url}
    procs = [gated_cli(["apply", m, "--auto-approve"], env) for m in manifests]
    results: list[tuple[int, str]] = [(-1, "")] * len(procs)

    def go(i: int) -> None:
        rc, _, err = run_gated(procs[i])
        results[i] = (rc, err)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(procs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    proxy.wait_idle()
    for ex in proxy.exchanges:
        replay.apply(ex)
    state: dict[str, Any] = emulator.state("orders")
    return results, replay, state


def test_two_applies_on_conflicting_manifests_one_wins_cleanly(
    emulator: Any, tmp_path: Path
) -> None:
    """Both applies plan from the same state (the proxy holds their first writes until both
    have planned), then race: exactly one exits 0, the other exits 1 with the 412 conflict
    message and writes nothing more; every alias is at the winner's version; the winner's
    retention deleted only versions no alias routes to; nothing dangles at any step."""
    a = manifest(tmp_path, "a.yaml", 2, retention=True)
    b = manifest(tmp_path, "b.yaml", 3, retention=True)
    with Proxy(upstream=emulator.url, hold_writes=2) as proxy:
        results, replay, state = race(emulator, proxy, [a, b])
    codes = sorted(rc for rc, _ in results)
    assert codes == [0, 1], results
    loser = next(err for rc, err in results if rc == 1)
    assert CONFLICT in loser, loser
    assert "re-run plan" in loser
    assert "PreconditionFailedException (412)" in loser
    assert "Traceback" not in loser
    winner = 2 if results[0][0] == 0 else 3
    assert routes_from_state(state) == desired(winner)
    assert replay.matches(state)
    # keep_last 1 keeps 4; the winner's version and 1 (qa's canary) are routed; the loser's goes.
    assert sorted(state["versions"], key=int) == sorted(["1", str(winner), "4"], key=int)
    assert replay.deleted_versions == [str(5 - winner)]
    # The loser stopped at its failed write: every alias move (each with its history in the
    # same guarded call) and deletion came from the winner; the loser wrote nothing.
    assert replay.applied == ["UpdateAlias"] * 3 + ["DeleteFunction"]


@pytest.mark.parametrize("latency_ms", [0, 150])
def test_free_running_concurrent_applies_end_in_one_desired_state(
    emulator: Any, tmp_path: Path, latency_ms: int
) -> None:
    """Two applies started together with no coordination (with and without call latency):
    each exits 0, or 1 with the conflict message; each alias ends at one of the two desired
    states; no write of either run left an alias routing to a missing version."""
    a = manifest(tmp_path, "a.yaml", 2, retention=False)
    b = manifest(tmp_path, "b.yaml", 3, retention=False)
    with Proxy(upstream=emulator.url) as proxy:
        emulator.faults(latency_ms=latency_ms)
        results, replay, state = race(emulator, proxy, [a, b])
        emulator.faults()
    for rc, err in results:
        assert rc in (0, 1), err
        if rc == 1:
            assert CONFLICT in err, err
            assert "re-run plan" in err
        assert "Traceback" not in err
    assert any(rc == 0 for rc, _ in results), results
    assert replay.matches(state)
    options = (desired(2), desired(3))
    for alias, route in routes_from_state(state).items():
        assert route in (o[alias] for o in options), (alias, route)


CHANGES: dict[str, Callable[[Any], object]] = {
    "alias moved": lambda c: c.update_alias(
        FunctionName="orders", Name="prod", FunctionVersion="2"
    ),
    "alias created": lambda c: c.create_alias(
        FunctionName="orders", Name="hotfix", FunctionVersion="2"
    ),
    "$LATEST changed": lambda c: update_code(c, "orders", "hotfix"),
    "version published": lambda c: (update_code(c, "orders", "hotfix"), publish(c, "orders")),
    "version deleted": lambda c: c.delete_function(FunctionName="orders", Qualifier="2"),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_saved_plan_refused_after_someone_elses_change(
    emulator: Any, tmp_path: Path, change: str
) -> None:
    """A plan saved with --out, then someone else changes the function (alias moved or created,
    `$LATEST` updated, a version published or deleted): `apply PLAN.json` exits 1 saying the
    plan is stale, with no write call at all; the state is as the other party left it."""
    emulator.seed([{"name": "orders", "versions": 3}])
    client = emulator.boto3_client("lambda")
    client.create_alias(FunctionName="orders", Name="prod", FunctionVersion="1")
    update_code(client, "orders", "v4")
    m = write_manifest(
        tmp_path,
        """
        version: 1
        region: us-east-1
        functions:
          orders:
            publish: true
            aliases:
              prod: {version: latest}
            retention: {keep_last: 1}
        """,
    )
    saved = str(tmp_path / "plan.json")
    r = run_cli(emulator, "plan", m, "--out", saved)
    assert r.returncode == 0, r.stderr
    CHANGES[change](client)
    before = emulator.state("orders")
    emulator.clear_calls()
    r = run_cli(emulator, "apply", saved)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "stale" in r.stderr, r.stderr
    assert "nothing was written" in r.stderr
    assert "Traceback" not in r.stderr
    assert writes(emulator) == []
    assert not any(c.get("write") for c in emulator.calls())
    assert emulator.state("orders") == before
