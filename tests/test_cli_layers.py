"""Layer retention and the code-storage quota, through the CLI against the local endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.fixtures import create_function, publish, publish_layer, wait_updated
from tests.cli_helpers import run_cli, write_manifest

LAYER_MANIFEST = """
version: 1
region: us-east-1
functions:
  orders:
    publish: false
layers:
  deps:
    retention: {keep_last: 1}
"""


def _layers(client: Any, n: int) -> list[str]:
    return [
        str(publish_layer(client, "deps", {f"python/m{i}.py": f"X = {i}\n"})["LayerVersionArn"])
        for i in range(1, n + 1)
    ]


def _fleet(emulator: Any) -> list[str]:
    """deps 1..5: 1 used by a published version of an unmanaged function (whose $LATEST
    moved on), 2 by the managed function's $LATEST, 3 shared with another account, 4 unused
    and old, 5 the newest (keep_last: 1)."""
    client = emulator.boto3_client("lambda")
    arns = _layers(client, 5)
    create_function(client, "other", Layers=[arns[0]])
    publish(client, "other")
    client.update_function_configuration(FunctionName="other", Layers=[arns[4]])
    wait_updated(client, "other")
    create_function(client, "orders", Layers=[arns[1]])
    client.add_layer_version_permission(
        LayerName="deps",
        VersionNumber=3,
        StatementId="partner",
        Action="lambda:GetLayerVersion",
        Principal="210987654321",
    )
    return arns


def _live_versions(emulator: Any) -> list[int]:
    client = emulator.boto3_client("lambda")
    return sorted(
        v["Version"] for v in client.list_layer_versions(LayerName="deps")["LayerVersions"]
    )


def test_only_unused_unshared_old_layer_versions_are_deleted(emulator: Any, tmp_path: Path) -> None:
    """Versions used by any function version ($LATEST, an unmanaged function's published one)
    or shared by policy stay and the plan says why; the unused old one is deleted on apply."""
    _fleet(emulator)
    m = write_manifest(tmp_path, LAYER_MANIFEST)
    r = run_cli(emulator, "plan", m, "--detailed-exitcode")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "  - delete_layer_version 4  outside keep_last=1, 0 days old" in r.stdout
    assert "  = keep 1  used by other:1" in r.stdout
    assert "  = keep 2  used by orders:$LATEST" in r.stdout
    assert "  = keep 3  shared: its policy grants account 210987654321" in r.stdout
    assert "1 layer version to delete." in r.stdout
    sweeps = [c for c in emulator.calls() if c["operation"] == "ListFunctions"]
    assert len(sweeps) == 1
    md = run_cli(emulator, "plan", m, "--format", "markdown").stdout
    assert "#### layer `deps` (us-east-1)" in md
    assert "| 🗑️ delete layer version | `4` | outside keep\\_last=1, 0 days old |" in md
    assert "| 🔒 keep | `2` | used by orders:$LATEST |" in md
    headline = next(line for line in md.splitlines() if line.startswith("### "))
    assert "1 layer version to delete" in headline
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    deleted = [c for c in emulator.calls() if c["operation"] == "DeleteLayerVersion"]
    assert len(deleted) == 1
    assert _live_versions(emulator) == [1, 2, 3, 5]
    r = run_cli(emulator, "plan", m, "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_function_sweep_when_retention_deletes_nothing(emulator: Any, tmp_path: Path) -> None:
    """ListFunctions(FunctionVersion=ALL) is read only when a layer version could go."""
    client = emulator.boto3_client("lambda")
    _layers(client, 2)
    create_function(client, "orders")
    m = write_manifest(tmp_path, LAYER_MANIFEST.replace("keep_last: 1", "keep_last: 2"))
    r = run_cli(emulator, "plan", m, "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr
    ops = [c["operation"] for c in emulator.calls()]
    assert "ListFunctions" not in ops
    assert ops.count("ListLayerVersions") == 1


def test_layer_deletions_count_in_the_brake(emulator: Any, tmp_path: Path) -> None:
    """Two unused old layer versions trip --max-deletions 1: plan exits 1, apply writes nothing."""
    client = emulator.boto3_client("lambda")
    _layers(client, 3)
    create_function(client, "orders")
    m = write_manifest(tmp_path, LAYER_MANIFEST)
    r = run_cli(emulator, "plan", m, "--max-deletions", "1")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "2 deletions in this run" in r.stderr
    r = run_cli(emulator, "apply", m, "--auto-approve", "--max-deletions", "1")
    assert r.returncode == 1
    assert _live_versions(emulator) == [1, 2, 3]


def test_a_version_used_after_planning_is_skipped_by_apply(emulator: Any, tmp_path: Path) -> None:
    """apply of a saved plan lists function usage again: a layer version a function took up
    since the plan is skipped, not deleted."""
    client = emulator.boto3_client("lambda")
    arns = _layers(client, 2)
    create_function(client, "orders")
    m = write_manifest(tmp_path, LAYER_MANIFEST)
    saved = tmp_path / "plan.json"
    r = run_cli(emulator, "plan", m, "--out", str(saved))
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(saved.read_text())
    assert [op["version"] for op in doc["layers"][0]["operations"]] == ["1"]
    client.update_function_configuration(FunctionName="orders", Layers=[arns[0]])
    wait_updated(client, "orders")
    r = run_cli(emulator, "apply", str(saved))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "skipped: used now by orders:$LATEST" in r.stderr
    assert _live_versions(emulator) == [1, 2]


def test_the_quota_line_in_text_markdown_and_json(emulator: Any, tmp_path: Path) -> None:
    """Code storage used, the quota, the share and what the plan frees, in all three formats;
    a warning above --storage-warn."""
    client = emulator.boto3_client("lambda")
    _layers(client, 2)
    create_function(client, "orders")
    used = client.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    emulator.account_limit(used * 2)  # 50 %
    freed = client.get_layer_version(LayerName="deps", VersionNumber=1)["Content"]["CodeSize"]
    m = write_manifest(tmp_path, LAYER_MANIFEST)
    r = run_cli(emulator, "plan", m)
    assert r.returncode == 0, r.stdout + r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("code storage in us-east-1"))
    assert f"code storage in us-east-1: {_size(used)} of {_size(used * 2)}, 50 %" in line
    assert f"this plan frees {_size(freed)}" in line
    assert "warning" not in r.stdout
    r = run_cli(emulator, "plan", m, "--storage-warn", "40%")
    assert (
        "! warning: code storage in us-east-1 is at 50 % of its quota, above --storage-warn 40 %"
        in r.stdout
    )
    r = run_cli(emulator, "plan", m, "--format", "markdown", "--storage-warn", "40%")
    assert f"- 💾 Code storage in us-east-1: {_size(used)} of {_size(used * 2)}, 50 %" in r.stdout
    assert "- ⚠️ **Code storage in us-east-1 is at 50 %" in r.stdout
    r = run_cli(emulator, "plan", m, "--format", "json")
    storage = json.loads(r.stdout)["code_storage"]
    expected = {"region": "us-east-1", "used": used, "limit": used * 2, "freed": freed}
    assert expected == {k: storage[0][k] for k in expected}
    assert storage[0]["percent"] == 50.0
    assert json.loads(r.stdout)["summary"]["delete_layer_version"] == 1
    r = run_cli(emulator, "drift", m)
    assert f"code storage in us-east-1: {_size(used)}" in r.stdout
    settings = [c for c in emulator.calls() if c["operation"] == "GetAccountSettings"]
    assert len(settings) == 1 + 5  # the test's own read, then one per run


def test_apply_shows_the_storage_warning_above_its_threshold(emulator: Any, tmp_path: Path) -> None:
    """apply takes --storage-warn as plan does: its plan output warns above the threshold
    (on standard error with --format json) and not below it; a saved plan refuses it."""
    client = emulator.boto3_client("lambda")
    _layers(client, 1)
    create_function(client, "orders")
    used = client.get_account_settings()["AccountUsage"]["TotalCodeSize"]
    emulator.account_limit(used * 2)  # 50 %
    m = write_manifest(tmp_path, LAYER_MANIFEST)
    warning = "! warning: code storage in us-east-1 is at 50 % of its quota, above --storage-warn"
    r = run_cli(emulator, "apply", m, "--auto-approve", "--storage-warn", "40%")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{warning} 40 %" in r.stdout
    r = run_cli(
        emulator, "apply", m, "--auto-approve", "--storage-warn", "0.45", "--format", "json"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{warning} 45 %" in r.stderr
    assert "warning" not in r.stdout
    r = run_cli(emulator, "apply", m, "--auto-approve", "--storage-warn", "60%")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "warning" not in r.stdout + r.stderr
    saved = tmp_path / "plan.json"
    assert run_cli(emulator, "plan", m, "--out", str(saved)).returncode == 0
    r = run_cli(emulator, "apply", str(saved), "--storage-warn", "40%")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "--storage-warn sets the warning of a plan shown now" in r.stderr
    assert "Traceback" not in r.stderr


def _size(n: int) -> str:
    from reconciler.plan.wording import storage_size

    return storage_size(n)


def _user(emulator: Any, policy: dict[str, Any]) -> dict[str, str]:
    iam = emulator.boto3_client("iam")
    iam.create_user(UserName="deployer")
    iam.put_user_policy(
        UserName="deployer", PolicyName="reconciler", PolicyDocument=json.dumps(policy)
    )
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_SESSION_TOKEN": "",
    }


def _run_as(emulator: Any, policy: dict[str, Any], *args: str) -> Any:
    """A fresh fleet, then the CLI as a user holding exactly `policy`, IAM enforced."""
    emulator.reset()
    _fleet(emulator)
    creds = _user(emulator, policy)
    emulator.enforce_iam(True)
    try:
        return run_cli(emulator, *args, env=creds)
    finally:
        emulator.enforce_iam(False)


def _without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    statements = [
        {**st, "Action": [a for a in st["Action"] if a != action]} for st in policy["Statement"]
    ]
    return {"Version": policy["Version"], "Statement": [st for st in statements if st["Action"]]}


@pytest.mark.parametrize(
    ("mode", "command", "expected_exit"),
    [("plan", ["plan", "--detailed-exitcode"], 2), ("apply", ["apply", "--auto-approve"], 0)],
)
def test_generated_policy_covers_layer_retention_and_each_layer_action_is_needed(
    emulator: Any, tmp_path: Path, mode: str, command: list[str], expected_exit: int
) -> None:
    """Under enforced IAM the generated policy runs layer retention; without any one layer
    action the run fails with AccessDenied naming it, and nothing is deleted."""
    m = write_manifest(tmp_path, LAYER_MANIFEST)
    r = run_cli(emulator, "iam-policy", m, "--mode", mode, "--account-id", "123456789012")
    policy = json.loads(r.stdout)
    layer_st = next(st for st in policy["Statement"] if st["Sid"] == "LayerVersions")
    assert layer_st["Resource"] == ["arn:aws:lambda:us-east-1:123456789012:layer:deps:*"]
    layer_actions = {
        "plan": ["lambda:GetLayerVersion", "lambda:GetLayerVersionPolicy"],
        "apply": [
            "lambda:DeleteLayerVersion",
            "lambda:GetLayerVersion",
            "lambda:GetLayerVersionPolicy",
        ],
    }[mode]
    assert layer_actions == layer_st["Action"]
    listings = next(st for st in policy["Statement"] if st["Sid"] == "Unscoped")
    expected = ["lambda:GetAccountSettings", "lambda:ListFunctions", "lambda:ListLayerVersions"]
    assert (expected, "*") == (listings["Action"], listings["Resource"])
    ok = _run_as(emulator, policy, command[0], m, *command[1:])
    assert ok.returncode == expected_exit, ok.stdout + ok.stderr
    for action in [*layer_actions, "lambda:ListFunctions", "lambda:ListLayerVersions"]:
        r = _run_as(emulator, _without(policy, action), command[0], m, *command[1:])
        assert r.returncode == 1, f"{action} was not needed:\n{r.stdout}{r.stderr}"
        denied = [ln for ln in (r.stdout + r.stderr).splitlines() if "AccessDenied" in ln]
        assert denied, r.stdout + r.stderr
        assert action.split(":")[1] in denied[0], r.stdout + r.stderr
        assert "Traceback" not in r.stderr
        assert _live_versions(emulator) == [1, 2, 3, 4, 5]


def test_drift_names_the_layer_and_a_saved_plan_for_another_account_is_refused(
    emulator: Any, tmp_path: Path
) -> None:
    """drift reports a layer with versions to delete (as drift with --housekeeping-is-drift);
    a saved plan whose layer deletion names another account is refused before any write."""
    client = emulator.boto3_client("lambda")
    _layers(client, 2)
    create_function(client, "orders")
    m = write_manifest(tmp_path, LAYER_MANIFEST)
    saved = tmp_path / "drift.json"
    r = run_cli(emulator, "drift", m, "--out", str(saved), "--housekeeping-is-drift")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Drift: live state differs from git in 1 layer." in r.stdout
    doc = json.loads(saved.read_text())
    op = doc["layers"][0]["operations"][0]
    op["layer_version_arn"] = op["layer_version_arn"].replace("123456789012", "210987654321")
    saved.write_text(json.dumps(doc))
    r = run_cli(emulator, "apply", str(saved))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "deletes layer versions in account 210987654321" in r.stderr
    assert _live_versions(emulator) == [1, 2]


LAYERS_ONLY = """
version: 1
region: us-east-1
layers:
  deps:
    retention: {keep_last: 1}
"""


def test_a_layers_only_manifest_plans_applies_and_drifts(emulator: Any, tmp_path: Path) -> None:
    """A manifest with `layers:` and no `functions:` is valid; plan, apply and drift work on
    it, read no function of their own (only the region's sweep for usage), and keep the
    version an unmanaged function uses."""
    client = emulator.boto3_client("lambda")
    arns = _layers(client, 3)
    create_function(client, "other", Layers=[arns[0]])
    m = write_manifest(tmp_path, LAYERS_ONLY)
    r = run_cli(emulator, "validate", m)
    assert (r.returncode, r.stderr) == (0, "1 manifest valid: 0 functions, 1 layer.\n")
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m, "--detailed-exitcode")
    assert r.returncode == 2, r.stdout + r.stderr
    expected = [
        "layer deps (us-east-1)",
        "  - delete_layer_version 2  outside keep_last=1, 0 days old",
        "  = keep 1  used by other:$LATEST",
    ]
    assert expected == r.stdout.splitlines()[:3]
    assert "1 layer version to delete." in r.stdout
    reads = {c["operation"] for c in emulator.calls()}
    assert reads == {
        "ListLayerVersions",
        "GetLayerVersion",
        "GetLayerVersionPolicy",
        "ListFunctions",
        "GetAccountSettings",
    }
    r = run_cli(emulator, "drift", m)  # housekeeping due: shown, not drift
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Housekeeping due: 1 layer version to delete" in r.stdout
    assert "- delete_layer_version 2" in r.stdout
    md = run_cli(emulator, "plan", m, "--format", "markdown").stdout
    assert "### 📋 lambda-reconciler plan: 1 layer version to delete" in md
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "layer deps: - delete_layer_version 2 … done" in r.stderr
    assert _live_versions(emulator) == [1, 3]
    for command in (["plan", "--detailed-exitcode"], ["drift"]):
        r = run_cli(emulator, command[0], m, *command[1:])
        assert r.returncode == 0, r.stdout + r.stderr


def test_a_layers_only_policy_grants_only_the_layer_actions(emulator: Any, tmp_path: Path) -> None:
    """iam-policy for a layers-only manifest grants the layer and listing actions and no
    function action."""
    m = write_manifest(tmp_path, LAYERS_ONLY)
    r = run_cli(emulator, "iam-policy", m, "--mode", "apply", "--account-id", "123456789012")
    assert r.returncode == 0, r.stderr
    statements = json.loads(r.stdout)["Statement"]
    actions = sorted(a for st in statements for a in st["Action"])
    assert actions == [
        "lambda:DeleteLayerVersion",
        "lambda:GetAccountSettings",
        "lambda:GetLayerVersion",
        "lambda:GetLayerVersionPolicy",
        "lambda:ListFunctions",
        "lambda:ListLayerVersions",
    ]


def test_users_past_the_first_sweep_page_and_organization_or_public_grants_keep_versions(
    emulator: Any, tmp_path: Path
) -> None:
    """The usage sweep reads every ListFunctions page: a layer version used only by function
    versions listed after the first 50 items stays, and so do versions granted to an
    organization or to everyone; the unused old one goes."""
    emulator.seed([{"name": f"fn-{i:02d}", "versions": 1} for i in range(55)])
    client = emulator.boto3_client("lambda")
    arns = _layers(client, 6)
    create_function(client, "zz-user", Layers=[arns[0]])
    publish(client, "zz-user")  # zz-user:1 uses deps:1
    client.update_function_configuration(FunctionName="zz-user", Layers=[arns[1]])
    wait_updated(client, "zz-user")  # zz-user:$LATEST uses deps:2
    for version, extra in ((3, {"OrganizationId": "o-a1b2c3d4e5"}), (4, {})):
        client.add_layer_version_permission(
            LayerName="deps",
            VersionNumber=version,
            StatementId="share",
            Action="lambda:GetLayerVersion",
            Principal="*",
            **extra,
        )
    m = write_manifest(tmp_path, LAYERS_ONLY)
    emulator.clear_calls()
    r = run_cli(emulator, "plan", m)
    assert r.returncode == 0, r.stdout + r.stderr
    expected = [
        "layer deps (us-east-1)",
        "  - delete_layer_version 5  outside keep_last=1, 0 days old",
        "  = keep 1  used by zz-user:1",
        "  = keep 2  used by zz-user:$LATEST",
        "  = keep 3  shared: its policy grants organization o-a1b2c3d4e5",
        "  = keep 4  shared: its policy grants everyone",
    ]
    assert expected == [line.split(" (their use")[0] for line in r.stdout.splitlines()[:6]]
    sweep = [c for c in emulator.calls() if c["operation"] == "ListFunctions"]
    assert len(sweep) == 3  # 56 $LATEST and 57 published versions: pages of 50
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _live_versions(emulator) == [1, 2, 3, 4, 6]
