"""Manifest v1: pydantic models, loading with locations, checks across manifests, JSON Schema.

Validation runs in layers, like a linter, and reports every problem it finds, not just the first:

1. `yamlload` reads one bounded YAML document (duplicate keys, size, depth and alias budgets)
   and remembers the line and column of every key and value;
2. the strict, frozen models below check types, unknown keys, ranges and the rules between
   fields (canary versus version, alias references, cycles);
3. `load_manifests` checks across files (the same function twice in one run).

Each problem becomes a `Diagnostic` printed as `FILE:LINE:COL: path.to.key: what was expected`.
A rule that spans several fields raises `PydanticCustomError("manifest_rule", ...)` whose context
lists `(sub-path, message, at_key)` issues, so the error points at the exact field at fault, not
at the enclosing mapping. Such rules run once the fields they read are valid themselves (pydantic
runs a model's validator only then), so a second run after fixing field errors may report more.

```yaml
version: 1
region: us-east-1
functions:
  order-processor:
    aliases:
      prod: {version: 5, canary: {version: 6, weight: 10%}}
```
"""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, NoReturn, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from reconciler.errors import ReconcilerError
from reconciler.yamlload import MAX_BYTES, Document, YamlError, load_yaml

# -- names -----------------------------------------------------------------------------------

FUNCTION_NAME = r"[a-zA-Z0-9_-]{1,64}"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f")
REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
FUNCTION_ARN = (
    rf"arn:(?:{'|'.join(PARTITIONS)}):lambda:{REGION}:[0-9]{{12}}"
    rf":function:{FUNCTION_NAME}"
)
ALIAS_NAME = r"[a-zA-Z0-9_-]{1,128}"

_FUNCTION_NAME_RE = re.compile(FUNCTION_NAME)
_ALIAS_NAME_RE = re.compile(ALIAS_NAME)
_REGION_RE = re.compile(REGION)
_ACCOUNT_RE = re.compile(r"[0-9]{12}")
_LOOSE_ARN_RE = re.compile(
    r"arn:(?P<partition>[^:]*):lambda:(?P<region>[^:]*):(?P<account>[^:]*):function:"
    r"(?P<name>[^:]*)(?::(?P<qualifier>.*))?"
)


def _show(value: Any) -> str:
    """A value as the manifest author would write it (JSON/YAML flow style), kept short."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expect_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected {what} as text, got {_show(value)}")
    return value


def _function_key(value: Any) -> str:
    key = _expect_str(value, "a function name or ARN")
    if _FUNCTION_NAME_RE.fullmatch(key):
        return key
    m = _LOOSE_ARN_RE.fullmatch(key)
    if m is None:
        raise ValueError(
            f"invalid function {_show(key)}: expected a name of 1-64 characters a-z A-Z 0-9 - _ "
            "or a full ARN arn:aws:lambda:REGION:ACCOUNT:function:NAME"
        )
    if m["qualifier"] is not None:
        raise ValueError(
            f"function ARN {_show(key)} has a qualifier (:{m['qualifier']}); name the function "
            "only and declare its aliases under `aliases:`"
        )
    if m["partition"] not in PARTITIONS:
        raise ValueError(f"function ARN {_show(key)}: unknown partition {_show(m['partition'])}")
    if not _REGION_RE.fullmatch(m["region"]):
        raise ValueError(f"function ARN {_show(key)}: invalid region {_show(m['region'])}")
    if not _ACCOUNT_RE.fullmatch(m["account"]):
        raise ValueError(f"function ARN {_show(key)}: the account must be 12 digits")
    if not _FUNCTION_NAME_RE.fullmatch(m["name"]):
        raise ValueError(
            f"function ARN {_show(key)}: the name must be 1-64 characters a-z A-Z 0-9 - _"
        )
    china, gov = m["region"].startswith("cn-"), m["region"].startswith("us-gov-")
    if (m["partition"] == "aws-cn") != china or (m["partition"] == "aws-us-gov") != gov:
        raise ValueError(
            f"function ARN {_show(key)}: region {m['region']} is not in partition {m['partition']}"
        )
    return key


def _alias_name(value: Any) -> str:
    name = _expect_str(value, "an alias name")
    if not _ALIAS_NAME_RE.fullmatch(name) or name.isdigit():
        raise ValueError(
            f"invalid alias name {_show(name)}: expected 1-128 characters a-z A-Z 0-9 - _, "
            "not all digits"
        )
    return name


def _region(value: Any) -> str:
    region = _expect_str(value, "a region")
    if not _REGION_RE.fullmatch(region):
        raise ValueError(f"invalid region {_show(region)}: expected a region code like us-east-1")
    return region


def _account_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f'account id {value} must be quoted, like "123456789012": unquoted, YAML reads it '
            "as a number and drops leading zeros"
        )
    account = _expect_str(value, "an account id")
    if not _ACCOUNT_RE.fullmatch(account):
        raise ValueError(f"invalid account id {_show(account)}: expected 12 digits")
    return account


_FUNCTION_KEY_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": f"^(?:{FUNCTION_NAME}|{FUNCTION_ARN})$",
    "description": "A function name (1-64 of a-z A-Z 0-9 - _) or a full function ARN.",
}
_ALIAS_NAME_SCHEMA: dict[str, Any] = {
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

FunctionKey = Annotated[str, PlainValidator(_function_key), WithJsonSchema(_FUNCTION_KEY_SCHEMA)]
AliasName = Annotated[str, PlainValidator(_alias_name), WithJsonSchema(_ALIAS_NAME_SCHEMA)]
Region = Annotated[str, PlainValidator(_region), WithJsonSchema(_REGION_SCHEMA)]
AccountId = Annotated[
    str,
    PlainValidator(_account_id),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{12}$"}),
]


def _as_tuple(value: Any) -> Any:
    """YAML gives lists; the frozen models keep tuples (strict mode takes no list for a tuple)."""
    return tuple(value) if isinstance(value, list) else value


AsTuple = BeforeValidator(_as_tuple)


Issue = tuple[tuple[str | int, ...], str, bool]  # (path below the model, message, at the key)


def _rule(issues: Sequence[Issue]) -> NoReturn:
    """Fail a rule between fields, pointing each issue at the field at fault."""
    raise PydanticCustomError(
        "manifest_rule",
        "{message}",
        {"message": "; ".join(message for _, message, _ in issues), "issues": tuple(issues)},
    )


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# -- version selectors -----------------------------------------------------------------------


class AliasRef(_Model):
    """The primary version of another alias of the same function.

    ```yaml
    version: {alias: staging}
    ```
    """

    alias: str


class Sha256Ref(_Model):
    """The newest published version whose `CodeSha256` is this hash.

    ```yaml
    version: {sha256: "vJ6ftDrM+0TtpY63HMluDCPVmbk3zqpNKHv+wVaWCho="}
    ```
    """

    sha256: Annotated[str, Field(min_length=1)]


class DescriptionRef(_Model):
    """The newest published version whose description is this text.

    ```yaml
    version: {description: release-42}
    ```
    """

    description: str


_SELECTOR_HELP = (
    "expected a version number, latest, $LATEST, {alias: NAME}, {sha256: HASH} "
    "or {description: TEXT}"
)
_REFS: dict[str, type[AliasRef | Sha256Ref | DescriptionRef]] = {
    "alias": AliasRef,
    "sha256": Sha256Ref,
    "description": DescriptionRef,
}


def _selector(value: Any) -> int | str | AliasRef | Sha256Ref | DescriptionRef:
    if isinstance(value, (AliasRef, Sha256Ref, DescriptionRef)):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{_SELECTOR_HELP}, got {_show(value)}")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"version numbers start at 1, got {value}")
        return value
    if isinstance(value, str):
        if value.isascii() and value.isdigit():
            return _selector(int(value))
        if value in ("latest", "$LATEST"):
            return value
        raise ValueError(f"{_SELECTOR_HELP}, got {_show(value)}")
    if isinstance(value, Mapping) and len(value) == 1:
        key, text = next(iter(value.items()))
        ref = _REFS.get(key) if isinstance(key, str) else None
        if ref is not None:
            if not isinstance(text, str) or (not text and key != "description"):
                raise ValueError(
                    f"expected {{{key}: TEXT}} with non-empty text, got {_show(value)}"
                )
            return ref.model_validate({key: text})
    raise ValueError(f"{_SELECTOR_HELP}, got {_show(value)}")


def _dump_selector(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


def _ref_schema(key: str, min_length: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"type": "string", "minLength": min_length}},
        "required": [key],
        "additionalProperties": False,
    }


_SELECTOR_SCHEMA: dict[str, Any] = {
    "description": (
        "A version: a number (or digit string), latest (newest published), $LATEST "
        "(unpublished; primary version only), {alias: NAME}, {sha256: HASH} or "
        "{description: TEXT}."
    ),
    "anyOf": [
        {"type": "integer", "minimum": 1},
        {"type": "string", "pattern": "^[0-9]*[1-9][0-9]*$"},
        {"enum": ["latest", "$LATEST"]},
        _ref_schema("alias", 1),
        _ref_schema("sha256", 1),
        _ref_schema("description", 0),
    ],
}

Selector = Annotated[
    int | Literal["latest", "$LATEST"] | AliasRef | Sha256Ref | DescriptionRef,
    PlainValidator(_selector),
    PlainSerializer(_dump_selector),
    WithJsonSchema(_SELECTOR_SCHEMA),
]

# -- weights and durations -------------------------------------------------------------------

_PERCENT_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?) ?%")
_WEIGHT_HELP = 'expected a weight between 0 and 1 such as 0.1 or "10%"'


def _weight(value: Any) -> float:
    """A share of traffic strictly between 0 and 1, written `0.1` or `"10%"`."""
    if isinstance(value, bool):
        raise ValueError(f"{_WEIGHT_HELP}, got {_show(value)}")
    if isinstance(value, str) and (m := _PERCENT_RE.fullmatch(value)):
        weight = float(m[1]) / 100
    elif isinstance(value, (int, float)):
        weight = float(value)
    else:
        raise ValueError(f"{_WEIGHT_HELP}, got {_show(value)}")
    if not 0 < weight < 1:  # also false for NaN
        raise ValueError(f"{_WEIGHT_HELP}, got {_show(value)}")
    return weight


_WEIGHT_SCHEMA: dict[str, Any] = {
    "description": 'A share of traffic, 0 < weight < 1: 0.1 or "10%".',
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        {
            "type": "string",
            # 1-99.x % or 0.x % with a non-zero digit: never 0% nor 100%.
            "pattern": r"^0*(?:[1-9][0-9]?(?:\.[0-9]+)?|0?\.[0-9]*[1-9][0-9]*) ?%$",
        },
    ],
}

Weight = Annotated[float, PlainValidator(_weight), WithJsonSchema(_WEIGHT_SCHEMA)]

_DURATION_RE = re.compile(r"([0-9]+)([smh])")
_UNITS = {"s": 1, "m": 60, "h": 3600}
_DURATION_HELP = 'expected a duration such as "30s", "10m", "2h" or a number of seconds'


def _interval(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and (m := _DURATION_RE.fullmatch(value)):
        seconds = int(m[1]) * _UNITS[m[2]]
    else:
        raise ValueError(f"{_DURATION_HELP}, got {_show(value)}")
    if seconds <= 0:
        raise ValueError(f"the interval must be positive, got {_show(value)}")
    return seconds


Interval = Annotated[
    int,
    PlainValidator(_interval),
    WithJsonSchema(
        {
            "description": 'Minimum time at each step: seconds, or "30s", "10m", "2h".',
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": "^0*[1-9][0-9]*[smh]$"},
            ],
        }
    ),
]

# -- models ----------------------------------------------------------------------------------


class CanarySpec(_Model):
    """A second version and its share of the alias's traffic.

    ```yaml
    canary: {version: 6, weight: 10%}
    ```
    """

    version: Selector = Field(description="The canary version; never $LATEST.")
    weight: Weight = Field(description='Its share of traffic: 0.1 or "10%".')


class RolloutSpec(_Model):
    """Shift traffic to a new primary step by step, one step per apply; roll back on an alarm.

    ```yaml
    rollout: {steps: [10%, 50%], interval: 10m, alarms: [orders-errors]}
    ```
    """

    steps: Annotated[tuple[Weight, ...], Field(min_length=1), AsTuple] = Field(
        description="Canary weights in increasing order; after the last step: 100%."
    )
    interval: Interval = Field(description='Minimum time at each step: "30s", "10m", "2h".')
    alarms: Annotated[tuple[Annotated[str, Field(min_length=1, max_length=255)], ...], AsTuple] = (
        Field(default=(), description="CloudWatch alarms that roll the alias back.")
    )

    @model_validator(mode="after")
    def _increasing(self) -> RolloutSpec:
        issues = [
            (("steps", i + 1), f"rollout steps must increase, got {b:g} after {a:g}", False)
            for i, (a, b) in enumerate(zip(self.steps, self.steps[1:], strict=False))
            if b <= a
        ]
        if issues:
            _rule(issues)
        return self


class AliasSpec(_Model):
    """Where one alias routes.

    ```yaml
    prod:
      version: 5
      canary: {version: 6, weight: 10%}
      description: Production
    ```
    """

    version: Selector = Field(description="The primary version.")
    canary: CanarySpec | None = Field(default=None, description="A second version with a weight.")
    description: Annotated[str, Field(max_length=256)] | None = Field(
        default=None, description="The alias description; absent leaves the live one alone."
    )
    rollout: RolloutSpec | None = Field(
        default=None, description="Move to `version` in steps; excludes `canary`."
    )

    @model_validator(mode="after")
    def _rules(self) -> AliasSpec:
        issues: list[Issue] = []
        if self.canary is not None and self.rollout is not None:
            issues.append(
                (("rollout",), "`canary` and `rollout` exclude each other: use one", True)
            )
        if self.canary is not None:
            if self.version == "$LATEST":
                issues.append((("canary",), _NO_LATEST_CANARY, True))
            elif self.canary.version == "$LATEST":
                issues.append((("canary", "version"), _LATEST_AS_CANARY, False))
            elif self.canary.version == self.version:
                issues.append(
                    (
                        ("canary", "version"),
                        "canary.version must differ from version "
                        f"(both are {_show(_dump_selector(self.version))})",
                        False,
                    )
                )
        if self.rollout is not None and self.version == "$LATEST":
            issues.append((("rollout",), _NO_LATEST_ROLLOUT, True))
        if issues:
            _rule(issues)
        return self


_NO_LATEST_CANARY = (
    "no canary when version is $LATEST: AWS routes weighted traffic between published versions only"
)
_LATEST_AS_CANARY = (
    "$LATEST cannot be a canary: AWS routes weighted traffic between published versions only"
)
_NO_LATEST_ROLLOUT = "a rollout cannot move to $LATEST: it needs a published version"


class RetentionSpec(_Model):
    """Which published versions to keep; the others are deleted (opt-in).

    ```yaml
    retention: {keep_last: 10, keep_days: 30, protect: [1]}
    ```
    """

    keep_last: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Keep this many newest published versions."
    )
    keep_days: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Also keep every version modified in this many days."
    )
    protect: Annotated[tuple[Annotated[int, Field(ge=1)], ...], AsTuple] = Field(
        default=(), description="Versions never deleted."
    )

    @model_validator(mode="after")
    def _something(self) -> RetentionSpec:
        if self.keep_last is None and self.keep_days is None:
            _rule([((), "retention needs keep_last, keep_days or both", True)])
        return self


class FunctionSpec(_Model):
    """One function: its aliases, publishing and retention.

    ```yaml
    order-processor:
      publish: true
      aliases:
        prod: {version: 5}
        staging: {version: latest}
      retention: {keep_last: 10}
    ```
    """

    aliases: dict[AliasName, AliasSpec] = Field(
        default_factory=dict, description="Aliases this manifest manages, by name."
    )
    publish: bool = Field(
        default=False, description="Publish $LATEST when it differs from the newest version."
    )
    retention: RetentionSpec | None = Field(
        default=None, description="Delete old versions; without it none is ever deleted."
    )
    prune_aliases: bool | Literal["force"] = Field(
        default=False, description="Delete live aliases that this manifest does not name."
    )
    region: Region | None = Field(default=None, description="This function's region.")

    @model_validator(mode="after")
    def _alias_refs(self) -> FunctionSpec:
        issues = _alias_ref_issues(self.aliases)
        if issues:
            _rule(issues)
        return self


def _alias_ref_issues(
    aliases: Mapping[str, AliasSpec],
) -> list[Issue]:
    """`{alias: NAME}` rules: NAME declared, no cycles, and what the chains resolve to."""
    issues: list[Issue] = []
    declared = ", ".join(aliases) or "none"
    order = {name: i for i, name in enumerate(aliases)}
    terminal: dict[str, Any] = {}  # alias → the non-alias selector its chain ends at

    def unknown(where: tuple[str | int, ...], name: str, target: str) -> None:
        issues.append(
            (
                (*where, "alias"),
                f"alias {name} follows {{alias: {target}}}, which this function does not "
                f"declare (declared: {declared})",
                False,
            )
        )

    for name, spec in aliases.items():
        chain = [name]
        selector: Any = spec.version
        while isinstance(selector, AliasRef) and selector.alias in aliases:
            if selector.alias in chain:
                cycle = chain[chain.index(selector.alias) :]
                if min(cycle, key=order.__getitem__) == name:  # report each cycle once
                    issues.append(
                        (
                            ("aliases", name, "version"),
                            f"alias cycle: {' → '.join([*cycle, selector.alias])}",
                            False,
                        )
                    )
                break
            chain.append(selector.alias)
            selector = aliases[selector.alias].version
        else:
            if isinstance(selector, AliasRef):
                if len(chain) == 1:  # a broken link further down is reported at its own alias
                    unknown(("aliases", name, "version"), name, selector.alias)
            else:
                terminal[name] = selector
        if spec.canary is not None:
            ref = spec.canary.version
            if isinstance(ref, AliasRef) and ref.alias not in aliases:
                unknown(("aliases", name, "canary", "version"), name, ref.alias)

    for name, spec in aliases.items():
        primary = terminal.get(name)
        if spec.rollout is not None and primary == "$LATEST":
            issues.append((("aliases", name, "rollout"), _NO_LATEST_ROLLOUT, True))
        if spec.canary is None:
            continue
        ref = spec.canary.version
        canary = terminal.get(ref.alias) if isinstance(ref, AliasRef) else ref
        if primary == "$LATEST":
            issues.append((("aliases", name, "canary"), _NO_LATEST_CANARY, True))
        elif canary == "$LATEST":
            issues.append((("aliases", name, "canary", "version"), _LATEST_AS_CANARY, False))
        elif primary is not None and canary == primary:
            issues.append(
                (
                    ("aliases", name, "canary", "version"),
                    "canary.version resolves to the same version as version "
                    f"({_show(_dump_selector(primary))})",
                    False,
                )
            )
    return issues


class Defaults(_Model):
    """Values for every function that does not set the key itself.

    ```yaml
    defaults:
      publish: true
      retention: {keep_last: 5}
    ```
    """

    publish: bool | None = Field(default=None, description="Default for `publish`.")
    retention: RetentionSpec | None = Field(
        default=None, description="Default `retention`; a function's own replaces it whole."
    )
    prune_aliases: bool | Literal["force"] | None = Field(
        default=None, description="Default for `prune_aliases`."
    )
    region: Region | None = Field(default=None, description="Default region.")


def _format_version(value: Any) -> Literal[1]:
    if isinstance(value, int) and not isinstance(value, bool) and value == 1:
        return 1
    raise ValueError(f"expected `version: 1` (the manifest format version), got {_show(value)}")


class Manifest(_Model):
    """A manifest file: the functions to reconcile and how.

    ```yaml
    # yaml-language-server: $schema=../schemas/manifest.schema.json
    version: 1
    region: us-east-1
    allowed_account_ids: ["123456789012"]
    defaults: {retention: {keep_last: 5}}
    functions:
      order-processor:
        aliases: {prod: {version: 5}}
    ```
    """

    version: Annotated[
        Literal[1], PlainValidator(_format_version), WithJsonSchema({"const": 1})
    ] = Field(description="The manifest format version: 1.")
    region: Region | None = Field(default=None, description="Default region for all functions.")
    allowed_account_ids: Annotated[tuple[AccountId, ...], Field(min_length=1), AsTuple] | None = (
        Field(default=None, description="Refuse to run against any other account.")
    )
    defaults: Defaults | None = Field(
        default=None, description="Values for functions that do not set them."
    )
    functions: Annotated[dict[FunctionKey, FunctionSpec], Field(min_length=1)] = Field(
        description="The functions, by name or full ARN."
    )

    @model_validator(mode="after")
    def _arns(self) -> Manifest:
        issues: list[Issue] = []
        for key, spec in self.functions.items():
            _, arn_region, account = _split_key(key)
            if arn_region and spec.region is not None and spec.region != arn_region:
                issues.append(
                    (
                        ("functions", key, "region"),
                        f"region {spec.region} contradicts the function ARN's {arn_region}",
                        False,
                    )
                )
            allowed = self.allowed_account_ids
            if account is not None and allowed is not None and account not in allowed:
                issues.append(
                    (
                        ("functions", key),
                        f"account {account} of this ARN is not in allowed_account_ids",
                        True,
                    )
                )
        if issues:
            _rule(issues)
        return self


def _split_key(key: str) -> tuple[str, str | None, str | None]:
    """(name, region, account) of a function key; region and account only from an ARN."""
    if key.startswith("arn:"):
        parts = key.split(":")
        return parts[6], parts[3], parts[4]
    return key, None, None


# -- diagnostics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A place in a manifest, printed the way editors and CI annotations link to it."""

    file: str
    line: int  # 1-based
    col: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem: `FILE:LINE:COL: path.to.key: what was expected, got what`."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ManifestError(ReconcilerError):
    """One or more manifests are invalid; `diagnostics` lists every problem found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        more = len(self.diagnostics) - 1
        first = str(self.diagnostics[0]) if self.diagnostics else "invalid manifest"
        super().__init__(f"{first} (and {more} more)" if more > 0 else first)


def _dotted(path: Sequence[Hashable]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unwrap(tp: Any) -> Any:
    """The model, dict or tuple type inside Annotated[...] and X | None."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return None
            tp = members[0]
        else:
            return tp


def _model_at(path: Sequence[Hashable]) -> type[BaseModel] | None:
    """The model that validates the mapping at `path` of a manifest, if any."""
    tp: Any = Manifest
    for part in path:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(str(part))
            if info is None:
                return None
            tp = info.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) is tuple:
            tp = typing.get_args(tp)[0]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _unknown_key(path: Sequence[Hashable]) -> str:
    key = str(path[-1])
    model = _model_at(path[:-1])
    if model is None:
        return f"unknown key {_show(key)}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {_show(key)} ({hint}expected one of: {', '.join(allowed)})"


_TYPE_NAMES = {
    "int_type": "a whole number",
    "bool_type": "true or false",
    "string_type": "text",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "tuple_type": "a list",
    "list_type": "a list",
}


def _friendly(err: Mapping[str, Any], written: str | None) -> str:
    kind = str(err.get("type", ""))
    msg = str(err.get("msg", ""))
    value = err.get("input")
    ctx: Mapping[str, Any] = err.get("ctx") or {}
    if kind in _TYPE_NAMES:
        hint = ""
        if kind == "string_type" and written is not None and not isinstance(value, str):
            hint = f' (put it in quotes to keep it text: "{written}")'
        return f"expected {_TYPE_NAMES[kind]}, got {_show(value)}{hint}"
    if kind in ("greater_than_equal", "greater_than"):
        op = ">=" if kind == "greater_than_equal" else ">"
        limit = ctx.get("ge", ctx.get("gt"))
        return f"expected a number {op} {limit}, got {_show(value)}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got none"
    if kind == "string_too_short":
        return "expected non-empty text"
    if kind == "string_too_long":
        size = len(value) if isinstance(value, str) else "more"
        return f"expected at most {ctx.get('max_length')} characters, got {size}"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def _redundant(err: Mapping[str, Any], errs: Sequence[Mapping[str, Any]]) -> bool:
    """Errors that only echo another: a list "too short" because an item failed (pydantic
    counts only valid items), and a missing key that an unknown key misspells (`wieght`)."""
    loc = tuple(err["loc"])
    if err["type"] == "too_short":
        return any(len(o["loc"]) > len(loc) and tuple(o["loc"][: len(loc)]) == loc for o in errs)
    if err["type"] == "missing":
        typos = [
            str(o["loc"][-1])
            for o in errs
            if o["type"] == "extra_forbidden" and tuple(o["loc"][:-1]) == loc[:-1]
        ]
        return bool(difflib.get_close_matches(str(loc[-1]), typos, n=1, cutoff=0.75))
    return False


def _diagnostics(e: ValidationError, doc: Document, path: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []

    def emit(loc: tuple[Hashable, ...], message: str, at_key: bool) -> None:
        # A mapping or list is located by its key; a scalar by its value.
        pos = doc.position(loc, key=at_key or loc not in doc.scalars)
        text = f"{_dotted(loc)}: {message}" if loc else message
        diagnostic = Diagnostic(Location(path, pos.line, pos.col), text)
        if diagnostic not in out:
            out.append(diagnostic)

    errs = e.errors(include_url=False)
    for err in errs:
        loc: tuple[Hashable, ...] = tuple(err["loc"])
        kind = err["type"]
        if _redundant(err, errs):
            continue
        if kind == "manifest_rule":
            for sub, message, at_key in err["ctx"]["issues"]:
                emit((*loc, *sub), message, at_key)
        elif loc[-1:] == ("[key]",):
            emit(loc[:-1], _friendly(err, None), True)
        elif kind == "extra_forbidden":
            emit(loc, _unknown_key(loc), True)
        elif kind == "missing":
            if loc == ("version",):
                emit((), "`version: 1` is required (the manifest format version)", False)
            else:
                emit(loc[:-1], f"`{loc[-1]}` is required", True)
        elif loc == ("functions",) and kind == "too_short":
            emit(loc, "no functions: declare at least one under `functions:`", True)
        else:
            emit(loc, _friendly(err, doc.scalars.get(loc)), False)
    return sorted(out, key=lambda d: (d.location.line, d.location.col))


# -- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunctionTarget:
    """One function to reconcile: its spec with `defaults` merged in, and where it was declared.

    `region` is the function's own `region`, else its ARN's, else `defaults.region`, else the
    manifest's `region`; None leaves it to the AWS SDK (or `--region`).
    """

    key: str  # as written in the manifest: a name or an ARN
    name: str
    region: str | None
    account: str | None  # from the ARN; None for a bare name
    spec: FunctionSpec
    location: Location  # of the function key
    manifest: str  # the manifest path as given
    allowed_account_ids: frozenset[str] | None
    alias_locations: Mapping[str, Location] = field(default_factory=dict)

    def alias_location(self, alias: str) -> Location:
        """Where the alias key is written (the function key if the alias is not declared)."""
        return self.alias_locations.get(alias, self.location)


@dataclass(frozen=True)
class ManifestSet:
    """Every function of one run, in manifest order (files in the order given)."""

    paths: tuple[str, ...]
    functions: tuple[FunctionTarget, ...]


def _targets(manifest: Manifest, doc: Document, path: str) -> list[FunctionTarget]:
    defaults = manifest.defaults or Defaults()
    allowed = (
        frozenset(manifest.allowed_account_ids)
        if manifest.allowed_account_ids is not None
        else None
    )
    out: list[FunctionTarget] = []
    for key, spec in manifest.functions.items():
        name, arn_region, account = _split_key(key)
        region = spec.region or arn_region or defaults.region or manifest.region
        update: dict[str, Any] = {"region": region}
        for setting in ("publish", "retention", "prune_aliases"):
            default = getattr(defaults, setting)
            if setting not in spec.model_fields_set and default is not None:
                update[setting] = default
        kpos = doc.position(("functions", key), key=True)
        alias_locations = {}
        for alias in spec.aliases:
            apos = doc.position(("functions", key, "aliases", alias), key=True)
            alias_locations[alias] = Location(path, apos.line, apos.col)
        out.append(
            FunctionTarget(
                key=key,
                name=name,
                region=region,
                account=account,
                spec=spec.model_copy(update=update),
                location=Location(path, kpos.line, kpos.col),
                manifest=path,
                allowed_account_ids=allowed,
                alias_locations=alias_locations,
            )
        )
    return out


def _load_one(raw: bytes, path: str) -> tuple[list[FunctionTarget], list[Diagnostic]]:
    try:
        doc = load_yaml(raw)
    except YamlError as e:
        return [], [Diagnostic(Location(path, e.position.line, e.position.col), e.message)]
    if doc.data is None:
        return [], [
            Diagnostic(
                Location(path, 1, 1),
                "file is empty: expected a manifest with `version: 1` and `functions:`",
            )
        ]
    if not isinstance(doc.data, dict):
        pos = doc.position(())
        kind = "a list" if isinstance(doc.data, list) else f"the value {_show(doc.data)}"
        return [], [
            Diagnostic(
                Location(path, pos.line, pos.col),
                f"expected a mapping with `version: 1` and `functions:` at the top level, "
                f"got {kind}",
            )
        ]
    try:
        manifest = Manifest.model_validate(doc.data)
    except ValidationError as e:
        return [], _diagnostics(e, doc, path)
    return _targets(manifest, doc, path), []


def _same_function(a: FunctionTarget, b: FunctionTarget) -> bool:
    """Same name, and region and account equal or unknown (then they may well be the same)."""
    return (
        a.name == b.name
        and (a.region is None or b.region is None or a.region == b.region)
        and (a.account is None or b.account is None or a.account == b.account)
    )


def _duplicates(targets: Sequence[FunctionTarget]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    by_name: dict[str, list[FunctionTarget]] = {}
    for t in targets:
        earlier = by_name.setdefault(t.name, [])
        first = next((e for e in earlier if _same_function(e, t)), None)
        if first is not None:
            where = f" in {first.region}" if first.region and t.region else ""
            out.append(
                Diagnostic(
                    t.location,
                    f"functions.{t.key}: function {t.name}{where} is already declared at "
                    f"{first.location}; a function may appear only once per run",
                )
            )
        earlier.append(t)
    return out


def load_manifest_text(text: str | bytes, path: str) -> ManifestSet:
    """Load one manifest from a string; raise ManifestError with all its diagnostics."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    targets, diagnostics = _load_one(raw, path)
    diagnostics += _duplicates(targets)
    if diagnostics:
        raise ManifestError(diagnostics)
    return ManifestSet(paths=(path,), functions=tuple(targets))


def load_manifests(paths: Sequence[str]) -> ManifestSet:
    """Load and check every manifest; raise ManifestError with all diagnostics of all files."""
    targets: list[FunctionTarget] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_BYTES + 1)  # enough to tell that a file is too large
        except OSError as e:
            reason = e.strerror or type(e).__name__
            diagnostics.append(Diagnostic(Location(path, 1, 1), f"cannot read the file: {reason}"))
            continue
        found, problems = _load_one(raw, path)
        targets += found
        diagnostics += problems
    diagnostics += _duplicates(targets)
    if diagnostics:
        raise ManifestError(diagnostics)
    return ManifestSet(paths=tuple(paths), functions=tuple(targets))


# -- JSON Schema -----------------------------------------------------------------------------

_KEY_SCHEMAS = {
    _FUNCTION_KEY_SCHEMA["pattern"]: _FUNCTION_KEY_SCHEMA,
    _ALIAS_NAME_SCHEMA["pattern"]: _ALIAS_NAME_SCHEMA,
}


def _close_mappings(node: Any) -> None:
    """Name-keyed mappings: keys checked by `propertyNames`, no other key allowed."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1:
            ((pattern, value),) = patterns.items()
            del node["patternProperties"]
            node["propertyNames"] = _KEY_SCHEMAS.get(pattern, {"pattern": pattern})
            node["additionalProperties"] = value
        for child in node.values():
            _close_mappings(child)
    elif isinstance(node, list):
        for child in node:
            _close_mappings(child)


def json_schema() -> dict[str, Any]:
    """The manifest's JSON Schema (draft 2020-12), generated from the models."""
    schema = Manifest.model_json_schema()
    _close_mappings(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "lambda-reconciler manifest v1"
    return schema


def json_schema_text() -> str:
    """`json_schema()` as committed in schemas/manifest.schema.json (`make schema`)."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def is_alias_name(name: str) -> bool:
    """Whether AWS accepts `name` as an alias name."""
    return bool(_ALIAS_NAME_RE.fullmatch(name)) and not name.isdigit()
