"""Crash matrix: the real CLI is SIGKILLed just before, and just after, each of its writes.

One apply of the scenario below makes ten writes: a publish, an alias creation, three alias
updates (each writes the alias's record, with its history, in the same call), an alias deletion
(`prune_aliases`) and four version deletions (retention). For every
write k and both kill points, the CLI runs as a process, the emulator kills it at write k, and
then a fault-free apply must exit 0 and reach the desired state, and the plan after it must be
empty. All traffic goes through a recording proxy, so every write of both runs is replayed over
the state snapshot taken before the crash: after each write, no alias routes to a missing version
and no version is deleted while an alias routes to it. The replay must end in exactly the
emulator's state, and its writes must be the emulator call log's successful writes.

A second scenario kills at the writes layer retention, `keep_previous` and the migration of an
earlier release's history tag add (the alias move whose record keeps the previous version, the
old tag's removal, and DeleteLayerVersion): after each of its twelve kill points the re-run
converges, and no write deleted the alias's previous version or a layer
version a function version uses.

A third matrix kills `apply --wait` inside a waiting rollout: at each write the waiting rounds
make (the tag before a step, the step's UpdateAlias, the promotion's tags and UpdateAlias),
before and after it; a later `apply --wait` must reach 100 % with the alias weights exactly the
schedule.
"""

from __future__ import annotations

import queue
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from emulator.client import start_emulator
from emulator.fixtures import create_function, publish, publish_layer, update_code, wait_updated
from reconciler.plan.record import decode, split
from reconciler.planning.rollout import history_key
from tests.cli_helpers import TEST_ENV, run_cli, run_cli_subprocess, write_manifest
from tests.test_reliability_support import (
    AliasRoute,
    Exchange,
    InvariantViolation,
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
    "UpdateAlias",  # prod 4 + 3 @ 20% → 5 + 7 @ 10%, its record's history: 4
    "UpdateAlias",  # qa 2 → 7, history 2
    "UpdateAlias",  # staging 3 → 7, history 3
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


def converge_and_check(emulator: Any, proxy: Proxy, replay: Replay, manifest: str) -> list[str]:
    """Fault-free apply through the proxy, replayed; then the plan must be empty."""
    writes, state = apply_replayed(emulator, proxy, replay, manifest)
    assert {str(v) for v in state["versions"]} == DESIRED_VERSIONS
    assert routes_from_state(state) == DESIRED_ALIASES
    plan_is_empty(emulator, proxy, manifest)
    return writes


def apply_replayed(
    emulator: Any, proxy: Proxy, replay: Replay, manifest: str
) -> tuple[list[str], dict[str, Any]]:
    """A fault-free apply through the proxy (exit 0, no traceback), each of its writes replayed
    over the replay's state, which then matches the emulator's: (the writes, that state). (In a
    subprocess: the matrix runs two lanes on threads, and the CLI runs in process only on the
    main thread.)"""
    proxy.clear()
    emulator.clear_calls()
    env = {"AWS_ENDPOINT_URL": proxy.url}
    r = run_cli_subprocess(emulator, "apply", manifest, "--auto-approve", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    proxy.wait_idle()
    before = len(replay.applied)
    for ex in proxy.exchanges:
        replay.apply(ex)
    assert emulator_writes(emulator.calls()) == replay.applied[before:]
    state: dict[str, Any] = emulator.state(FUNCTION)
    assert replay.matches(state), (state, replay)
    return replay.applied[before:], state


def plan_is_empty(emulator: Any, proxy: Proxy, manifest: str) -> None:
    env = {"AWS_ENDPOINT_URL": proxy.url}
    plan = run_cli_subprocess(emulator, "plan", manifest, "--detailed-exitcode", env=env)
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_fault_free_apply_makes_ten_ordered_writes(
    emulator: Any, proxy: Proxy, tmp_path: Path
) -> None:
    """The scenario's apply makes exactly the ten writes the matrix kills at, in the contract's
    order, and the replay of those writes matches the emulator's final state."""
    m = write_manifest(tmp_path, MANIFEST)
    replay = Replay.from_state(FUNCTION, arrange(emulator))
    applied = converge_and_check(emulator, proxy, replay, m)
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
        rest = converge_and_check(emulator, proxy, replay, manifest)
        # An alias's history is written in the same call as its move: no write is ever retaken.
        assert rest == EXPECTED_WRITES[done:], rest
    except AssertionError as e:
        return f"kill {when} write {k}: {e}"
    return None


@pytest.mark.slow
def test_kill_before_and_after_every_write_converges(
    emulator: Any, proxy: Proxy, tmp_path: Path
) -> None:
    """SIGKILL at each of the ten writes, before it is handled and after it was applied: the
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
    assert len(cases) == 2 * len(EXPECTED_WRITES) == 20
    assert failures == []


# -- the new writes: alias history kept by keep_previous, and layer version deletions --------
#
# `orders` has versions 1-4; `prod` routes to 3 and its history tag records 2. The manifest moves
# `prod` to 4 with `keep_last: 1, keep_previous: 1`: the history becomes `3 2`, so 3 (prod's
# previous version) is kept and 1 and 2 go. Layer `deps` has versions 1-5: 1 is used by
# `orders:$LATEST`, 2 by a published version of the unmanaged `other`, 5 is the newest
# (`keep_last: 1`); 3 and 4 go. Had the move been made without its history, 2 would stay and 3
# would go: the tag before the move is what keeps the way back after any crash.

LAYER = "deps"
LAYER_MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: 4}
    retention: {keep_last: 1, keep_previous: 1}
layers:
  deps:
    retention: {keep_last: 1}
"""
LAYER_EXPECTED_WRITES = [
    "UpdateAlias",  # prod 3 → 4, its record's history 3 2 (the earlier release's tag migrated)
    "UntagResource",  # the earlier release's history tag, now in the record
    "DeleteFunction",  # version 1
    "DeleteFunction",  # version 2
    "DeleteLayerVersion",  # deps:3
    "DeleteLayerVersion",  # deps:4
]
PREVIOUS = "3"  # prod's previous version once it moved: never deleted
USED_LAYER_VERSIONS = {1, 2}  # used by orders:$LATEST and other:1: never deleted


@dataclass
class LayerReplay(Replay):
    """`Replay` that also follows the layer's versions: a deletion of a used layer version, or of
    the alias's previous version, fails the replay at the write that made it."""

    layer_versions: set[int] = field(default_factory=set)

    @classmethod
    def start(cls, state: dict[str, Any], layers: set[int]) -> LayerReplay:
        r = cls(FUNCTION, {str(v) for v in state["versions"]}, routes_from_state(state))
        r.layer_versions = set(layers)
        r.check("initial state")
        return r

    def apply(self, ex: Exchange) -> None:
        parts = [unquote(p) for p in ex.path.strip("/").split("/")]
        layer_delete = ex.method == "DELETE" and len(parts) == 5 and parts[1] == "layers"
        if layer_delete and ex.status < 300 and parts[2].split(":")[-1] == LAYER:
            version = int(parts[4])
            if version in USED_LAYER_VERSIONS:
                raise InvariantViolation(f"layer version {version} deleted while in use")
            self.layer_versions.discard(version)
            self.applied.append("DeleteLayerVersion")
            return
        super().apply(ex)
        if PREVIOUS not in self.versions:
            raise InvariantViolation(f"prod's previous version {PREVIOUS} was deleted")


def arrange_layers(emulator: Any) -> tuple[dict[str, Any], set[int]]:
    """The scenario above; returns the function's state and the layer's versions."""
    emulator.reset()
    emulator.seed([{"name": FUNCTION, "versions": 4}])
    client = emulator.boto3_client("lambda")
    arns = [
        str(publish_layer(client, LAYER, {f"python/m{i}.py": f"X = {i}\n"})["LayerVersionArn"])
        for i in range(1, 6)
    ]
    client.update_function_configuration(FunctionName=FUNCTION, Layers=[arns[0]])
    wait_updated(client, FUNCTION)
    create_function(client, "other", Layers=[arns[1]])
    publish(client, "other")
    client.update_function_configuration(FunctionName="other", Layers=[])
    wait_updated(client, "other")
    client.create_alias(FunctionName=FUNCTION, Name="prod", FunctionVersion="3")
    arn = client.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"]
    client.tag_resource(Resource=arn, Tags={history_key("prod"): "2"})
    state: dict[str, Any] = emulator.state(FUNCTION)
    emulator.clear_calls()
    return state, _layer_versions(emulator)


def _layer_versions(emulator: Any) -> set[int]:
    listed = emulator.boto3_client("lambda").list_layer_versions(LayerName=LAYER)
    return {int(v["Version"]) for v in listed["LayerVersions"]}


def _history(emulator: Any) -> str | None:
    """prod's history, from its record; None while the earlier release's tag is still there."""
    client = emulator.boto3_client("lambda")
    arn = client.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"]
    if history_key("prod") in client.list_tags(Resource=arn)["Tags"]:
        return None
    _, block = split(client.get_alias(FunctionName=FUNCTION, Name="prod")["Description"])
    return " ".join(decode(block).history)


def converge_layers(emulator: Any, proxy: Proxy, replay: LayerReplay, manifest: str) -> list[str]:
    """Fault-free apply through the proxy, replayed; the end state is the desired one and the
    plan after it is empty. Returns the writes of the apply."""
    writes, state = apply_replayed(emulator, proxy, replay, manifest)
    assert replay.layer_versions == _layer_versions(emulator) == {1, 2, 5}
    assert {str(v) for v in state["versions"]} == {"3", "4"}
    assert routes_from_state(state) == {"prod": AliasRoute("4")}
    assert _history(emulator) == "3 2"
    plan_is_empty(emulator, proxy, manifest)
    return writes


def test_fault_free_apply_moves_then_untags_then_deletes_functions_then_layers(
    emulator: Any, proxy: Proxy, tmp_path: Path
) -> None:
    """The layer scenario's apply makes the six writes its matrix kills at, in order, keeps
    prod's previous version and the used layer versions, and the replay matches the end."""
    m = write_manifest(tmp_path, LAYER_MANIFEST)
    state, layers = arrange_layers(emulator)
    replay = LayerReplay.start(state, layers)
    assert converge_layers(emulator, proxy, replay, m) == LAYER_EXPECTED_WRITES
    assert replay.deleted_versions == ["1", "2"]


def layer_kill_case(emulator: Any, proxy: Proxy, manifest: str, when: str, k: int) -> str | None:
    """One kill point of the layer scenario: None when it converged, else what went wrong."""
    env = {**emulator.env(), "AWS_ENDPOINT_URL": proxy.url}
    try:
        state, layers = arrange_layers(emulator)
        replay = LayerReplay.start(state, layers)
        proxy.clear()
        proc = gated_cli(["apply", manifest, "--auto-approve"], env)
        emulator.faults(kill={"pid": proc.pid, "write": k, "when": when})
        rc, _, err = run_gated(proc)
        assert rc == -signal.SIGKILL, f"not killed: exit {rc}: {err}"
        proxy.wait_idle()
        for ex in proxy.exchanges:
            replay.apply(ex)
        done = k - 1 if when == "before" else k
        assert replay.applied == LAYER_EXPECTED_WRITES[:done], replay.applied
        assert emulator_writes(emulator.calls()) == replay.applied
        assert replay.matches(emulator.state(FUNCTION))
        assert replay.layer_versions == _layer_versions(emulator)
        emulator.faults()
        rest = converge_layers(emulator, proxy, replay, manifest)
        # Killed after the move and before the old tag's removal: the re-run removes it, with
        # a description-only UpdateAlias that carries the removal (the record already holds it).
        again = ["UpdateAlias"] if done == 1 else []
        assert rest == again + LAYER_EXPECTED_WRITES[done:], rest
    except AssertionError as e:
        return f"kill {when} write {k}: {e}"
    return None


@pytest.mark.slow
def test_kill_at_history_tags_and_layer_deletions_converges(
    emulator: Any, proxy: Proxy, tmp_path: Path
) -> None:
    """SIGKILL before and after each of the layer scenario's six writes (the history tag, the
    move, the version and layer version deletions): the re-run converges, the plan after it is
    empty, and no write of either run deleted prod's previous version or a used layer version."""
    m = write_manifest(tmp_path, LAYER_MANIFEST)
    cases = [(w, k) for w in ("before", "after") for k in range(1, len(LAYER_EXPECTED_WRITES) + 1)]
    outcomes = [layer_kill_case(emulator, proxy, m, *case) for case in cases]
    failures = [o for o in outcomes if o is not None]
    print(f"\nFIGURE layer crash matrix: {len(cases) - len(failures)}/{len(cases)} converged")
    assert len(cases) == 12
    assert failures == []


ROLLOUT = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: 3, rollout: {steps: [10%, 50%], interval: 10m}}
"""
# One `apply --wait` of ROLLOUT, under a pinned (virtual) clock: the first apply, then the
# waiting rounds from write 2 on. Each move writes its rollout state in the same call.
WAIT_WRITES = [
    "UpdateAlias",  # 2 + 3 @ 10%, record: step 1
    "UpdateAlias",  # 2 + 3 @ 50%, record: step 2 (the first write of the waiting rounds)
    "UpdateAlias",  # 3, record: done, history 2
]
SCHEDULE = [("2", {"3": 0.1}), ("2", {"3": 0.5}), ("3", {})]


def alias_moves(calls: list[dict[str, Any]]) -> list[tuple[str, dict[str, float]]]:
    """The successful UpdateAlias calls, in order, as (version, additional weights)."""
    return [
        (c["alias_version"], c["alias_weights"])
        for c in sorted(calls, key=lambda c: int(c["seq"]))
        if c.get("operation") == "UpdateAlias" and int(c.get("status", 0)) < 300
    ]


def kill_waiting(emulator: Any, manifest: str, when: str, k: int) -> str | None:
    """Kill `apply --wait` at write k; a later `apply --wait` (twenty virtual minutes on) must
    converge with the weights exactly the schedule. None when it did, else what went wrong."""
    at = {"LAMBDA_RECONCILER_NOW": "2026-11-01T12:00:00Z"}
    later = {"LAMBDA_RECONCILER_NOW": "2026-11-01T12:20:00Z"}
    try:
        emulator.reset()
        emulator.seed([{"name": FUNCTION, "versions": 4, "aliases": {"prod": 2}}])
        proc = gated_cli(
            ["apply", manifest, "--auto-approve", "--wait"], {**emulator.env(), **TEST_ENV, **at}
        )
        emulator.faults(kill={"pid": proc.pid, "write": k, "when": when})
        rc, _, err = run_gated(proc)
        assert rc == -signal.SIGKILL, f"not killed: exit {rc}: {err}"
        done = k - 1 if when == "before" else k
        assert emulator_writes(emulator.calls()) == WAIT_WRITES[:done]
        emulator.faults()
        r = run_cli(emulator, "apply", manifest, "--auto-approve", "--wait", env=later)
        assert r.returncode == 0, r.stderr
        assert alias_moves(emulator.calls()) == SCHEDULE
        assert routes_from_state(emulator.state(FUNCTION)) == {"prod": AliasRoute("3")}
        plan = run_cli(emulator, "plan", manifest, "--detailed-exitcode", env=later)
        assert plan.returncode == 0, plan.stdout + plan.stderr
    except AssertionError as e:
        return f"kill {when} write {k}: {e}"
    return None


@pytest.mark.slow
def test_kill_inside_a_waiting_rollout_converges_on_the_schedule(
    emulator: Any, tmp_path: Path
) -> None:
    """SIGKILL before and after each write of `apply --wait`'s waiting rounds (writes 2-3: the
    step-2 UpdateAlias and the promotion's, each with its state): the re-run `apply --wait`
    exits 0 at 100 %, every UpdateAlias of both runs together is exactly 10 %, 50 %, 100 %
    (none repeated or skipped), and the plan after it is empty."""
    m = write_manifest(tmp_path, ROLLOUT)
    emulator.reset()
    emulator.seed([{"name": FUNCTION, "versions": 4, "aliases": {"prod": 2}}])
    emulator.clear_calls()
    env = {"LAMBDA_RECONCILER_NOW": "2026-11-01T12:00:00Z"}
    r = run_cli(emulator, "apply", m, "--auto-approve", "--wait", env=env)
    assert r.returncode == 0, r.stderr
    assert emulator_writes(emulator.calls()) == WAIT_WRITES  # the writes the cases kill at
    cases = [(when, k) for when in ("before", "after") for k in range(2, len(WAIT_WRITES) + 1)]
    failures = [f for f in (kill_waiting(emulator, m, *case) for case in cases) if f]
    print(f"\nFIGURE waiting crash points: {len(cases) - len(failures)}/{len(cases)} converged")
    assert len(cases) == 4
    assert failures == [], "\n".join(failures)
