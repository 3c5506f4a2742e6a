"""IAM policy evaluation for the emulator's Lambda calls.

moto's own engine matches `Action` and `Resource` with a regular expression built from the
pattern (so `$` and `.` in a pattern are regex syntax), and treats a statement whose `Condition`
does not hold as an explicit deny. Real IAM does neither: a statement applies only when its
action, resource and every condition match; an applicable `Deny` wins over any `Allow`; nothing
applicable means an implicit deny. This module evaluates identity policies that way, for the
policy elements the reconciler's generated policies use and a little more:

- `Action` / `NotAction`: `service:Name` with `*` and `?`, case-insensitive.
- `Resource` / `NotResource`: ARNs compared segment by segment for partition, service, region
  and account (a wildcard there stays within its segment); the resource part (`function:NAME`,
  `function:NAME:QUALIFIER`) as one string where `*` also matches `:` — so `function:f:*`
  matches every version and alias of `f` but not `function:f` itself, and `function:f*`
  matches both, and every function whose name starts with `f` (the Lambda developer guide's
  "Function resource names" describes exactly these cases).
- `Condition`: the `String*` operators (`StringEquals`, `StringNotEquals`, `StringLike`,
  `StringNotLike` and their `IgnoreCase` forms), `...IfExists`, the `ForAllValues:` and
  `ForAnyValue:` set prefixes, and `Null`. Keys are matched case-insensitively. Any other
  operator raises `Unsupported`, so a policy the emulator cannot judge fails loudly instead of
  being waved through.

Not modelled: policy variables (`${aws:username}`), permission boundaries, SCPs, session
policies, resource-based policies, `Principal` (identity policies have none) and the numeric,
date, boolean, IP and ARN condition operators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Literal

Decision = Literal["allow", "deny", "implicit"]


class Unsupported(Exception):
    """A policy element the emulator does not evaluate."""


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = ["^"]
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    parts.append("$")
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).match(value) is not None


def arn_match(pattern: str, arn: str) -> bool:
    """IAM's ARN matching: `*` alone matches anything; otherwise the first five segments one
    by one, then the resource part as a whole."""
    if pattern == "*":
        return True
    p = pattern.split(":", 5)
    a = arn.split(":", 5)
    if len(p) != 6 or len(a) != 6:
        return glob_match(pattern, arn)
    return all(glob_match(x, y) for x, y in zip(p, a, strict=True))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _lookup(context: Mapping[str, list[str]], key: str) -> list[str] | None:
    want = key.lower()
    for k, v in context.items():
        if k.lower() == want:
            return v
    return None


def _string_op(base: str, policy_value: str, actual: str) -> bool:
    match base:
        case "StringEquals":
            return actual == policy_value
        case "StringEqualsIgnoreCase":
            return actual.lower() == policy_value.lower()
        case "StringLike":
            return glob_match(policy_value, actual)
        case _:
            raise Unsupported(f"condition operator {base}")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
}
_POSITIVE = {"StringEquals", "StringEqualsIgnoreCase", "StringLike"}


def _condition_holds(
    operator: str, key: str, policy_values: list[Any], context: Mapping[str, list[str]]
) -> bool:
    qualifier = ""
    op = operator
    if ":" in op:
        qualifier, op = op.split(":", 1)
        if qualifier not in ("ForAllValues", "ForAnyValue"):
            raise Unsupported(f"condition operator {operator}")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    actual = _lookup(context, key)
    values = [str(v) for v in policy_values]
    if op == "Null":
        if qualifier or if_exists:
            raise Unsupported(f"condition operator {operator}")
        want_absent = values[0].lower() == "true"
        return (actual is None or actual == []) == want_absent
    negated = op in _NEGATED
    base = _NEGATED.get(op, op)
    if base not in _POSITIVE:
        raise Unsupported(f"condition operator {operator}")

    def one(v: str) -> bool:
        """Does one request value satisfy the operator against the policy's values?"""
        hit = any(_string_op(base, pv, v) for pv in values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in actual or [])
    if qualifier == "ForAnyValue":
        return any(one(v) for v in actual or [])
    if actual is None or actual == []:
        # A missing key matches nothing; negated operators then hold, as do ...IfExists.
        return if_exists or negated
    return one(actual[0])


def _conditions_hold(conditions: Any, context: Mapping[str, list[str]]) -> bool:
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        raise Unsupported("a Condition that is not an object")
    for operator, block in conditions.items():
        if not isinstance(block, dict):
            raise Unsupported(f"condition {operator} that is not an object")
        for key, value in block.items():
            if not _condition_holds(operator, key, _as_list(value), context):
                return False
    return True


def _statement_applies(
    st: Mapping[str, Any], action: str, resource: str, context: Mapping[str, list[str]]
) -> bool:
    if "Action" in st:
        if not any(glob_match(p, action, ignore_case=True) for p in _as_list(st["Action"])):
            return False
    elif "NotAction" in st:
        if any(glob_match(p, action, ignore_case=True) for p in _as_list(st["NotAction"])):
            return False
    else:
        return False
    if "Resource" in st:
        if not any(arn_match(p, resource) for p in _as_list(st["Resource"])):
            return False
    elif "NotResource" in st:
        if any(arn_match(p, resource) for p in _as_list(st["NotResource"])):
            return False
    else:
        return False
    return _conditions_hold(st.get("Condition"), context)


def evaluate(
    documents: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Mapping[str, list[str]] | None = None,
) -> Decision:
    """`deny` if an applicable statement denies, else `allow` if one allows, else `implicit`."""
    ctx = context or {}
    allowed = False
    for doc in documents:
        for st in _as_list(doc.get("Statement", [])):
            if not isinstance(st, dict) or not _statement_applies(st, action, resource, ctx):
                continue
            if st.get("Effect") == "Deny":
                return "deny"
            if st.get("Effect") == "Allow":
                allowed = True
    return "allow" if allowed else "implicit"
