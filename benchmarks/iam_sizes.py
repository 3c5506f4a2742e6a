"""Sizes of the `iam-policy` output for fleets of 1, 50, 200 and 1,000 functions, in each form.

    python -m benchmarks.iam_sizes

Each function is declared the way a production fleet usually is: `publish: true`,
`prune_aliases: true`, aliases `prod` and `staging`, `retention: {keep_last: 10}`, named
`shop-fn-NNNN` in one account and region. Sizes are what IAM counts (the JSON without white
space) against its limits: 6,144 characters for a managed policy, 10,240 for all inline policies
of a role together. Nothing is applied; the policies are only generated and measured.
"""

from __future__ import annotations

from reconciler.iam.policy import (
    INLINE_ROLE_LIMIT,
    MANAGED_POLICY_LIMIT,
    Mode,
    policy_for,
    policy_size,
    split_policy,
)
from reconciler.manifest import load_manifest_text

SIZES = (1, 50, 200, 1000)


def fleet_manifest(n: int) -> str:
    lines = [
        "version: 1",
        "region: us-east-1",
        'allowed_account_ids: ["123456789012"]',
        "defaults:",
        "  publish: true",
        "  prune_aliases: true",
        "  retention: {keep_last: 10}",
        "functions:",
    ]
    for i in range(n):
        lines += [
            f"  shop-fn-{i:04d}:",
            "    aliases:",
            "      prod: {version: latest}",
            "      staging: {version: latest}",
        ]
    return "\n".join(lines) + "\n"


def row(n: int, mode: Mode) -> list[str]:
    targets = load_manifest_text(fleet_manifest(n), f"fleet-{n}.yaml").functions
    exact = policy_for(targets, mode)
    prefix = policy_for(targets, mode, scope="prefix")
    tag = policy_for(targets, mode, scope="tag", tag=("team", "shop"))
    split = split_policy(exact, MANAGED_POLICY_LIMIT)
    return [
        f"{n:,}",
        mode,
        f"{policy_size(exact):,}",
        f"{policy_size(prefix):,}",
        f"{policy_size(tag):,}",
        f"{len(split)} (largest {max(policy_size(p) for p in split):,})",
    ]


def main() -> None:
    head = ["functions", "mode", "exact", "--scope prefix", "--scope tag", "--split: policies"]
    rows = [row(n, mode) for n in SIZES for mode in ("plan", "apply")]
    print(f"limits: managed policy {MANAGED_POLICY_LIMIT:,}, inline per role {INLINE_ROLE_LIMIT:,}")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---:" if i != 1 else "---" for i in range(len(head))) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
