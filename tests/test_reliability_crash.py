"""Crash matrix: the real CLI is SIGKILLed just before, and just after, each of its writes.

One apply of the scenario below makes thirteen writes: a publish, an alias creation, three alias
updates each after the tag that records the alias's history, an alias deletion
(`prune_aliases`) and four version deletions (retention). For every
write k and both kill points, the CLI runs as a process, the emulator kills it at write k, and
then a fault-free apply must exit 0 and reach the desired state, and the plan after it must be
empty. All traffic goes through a recording proxy, so every write of both runs is replayed over
the state snapshot taken before the crash: after each write, no alias routes to a missing version
and no version is deleted while an alias routes to it. The replay must end in exactly the
emulator's state, and its writes must be the emulator call log's successful writes.
"""

from __future__ import annotations

import queue
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from emulator.client import start_emulator
from emulator.fixtures import update_code
from tests.cli_helpers import run_cli_subprocess, write_manifest
from tests.test_reliability_support import (
    AliasRoute,
    Proxy,
    Replay,
    emulator_writes,
    gated_cli,
    routes_from_state,
    run_gated,
)

FUNCTION = "orders"
MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    publish: true
    prune_aliases: true
    aliases:
      prod: {version: 5, canary: {version: latest, weight: 10%}}
      staging: {version: latest}
      qa: {version: {alias: staging}}
      dev: {version: 6}
    retention: {keep_last: 2, keep_previous: 0}
"""
EXPECTED_WRITES = [
    "PublishVersion",  # $LATEST → 7
    "CreateAlias",  # dev → 6
    "TagResource",  # prod's history: 4
    "UpdateAlias",  # prod 4 + 3 @ 20% → 5 + 7 @ 10%
    "TagResource",  # qa's history: 2
    "UpdateAlias",  # qa 2 → 7
    "TagResource",  # staging's history: 3
    "UpdateAlias",  # staging 3 → 7
    "DeleteAlias",  # legacy (unmanaged) → 1
    "DeleteFunction",  # version 1
    "DeleteFunction",  # version 2
    "DeleteFunction",  # version 3
    "DeleteFunction",  # version 4
]
DESIRED_VERSIONS = {"5", "6", "7"}
DESIRED_ALIASES = {
    "prod": AliasRoute("5", {"7": 0.1}),
    "staging": AliasRoute("7"),
    "qa": AliasRoute("7"),
    "dev": AliasRoute("6"),
}


def arrange(emulator: Any) -> dict[str, Any]:
    """Versions 1-6, `$LATEST` changed since 6, four live aliases; returns the state."""
    emulator.reset()
    emulator.seed([{"name": FUNCTION, "versions": 6}])
    client = emulator.boto3_client("lambda")
    update_code(client, FUNCTION, "v7")
    client.create_alias(
        FunctionName=FUNCTION,
        Name="prod",
        FunctionVersion="4",
        RoutingConfig={"AdditionalVersionWeights": {"3": 0.2}},
    )
    for name, version in (("staging", "3"), ("qa", "2"), ("legacy", "1")):
        client.create_alias(FunctionName=FUNCTION, Name=name, FunctionVersion=version)
    state: dict[str, Any] = emulator.state(FUNCTION)
    emulator.clear_calls()
    return state


@pytest.fixture
def proxy(emulator: Any) -> Iterator[Proxy]:
    with Proxy(upstream=emulator.url) as p:
        yield p


def converge_and_check(
    emulator: Any, proxy: Proxy, replay: Replay, manifest: str
) -> tuple[list[str], int]:
    """Fault-free apply through the proxy, replayed; then the plan must be empty. (In a
    subprocess: the matrix runs two lanes on threads, and the CLI runs in process only on the
    main thread.)"""
    env = {"AWS_ENDPOINT_URL": proxy.url}
    proxy.clear()
    emulator.clear_calls()
    r = run_cli_subprocess(emulator, "apply", manifest, "--auto-approve", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    proxy.wait_idle()
    before = len(replay.applied)
    for ex in proxy.exchanges:
        replay.apply(ex)
    assert emulator_writes(emulator.calls()) == replay.applied[before:]
    state = emulator.state(FUNCTION)
    assert replay.matches(state), (state, replay)
    assert {str(v) for v in state["versions"]} == DESIRED_VERSIONS
    assert routes_from_state(state) == DESIRED_ALIASES
    plan = run_cli_subprocess(emulator, "plan", manifest, "--detailed-exitcode", env=env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    return replay.applied[before:], r.returncode


def test_fault_free_apply_makes_thirteen_ordered_writes(
    emulator: Any, proxy: Proxy, tmp_path: Path
) -> None:
    """The scenario's apply makes exactly the thirteen writes the matrix kills at, in the contract's
    order, and the replay of those writes matches the emulator's final state."""
    m = write_manifest(tmp_path, MANIFEST)
    replay = Replay.from_state(FUNCTION, arrange(emulator))
    applied, _ = converge_and_check(emulator, proxy, replay, m)
    assert applied == EXPECTED_WRITES
    assert replay.deleted_versions == ["1", "2", "3", "4"]


def kill_case(emulator: Any, proxy: Proxy, manifest: str, when: str, k: int) -> str | None:
    """One kill point on its own emulator: None when it converged, else what went wrong."""
    env = {**emulator.env(), "AWS_ENDPOINT_URL": proxy.url}
    try:
        replay = Replay.from_state(FUNCTION, arrange(emulator))
        proxy.clear()
        proc = gated_cli(["apply", manifest, "--auto-approve"], env)
        emulator.faults(kill={"pid": proc.pid, "write": k, "when": when})
        rc, _, err = run_gated(proc)
        assert rc == -signal.SIGKILL, f"not killed: exit {rc}: {err}"
        proxy.wait_idle()
        for ex in proxy.exchanges:
            replay.apply(ex)
        # The killed run stopped exactly at write k, and the call log agrees.
        done = k - 1 if when == "before" else k
        assert replay.applied == EXPECTED_WRITES[:done], replay.applied
        assert emulator_writes(emulator.calls()) == replay.applied
        killed_state = emulator.state(FUNCTION)
        assert replay.matches(killed_state), killed_state
        Replay.from_state(FUNCTION, killed_state)  # checks the state on its own too
        emulator.faults()
        rest, _ = converge_and_check(emulator, proxy, replay, manifest)
        assert rest == EXPECTED_WRITES[done:], rest
    except AssertionError as e:
        return f"kill {when} write {k}: {e}"
    return None


@pytest.mark.slow
def test_kill_before_and_after_every_write_converges(
    emulator: Any, proxy: Proxy, tmp_path: Path
) -> None:
    """SIGKILL at each of the thirteen writes, before it is handled and after it was applied: the
    killed run leaves a consistent state, the re-run exits 0 and converges, the plan after it
    is empty, and no write of either run ever left an alias dangling or deleted a routed
    version. The 20 kill points run on two emulators at once, each with its own proxy."""
    m = write_manifest(tmp_path, MANIFEST)
    cases = [(when, k) for when in ("before", "after") for k in range(1, len(EXPECTED_WRITES) + 1)]
    with ExitStack() as stack:
        second = stack.enter_context(start_emulator())
        lanes: queue.Queue[tuple[Any, Proxy]] = queue.Queue()
        lanes.put((emulator, proxy))
        lanes.put((second, stack.enter_context(Proxy(upstream=second.url))))

        def run(case: tuple[str, int]) -> str | None:
            emu, prx = lanes.get()
            try:
                return kill_case(emu, prx, m, *case)
            finally:
                lanes.put((emu, prx))

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(run, cases))
    failures = [o for o in outcomes if o is not None]
    print(f"\nFIGURE crash matrix: {len(cases) - len(failures)}/{len(cases)} kill points converged")
    assert len(cases) == 20
    assert failures == []
