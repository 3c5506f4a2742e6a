"""`iam-policy`: the least-privilege IAM policy for running plan or apply on given manifests.

Only the actions the run can make, on the exact function ARNs and their qualified forms
(`name:*`: versions and aliases). What guards, retention and rollouts need is added only when a
manifest uses them. `sts:GetCallerIdentity` needs no permission (AWS always allows it), so the
account guard adds nothing.

| needed for            | actions                                                      |
|-----------------------|--------------------------------------------------------------|
| every plan            | lambda:ListVersionsByFunction, lambda:ListAliases             |
| `publish: true`       | lambda:GetFunction (waits for an in-progress update)          |
| `retention`           | lambda:ListProvisionedConcurrencyConfigs;                     |
|                       | lambda:ListEventSourceMappings (on "*": no resource-level form)|
| `rollout`             | lambda:ListTags; cloudwatch:DescribeAlarms (on "*")           |
| `prune_aliases: true` | lambda:GetProvisionedConcurrencyConfig, lambda:GetPolicy,     |
|                       | lambda:GetFunctionUrlConfig; lambda:ListEventSourceMappings   |
| apply                 | lambda:CreateAlias, lambda:UpdateAlias                        |
| apply + publish       | lambda:PublishVersion                                         |
| apply + prune_aliases | lambda:DeleteAlias                                            |
| apply + retention     | lambda:DeleteFunction (only ever sent with a version qualifier)|
| apply + rollout       | lambda:TagResource                                            |
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

from reconciler.manifest import FunctionTarget

Mode = Literal["plan", "apply"]


def function_arn(t: FunctionTarget, region: str | None, account: str | None) -> str:
    if t.key.startswith("arn:"):
        return t.key
    partition = "aws"
    reg = t.region or region or "*"
    if reg.startswith("cn-"):
        partition = "aws-cn"
    elif reg.startswith("us-gov-"):
        partition = "aws-us-gov"
    if account is None and t.allowed_account_ids is not None and len(t.allowed_account_ids) == 1:
        account = next(iter(t.allowed_account_ids))
    return f"arn:{partition}:lambda:{reg}:{t.account or account or '*'}:function:{t.name}"


def actions_for(t: FunctionTarget, mode: Mode) -> set[str]:
    spec = t.spec
    rollout = any(a.rollout is not None for a in spec.aliases.values())
    actions = {"lambda:ListVersionsByFunction", "lambda:ListAliases"}
    if spec.publish:
        actions.add("lambda:GetFunction")
    if spec.retention is not None:
        actions.add("lambda:ListProvisionedConcurrencyConfigs")
    if rollout:
        actions.add("lambda:ListTags")
    if spec.prune_aliases is True:  # what hangs on an alias about to be pruned can veto it
        actions |= {
            "lambda:GetProvisionedConcurrencyConfig",
            "lambda:GetPolicy",
            "lambda:GetFunctionUrlConfig",
        }
    if mode == "apply":
        actions |= {"lambda:CreateAlias", "lambda:UpdateAlias"}
        if spec.publish:
            actions.add("lambda:PublishVersion")
        if spec.prune_aliases:
            actions.add("lambda:DeleteAlias")
        if spec.retention is not None:
            actions.add("lambda:DeleteFunction")
        if rollout:
            actions.add("lambda:TagResource")
    return actions


def policy_for(
    targets: Sequence[FunctionTarget],
    mode: Mode,
    *,
    region: str | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """Group functions by the exact action set they need: one statement per group."""
    groups: dict[tuple[str, ...], list[str]] = {}
    wildcard: set[str] = set()
    for t in targets:
        arn = function_arn(t, region, account)
        acts = tuple(sorted(actions_for(t, mode)))
        resources = groups.setdefault(acts, [])
        resources.extend(r for r in (arn, f"{arn}:*") if r not in resources)
        if t.spec.retention is not None or t.spec.prune_aliases is True:
            wildcard.add("lambda:ListEventSourceMappings")
        if any(a.rollout is not None for a in t.spec.aliases.values()):
            wildcard.add("cloudwatch:DescribeAlarms")
    statements: list[dict[str, Any]] = []
    for i, (acts, resources) in enumerate(sorted(groups.items())):
        statements.append(
            {
                "Sid": f"LambdaReconciler{mode.capitalize()}{i + 1}",
                "Effect": "Allow",
                "Action": list(acts),
                "Resource": sorted(resources),
            }
        )
    if wildcard:
        statements.append(
            {
                "Sid": "LambdaReconcilerUnscopedReads",
                "Effect": "Allow",
                "Action": sorted(wildcard),
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def policy_text(policy: dict[str, Any]) -> str:
    return json.dumps(policy, indent=2) + "\n"
