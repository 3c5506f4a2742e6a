"""Command-line points from a fleet's first use: repeatable `import --prefix` and
`iam-policy --prefix`, and `--region` checked as a manifest's `region:` is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import run_cli, write_manifest


def test_import_takes_several_prefixes(emulator: Any, tmp_path: Path) -> None:
    """`--prefix a --prefix b` imports the functions of both (before: only the last); a
    prefix that matches nothing is an error naming it."""
    emulator.seed(
        [
            {"name": "shop-cart", "versions": 1, "aliases": {"live": 1}},
            {"name": "billing-run", "versions": 1, "aliases": {"live": 1}},
            {"name": "other", "versions": 1},
        ]
    )
    r = run_cli(emulator, "import", "--prefix", "shop-", "--prefix", "billing-")
    assert r.returncode == 0, r.stderr
    assert "shop-cart:" in r.stdout
    assert "billing-run:" in r.stdout
    assert "other" not in r.stdout
    r = run_cli(emulator, "import", "--prefix", "shop-", "--prefix", "nope-")
    assert r.returncode == 1
    assert "no function name starts with 'nope-'" in r.stderr


def test_iam_policy_scope_prefix_takes_several_prefixes(emulator: Any, tmp_path: Path) -> None:
    """Two teams' prefixes: each function is granted under the prefix that covers it, and a
    function under neither is refused by name."""
    m = write_manifest(
        tmp_path,
        "version: 1\nregion: us-east-1\nfunctions:\n  orders-a: {}\n  orders-b: {}\n"
        "  billing-a: {}\n",
    )
    args = ["iam-policy", m, "--account-id", "123456789012", "--mode", "plan"]
    r = run_cli(emulator, *args, "--prefix", "orders-", "--prefix", "billing-")
    assert r.returncode == 0, r.stderr
    resources = {
        res
        for st in json.loads(r.stdout)["Statement"]
        for res in (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])
    }
    base = "arn:aws:lambda:us-east-1:123456789012:function:"
    assert {base + "orders-*", base + "billing-*"} <= resources
    assert not any(r.endswith(":function:*") for r in resources)
    r = run_cli(emulator, *args, "--prefix", "orders-")
    assert r.returncode == 1
    assert "error: --prefix 'orders-' does not cover billing-a" in r.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "M", "--region", "us-esat-1"],
        ["--region", "us-esat-1", "drift", "M"],
        ["iam-policy", "M", "--region", "us-esat-1"],
    ],
)
def test_a_misspelt_region_on_the_command_line_gets_a_suggestion(
    emulator: Any, tmp_path: Path, args: list[str]
) -> None:
    """`--region us-esat-1` is refused before any AWS call with the manifest's own check and
    suggestion, wherever the option is written."""
    m = write_manifest(tmp_path, "version: 1\nfunctions:\n  orders: {}\n")
    emulator.clear_calls()
    r = run_cli(emulator, *[m if a == "M" else a for a in args])
    assert r.returncode == 1
    assert "unknown region us-esat-1: did you mean us-east-1?" in r.stderr
    assert emulator.calls() == []


def test_a_tag_the_deployer_could_set_itself_is_refused(emulator: Any, tmp_path: Path) -> None:
    """--scope tag checks the policy it generates: a key under the state tags' prefixes, which
    its UntagResource right covers, is refused; a key of your own is not settable by it."""
    from reconciler.iam.policy import can_set_tag

    m = write_manifest(
        tmp_path,
        "version: 1\nregion: us-east-1\nfunctions:\n  orders:\n    aliases:\n"
        "      prod: {version: 1, rollout: {steps: [10%], interval: 5m}}\n",
    )
    args = ["iam-policy", m, "--account-id", "123456789012", "--scope", "tag"]
    r = run_cli(emulator, *args, "--tag", "lambda-reconciler:history:team=a")
    assert r.returncode == 1
    assert "the generated policy could set this tag key itself" in r.stderr
    r = run_cli(emulator, *args, "--tag", "team=shop")
    assert r.returncode == 0, r.stderr
    policy = json.loads(r.stdout)
    assert not can_set_tag(policy, "team")
    assert can_set_tag(policy, "lambda-reconciler:rollout:prod")
    unconditioned = {
        "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}],
    }
    assert can_set_tag(unconditioned, "team")


def test_split_beyond_ten_policies_says_how_to_raise_the_quota(
    emulator: Any, tmp_path: Path
) -> None:
    """--split of a policy needing more than 10 managed policies names the quota to raise and
    the other ways out."""
    body = "version: 1\nregion: us-east-1\nfunctions:\n" + "".join(
        f"  fn-{i:03d}: {{prune_aliases: true, retention: {{keep_last: 5}}, "
        "aliases: {prod: {version: 1}, staging: {version: 1}}}\n"
        for i in range(150)
    )
    m = write_manifest(tmp_path, body)
    r = run_cli(emulator, "iam-policy", m, "--account-id", "123456789012", "--split")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)) > 10
    assert 'Service Quotas increase of IAM\'s "Managed policies per role"' in r.stderr
