"""Several AWS accounts in one emulator: the credentials of a request select its account.

As in AWS, an access key belongs to one account. The emulator follows moto's own convention
(moto 5's "multi-account" support): a key is in the account whose IAM holds it — a long-term
key of an IAM user created in that account (`create_key`, the control call `POST accounts/keys`,
or IAM's CreateAccessKey with that account's credentials), or a temporary key that STS
AssumeRole issued for a role of that account (`emulator/sts.py`). Any other key (the tests'
`testing`) is in the default account, 123456789012, so single-account use is unchanged.

The account of the request being served is a context variable: the Lambda layer, the layers
module, the invoker and the control API read it through `current_account()`, and requests
passed on to moto carry it in moto's `x-moto-account-id` header so moto's own backends
(CloudWatch, IAM, STS, EventBridge, the Lambda calls moto answers) agree.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]

ACCOUNT_ID = re.compile(r"^\d{12}$")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
_CURRENT: contextvars.ContextVar[str] = contextvars.ContextVar(
    "emulator_account", default=DEFAULT_ACCOUNT_ID
)


def current_account() -> str:
    """The account of the request (or control call) being served."""
    return _CURRENT.get()


@contextmanager
def using_account(account: str | None) -> Iterator[str]:
    """Serve what runs inside as `account` (the default account when None)."""
    acct = account or DEFAULT_ACCOUNT_ID
    if not ACCOUNT_ID.match(acct):
        raise ValueError(f"an account id is 12 digits, not {acct!r}")
    token = _CURRENT.set(acct)
    try:
        yield acct
    finally:
        _CURRENT.reset(token)


def access_key_of(environ: dict[str, Any]) -> str:
    """The access key id a request is signed with ('' when unsigned)."""
    m = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return m.group(1) if m else ""


def account_for_key(access_key: str) -> str:
    """The account whose IAM holds `access_key` (moto's rule), else the default account.

    Only the `aws` partition is looked at, and only backends that exist: looking must not
    create an IAM backend (which loads every AWS managed policy) per account and partition.
    """
    from moto.iam.models import iam_backends

    if not access_key:
        return DEFAULT_ACCOUNT_ID
    for account, partitions in list(iam_backends.items()):
        iam = dict.get(partitions, "aws")  # moto's __getitem__ would create the backend
        if iam is not None and access_key in iam.access_keys:
            return str(account)
    return DEFAULT_ACCOUNT_ID


def create_key(account: str, user: str = "emulator") -> dict[str, str]:
    """A long-term access key of IAM user `user` (created when missing) in `account`."""
    from moto.iam.models import iam_backends

    if not ACCOUNT_ID.match(account):
        raise ValueError(f"an account id is 12 digits, not {account!r}")
    iam = iam_backends[account]["aws"]
    if user not in iam.users:
        iam.create_user(region_name="us-east-1", user_name=user, path="/", tags=[])
    key = iam.create_access_key(user)
    return {
        "account": account,
        "user_arn": f"arn:aws:iam::{account}:user/{user}",
        "access_key_id": key.access_key_id,
        "secret_access_key": key.secret_access_key,
    }
