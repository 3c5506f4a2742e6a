"""Read modes: one listing per function or one ListFunctions sweep per region, same plans.

Every plan here is computed twice or three times from the same live state, once per read mode
(`LAMBDA_RECONCILER_READ_MODE`), and the JSON plans must be identical; the call logs show that
each mode really read the way it says.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.fixtures import create_alarm
from reconciler.aws.pacing import CONTROL_PLANE, RegionPacers, quota_of
from reconciler.engine import AUTO_MIN_FUNCTIONS
from reconciler.manifest import load_manifests
from tests.cli_helpers import lambda_calls, run_cli, write_manifest

ROOT = Path(__file__).resolve().parent.parent
NOW = {"LAMBDA_RECONCILER_NOW": "2030-01-01T00:00:00Z"}
EXAMPLES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "manifests").glob("*.yaml"))


def plan_json(emulator: Any, mode: str, *manifests: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON plan in one read mode, and the Lambda operations the run made."""
    emulator.clear_calls()
    r = run_cli(
        emulator,
        "plan",
        *manifests,
        "--format",
        "json",
        env={**NOW, "LAMBDA_RECONCILER_READ_MODE": mode},
    )
    # 1: a function's planning error (it is in the JSON plan too), never a crash.
    assert r.returncode in (0, 1, 2), r.stderr
    assert r.stdout.startswith("{"), r.stderr
    return json.loads(r.stdout), [c["operation"] for c in lambda_calls(emulator)]


def seed_examples(emulator: Any, manifest: str) -> None:
    """Every function the manifest names, with 5 versions (the newest two young)."""
    for t in load_manifests([str(ROOT / manifest)]).functions:
        region = t.region or "us-east-1"
        emulator.seed([{"name": t.name, "versions": 5, "aliases": {"old": 1}}], region=region)
        for v in (1, 2, 3):
            emulator.age(t.name, v, "2029-01-01T00:00:00Z", region=region)
        for spec in t.spec.aliases.values():
            for alarm in spec.rollout.alarms if spec.rollout else ():
                create_alarm(emulator.boto3_client("cloudwatch", region), alarm)


@pytest.mark.parametrize("manifest", EXAMPLES)
def test_every_example_plans_the_same_in_each_read_mode(emulator: Any, manifest: str) -> None:
    """Each example manifest: per-function and bulk plans are the same JSON document."""
    seed_examples(emulator, manifest)
    path = str(ROOT / manifest)
    per_function, _ = plan_json(emulator, "per-function", path)
    bulk, calls = plan_json(emulator, "bulk", path)
    assert per_function == bulk
    assert per_function["functions"] or per_function["layers"]
    if manifest.endswith("minimal.yaml"):  # its function is read by the sweep
        assert "ListFunctions" in calls
        assert "ListVersionsByFunction" not in calls


def mixed_fleet(emulator: Any, tmp_path: Path, *, missing: bool = True) -> str:
    """Twelve functions in sync or not, by every selector, with retention that deletes, keeps
    by age, protects and spares aliased versions; an unmanaged alias; a missing function; and
    functions of the region the manifest does not name."""
    emulator.seed(
        [{"name": f"mix-{i:02d}", "versions": 4 + i, "aliases": {"live": 2}} for i in range(12)]
        + [{"name": f"other-{i}", "versions": 3} for i in range(4)]
    )
    for i in range(12):
        for v in range(1, 3 + i):
            emulator.age(f"mix-{i:02d}", v, "2029-01-01T00:00:00Z")
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    for i in range(12):
        name = f"mix-{i:02d}"
        selector = [
            "2",
            "latest",
            f"{{sha256: {name}-3-sha}}",
            "$LATEST",
            "{alias: live}",
            f"{4 + i}",
        ][i % 6]
        body += f"  {name}:\n    aliases:\n      live: {{version: 2}}\n"
        body += f"      prod: {{version: {selector}}}\n"
        if i % 3 == 0:
            body += "    retention: {keep_last: 2, keep_days: 30, protect: [1]}\n"
        elif i % 3 == 1:
            body += "    retention: {keep_last: 3}\n    prune_aliases: true\n"
    if missing:
        body += "  mix-missing:\n    aliases:\n      live: {version: 1}\n"
    return write_manifest(tmp_path, body)


def test_mixed_fleet_plans_the_same_in_every_mode(emulator: Any, tmp_path: Path) -> None:
    """Thirteen functions (one missing) in a region with others: the three read modes give one
    plan; bulk and auto sweep the region (no ListVersionsByFunction but the missing function's),
    per-function makes no ListFunctions."""
    manifest = mixed_fleet(emulator, tmp_path)
    per_function, pf_calls = plan_json(emulator, "per-function", manifest)
    bulk, bulk_calls = plan_json(emulator, "bulk", manifest)
    auto, auto_calls = plan_json(emulator, "auto", manifest)
    assert per_function == bulk == auto
    deletes = [
        op
        for f in per_function["functions"]
        for op in f.get("operations", [])
        if op["action"] == "delete_version"
    ]
    assert deletes, "the fleet must exercise retention deletions"
    assert "ListFunctions" not in pf_calls
    assert pf_calls.count("ListVersionsByFunction") == 13
    # 12 functions of 4-15 versions + 4 others of 3, $LATEST each: 142 items, 3 pages of 50.
    for calls in (bulk_calls, auto_calls):
        assert calls.count("ListFunctions") == 3
        assert calls.count("ListVersionsByFunction") == 1  # the missing function, for its error
        assert len(calls) < len(pf_calls)


def test_apply_in_bulk_mode_converges(emulator: Any, tmp_path: Path) -> None:
    """Apply of the mixed fleet with bulk reads, then a bulk plan and a per-function plan of the
    result are both empty."""
    manifest = mixed_fleet(emulator, tmp_path, missing=False)
    env = {**NOW, "LAMBDA_RECONCILER_READ_MODE": "bulk"}
    r = run_cli(emulator, "apply", manifest, "--auto-approve", env=env)
    assert r.returncode == 0, r.stderr
    for mode in ("bulk", "per-function"):
        doc, _ = plan_json(emulator, mode, manifest)
        ops = [op for f in doc["functions"] for op in f.get("operations", [])]
        assert ops == []


def test_auto_reads_a_small_manifest_per_function(emulator: Any, tmp_path: Path) -> None:
    """Fewer than AUTO_MIN_FUNCTIONS functions in a region: auto makes no sweep."""
    names = [f"few-{i}" for i in range(AUTO_MIN_FUNCTIONS - 1)]
    emulator.seed([{"name": n, "versions": 2, "aliases": {"live": 2}} for n in names])
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(f"  {n}: {{aliases: {{live: {{version: 2}}}}}}\n" for n in names)
    _, calls = plan_json(emulator, "auto", write_manifest(tmp_path, body))
    expected = ["ListVersionsByFunction", "ListAliases"] * len(names) + ["GetAccountSettings"]
    assert sorted(calls) == sorted(expected)


def test_auto_abandons_the_sweep_of_a_crowded_region(emulator: Any, tmp_path: Path) -> None:
    """Ten functions of a region holding 40 more with 20 versions each (about 17 pages): auto
    stops the sweep after 10 pages, reads each function on its own, and plans the same."""
    names = [f"few-{i}" for i in range(AUTO_MIN_FUNCTIONS)]
    emulator.seed(
        [{"name": n, "versions": 2, "aliases": {"live": 2}} for n in names]
        + [{"name": f"crowd-{i:02d}", "versions": 20} for i in range(40)]
    )
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(f"  {n}: {{aliases: {{live: {{version: 2}}}}}}\n" for n in names)
    manifest = write_manifest(tmp_path, body)
    auto, calls = plan_json(emulator, "auto", manifest)
    per_function, pf_calls = plan_json(emulator, "per-function", manifest)
    assert auto == per_function
    assert calls.count("ListFunctions") == len(names)
    assert calls.count("ListVersionsByFunction") == len(names)
    assert calls.count("ListAliases") == len(names) + 1  # + the run's probe (10 functions)
    # at most twice per-function (each run also reads the region's GetAccountSettings once,
    # and probes once)
    assert len(calls) - 2 == 2 * (len(pf_calls) - 2) - len(names)


def test_quota_table() -> None:
    """GetFunction and GetPolicy count against their own quotas, Invoke against none, the rest
    against the control plane."""
    assert [quota_of(op) for op in ("ListAliases", "GetFunction", "GetPolicy", "Invoke")] == [
        CONTROL_PLANE,
        "GetFunction",
        "GetPolicy",
        None,
    ]


def test_get_function_does_not_take_control_plane_slots() -> None:
    """Ten GetFunction sends (the publish waiter's polls) between control-plane sends leave the
    control plane's slots where they were; an Invoke waits for nothing."""
    now = [0.0]

    def sleep(s: float) -> None:
        now[0] += s

    pacers = RegionPacers(15, clock=lambda: now[0], sleep=sleep)
    pacers.wait(event_name="before-send.lambda.ListAliases")
    for _ in range(10):
        pacers.wait(event_name="before-send.lambda.GetFunction")
    after_polls = now[0]
    pacers.wait(event_name="before-send.lambda.Invoke")
    assert after_polls == now[0]
    pacers.wait(event_name="before-send.lambda.ListAliases")
    # Ten polls at 100/s took 0.09 s, past the second control-plane slot (1/15 s): that call
    # went at once. Sharing one pacer at 15/s, the polls alone would have taken 10/15 s.
    assert now[0] == pytest.approx(0.09)


def test_auto_falls_back_without_list_functions_and_bulk_says_why(
    emulator: Any, tmp_path: Path
) -> None:
    """A policy without lambda:ListFunctions under enforced IAM: auto is denied its sweep (one
    call), then reads each function and plans as per-function does; bulk exits 1 naming the
    denied action in one line, without a traceback."""
    names = [f"fn-{i:02d}" for i in range(AUTO_MIN_FUNCTIONS)]
    emulator.seed([{"name": n, "versions": 3, "aliases": {"live": 2}} for n in names])
    body = "version: 1\nregion: us-east-1\nfunctions:\n"
    body += "".join(f"  {n}: {{aliases: {{live: {{version: 3}}}}}}\n" for n in names)
    manifest = write_manifest(tmp_path, body)
    expected, _ = plan_json(emulator, "per-function", manifest)
    iam = emulator.boto3_client("iam")
    iam.create_user(UserName="reader")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "lambda:ListVersionsByFunction",
                    "lambda:ListAliases",
                    "lambda:ListTags",
                    "lambda:GetAccountSettings",
                ],
                "Resource": "*",
            }
        ],
    }
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    creds = {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_SESSION_TOKEN": "",
        **NOW,
    }
    emulator.enforce_iam(True)
    try:
        emulator.clear_calls()
        auto = run_cli(
            emulator,
            "plan",
            manifest,
            "--format",
            "json",
            env={**creds, "LAMBDA_RECONCILER_READ_MODE": "auto"},
        )
        calls = [(c["operation"], c["status"]) for c in lambda_calls(emulator)]
        bulk = run_cli(
            emulator, "plan", manifest, env={**creds, "LAMBDA_RECONCILER_READ_MODE": "bulk"}
        )
    finally:
        emulator.enforce_iam(False)
    assert auto.returncode == 0, auto.stderr
    assert json.loads(auto.stdout) == expected
    assert [op for op, status in calls if status == 403] == ["ListFunctions"]
    assert calls.count(("ListVersionsByFunction", 200)) == len(names)
    assert bulk.returncode == 1
    assert "Traceback" not in bulk.stderr
    assert "AccessDeniedException" in bulk.stderr
    assert "ListFunctions" in bulk.stderr


def test_the_client_paces_each_operation_against_its_own_quota() -> None:
    """The Lambda client's send hook charges GetFunction to its own pacer and ListAliases to the
    control plane's (`--max-rate`), and Invoke to neither."""
    from reconciler.aws.client import Aws

    aws = Aws(region="us-east-1", endpoint_url="http://127.0.0.1:9", max_rate=15)
    events = aws.lambda_client("us-east-1").meta.events
    pacers = aws.pacers["us-east-1"]
    for _ in range(3):
        events.emit("before-send.lambda.GetFunction", request=None)
    events.emit("before-send.lambda.Invoke", request=None)
    assert pacers.control.waited == 0.0
    assert pacers.own["GetFunction"].waited > 0.0
    events.emit("before-send.lambda.ListAliases", request=None)
    events.emit("before-send.lambda.ListAliases", request=None)
    assert pacers.control.waited > 0.0
