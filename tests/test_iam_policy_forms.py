"""`iam-policy` in each form (exact ARNs, `--scope prefix`, `--scope tag`, `--split`), proven
against the emulator with IAM enforced: the holder of the generated apply policy can run apply
to convergence, every action in it is needed, and what it must not do is refused — deleting a
whole function, touching an alias or function the manifests do not manage, changing tags other
than the rollout state."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from emulator.fixtures import create_alarm, update_code
from tests.cli_helpers import run_cli, write_manifest

ACCOUNT = "123456789012"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"

FLEET_MANIFEST = """
version: 1
region: us-east-1
allowed_account_ids: ["123456789012"]
functions:
  shop-orders:
    publish: true
    prune_aliases: true
    aliases:
      prod: {version: latest}
      staging: {version: 2}
    retention: {keep_last: 2}
  shop-cart:
    aliases:
      live:
        version: 3
        rollout: {steps: [10%], interval: 10m, alarms: [cart-errors]}
"""

# The forms: extra iam-policy options, and whether the result is a list of managed policies.
FORMS: dict[str, tuple[list[str], bool]] = {
    "exact": ([], False),
    "prefix": (["--scope", "prefix"], False),
    "tag": (["--scope", "tag", "--tag", "team=shop"], False),
    "split": (["--split", "--max-size", "500"], True),
}
SPLIT_SIZE = 500
MODES = ("apply", "plan")


def _arrange(emulator: Any) -> None:
    """shop-orders and shop-cart are managed (and tagged team=shop); shop-legacy shares their
    prefix but no manifest names it; billing is unrelated. Each has an alias nobody declares."""
    emulator.seed(
        [
            {"name": "shop-orders", "versions": 4, "aliases": {"prod": 1, "beta": 1}},
            {"name": "shop-cart", "versions": 3, "aliases": {"live": 2, "adhoc": 1}},
            {"name": "shop-legacy", "versions": 2, "aliases": {"live": 1}},
            {"name": "billing", "versions": 2, "aliases": {"live": 1}},
        ]
    )
    client = emulator.boto3_client("lambda")
    update_code(client, "shop-orders", "next")
    for name in ("shop-orders", "shop-cart"):
        client.tag_resource(Resource=ARN + name, Tags={"team": "shop"})
    # an earlier release's history tag: apply migrates it into the record and removes it
    client.tag_resource(Resource=ARN + "shop-orders", Tags={"lambda-reconciler:history:prod": "2"})
    create_alarm(emulator.boto3_client("cloudwatch"), "cart-errors")


def _policies(emulator: Any, manifest: str, form: str, mode: str = "apply") -> list[dict[str, Any]]:
    extra, split = FORMS[form]
    r = run_cli(emulator, "iam-policy", manifest, "--mode", mode, *extra)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    return list(out) if split else [out]


def _holder(emulator: Any, policies: list[dict[str, Any]], managed: bool) -> dict[str, str]:
    """A user holding exactly `policies`: attached managed policies or inline ones."""
    iam = emulator.boto3_client("iam")
    iam.create_user(UserName="deployer")
    for i, policy in enumerate(policies):
        document = json.dumps(policy)
        if managed:
            arn = iam.create_policy(PolicyName=f"reconciler-{i}", PolicyDocument=document)
            iam.attach_user_policy(UserName="deployer", PolicyArn=arn["Policy"]["Arn"])
        else:
            iam.put_user_policy(UserName="deployer", PolicyName=f"p{i}", PolicyDocument=document)
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_SESSION_TOKEN": "",
    }


def _run_as(
    emulator: Any,
    policies: list[dict[str, Any]],
    managed: bool,
    arrange: Callable[[], None],
    *args: str,
) -> Any:
    """The CLI as the holder of `policies` on a freshly arranged emulator, IAM enforced; the
    call log then holds this run's calls only."""
    emulator.reset()
    arrange()
    creds = _holder(emulator, policies, managed)
    emulator.clear_calls()
    emulator.enforce_iam(True)
    try:
        return run_cli(emulator, *args, env=creds)
    finally:
        emulator.enforce_iam(False)


def _without(policies: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    """The policies with one action removed from every Allow statement."""
    out = []
    for p in policies:
        statements = [
            {**st, "Action": [a for a in st["Action"] if a != action or st["Effect"] == "Deny"]}
            for st in p["Statement"]
        ]
        out.append(
            {"Version": p["Version"], "Statement": [st for st in statements if st["Action"]]}
        )
    return out


def _allowed_actions(policies: list[dict[str, Any]]) -> list[str]:
    return sorted(
        {
            a
            for p in policies
            for st in p["Statement"]
            if st["Effect"] == "Allow"
            for a in st["Action"]
        }
    )


def _lambda_as(emulator: Any, creds: dict[str, str]) -> Any:
    return boto3.client(
        "lambda",
        region_name="us-east-1",
        endpoint_url=emulator.url,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
    )


def _outcome(call: Callable[[], Any]) -> str:
    """ "allowed" when IAM let the call through (whatever Lambda answered), else "denied"."""
    try:
        call()
    except ClientError as e:
        if e.response["Error"]["Code"] == "AccessDeniedException":
            return "denied"
    return "allowed"


@pytest.mark.parametrize(("form", "mode"), [(f, m) for f in sorted(FORMS) for m in MODES])
def test_policy_form_is_enough_and_every_action_is_needed(
    emulator: Any, tmp_path: Path, form: str, mode: str
) -> None:
    """In every form, a user holding exactly the generated policy runs plan, or apply to
    convergence (publish, create/update/delete aliases, version pruning, a rollout step), with
    no call refused; and every Lambda action the policy allows was used by an authorized call
    of that run, so without any one of them the run would be refused. (Removing each action in
    turn and watching the run fail is `test_cli_import_iam`'s proof for the exact form; here
    the call log proves the same for every form at the cost of one run.)"""
    m = write_manifest(tmp_path, FLEET_MANIFEST)
    policies = _policies(emulator, m, form, mode)
    managed = FORMS[form][1]
    if form == "split":
        assert len(policies) > 1
        assert all(len(json.dumps(p, separators=(",", ":"))) <= SPLIT_SIZE for p in policies)
    command = ["apply", m, "--auto-approve"] if mode == "apply" else ["plan", m]
    r = _run_as(emulator, policies, managed, lambda: _arrange(emulator), *command)
    assert r.returncode == {"apply": 0, "plan": 0}[mode], r.stdout + r.stderr
    calls = [c for c in emulator.calls() if c.get("service") == "lambda"]
    assert [c for c in calls if int(c["status"]) == 403] == []
    # Authorized means not refused: a 404 (no policy on an alias, say) was allowed and used.
    used = {f"lambda:{c['operation']}" for c in calls if int(c["status"]) != 403}
    allowed = [a for a in _allowed_actions(policies) if a.startswith("lambda:")]
    assert sorted(used) == allowed
    assert len(allowed) == {"apply": 16, "plan": 10}[mode]
    if mode == "apply":
        assert set(emulator.state("shop-cart")["aliases"]) == {"live", "adhoc"}
        assert set(emulator.state("shop-orders")["aliases"]) == {"prod", "staging"}
        emulator.enforce_iam(True)
        try:
            again = run_cli(emulator, "plan", m, "--detailed-exitcode", env=_holder_env(emulator))
        finally:
            emulator.enforce_iam(False)
        assert again.returncode == 0, again.stdout + again.stderr


def _holder_env(emulator: Any) -> dict[str, str]:
    """The existing deployer's second access key (the user and its policies stay as they are)."""
    key = emulator.boto3_client("iam").create_access_key(UserName="deployer")["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        "AWS_SESSION_TOKEN": "",
    }


# What the holder of each form may do beyond apply's own calls, per form in the order
# exact, prefix, split, tag: "denied" everywhere except where a compact form knowingly grants
# more (documented in the README).
BEYOND = {
    "delete whole shop-orders": ("denied", "denied", "denied", "denied"),
    "delete whole shop-cart": ("denied", "denied", "denied", "denied"),
    "delete version of billing": ("denied", "denied", "denied", "denied"),
    "delete alias of billing": ("denied", "denied", "denied", "denied"),
    "publish billing": ("denied", "denied", "denied", "denied"),
    "delete unmanaged alias of shop-cart": ("denied", "allowed", "denied", "allowed"),
    "update unmanaged alias of shop-cart": ("denied", "allowed", "denied", "allowed"),
    "delete declared alias of shop-orders": ("denied", "allowed", "denied", "allowed"),
    "delete version of shop-legacy": ("denied", "allowed", "denied", "denied"),
    "tag shop-cart with another key": ("denied", "denied", "denied", "denied"),
    "untag team from shop-cart": ("denied", "denied", "denied", "denied"),
    "tag billing into the team": ("denied", "denied", "denied", "denied"),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_apply_policy_form_allows_nothing_more(emulator: Any, tmp_path: Path, form: str) -> None:
    """No form lets its holder delete a whole function, touch a function outside the
    manifests' reach, or change tags other than the rollout state; only the compact forms reach
    unmanaged aliases (and `--scope prefix` unlisted functions under its prefix)."""
    m = write_manifest(tmp_path, FLEET_MANIFEST)
    policies = _policies(emulator, m, form)
    _arrange(emulator)
    creds = _holder(emulator, policies, FORMS[form][1])
    client = _lambda_as(emulator, creds)
    attempts: dict[str, Callable[[], Any]] = {
        "delete whole shop-orders": lambda: client.delete_function(FunctionName="shop-orders"),
        "delete whole shop-cart": lambda: client.delete_function(FunctionName=ARN + "shop-cart"),
        "delete version of billing": lambda: client.delete_function(
            FunctionName="billing", Qualifier="1"
        ),
        "delete alias of billing": lambda: client.delete_alias(FunctionName="billing", Name="live"),
        "publish billing": lambda: client.publish_version(FunctionName="billing"),
        "delete unmanaged alias of shop-cart": lambda: client.delete_alias(
            FunctionName="shop-cart", Name="adhoc"
        ),
        "update unmanaged alias of shop-cart": lambda: client.update_alias(
            FunctionName="shop-cart", Name="adhoc", Description="x"
        ),
        "delete declared alias of shop-orders": lambda: client.delete_alias(
            FunctionName="shop-orders", Name="prod"
        ),
        "delete version of shop-legacy": lambda: client.delete_function(
            FunctionName="shop-legacy", Qualifier="2"
        ),
        "tag shop-cart with another key": lambda: client.tag_resource(
            Resource=ARN + "shop-cart", Tags={"owner": "me"}
        ),
        "untag team from shop-cart": lambda: client.untag_resource(
            Resource=ARN + "shop-cart", TagKeys=["team"]
        ),
        "tag billing into the team": lambda: client.tag_resource(
            Resource=ARN + "billing", Tags={"team": "shop"}
        ),
    }
    column = sorted(FORMS).index(form)
    emulator.enforce_iam(True)
    try:
        actual = {what: _outcome(call) for what, call in attempts.items()}
    finally:
        emulator.enforce_iam(False)
    expected = {what: BEYOND[what][column] for what in attempts}
    assert expected == actual


def _fleet(n: int) -> str:
    body = "\n".join(
        f"  shop-fn-{i:03d}:\n    prune_aliases: true\n    retention: {{keep_last: 5}}\n"
        f"    aliases: {{prod: {{version: 1}}, staging: {{version: 1}}}}"
        for i in range(n)
    )
    head = 'version: 1\nregion: us-east-1\nallowed_account_ids: ["123456789012"]\nfunctions:\n'
    return f"{head}{body}\n"


def test_size_is_measured_and_too_large_a_policy_is_warned_about(
    emulator: Any, tmp_path: Path
) -> None:
    """A policy larger than a managed policy may be gets a warning on standard error naming the
    limits and the compact forms; --split then prints policies that each fit, and the compact
    forms stay small."""
    from reconciler.iam.policy import MANAGED_POLICY_LIMIT, policy_size

    m = write_manifest(tmp_path, _fleet(40))
    r = run_cli(emulator, "iam-policy", m)
    assert r.returncode == 0, r.stderr
    size = policy_size(json.loads(r.stdout))
    assert size > 10240
    assert r.stderr == (
        f"warning: the policy is {size:,} characters (white space not counted): more than IAM "
        "accepts, 6,144 for a managed policy and 10,240 for all inline policies of a role "
        "together; use --split, --scope prefix or --scope tag\n"
    )
    r = run_cli(emulator, "iam-policy", m, "--split")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    parts = json.loads(r.stdout)
    assert len(parts) > 1
    assert all(policy_size(p) <= MANAGED_POLICY_LIMIT for p in parts)
    whole = json.loads(run_cli(emulator, "iam-policy", m).stdout)

    def grants(policies: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
        return {
            (st["Effect"], a, r)
            for p in policies
            for st in p["Statement"]
            for a in st["Action"]
            for r in (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])
        }

    assert grants(parts) == grants([whole])
    for scope in (["--scope", "prefix"], ["--scope", "tag", "--tag", "team=shop"]):
        r = run_cli(emulator, "iam-policy", m, *scope)
        assert r.returncode == 0, r.stderr
        assert policy_size(json.loads(r.stdout)) < 1200
        assert "grants on every function" in r.stderr
        assert "characters" not in r.stderr


def test_compact_forms_refuse_what_they_cannot_scope(emulator: Any, tmp_path: Path) -> None:
    """--scope prefix refuses names without a common prefix and a --prefix that misses one;
    --scope tag needs --tag and refuses the rollout tag keys; a policy with no account says
    so."""
    m = write_manifest(
        tmp_path, "version: 1\nregion: us-east-1\nfunctions:\n  orders: {}\n  billing: {}\n"
    )
    r = run_cli(emulator, "iam-policy", m, "--scope", "prefix", "--account-id", "123456789012")
    assert r.returncode == 1
    assert "no common prefix" in r.stderr
    r = run_cli(emulator, "iam-policy", m, "--prefix", "ord", "--account-id", "123456789012")
    assert r.returncode == 1
    assert "error: --prefix 'ord' does not cover billing" in r.stderr
    r = run_cli(emulator, "iam-policy", m, "--scope", "tag")
    assert r.returncode == 1
    assert "--scope tag needs --tag KEY=VALUE" in r.stderr
    r = run_cli(emulator, "iam-policy", m, "--tag", "lambda-reconciler:rollout:x=1")
    assert r.returncode == 1
    assert "choose a tag key of your own" in r.stderr
    r = run_cli(emulator, "iam-policy", m, "--mode", "plan")
    assert r.returncode == 0
    assert "no account given" in r.stderr
    assert "arn:aws:lambda:us-east-1:*:function:orders" in r.stdout
