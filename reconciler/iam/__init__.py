"""The IAM policy a manifest set needs (`iam-policy`)."""

from reconciler.iam.policy import (
    Scope,
    policy_for,
    policy_text,
    scope_warnings,
    size_warnings,
    split_policy,
)

__all__ = [
    "Scope",
    "policy_for",
    "policy_text",
    "scope_warnings",
    "size_warnings",
    "split_policy",
]
