"""Housekeeping (retention deletions that became due) is shown by `drift` but is not drift;
layer retention converges in one apply; `--target` narrows layers too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.fixtures import create_function, publish, publish_layer, wait_updated
from tests.cli_helpers import run_cli, write_manifest

HOUSEKEEPING = """
version: 1
region: us-east-1
functions:
  orders:
    aliases:
      prod: {version: 3}
    retention: {keep_last: 1}
layers:
  deps:
    retention: {keep_last: 1}
"""


def _layer(client: Any, i: int) -> str:
    return str(publish_layer(client, "deps", {f"python/m{i}.py": "X = 1\n"})["LayerVersionArn"])


def test_housekeeping_alone_is_not_drift(emulator: Any, tmp_path: Path) -> None:
    """Two versions outside keep_last and an unused layer version: drift shows them, says
    "No drift" with the housekeeping due, and exits 0; --housekeeping-is-drift exits 2."""
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 3}}])
    client = emulator.boto3_client("lambda")
    _layer(client, 1)
    _layer(client, 2)
    m = write_manifest(tmp_path, HOUSEKEEPING)
    r = run_cli(emulator, "drift", m)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "No drift: live state matches git."
    assert lines[1].startswith(
        "Housekeeping due: 2 versions and 1 layer version to delete under retention"
    )
    assert "- delete_version 1" in r.stdout
    assert "- delete_layer_version 1" in r.stdout
    md = run_cli(emulator, "drift", m, "--format", "markdown").stdout
    assert "### ✅ lambda-reconciler drift: No drift, live state matches git" in md
    assert "Housekeeping due: 2 versions and 1 layer version" in md
    r = run_cli(emulator, "drift", m, "--housekeeping-is-drift")
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stdout.startswith("Drift: live state differs from git in 1 function and 1 layer.")
    # a hand change next to housekeeping is drift as before
    client.create_alias(FunctionName="orders", Name="manual", FunctionVersion="3")
    r = run_cli(emulator, "drift", m)
    assert r.returncode == 2, r.stdout
    assert r.stdout.startswith("Drift: live state differs from git in 1 function.")


CHAIN = """
version: 1
region: us-east-1
functions:
  orders:
    retention: {keep_last: 1}
layers:
  deps:
    retention: {keep_last: 1}
"""


def _chain(emulator: Any, n: int) -> None:
    """orders versions 1..n, version i built on deps i; $LATEST on deps n."""
    client = emulator.boto3_client("lambda")
    arns = [_layer(client, i) for i in range(1, n + 1)]
    create_function(client, "orders", Layers=[arns[0]])
    publish(client, "orders")
    for arn in arns[1:]:
        client.update_function_configuration(FunctionName="orders", Layers=[arn])
        wait_updated(client, "orders")
        publish(client, "orders")


def _layer_versions(emulator: Any) -> list[int]:
    client = emulator.boto3_client("lambda")
    out = client.list_layer_versions(LayerName="deps")["LayerVersions"]
    return sorted(v["Version"] for v in out)


def test_layer_retention_converges_in_one_apply(emulator: Any, tmp_path: Path) -> None:
    """Layer versions used only by function versions the same apply deletes are deleted by
    that apply: the next plan is empty (before, each apply freed one more generation)."""
    _chain(emulator, 4)
    m = write_manifest(tmp_path, CHAIN)
    data = json.loads(run_cli(emulator, "plan", m, "--format", "json").stdout)
    assert data["summary"]["delete_version"] == 3
    assert data["summary"]["delete_layer_version"] == 3
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _layer_versions(emulator) == [4]
    r = run_cli(emulator, "plan", m, "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr


def test_layer_version_used_by_a_kept_function_version_stays(emulator: Any, tmp_path: Path) -> None:
    """Only uses by versions being deleted are discounted: a version kept by an alias keeps
    its layer version."""
    _chain(emulator, 3)
    body = CHAIN.replace(
        "    retention: {keep_last: 1}\nlayers",
        "    aliases: {old: {version: 1}}\n    retention: {keep_last: 1}\nlayers",
    )
    m = write_manifest(tmp_path, body)
    r = run_cli(emulator, "plan", m)
    assert "- delete_version 2" in r.stdout
    assert "- delete_layer_version 2" in r.stdout
    assert "= keep 1  used by orders:1" in r.stdout
    assert "delete_layer_version 1" not in r.stdout


def test_target_narrows_layers_and_drift_takes_target(emulator: Any, tmp_path: Path) -> None:
    """--target on a function plans no layer retention; --target on a layer plans only it;
    drift takes --target."""
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 3}}])
    client = emulator.boto3_client("lambda")
    _layer(client, 1)
    _layer(client, 2)
    m = write_manifest(tmp_path, HOUSEKEEPING)
    data = json.loads(run_cli(emulator, "plan", m, "--target", "orders", "--format", "json").stdout)
    assert data["summary"]["delete_layer_version"] == 0
    assert data["summary"]["delete_version"] == 2
    r = run_cli(emulator, "plan", m, "--target", "deps", "--format", "json")
    assert "covers 0 of 1 function and 1 of 1 layer" in r.stderr
    data = json.loads(r.stdout)
    assert data["functions"] == []
    assert data["summary"]["delete_layer_version"] == 1
    client.create_alias(FunctionName="orders", Name="manual", FunctionVersion="3")
    assert run_cli(emulator, "drift", m, "--target", "deps").returncode == 0
    assert run_cli(emulator, "drift", m, "--target", "orders").returncode == 2
    r = run_cli(emulator, "drift", m, "--target", "nope")
    assert r.returncode == 1
    assert "--target nope matches no function or layer of the manifests" in r.stderr


def test_the_saved_drift_keeps_housekeeping_is_drift(emulator: Any, tmp_path: Path) -> None:
    """`drift --out` records --housekeeping-is-drift, so the drift issue rendered from the saved
    plan says drift as the exit code did; without the option it says "No drift"."""
    from reconciler.plan.planfile import load_plan_document
    from reconciler.render.markdown import render_markdown

    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 3}}])
    m = write_manifest(
        tmp_path, HOUSEKEEPING.replace("layers:\n  deps:\n    retention: {keep_last: 1}\n", "")
    )
    saved = tmp_path / "drift.json"
    r = run_cli(emulator, "drift", m, "--out", str(saved), "--housekeeping-is-drift")
    assert r.returncode == 2, r.stdout + r.stderr
    plan, kind = load_plan_document(str(saved))
    assert kind == "drift"
    assert "Drift detected" in render_markdown(plan, drift=True)
    assert run_cli(emulator, "drift", m, "--out", str(saved)).returncode == 0
    plan, _ = load_plan_document(str(saved))
    assert "No drift, live state matches git" in render_markdown(plan, drift=True)


def test_drift_warns_about_the_brake_without_failing(emulator: Any, tmp_path: Path) -> None:
    """More deletions due than --max-deletions: plan exits 1 (apply would refuse), but drift,
    which writes nothing, warns and still says whether live state differs from git."""
    emulator.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 3}}])
    m = write_manifest(
        tmp_path, HOUSEKEEPING.replace("layers:\n  deps:\n    retention: {keep_last: 1}\n", "")
    )
    assert run_cli(emulator, "plan", m, "--max-deletions", "1").returncode == 1
    r = run_cli(emulator, "drift", m, "--max-deletions", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warning: 2 deletions in this run" in r.stderr
    assert "--housekeeping-is-drift" in r.stdout
    r = run_cli(emulator, "drift", m, "--max-deletions", "1", "--housekeeping-is-drift")
    assert r.returncode == 2, r.stdout + r.stderr
