"""`iam-policy`: the least-privilege IAM policy for running plan or apply on given manifests.

Only the actions the run can make, each on the narrowest resource Lambda authorizes it against.
Lambda checks an action on a version or alias against the qualified ARN (`function:NAME:Q`), and
everything else against the unqualified one (`function:NAME`); `function:NAME:*` matches every
qualified ARN of the function but not the function itself. So:

- `Functions` on `function:NAME`: ListVersionsByFunction and ListAliases (every run), GetFunction
  (`publish`), ListProvisionedConcurrencyConfigs (`retention`, `provisioned_concurrency`),
  ListTags (`rollout`, aliases, `retention`: the rollout state and alias history); for apply
  also PublishVersion (`publish`) and CreateAlias (declared aliases).
- `Aliases` on `function:NAME:ALIAS`, declared aliases only: UpdateAlias (apply).
- `VersionsAndAliases` on `function:NAME:*`: DeleteFunction (apply + `retention`; only ever sent
  with a version qualifier) and DeleteAlias (apply + `prune_aliases`); with `prune_aliases:
  true`, GetProvisionedConcurrencyConfig, GetPolicy and GetFunctionUrlConfig of the aliases
  about to be deleted (plan and apply), which can veto the deletion; with
  `provisioned_concurrency` on an alias, Put/DeleteProvisionedConcurrencyConfig (apply; on the
  alias, or on a version where the capacity lives).
- `KeepDeclaredAliases`: Deny DeleteAlias on the declared aliases (`prune_aliases` deletes only
  the others).
- `StateTags` on `function:NAME`: UntagResource, for tag keys `lambda-reconciler:rollout:*` and
  `lambda-reconciler:history:*` only (apply + `rollout` or declared aliases): removing an
  earlier release's state once it is migrated into the alias record. No TagResource: the
  rollout state and alias history are written with the alias itself (UpdateAlias).
- `Unscoped` on `*` (no resource-level form exists): ListEventSourceMappings (`retention`,
  `prune_aliases: true`),
  cloudwatch:DescribeAlarms (`rollout`).

`sts:GetCallerIdentity` needs no permission (AWS always allows it), so the account guard adds
nothing. Whole functions are never deletable: DeleteFunction is granted on `NAME:*` only.

Forms, for fleets whose exact policy is larger than IAM accepts (`policy_size` counts the
characters IAM counts: the JSON without white space):

- `scope="prefix"`: the same statements on `function:PREFIX*` and `function:PREFIX*:*`, with the
  actions of all functions together. Covers every function whose name starts with the prefix,
  including ones no manifest names, and ones created later.
- `scope="tag"`: the same statements on `function:*` and `function:*:*` with an
  `aws:ResourceTag/KEY` condition (every Lambda function action the reconciler uses supports it;
  ListEventSourceMappings and DescribeAlarms have no resource and stay in `Unscoped`). Covers
  every function that carries the tag, now or later.
- `split_policy`: the exact policy cut into several, each within the managed-policy limit.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.engine import AUTO_MIN_FUNCTIONS, sweepable
from reconciler.errors import ReconcilerError
from reconciler.iam.attachments import attachment_actions, capacity_needs
from reconciler.iam.events import event_buses
from reconciler.manifest import FunctionTarget, LayerTarget
from reconciler.planning import HISTORY_PREFIX, TAG_PREFIX

Mode = Literal["plan", "apply"]
Scope = Literal["exact", "prefix", "tag"]

MANAGED_POLICY_LIMIT = 6144  # characters of a customer managed policy, white space not counted
INLINE_ROLE_LIMIT = 10240  # characters of all inline policies of one role together
MANAGED_POLICIES_PER_ROLE = 10  # attached managed policies per role by default (20 on request)


@dataclass
class Needs:
    """What one function's run needs, by the kind of resource each action is checked on."""

    function: set[str] = field(default_factory=set)  # on function:NAME
    aliases: set[str] = field(default_factory=set)  # on function:NAME:ALIAS, declared aliases
    qualified: set[str] = field(default_factory=set)  # on function:NAME:*
    tag: bool = False  # UntagResource, the earlier release's tag keys only, on function:NAME
    keep_declared: bool = False  # deny DeleteAlias on the declared aliases
    unscoped: set[str] = field(default_factory=set)  # on "*"


def needs_for(t: FunctionTarget, mode: Mode) -> Needs:
    spec = t.spec
    rollout = any(a.rollout is not None for a in spec.aliases.values())
    n = Needs(function={"lambda:ListVersionsByFunction", "lambda:ListAliases"})
    if spec.publish:
        n.function.add("lambda:GetFunction")
    if spec.retention is not None:
        n.function.add("lambda:ListProvisionedConcurrencyConfigs")
        n.unscoped.add("lambda:ListEventSourceMappings")
    if rollout or spec.aliases or spec.retention is not None:
        # an earlier release's rollout state and alias history, migrated into the records
        # (read for rollouts, for functions that may lose a version, and by `rollback`)
        n.function.add("lambda:ListTags")
    if rollout:
        n.unscoped.add("cloudwatch:DescribeAlarms")
    if any(a.rollout is not None and a.rollout.gates for a in spec.aliases.values()):
        n.unscoped.add("cloudwatch:GetMetricData")  # metric gates: no resource-level scoping
    if spec.prune_aliases is True:  # what hangs on an alias about to be pruned can veto it
        n.qualified |= {
            "lambda:GetProvisionedConcurrencyConfig",
            "lambda:GetPolicy",
            "lambda:GetFunctionUrlConfig",
        }
        n.unscoped.add("lambda:ListEventSourceMappings")
    attached = attachment_actions(spec, mode, t.region)  # attachments, audit, Edge
    n.function |= attached[0]
    n.qualified |= attached[1]
    n.unscoped |= attached[2]
    if mode == "apply":
        if spec.publish:
            n.function.add("lambda:PublishVersion")
        if spec.aliases:
            n.function.add("lambda:CreateAlias")
            n.aliases.add("lambda:UpdateAlias")
        if spec.prune_aliases:
            n.qualified.add("lambda:DeleteAlias")
            n.keep_declared = bool(spec.aliases)
        if spec.retention is not None:
            n.qualified.add("lambda:DeleteFunction")
        n.tag = rollout or bool(spec.aliases)  # removing an earlier release's state tags
    capacity_needs(t, mode, n)
    return n


def actions_for(t: FunctionTarget, mode: Mode) -> set[str]:
    """Every action one function's run needs."""
    n = needs_for(t, mode)
    return (
        n.function
        | n.aliases
        | n.qualified
        | n.unscoped
        | ({"lambda:UntagResource"} if n.tag else set())
    )


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _base(t: FunctionTarget, region: str | None, account: str | None) -> str:
    """`arn:PARTITION:lambda:REGION:ACCOUNT:function:` for the function."""
    reg = t.region or region or "*"
    if account is None and t.allowed_account_ids is not None and len(t.allowed_account_ids) == 1:
        account = next(iter(t.allowed_account_ids))
    return f"arn:{_partition(reg)}:lambda:{reg}:{t.account or account or '*'}:function:"


def function_arn(t: FunctionTarget, region: str | None, account: str | None) -> str:
    if t.key.startswith("arn:"):
        return t.key
    return _base(t, region, account) + t.name


def _statement(
    sid: str,
    actions: Sequence[str] | set[str],
    resources: Sequence[str],
    *,
    effect: str = "Allow",
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    st: dict[str, Any] = {
        "Sid": sid,
        "Effect": effect,
        "Action": sorted(actions),
        "Resource": list(resources) if len(resources) != 1 or resources[0] != "*" else "*",
    }
    if condition:
        st["Condition"] = condition
    return st


def _tag_condition() -> dict[str, Any]:
    return {"ForAllValues:StringLike": {"aws:TagKeys": [TAG_PREFIX + "*", HISTORY_PREFIX + "*"]}}


def _numbered(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sids must be unique within a policy: number the ones that repeat."""
    counts: dict[str, int] = {}
    for st in statements:
        counts[st["Sid"]] = counts.get(st["Sid"], 0) + 1
    seen: dict[str, int] = {}
    for st in statements:
        sid = st["Sid"]
        if counts[sid] > 1:
            seen[sid] = seen.get(sid, 0) + 1
            st["Sid"] = f"{sid}{seen[sid]}"
    return statements


def _exact(
    targets: Sequence[FunctionTarget], mode: Mode, region: str | None, account: str | None
) -> list[dict[str, Any]]:
    by_function: dict[tuple[str, ...], list[str]] = {}
    by_qualified: dict[tuple[str, ...], list[str]] = {}
    aliases: list[str] = []
    keep: list[str] = []
    tagged: list[str] = []
    unscoped: set[str] = set()
    for t in targets:
        n = needs_for(t, mode)
        arn = function_arn(t, region, account)
        by_function.setdefault(tuple(sorted(n.function)), []).append(arn)
        if n.aliases:
            aliases.extend(f"{arn}:{a}" for a in t.spec.aliases)
        if n.qualified:
            by_qualified.setdefault(tuple(sorted(n.qualified)), []).append(f"{arn}:*")
        if n.keep_declared:
            keep.extend(f"{arn}:{a}" for a in t.spec.aliases)
        if n.tag:
            tagged.append(arn)
        unscoped |= n.unscoped
    statements = [
        _statement("Functions", acts, _unique(arns)) for acts, arns in sorted(by_function.items())
    ]
    if aliases:
        statements.append(_statement("Aliases", ["lambda:UpdateAlias"], _unique(aliases)))
    statements += [
        _statement("VersionsAndAliases", acts, _unique(arns))
        for acts, arns in sorted(by_qualified.items())
    ]
    if keep:
        statements.append(
            _statement("KeepDeclaredAliases", ["lambda:DeleteAlias"], _unique(keep), effect="Deny")
        )
    if tagged:
        statements.append(
            _statement(
                "StateTags",
                ["lambda:UntagResource"],
                _unique(tagged),
                condition=_tag_condition(),
            )
        )
    if unscoped:
        statements.append(_statement("Unscoped", unscoped, ["*"]))
    return statements


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def common_prefix(names: Sequence[str]) -> str:
    """The longest string every name starts with (character by character, not by path)."""
    if not names:
        return ""
    lo, hi = min(names), max(names)
    i = 0
    while i < len(lo) and lo[i] == hi[i]:
        i += 1
    return lo[:i]


def _prefix_patterns(
    base: str, members: Sequence[FunctionTarget], prefixes: Sequence[str]
) -> dict[str, str]:
    """Function name → the `PREFIX*` that covers it (the longest of `prefixes` it starts with,
    or the names' common prefix when none is given), for one partition/region/account; or
    why not."""
    given = list(prefixes) or [common_prefix([t.name for t in members])]
    out: dict[str, str] = {}
    outside: list[str] = []
    for t in members:
        matching = [p for p in given if t.name.startswith(p)]
        if matching:
            out[t.name] = max(matching, key=len) + "*"
        else:
            outside.append(t.name)
    if outside:
        said = ", ".join(repr(p) for p in given)
        raise ReconcilerError(f"--prefix {said} does not cover {', '.join(outside)}")
    if "" in given:
        raise ReconcilerError(
            "the functions' names have no common prefix, so --scope prefix would "
            f"grant on every function of {base.rstrip(':')}; name prefixes with --prefix "
            "(repeatable), or use --scope tag or --split"
        )
    return out


def _compact(
    targets: Sequence[FunctionTarget],
    mode: Mode,
    region: str | None,
    account: str | None,
    *,
    prefixes: Sequence[str],
    tag: tuple[str, str] | None,
) -> list[dict[str, Any]]:
    """One set of statements per partition/region/account, with the actions of all its
    functions together, on a name pattern (`prefix`) or on every function with a tag (`tag`)."""
    groups: dict[str, list[FunctionTarget]] = {}
    for t in targets:
        base = _base(t, region, account) if not t.key.startswith("arn:") else t.key[: -len(t.name)]
        groups.setdefault(base, []).append(t)
    function: dict[str, set[str]] = {}
    qualified: dict[str, set[str]] = {}
    tagged: list[str] = []
    unscoped: set[str] = set()
    for base, members in groups.items():
        patterns = {} if tag is not None else _prefix_patterns(base, members, prefixes)
        for t in members:
            pattern = patterns.get(t.name, "*")
            n = needs_for(t, mode)
            function.setdefault(base + pattern, set()).update(n.function)
            qualified.setdefault(base + pattern + ":*", set()).update(n.qualified | n.aliases)
            if n.tag and base + pattern not in tagged:
                tagged.append(base + pattern)
            unscoped |= n.unscoped
    condition = None
    if tag is not None:
        condition = {"StringEquals": {f"aws:ResourceTag/{tag[0]}": tag[1]}}
    statements: list[dict[str, Any]] = []
    for group in (_regroup(function), _regroup(qualified)):
        for acts, resources in group:
            sid = "Functions" if resources[0] in function else "VersionsAndAliases"
            statements.append(_statement(sid, acts, resources, condition=condition))
    if tagged:
        tag_condition = _tag_condition()
        if condition:
            tag_condition = {**condition, **tag_condition}
        statements.append(
            _statement("StateTags", ["lambda:UntagResource"], tagged, condition=tag_condition)
        )
    if unscoped:
        statements.append(_statement("Unscoped", unscoped, ["*"]))
    return statements


def _regroup(by_resource: dict[str, set[str]]) -> list[tuple[tuple[str, ...], list[str]]]:
    """resource → actions, turned into actions → resources (one statement per action set)."""
    out: dict[tuple[str, ...], list[str]] = {}
    for resource, acts in by_resource.items():
        if acts:
            out.setdefault(tuple(sorted(acts)), []).append(resource)
    return sorted(out.items())


def layer_statements(
    layers: Sequence[LayerTarget], mode: Mode, region: str | None, account: str | None
) -> list[dict[str, Any]]:
    """Layer retention's layer version reads (and deletions) on each declared layer's
    versions, `layer:NAME:*`."""
    if not layers:
        return []
    actions = {"lambda:GetLayerVersion", "lambda:GetLayerVersionPolicy"}
    if mode == "apply":
        actions.add("lambda:DeleteLayerVersion")
    arns = []
    for t in layers:
        reg = t.region or region or "*"
        acct = t.account or account
        if acct is None and t.allowed_account_ids is not None and len(t.allowed_account_ids) == 1:
            acct = next(iter(t.allowed_account_ids))
        arns.append(f"arn:{_partition(reg)}:lambda:{reg}:{acct or '*'}:layer:{t.name}:*")
    return [_statement("LayerVersions", actions, _unique(arns))]


def policy_for(
    targets: Sequence[FunctionTarget],
    mode: Mode,
    *,
    region: str | None = None,
    account: str | None = None,
    scope: Scope = "exact",
    prefixes: Sequence[str] = (),
    tag: tuple[str, str] | None = None,
    layers: Sequence[LayerTarget] = (),
) -> dict[str, Any]:
    if scope == "tag":
        if tag is None:
            raise ReconcilerError("--scope tag needs --tag KEY=VALUE")
        if tag[0].startswith(TAG_PREFIX) or tag[0].lower().startswith("aws:"):
            raise ReconcilerError(f"--tag {tag[0]}: choose a tag key of your own")
        statements = _compact(targets, mode, region, account, prefixes=(), tag=tag)
    elif scope == "prefix":
        statements = _compact(targets, mode, region, account, prefixes=prefixes, tag=None)
    else:
        statements = _exact(targets, mode, region, account)
    statements += _hook_statements(targets, mode, region, account)
    statements += layer_statements(layers, mode, region, account)
    buses = event_buses(targets, region, account, _partition) if mode == "apply" else []
    if buses:  # `apply` and `rollback` send rollout events to that bus only
        statements.append(_statement("RolloutNotifications", ["events:PutEvents"], buses))
    unscoped = {"lambda:GetAccountSettings"}
    if layers:
        unscoped |= {"lambda:ListLayerVersions", "lambda:ListFunctions"}
    if _sweeps(targets, region):
        unscoped.add("lambda:ListFunctions")
    for action in sorted(unscoped):
        _allow_unscoped(statements, action)
    policy = {"Version": "2012-10-17", "Statement": _numbered(statements)}
    if tag is not None and scope == "tag" and can_set_tag(policy, tag[0]):
        raise ReconcilerError(
            f"--tag {tag[0]}: the generated policy could set this tag key itself (its "
            "TagResource right covers it), so its holder could widen its own reach; choose a "
            "key that only your provisioning role sets"
        )
    return policy


def can_set_tag(policy: Mapping[str, Any], key: str) -> bool:
    """Whether any Allow statement of `policy` lets its holder add, change or remove a function's
    tag `key`: TagResource or UntagResource without an `aws:TagKeys` condition, or with a
    pattern that matches `key`."""
    tagging = ("lambda:TagResource", "lambda:UntagResource")
    for st in policy["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if st.get("Effect") != "Allow" or not any(
            fnmatch.fnmatchcase(t, a) for a in actions for t in tagging
        ):
            continue
        keys = (st.get("Condition") or {}).get("ForAllValues:StringLike", {}).get("aws:TagKeys")
        if keys is None:
            return True
        patterns = keys if isinstance(keys, list) else [keys]
        if any(fnmatch.fnmatchcase(key, p) for p in patterns):
            return True
    return False


def hook_functions(t: FunctionTarget) -> list[str]:
    """The traffic-hook functions a rollout of `t` invokes (name or ARN, maybe qualified)."""
    out: list[str] = []
    for a in t.spec.aliases.values():
        hooks = a.rollout.hooks if a.rollout is not None else None
        if hooks is not None:
            out += [h for h in (hooks.pre_traffic, hooks.post_traffic) if h]
    return out


def _hook_statements(
    targets: Sequence[FunctionTarget], mode: Mode, region: str | None, account: str | None
) -> list[dict[str, Any]]:
    """`plan` checks that each traffic hook exists (GetFunction) and `apply` invokes them
    (InvokeFunction), on exactly those functions (as named)."""
    actions = (
        ["lambda:GetFunction", "lambda:InvokeFunction"]
        if mode == "apply"
        else ["lambda:GetFunction"]
    )
    arns = [
        h if h.startswith("arn:") else _base(t, region, account) + h
        for t in targets
        for h in hook_functions(t)
    ]
    return [_statement("TrafficHooks", actions, _unique(arns))] if arns else []


def _sweeps(targets: Sequence[FunctionTarget], region: str | None) -> bool:
    """Whether `--read-mode auto` reads some region with one ListFunctions sweep."""
    per_region: dict[str, int] = {}
    for t in targets:
        if sweepable(t):
            key = t.region or region or ""
            per_region[key] = per_region.get(key, 0) + 1
    return any(n >= AUTO_MIN_FUNCTIONS for n in per_region.values())


def _allow_unscoped(statements: list[dict[str, Any]], action: str) -> None:
    """Add `action` on "*" (ListFunctions has no resource-level form)."""
    for st in statements:
        if st["Sid"] == "Unscoped":
            st["Action"] = sorted({*st["Action"], action})
            return
    statements.append(_statement("Unscoped", [action], ["*"]))


def policy_size(policy: dict[str, Any]) -> int:
    """The size IAM checks against its limits: characters of the JSON, white space not counted."""
    text = json.dumps(policy, separators=(",", ":"))
    return sum(1 for c in text if not c.isspace())


def split_policy(policy: dict[str, Any], limit: int = MANAGED_POLICY_LIMIT) -> list[dict[str, Any]]:
    """Cut a policy into policies of at most `limit` characters each: statements are packed in
    order, and a statement whose resources do not fit is cut into several with the same
    actions (and the same effect and condition)."""
    empty = {"Version": policy["Version"], "Statement": []}
    policies: list[dict[str, Any]] = [json.loads(json.dumps(empty))]
    for st in policy["Statement"]:
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        pending = list(resources)
        while pending:
            current = policies[-1]
            piece = {**st, "Resource": []}
            current["Statement"].append(piece)
            taken = 0
            for r in pending:
                piece["Resource"].append(r)
                if policy_size(current) > limit:
                    piece["Resource"].pop()
                    break
                taken += 1
            if taken == 0:
                current["Statement"].pop()
                if not current["Statement"]:
                    raise ReconcilerError(
                        f"one statement of the policy does not fit in {limit} characters"
                    )
                policies.append(json.loads(json.dumps(empty)))
                continue
            if not isinstance(st["Resource"], list):
                piece["Resource"] = st["Resource"]
            pending = pending[taken:]
            if pending:
                policies.append(json.loads(json.dumps(empty)))
    for p in policies:
        _renumber(p)
    return policies


def _renumber(policy: dict[str, Any]) -> None:
    """Pieces of one statement share its Sid; make them unique within their policy."""
    seen: dict[str, int] = {}
    for st in policy["Statement"]:
        sid = st["Sid"]
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > 1:
            st["Sid"] = f"{sid}Part{seen[sid]}"


def size_warnings(policies: Sequence[dict[str, Any]], *, split: bool, limit: int) -> list[str]:
    """What IAM would refuse, in words, for standard error."""
    out: list[str] = []
    if split:
        over = [i + 1 for i, p in enumerate(policies) if policy_size(p) > limit]
        if over:
            out.append(f"policies {over} are larger than {limit} characters")
        if len(policies) > MANAGED_POLICIES_PER_ROLE:
            out.append(
                f"{len(policies)} managed policies: a role takes {MANAGED_POLICIES_PER_ROLE} "
                "by default; ask for more with a Service Quotas increase of IAM's \"Managed "
                'policies per role" (20 is granted on request), or split the manifests over '
                "several roles, or use --scope prefix or --scope tag (one policy for any fleet)"
            )
        return out
    size = policy_size(policies[0])
    if size > INLINE_ROLE_LIMIT:
        out.append(
            f"the policy is {size:,} characters (white space not counted): more than IAM "
            f"accepts, {MANAGED_POLICY_LIMIT:,} for a managed policy and {INLINE_ROLE_LIMIT:,} "
            "for all inline policies of a role together; use --split, --scope prefix or "
            "--scope tag"
        )
    elif size > MANAGED_POLICY_LIMIT:
        out.append(
            f"the policy is {size:,} characters (white space not counted): too large for a "
            f"managed policy ({MANAGED_POLICY_LIMIT:,}); it fits only inline, where all inline "
            f"policies of the role share {INLINE_ROLE_LIMIT:,}; use --split, --scope prefix "
            "or --scope tag for managed policies"
        )
    elif size > limit:
        out.append(f"the policy is {size:,} characters, more than --max-size {limit:,}")
    return out


def scope_warnings(
    targets: Sequence[FunctionTarget],
    policy: dict[str, Any],
    *,
    scope: Scope,
    tag: tuple[str, str] | None,
) -> list[str]:
    """What a compact form grants beyond the manifests, and ARNs IAM may not match."""
    out: list[str] = []
    resources = [
        r
        for st in policy["Statement"]
        for r in (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])
    ]
    if any(r.split(":")[4:5] == ["*"] for r in resources if r.startswith("arn:")):
        out.append(
            "no account given (--account-id, allowed_account_ids or function ARNs): the ARNs "
            "say '*' for the account, which Lambda's guide says policies cannot use; pass "
            "--account-id"
        )
    n = len(targets)
    if scope == "prefix":
        patterns = sorted({r for r in resources if r.endswith("*") and not r.endswith(":*")})
        out.append(
            f"--scope prefix grants on every function matching {', '.join(patterns)}, not only "
            f"the {n} in the manifests, including functions created later"
        )
    elif scope == "tag" and tag is not None:
        out.append(
            f"--scope tag grants on every function tagged {tag[0]}={tag[1]}, not only the {n} "
            "in the manifests; the policy cannot add or change that tag, but whoever can tag "
            "functions decides what it covers"
        )
    return out


def policy_text(policy: dict[str, Any] | list[dict[str, Any]]) -> str:
    return json.dumps(policy, indent=2) + "\n"
