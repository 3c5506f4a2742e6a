"""Names: function names and ARNs, alias names, regions and account ids, with their JSON Schema."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

from reconciler.manifest._base import show
from reconciler.manifest.regions import region_problem

FUNCTION_NAME = r"[a-zA-Z0-9_-]{1,64}"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f")
REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
FUNCTION_ARN = (
    rf"arn:(?:{'|'.join(PARTITIONS)}):lambda:{REGION}:[0-9]{{12}}"
    rf":function:{FUNCTION_NAME}"
)
ALIAS_NAME = r"[a-zA-Z0-9_-]{1,128}"
LAYER_NAME = r"[a-zA-Z0-9_-]{1,140}"
LAYER_ARN = rf"arn:(?:{'|'.join(PARTITIONS)}):lambda:{REGION}:[0-9]{{12}}:layer:{LAYER_NAME}"

_FUNCTION_NAME_RE = re.compile(FUNCTION_NAME)
ALIAS_NAME_RE = re.compile(ALIAS_NAME)
_REGION_RE = re.compile(REGION)
_ACCOUNT_RE = re.compile(r"[0-9]{12}")
_LOOSE_ARN_RE = re.compile(
    r"arn:(?P<partition>[^:]*):lambda:(?P<region>[^:]*):(?P<account>[^:]*):function:"
    r"(?P<name>[^:]*)(?::(?P<qualifier>.*))?"
)


def _expect_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected {what} as text, got {show(value)}")
    return value


def _function_key(value: Any) -> str:
    key = _expect_str(value, "a function name or ARN")
    if _FUNCTION_NAME_RE.fullmatch(key):
        return key
    m = _LOOSE_ARN_RE.fullmatch(key)
    if m is None:
        raise ValueError(
            f"invalid function {show(key)}: expected a name of 1-64 characters a-z A-Z 0-9 - _ "
            "or a full ARN arn:aws:lambda:REGION:ACCOUNT:function:NAME"
        )
    if m["qualifier"] is not None:
        raise ValueError(
            f"function ARN {show(key)} has a qualifier (:{m['qualifier']}); name the function "
            "only and declare its aliases under `aliases:`"
        )
    if m["partition"] not in PARTITIONS:
        raise ValueError(f"function ARN {show(key)}: unknown partition {show(m['partition'])}")
    if not _REGION_RE.fullmatch(m["region"]):
        raise ValueError(f"function ARN {show(key)}: invalid region {show(m['region'])}")
    if not _ACCOUNT_RE.fullmatch(m["account"]):
        raise ValueError(f"function ARN {show(key)}: the account must be 12 digits")
    if not _FUNCTION_NAME_RE.fullmatch(m["name"]):
        raise ValueError(
            f"function ARN {show(key)}: the name must be 1-64 characters a-z A-Z 0-9 - _"
        )
    china, gov = m["region"].startswith("cn-"), m["region"].startswith("us-gov-")
    if (m["partition"] == "aws-cn") != china or (m["partition"] == "aws-us-gov") != gov:
        raise ValueError(
            f"function ARN {show(key)}: region {m['region']} is not in partition {m['partition']}"
        )
    if problem := region_problem(m["region"], m["partition"]):
        raise ValueError(f"function ARN {show(key)}: {problem}")
    return key


_LAYER_NAME_RE = re.compile(LAYER_NAME)
_LAYER_ARN_RE = re.compile(
    r"arn:(?P<partition>[^:]*):lambda:(?P<region>[^:]*):(?P<account>[^:]*):layer:"
    r"(?P<name>[^:]*)(?::(?P<version>.*))?"
)


def _layer_key(value: Any) -> str:
    key = _expect_str(value, "a layer name or ARN")
    if _LAYER_NAME_RE.fullmatch(key):
        return key
    m = _LAYER_ARN_RE.fullmatch(key)
    if m is None:
        raise ValueError(
            f"invalid layer {show(key)}: expected a name of 1-140 characters a-z A-Z 0-9 - _ "
            "or a layer ARN arn:aws:lambda:REGION:ACCOUNT:layer:NAME"
        )
    if m["version"] is not None:
        raise ValueError(
            f"layer ARN {show(key)} names version {m['version']}; name the layer only: "
            "retention decides which versions go"
        )
    if m["partition"] not in PARTITIONS:
        raise ValueError(f"layer ARN {show(key)}: unknown partition {show(m['partition'])}")
    if not _REGION_RE.fullmatch(m["region"]) or region_problem(m["region"], m["partition"]):
        raise ValueError(f"layer ARN {show(key)}: invalid region {show(m['region'])}")
    if not _ACCOUNT_RE.fullmatch(m["account"]):
        raise ValueError(f"layer ARN {show(key)}: the account must be 12 digits")
    if not _LAYER_NAME_RE.fullmatch(m["name"]):
        raise ValueError(
            f"layer ARN {show(key)}: the name must be 1-140 characters a-z A-Z 0-9 - _"
        )
    return key


def _alias_name(value: Any) -> str:
    name = _expect_str(value, "an alias name")
    if not ALIAS_NAME_RE.fullmatch(name) or name.isdigit():
        raise ValueError(
            f"invalid alias name {show(name)}: expected 1-128 characters a-z A-Z 0-9 - _, "
            "not all digits"
        )
    return name


def _region(value: Any) -> str:
    region = _expect_str(value, "a region")
    if not _REGION_RE.fullmatch(region):
        raise ValueError(f"invalid region {show(region)}: expected a region code like us-east-1")
    if problem := region_problem(region):
        raise ValueError(problem)
    return region


def _account_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f'account id {value} must be quoted, like "123456789012": unquoted, YAML reads it '
            "as a number and drops leading zeros"
        )
    account = _expect_str(value, "an account id")
    if not _ACCOUNT_RE.fullmatch(account):
        raise ValueError(f"invalid account id {show(account)}: expected 12 digits")
    return account


FUNCTION_KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": f"^(?:{FUNCTION_NAME}|{FUNCTION_ARN})$",
    "description": "A function name (1-64 of a-z A-Z 0-9 - _) or a full function ARN.",
}
LAYER_KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": f"^(?:{LAYER_NAME}|{LAYER_ARN})$",
    "description": "A layer name (1-140 of a-z A-Z 0-9 - _) or a layer ARN without a version.",
}
ALIAS_NAME_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": f"^{ALIAS_NAME}$",
    "not": {"pattern": "^[0-9]+$"},
    "description": "An alias name: 1-128 of a-z A-Z 0-9 - _, not all digits.",
}
_REGION_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": f"^{REGION}$",
    "description": "An AWS region code, such as us-east-1.",
}

FunctionKey = Annotated[str, PlainValidator(_function_key), WithJsonSchema(FUNCTION_KEY_SCHEMA)]
LayerKey = Annotated[str, PlainValidator(_layer_key), WithJsonSchema(LAYER_KEY_SCHEMA)]
AliasName = Annotated[str, PlainValidator(_alias_name), WithJsonSchema(ALIAS_NAME_SCHEMA)]
Region = Annotated[str, PlainValidator(_region), WithJsonSchema(_REGION_SCHEMA)]
AccountId = Annotated[
    str,
    PlainValidator(_account_id),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{12}$"}),
]


ROLE_ARN = rf"arn:(?:{'|'.join(PARTITIONS)}):iam::[0-9]{{12}}:role/[\w+=,.@/-]{{1,512}}"
_ROLE_ARN_RE = re.compile(ROLE_ARN)
EXTERNAL_ID = r"[\w+=,.@:/-]{2,1224}"
_EXTERNAL_ID_RE = re.compile(EXTERNAL_ID)


def _role_arn(value: Any) -> str:
    arn = _expect_str(value, "an IAM role ARN")
    if not _ROLE_ARN_RE.fullmatch(arn):
        raise ValueError(
            f"invalid role ARN {show(arn)}: expected arn:aws:iam::ACCOUNT:role/NAME "
            "(ACCOUNT 12 digits, NAME with an optional path)"
        )
    return arn


def _external_id(value: Any) -> str:
    text = _expect_str(value, "an external id")
    if not _EXTERNAL_ID_RE.fullmatch(text):
        raise ValueError(
            f"invalid external_id {show(text)}: expected 2-1224 characters of "
            "a-z A-Z 0-9 _ + = , . @ : / -"
        )
    return text


def role_account(arn: str) -> str:
    """The account of an IAM role ARN."""
    return arn.split(":")[4]


RoleArn = Annotated[
    str,
    PlainValidator(_role_arn),
    WithJsonSchema(
        {"type": "string", "pattern": f"^{ROLE_ARN}$", "description": "An IAM role ARN."}
    ),
]
ExternalId = Annotated[
    str,
    PlainValidator(_external_id),
    WithJsonSchema({"type": "string", "pattern": f"^{EXTERNAL_ID}$"}),
]


def is_alias_name(name: str) -> bool:
    """Whether AWS accepts `name` as an alias name."""
    return bool(ALIAS_NAME_RE.fullmatch(name)) and not name.isdigit()
