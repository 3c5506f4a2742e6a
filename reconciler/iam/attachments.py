"""The actions an alias's declared attachments need (`url`, `async`, `permissions`), only for
functions whose manifest declares the key: each is authorized on the alias's ARN and granted on
`function:NAME:*` with the other qualified actions, ListFunctionEventInvokeConfigs on the
function. Destinations need no iam:PassRole: Lambda sends to them with the function's role.
Also the alias-bypass audit's reads (a canary or a rollout), and CloudFront's distributions for
retention in us-east-1 (Lambda@Edge versions it keeps; a region left to the SDK is not granted
it, and apply then keeps what AWS refuses to delete as replicated)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from reconciler.manifest import FunctionSpec, FunctionTarget

if TYPE_CHECKING:
    from reconciler.iam.policy import Mode, Needs


def attachment_actions(
    spec: FunctionSpec, mode: Literal["plan", "apply"], region: str | None
) -> tuple[set[str], set[str], set[str]]:
    """(actions on function:NAME, on function:NAME:*, on *)."""
    aliases = spec.aliases.values()
    function: set[str] = set()
    qualified: set[str] = set()
    unscoped: set[str] = set()
    if spec.retention is not None and region == "us-east-1":
        # Lambda@Edge: the versions CloudFront uses are kept (optional: without it, apply
        # keeps what AWS refuses to delete as replicated)
        unscoped.add("cloudfront:ListDistributions")
    if any(a.canary is not None or a.rollout is not None for a in aliases):
        # the alias-bypass audit: the function's own policy, the mappings on it and its aliases
        function.add("lambda:GetPolicy")
        unscoped.add("lambda:ListEventSourceMappings")
    apply = mode == "apply"
    if any(a.declares_url for a in aliases):
        qualified.add("lambda:GetFunctionUrlConfig")
        if apply:
            qualified |= {
                "lambda:CreateFunctionUrlConfig",
                "lambda:UpdateFunctionUrlConfig",
                "lambda:DeleteFunctionUrlConfig",
            }
    if any(a.declares_async for a in aliases):
        function.add("lambda:ListFunctionEventInvokeConfigs")
        if apply:  # read again right before a write
            qualified |= {
                "lambda:GetFunctionEventInvokeConfig",
                "lambda:PutFunctionEventInvokeConfig",
                "lambda:DeleteFunctionEventInvokeConfig",
            }
    if any(a.declares_permissions for a in aliases):
        qualified.add("lambda:GetPolicy")
        if apply:
            qualified |= {"lambda:AddPermission", "lambda:RemovePermission"}
    return function, qualified, unscoped


def capacity_needs(t: FunctionTarget, mode: Mode, n: Needs) -> None:
    """`provisioned_concurrency`: configs listed; Put/Delete on alias or version (apply)."""
    if any(a.provisioned_concurrency is not None for a in t.spec.aliases.values()):
        n.function.add("lambda:ListProvisionedConcurrencyConfigs")
        if mode == "apply":
            n.qualified |= {f"lambda:{v}ProvisionedConcurrencyConfig" for v in ("Put", "Delete")}
