"""Many accounts and regions in one run: a manifest's `target:` names its account and the role
that reaches it (assumed with STS from the ambient credentials), `regions:` manages each
function in several regions, and one run plans and applies across all of them. A wrong account
is refused before any Lambda call in any account (the emulator's call log proves it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulator.client import EmulatorClient
from reconciler.aws.sts import chained_duration, session_name
from tests.cli_helpers import lambda_calls, run_cli, write_manifest, writes

CALLER = "123456789012"  # the ambient credentials' account (the emulator's default)
ACCOUNTS = ("111111111111", "222222222222", "333333333333")
REGIONS = ("us-east-1", "eu-west-1")
GITHUB = {"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_SHA": "abcdef0123456"}


def _manifest(tmp_path: Path, account: str, role: str, extra: str = "", name: str = "") -> str:
    return write_manifest(
        tmp_path,
        f"""
        version: 1
        regions: [{", ".join(REGIONS)}]
        target:
          account: "{account}"
          role_arn: {role}
          external_id: team-{account[:3]}
        {extra}functions:
          orders:
            aliases: {{prod: {{version: 2}}}}
        """,
        name or f"{account}.yaml",
    )


def _fleet(emulator: EmulatorClient, tmp_path: Path) -> list[str]:
    """Three accounts, each with a role the caller may assume (with an external id) and
    `orders` (2 versions, prod on 1) in both regions; one manifest per account."""
    paths = []
    for account in ACCOUNTS:
        view = emulator.for_account(account)
        role = view.register_role("deployer", [CALLER], external_id=f"team-{account[:3]}")
        for region in REGIONS:
            view.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}], region)
        paths.append(_manifest(tmp_path, account, role))
    return paths


def test_three_accounts_two_regions_plan_apply_then_nothing(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    """One run plans 3 accounts x 2 regions through assumed roles, grouped by account and
    region; the saved plan applies each function in its recorded account, with the role its
    manifest names; the next plan is empty. Each AssumeRole names the run and commit (and
    carries the manifest's external id: the roles require it)."""
    paths = _fleet(emulator, tmp_path)
    out = str(tmp_path / "plan.json")
    emulator.clear_calls()
    r = run_cli(emulator, "plan", *paths, "--out", out, env=GITHUB)
    assert r.returncode == 0, r.stderr
    saved = json.loads(Path(out).read_text())
    got = [(f["account"], f["region"], f["function"]) for f in saved["functions"]]
    assert got == [(a, reg, "orders") for a in ACCOUNTS for reg in sorted(REGIONS)]
    heads = [line for line in r.stdout.splitlines() if line.startswith("── account")]
    assert heads == [f"── account {a}, {reg} ──" for a in ACCOUNTS for reg in sorted(REGIONS)]
    assumed = [c for c in emulator.calls() if c["operation"] == "AssumeRole"]
    assert sorted(c["assumed_account"] for c in assumed) == list(ACCOUNTS)
    assert {c["role_session_name"] for c in assumed} == {"lambda-reconciler-4242-2-abcdef0"}
    assert {c["duration_seconds"] for c in assumed} == {3600}
    by_account = {(c["account"], c["region"]) for c in lambda_calls(emulator)}
    assert by_account == {(a, reg) for a in ACCOUNTS for reg in REGIONS}

    emulator.clear_calls()
    applied = run_cli(emulator, "apply", out)
    assert applied.returncode == 0, applied.stderr
    for account in ACCOUNTS:
        view = emulator.for_account(account)
        for region in REGIONS:
            assert view.state("orders", region)["aliases"]["prod"]["FunctionVersion"] == "2"
    written = sorted((c["account"], c["region"]) for c in lambda_calls(emulator) if c["write"])
    assert written == [(a, reg) for a in ACCOUNTS for reg in sorted(REGIONS)]  # not CALLER's
    again = run_cli(emulator, "plan", *paths, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr


def test_a_wrong_account_is_refused_before_any_lambda_call(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    """Credentials that turn out to be for another account than `target.account` (here the
    ambient ones, for a target without a role) are refused before any Lambda call in any
    account, the other manifest's account included: exit 1, one line at the target. A target
    account outside allowed_account_ids is refused at validation."""
    paths = _fleet(emulator, tmp_path)
    # The third manifest's target: ambient credentials, which are for CALLER, not its account.
    wrong = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        target: {{account: "{ACCOUNTS[2]}"}}
        functions:
          orders: {{aliases: {{prod: {{version: 2}}}}}}
        """,
        "ambient.yaml",
    )
    emulator.clear_calls()
    r = run_cli(emulator, "apply", paths[0], wrong, "--auto-approve")
    assert r.returncode == 1
    assert f"error: {wrong}:3:1: target account {ACCOUNTS[2]}: the ambient credentials gave " in (
        r.stderr
    )
    assert f"for account {CALLER}; nothing was read or written" in r.stderr
    assert "Traceback" not in r.stderr
    assert lambda_calls(emulator) == []

    guarded = _manifest(
        tmp_path,
        ACCOUNTS[0],
        f"arn:aws:iam::{ACCOUNTS[0]}:role/deployer",
        extra=f'allowed_account_ids: ["{ACCOUNTS[1]}"]\n        ',
        name="guarded.yaml",
    )
    r = run_cli(emulator, "plan", guarded)
    assert r.returncode == 1
    assert f"{guarded}:4:12: target.account: target account {ACCOUNTS[0]} is not in " in r.stderr
    assert lambda_calls(emulator) == []


def test_a_role_in_another_account_and_a_refused_assume_role(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    """A role ARN in another account than `target.account` is a validation error at the role;
    an AssumeRole that STS refuses (a wrong external id) exits 1 naming the manifest and the
    role, with nothing read in any account."""
    paths = _fleet(emulator, tmp_path)
    bad = _manifest(
        tmp_path, ACCOUNTS[0], f"arn:aws:iam::{ACCOUNTS[1]}:role/deployer", name="bad.yaml"
    )
    r = run_cli(emulator, "validate", bad)
    assert r.returncode == 1
    assert (
        f"{bad}:5:13: target.role_arn: role arn:aws:iam::{ACCOUNTS[1]}:role/deployer is in "
        f"account {ACCOUNTS[1]}, not in target account {ACCOUNTS[0]}"
    ) in r.stderr
    role = f"arn:aws:iam::{ACCOUNTS[2]}:role/deployer"
    Path(paths[2]).write_text(Path(paths[2]).read_text().replace("team-333", "team-999"))
    emulator.clear_calls()
    r = run_cli(emulator, "plan", *paths)
    assert r.returncode == 1
    (line,) = [x for x in r.stderr.splitlines() if x.startswith("error:")]
    assert line.startswith(f"error: {paths[2]}:3:1: ")
    assert f"assuming role {role}" in line
    assert lambda_calls(emulator) == []


def test_role_chaining_caps_the_session_at_one_hour(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    """Ambient credentials that are themselves a role session ask for at most 3600 s, and -v
    says so."""
    assert chained_duration(7200, "arn:aws:iam::1:user/ci") == 7200
    ci = emulator.for_account(ACCOUNTS[0]).register_role("ci", [CALLER])
    first = emulator.boto3_client("sts").assume_role(RoleArn=ci, RoleSessionName="ci")
    session = emulator.assumed(first["Credentials"], ACCOUNTS[0])
    view = emulator.for_account(ACCOUNTS[1])
    role = view.register_role("deployer", [ci], max_session_duration=7200)
    view.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    m = write_manifest(
        tmp_path,
        f"""
        version: 1
        region: us-east-1
        target: {{account: "{ACCOUNTS[1]}", role_arn: "{role}", session_duration: 7200}}
        functions:
          orders: {{aliases: {{prod: {{version: 2}}}}}}
        """,
    )
    emulator.clear_calls()
    r = run_cli(session, "plan", m, "-v")
    assert r.returncode == 0, r.stderr
    assert "role chaining caps the session of" in r.stderr
    (call,) = [c for c in emulator.calls() if c["operation"] == "AssumeRole"]
    assert (call["duration_seconds"], call["assumed_account"]) == (3600, ACCOUNTS[1])


def test_without_target_the_run_is_unchanged(emulator: EmulatorClient, tmp_path: Path) -> None:
    """No `target:`: no STS call at all, one ungrouped plan, as before."""
    emulator.seed([{"name": "orders", "versions": 2, "aliases": {"prod": 1}}])
    m = write_manifest(
        tmp_path,
        "version: 1\nregion: us-east-1\nfunctions:\n  orders: {aliases: {prod: {version: 2}}}\n",
    )
    emulator.clear_calls()
    r = run_cli(emulator, "apply", m, "--auto-approve")
    assert r.returncode == 0, r.stderr
    assert [c for c in emulator.calls() if c["service"] == "sts"] == []
    assert "── account" not in r.stdout
    assert writes(emulator) == [("UpdateAlias", "orders")]


def test_session_name_outside_github() -> None:
    """Outside GitHub Actions: a UTC timestamp and the process id, only characters STS takes."""
    from datetime import datetime, timezone

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert session_name({}, when, 77) == "lambda-reconciler-20260102T030405Z-77"
    long = session_name({"GITHUB_RUN_ID": "9" * 80, "GITHUB_SHA": "a b"}, when, 1)
    assert len(long) == 64
    assert " " not in long


def test_assumed_credentials_are_assumed_again_before_they_expire(
    emulator: EmulatorClient,
) -> None:
    """A run that outlives its session (a long `apply --wait`) assumes the role again shortly
    before expiry instead of failing on an expired token; a 15-minute session is not assumed
    again on every call."""
    from datetime import datetime, timedelta, timezone

    from reconciler.aws.client import Aws
    from reconciler.aws.sts import AssumeRole
    from tests.cli_helpers import exact_environment

    role = emulator.for_account(ACCOUNTS[0]).register_role("deployer", [CALLER])
    with exact_environment(emulator.env()):
        aws = Aws(region="us-east-1", assume=AssumeRole(role, "refresh-test", duration=900))
        assert aws.account_id() == ACCOUNTS[0]
        aws.list_function_names("us-east-1", "")
        assumed = [c for c in emulator.calls() if c["operation"] == "AssumeRole"]
        assert len(assumed) == 1
        creds: Any = aws._session.get_credentials()
        creds._expiry_time = datetime.now(timezone.utc) + timedelta(seconds=60)
        aws.list_function_names("us-east-1", "")
    assumed = [c for c in emulator.calls() if c["operation"] == "AssumeRole"]
    assert [c["role_session_name"] for c in assumed] == ["refresh-test", "refresh-test"]


def test_apply_wait_drives_rollouts_in_every_account(
    emulator: EmulatorClient, tmp_path: Path
) -> None:
    """`apply --wait` over two accounts: each round plans and applies every account with its
    own credentials, until both rollouts are complete (virtual time: no real sleep)."""
    paths = []
    for account in ACCOUNTS[:2]:
        view = emulator.for_account(account)
        role = view.register_role("deployer", [CALLER])
        view.seed([{"name": "orders", "versions": 3, "aliases": {"prod": 2}}])
        paths.append(
            write_manifest(
                tmp_path,
                f"""
                version: 1
                region: us-east-1
                target: {{account: "{account}", role_arn: "{role}"}}
                functions:
                  orders:
                    aliases: {{prod: {{version: 3, rollout: {{steps: [50%], interval: 2s}}}}}}
                """,
                f"{account}.yaml",
            )
        )
    now = {"LAMBDA_RECONCILER_NOW": "2026-11-01T12:00:00+00:00"}
    r = run_cli(emulator, "apply", *paths, "--auto-approve", "--wait", "--poll", "1s", env=now)
    assert r.returncode == 0, r.stderr
    assert "Wait: every rollout is complete." in r.stderr
    for account in ACCOUNTS[:2]:
        alias = emulator.for_account(account).state("orders")["aliases"]["prod"]
        assert alias["FunctionVersion"] == "3"
        assert not alias.get("RoutingConfig", {}).get("AdditionalVersionWeights")
    moved = sorted(c["account"] for c in lambda_calls(emulator) if c["operation"] == "UpdateAlias")
    assert moved == sorted([ACCOUNTS[0]] * 2 + [ACCOUNTS[1]] * 2)  # 50 %, then 100 %


def test_text_and_markdown_name_the_account_of_a_plan_over_several() -> None:
    """Text: a heading per (account, region) before its functions, once each; Markdown: the
    account in each function's heading (its sections go by risk, not by account)."""
    from dataclasses import replace

    from reconciler.plan import Plan
    from reconciler.render import render
    from tests.render_fixtures import realistic_plan

    base = realistic_plan()
    orders, _, reports, api, _ = base.functions
    other = replace(reports, account=ACCOUNTS[0], region="eu-west-1")
    plan = Plan(functions=(orders, reports, api, other), manifests=base.manifests)
    text = render(plan, "text")
    heads = [line for line in text.splitlines() if line.startswith("── account")]
    assert heads == [
        f"── account {CALLER}, us-east-1 ──",
        f"── account {ACCOUNTS[0]}, eu-west-1 ──",
    ]
    markdown = render(plan, "markdown")
    assert f"#### `reports` (account {ACCOUNTS[0]}, eu-west-1)" in markdown
    assert f"#### `reports` (account {CALLER}, us-east-1)" in markdown
    single = Plan(functions=(orders, reports, api), manifests=base.manifests)
    assert "── account" not in render(single, "text")
    assert "(account " not in render(single, "markdown")


def test_a_function_is_account_region_and_name(tmp_path: Path) -> None:
    """`orders` in us-east-1 of two accounts are two functions; twice in one account-region,
    or once without a known account (it may be either), is a duplicate; `regions:` declares it
    once per region; two manifests reaching one account two ways are refused."""
    import pytest

    from reconciler.manifest import ManifestError, load_manifests

    def manifest(name: str, target: str, region: str = "region: us-east-1") -> str:
        body = f"version: 1\n{region}\n{target}functions:\n  orders: {{}}\n"
        return write_manifest(tmp_path, body, name)

    a = manifest(
        "a.yaml", f'target: {{account: "{ACCOUNTS[0]}"}}\n', "regions: [us-east-1, eu-west-1]"
    )
    b = manifest("b.yaml", f'target: {{account: "{ACCOUNTS[1]}"}}\n')
    loaded = load_manifests([a, b])
    assert [(t.account, t.region) for t in loaded.functions] == [
        (ACCOUNTS[0], "us-east-1"),
        (ACCOUNTS[0], "eu-west-1"),
        (ACCOUNTS[1], "us-east-1"),
    ]
    again = manifest("c.yaml", f'target: {{account: "{ACCOUNTS[1]}"}}\n')
    ambient = manifest("d.yaml", "")
    role = f"arn:aws:iam::{ACCOUNTS[1]}:role/other"
    other_way = manifest(
        "e.yaml", f'target: {{account: "{ACCOUNTS[1]}", role_arn: "{role}"}}\n', "region: us-west-2"
    )
    with pytest.raises(ManifestError) as e:
        load_manifests([a, b, again, ambient, other_way])
    said = [str(d) for d in e.value.diagnostics]
    dup = "functions.orders: function orders in us-east-1"
    assert said[0].startswith(
        f"{again}:5:3: {dup} (account {ACCOUNTS[1]}) is already declared at {b}:5:3"
    )
    assert said[1].startswith(f"{ambient}:4:3: {dup} is already declared at {a}:5:3")
    assert said[2].startswith(
        f"{other_way}:3:1: target: account {ACCOUNTS[1]} is reached another way at {b}:3:1"
    )
    assert len(said) == 3
