"""Manifest v1: pydantic models, loading with locations, cross-manifest checks, JSON Schema.

Validation runs in layers, like a linter: the bounded YAML reader (`yamlload`) → the strict
models (types, unknown keys, ranges, cross-field rules) → checks across manifests (the same
function twice). Every problem becomes a `Diagnostic` with FILE:LINE:COL, and all of them are
reported, not just the first.

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

import json
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

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

from reconciler.errors import ReconcilerError
from reconciler.yamlload import Document, YamlError, load_yaml

FUNCTION_NAME = r"[a-zA-Z0-9_-]{1,64}"
FUNCTION_ARN = (
    r"arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:lambda:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:function:"
    + FUNCTION_NAME
)
FUNCTION_KEY = rf"^(?:{FUNCTION_NAME}|{FUNCTION_ARN})$"
ALIAS_NAME = r"^(?!\d+$)[a-zA-Z0-9_-]{1,128}$"
REGION = r"^[a-z]{2}(?:-[a-z]+)+-\d$"
ACCOUNT = r"^\d{12}$"
_ALIAS_RE = re.compile(ALIAS_NAME)


def _as_tuple(value: Any) -> Any:
    """YAML gives lists; the frozen models keep tuples (strict mode takes no list for a tuple)."""
    return tuple(value) if isinstance(value, list) else value


AsTuple = BeforeValidator(_as_tuple)


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, regex_engine="python-re")


class AliasRef(_Model):
    """Follow another alias of the same function: `{alias: staging}`."""

    alias: str


class Sha256Ref(_Model):
    """The newest version with this code hash: `{sha256: "vJ6f…="}`."""

    sha256: Annotated[str, Field(min_length=1)]


class DescriptionRef(_Model):
    """The newest version with this description: `{description: release-42}`."""

    description: str


_SELECTOR_HELP = (
    "expected a version number, `latest`, `$LATEST`, {alias: NAME}, {sha256: HASH} "
    "or {description: TEXT}"
)


def _parse_selector(value: Any) -> Any:
    if isinstance(value, (AliasRef, Sha256Ref, DescriptionRef)):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{_SELECTOR_HELP}, got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"version numbers start at 1, got {value}")
        return value
    if isinstance(value, str):
        if value.isdigit() and value.isascii():
            return _parse_selector(int(value))
        if value in ("latest", "$LATEST"):
            return value
        raise ValueError(f"{_SELECTOR_HELP}, got {value!r}")
    if isinstance(value, Mapping) and len(value) == 1:
        key = next(iter(value))
        models: dict[str, type[BaseModel]] = {
            "alias": AliasRef,
            "sha256": Sha256Ref,
            "description": DescriptionRef,
        }
        model = models.get(key)
        if model is not None:
            return model.model_validate(dict(value))
    raise ValueError(f"{_SELECTOR_HELP}, got {value!r}")


def _dump_selector(value: Any) -> Any:
    return value.model_dump() if isinstance(value, BaseModel) else value


_SELECTOR_SCHEMA: dict[str, Any] = {
    "description": "A version selector.",
    "anyOf": [
        {"type": "integer", "minimum": 1},
        {"type": "string", "pattern": "^[0-9]*[1-9][0-9]*$"},
        {"enum": ["latest", "$LATEST"]},
        {
            "type": "object",
            "properties": {"alias": {"type": "string"}},
            "required": ["alias"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"sha256": {"type": "string", "minLength": 1}},
            "required": ["sha256"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"description": {"type": "string"}},
            "required": ["description"],
            "additionalProperties": False,
        },
    ],
}

Selector = Annotated[
    int | Literal["latest", "$LATEST"] | AliasRef | Sha256Ref | DescriptionRef,
    PlainValidator(_parse_selector),
    PlainSerializer(_dump_selector),
    WithJsonSchema(_SELECTOR_SCHEMA),
]

_WEIGHT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _parse_fraction(value: Any) -> float:
    """A share of traffic strictly between 0 and 1, as `0.1` or `"10%"`."""
    help_ = 'expected a weight between 0 and 1 such as 0.1 or "10%"'
    if isinstance(value, bool):
        raise ValueError(f"{help_}, got {value!r}")
    if isinstance(value, str):
        m = _WEIGHT_RE.match(value)
        if not m:
            raise ValueError(f"{help_}, got {value!r}")
        weight = float(m.group(1)) / 100
    elif isinstance(value, (int, float)):
        weight = float(value)
    else:
        raise ValueError(f"{help_}, got {value!r}")
    if not 0 < weight < 1:
        raise ValueError(f"{help_}, got {value!r}")
    return weight


_WEIGHT_SCHEMA: dict[str, Any] = {
    "description": 'Share of traffic: 0 < weight < 1, as 0.1 or "10%".',
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        {"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"},
    ],
}

Weight = Annotated[float, PlainValidator(_parse_fraction), WithJsonSchema(_WEIGHT_SCHEMA)]

_INTERVAL_RE = re.compile(r"^\s*(\d+)\s*([smh])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600}


def _parse_interval(value: Any) -> int:
    help_ = 'expected a duration such as "30s", "10m" or "2h"'
    if isinstance(value, bool):
        raise ValueError(f"{help_}, got {value!r}")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and (m := _INTERVAL_RE.match(value)):
        seconds = int(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"{help_}, got {value!r}")
    if seconds <= 0:
        raise ValueError(f"{help_}, got {value!r}")
    return seconds


Interval = Annotated[
    int,
    PlainValidator(_parse_interval),
    WithJsonSchema(
        {
            "description": 'Minimum time at each step: seconds, or "30s", "10m", "2h".',
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": r"^\s*\d+\s*[smh]\s*$"},
            ],
        }
    ),
]


class CanarySpec(_Model):
    """A second version and its share of the alias's traffic.

    ```yaml
    canary: {version: 6, weight: 10%}
    ```
    """

    version: Selector
    weight: Weight


class RolloutSpec(_Model):
    """Shift traffic step by step, one step per apply, rolling back on an alarm.

    ```yaml
    rollout: {steps: [10%, 50%], interval: 10m, alarms: [orders-errors]}
    ```
    """

    steps: Annotated[tuple[Weight, ...], AsTuple, Field(min_length=1, max_length=20)]
    interval: Interval
    alarms: Annotated[tuple[Annotated[str, Field(min_length=1, max_length=255)], ...], AsTuple] = ()

    @model_validator(mode="after")
    def _increasing(self) -> RolloutSpec:
        if any(b <= a for a, b in zip(self.steps, self.steps[1:], strict=False)):
            raise ValueError("rollout steps must increase, e.g. [10%, 50%]")
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

    version: Selector
    canary: CanarySpec | None = None
    description: Annotated[str, Field(max_length=256)] | None = None
    rollout: RolloutSpec | None = None

    @model_validator(mode="after")
    def _rules(self) -> AliasSpec:
        if self.canary is not None and self.rollout is not None:
            raise ValueError("`canary` and `rollout` are mutually exclusive on one alias")
        if self.canary is not None:
            if self.version == "$LATEST" or self.canary.version == "$LATEST":
                raise ValueError(
                    "no canary with $LATEST: AWS routes traffic only between published versions"
                )
            if self.canary.version == self.version:
                raise ValueError("canary.version must differ from version")
        if self.rollout is not None and self.version == "$LATEST":
            raise ValueError("a rollout cannot target $LATEST")
        return self


class RetentionSpec(_Model):
    """Which published versions to keep; the rest are deleted (opt-in).

    ```yaml
    retention: {keep_last: 10, keep_days: 30, protect: [1]}
    ```
    """

    keep_last: Annotated[int, Field(ge=1)] | None = None
    keep_days: Annotated[int, Field(ge=1)] | None = None
    protect: Annotated[tuple[Annotated[int, Field(ge=1)], ...], AsTuple] = ()

    @model_validator(mode="after")
    def _something(self) -> RetentionSpec:
        if self.keep_last is None and self.keep_days is None:
            raise ValueError("retention needs keep_last, keep_days or both")
        return self


AliasName = Annotated[str, Field(pattern=ALIAS_NAME)]
Region = Annotated[str, Field(pattern=REGION)]


class FunctionSpec(_Model):
    """One function: its aliases, publishing and retention.

    ```yaml
    order-processor:
      publish: true
      aliases:
        prod: {version: latest}
      retention: {keep_last: 10}
    ```
    """

    aliases: dict[AliasName, AliasSpec] = Field(default_factory=dict)
    publish: bool = False
    retention: RetentionSpec | None = None
    prune_aliases: bool = False
    region: Region | None = None

    @model_validator(mode="after")
    def _alias_refs(self) -> FunctionSpec:
        for name, spec in self.aliases.items():
            seen = [name]
            selector: Any = spec.version
            while isinstance(selector, AliasRef):
                if selector.alias not in self.aliases:
                    raise ValueError(
                        f"alias {name} follows {selector.alias!r}, which this function "
                        "does not declare"
                    )
                if selector.alias in seen:
                    raise ValueError(f"alias cycle: {' → '.join([*seen, selector.alias])}")
                seen.append(selector.alias)
                selector = self.aliases[selector.alias].version
            canary = spec.canary.version if spec.canary is not None else None
            if isinstance(canary, AliasRef) and canary.alias not in self.aliases:
                raise ValueError(
                    f"alias {name}: canary follows {canary.alias!r}, "
                    "which this function does not declare"
                )
        return self


class Defaults(_Model):
    """Values for every function that does not set the key itself."""

    publish: bool | None = None
    retention: RetentionSpec | None = None
    prune_aliases: bool | None = None
    region: Region | None = None


FunctionKey = Annotated[str, Field(pattern=FUNCTION_KEY)]
AccountId = Annotated[str, Field(pattern=ACCOUNT)]


class Manifest(_Model):
    """A manifest file.

    ```yaml
    version: 1
    region: us-east-1
    allowed_account_ids: ["123456789012"]
    defaults: {retention: {keep_last: 5}}
    functions:
      order-processor:
        aliases: {prod: {version: 5}}
    ```
    """

    version: Literal[1]
    region: Region | None = None
    allowed_account_ids: Annotated[tuple[AccountId, ...], AsTuple, Field(min_length=1)] | None = (
        None
    )
    defaults: Defaults | None = None
    functions: Annotated[dict[FunctionKey, FunctionSpec], Field(min_length=1)]


# -- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ManifestError(ReconcilerError):
    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        more = f" (and {len(self.diagnostics) - 1} more)" if len(self.diagnostics) > 1 else ""
        super().__init__(f"{self.diagnostics[0]}{more}" if self.diagnostics else "invalid")


@dataclass(frozen=True)
class FunctionTarget:
    """One function to reconcile, with defaults merged and its place in the manifest."""

    key: str
    name: str
    region: str | None
    account: str | None
    spec: FunctionSpec
    location: Location
    manifest: str
    allowed_account_ids: frozenset[str] | None
    alias_locations: Mapping[str, Location] = field(default_factory=dict)

    def alias_location(self, alias: str) -> Location:
        return self.alias_locations.get(alias, self.location)


@dataclass(frozen=True)
class ManifestSet:
    paths: tuple[str, ...]
    functions: tuple[FunctionTarget, ...]


def _path_str(path: Sequence[Hashable]) -> str:
    return ".".join(str(p) for p in path) or "manifest"


def _friendly(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    msg = str(err.get("msg", ""))
    value = err.get("input")
    if kind == "extra_forbidden":
        return "unknown key (a typo?)"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error":
        return f"{msg.lower()}, got {value!r}"
    if kind == "string_pattern_mismatch":
        return f"invalid value {value!r}: does not match {err.get('ctx', {}).get('pattern')}"
    if kind in ("int_type", "bool_type", "string_type", "dict_type", "tuple_type", "list_type"):
        expected = {
            "int_type": "an integer",
            "bool_type": "true or false",
            "string_type": "a string",
            "dict_type": "a mapping",
            "tuple_type": "a list",
            "list_type": "a list",
        }[kind]
        return f"expected {expected}, got {type(value).__name__} {value!r}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return f"{msg[0].lower()}{msg[1:]}, got {value!r}"
    if kind in ("too_short", "too_long"):
        return f"{msg[0].lower()}{msg[1:]}"
    if msg.startswith("Value error, "):
        return msg.removeprefix("Value error, ")
    return msg


_MESSAGES = {
    "version": "`version: 1` is required (the manifest format version)",
}


def _diagnostics(e: ValidationError, doc: Document, path: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    seen: set[tuple[int, int, str]] = set()
    for err in e.errors():
        loc = tuple(err["loc"])
        is_key = False
        if loc and loc[-1] == "[key]":
            loc, is_key = loc[:-1], True
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            is_key = True
        where = loc
        if kind == "missing":
            where = loc[:-1]
        pos = doc.position(where, key=is_key)
        if kind == "missing" and loc == ("version",):
            message = _MESSAGES["version"]
        elif is_key and kind == "string_pattern_mismatch":
            what = "alias name" if len(loc) >= 3 and loc[-2] == "aliases" else "function"
            hint = (
                "1-128 of a-z A-Z 0-9 - _, not all digits"
                if what == "alias name"
                else "a name of 1-64 of a-z A-Z 0-9 - _, or a full function ARN"
            )
            message = f"{_path_str(loc)}: invalid {what} {loc[-1]!r} (expected {hint})"
        elif kind == "extra_forbidden":
            message = f"{_path_str(loc)}: unknown key {loc[-1]!r} (a typo?)"
        else:
            message = f"{_path_str(loc)}: {_friendly(err)}"
        if kind == "missing" and loc != ("version",):
            message = f"{_path_str(loc)}: required key is missing"
        sig = (pos.line, pos.col, message)
        if sig not in seen:
            seen.add(sig)
            out.append(Diagnostic(Location(path, pos.line, pos.col), message))
    return out


def _region_of_arn(key: str) -> tuple[str | None, str | None, str]:
    if key.startswith("arn:"):
        parts = key.split(":")
        return parts[3], parts[4], parts[6]
    return None, None, key


def _targets(manifest: Manifest, doc: Document, path: str) -> list[FunctionTarget]:
    defaults = manifest.defaults or Defaults()
    allowed = frozenset(manifest.allowed_account_ids) if manifest.allowed_account_ids else None
    out: list[FunctionTarget] = []
    for key, spec in manifest.functions.items():
        explicit = spec.model_fields_set
        merged: dict[str, Any] = {}
        for name in ("publish", "retention", "prune_aliases", "region"):
            default = getattr(defaults, name)
            if name not in explicit and default is not None:
                merged[name] = default
        if merged:
            spec = spec.model_copy(update=merged)
        arn_region, account, name = _region_of_arn(key)
        region = (
            spec.region if "region" in explicit else arn_region or spec.region or manifest.region
        )
        kpos = doc.position(("functions", key), key=True)
        alias_locs = {
            a: Location(path, p.line, p.col)
            for a in spec.aliases
            for p in [doc.position(("functions", key, "aliases", a), key=True)]
        }
        out.append(
            FunctionTarget(
                key=key,
                name=name,
                region=region,
                account=account,
                spec=spec,
                location=Location(path, kpos.line, kpos.col),
                manifest=path,
                allowed_account_ids=allowed,
                alias_locations=alias_locs,
            )
        )
    return out


def _load_one(raw: bytes, path: str) -> tuple[list[FunctionTarget], list[Diagnostic]]:
    try:
        doc = load_yaml(raw)
    except YamlError as e:
        return [], [Diagnostic(Location(path, e.position.line, e.position.col), e.message)]
    if not isinstance(doc.data, dict):
        return [], [
            Diagnostic(
                Location(path, 1, 1),
                f"expected a mapping with `version: 1` and `functions:`, "
                f"got {type(doc.data).__name__}",
            )
        ]
    try:
        manifest = Manifest.model_validate(doc.data)
    except ValidationError as e:
        return [], _diagnostics(e, doc, path)
    return _targets(manifest, doc, path), []


def _cross_checks(targets: Sequence[FunctionTarget]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    first: dict[str, FunctionTarget] = {}
    for t in targets:
        ident = f"{t.name}@{t.region or '?'}"
        prev = first.get(ident)
        if prev is None:
            first[ident] = t
            continue
        out.append(
            Diagnostic(
                t.location,
                f"function {t.name} is already declared at {prev.location}; "
                "a function may appear only once per run",
            )
        )
    return out


def load_manifest_text(text: str | bytes, path: str) -> ManifestSet:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    targets, diags = _load_one(raw, path)
    diags += _cross_checks(targets)
    if diags:
        raise ManifestError(diags)
    return ManifestSet(paths=(path,), functions=tuple(targets))


def load_manifests(paths: Sequence[str]) -> ManifestSet:
    """Load and check every manifest; raise ManifestError with all diagnostics of all files."""
    targets: list[FunctionTarget] = []
    diags: list[Diagnostic] = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                raw = f.read(2 * 1024 * 1024)
        except OSError as e:
            diags.append(Diagnostic(Location(path, 1, 1), f"cannot read: {e.strerror or e}"))
            continue
        t, d = _load_one(raw, path)
        targets += t
        diags += d
    diags += _cross_checks(targets)
    if diags:
        raise ManifestError(diags)
    return ManifestSet(paths=tuple(paths), functions=tuple(targets))


# -- JSON Schema -----------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://lambda-reconciler.dev/schemas/manifest.schema.json"
    schema["title"] = "lambda-reconciler manifest v1"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def is_alias_name(name: str) -> bool:
    return bool(_ALIAS_RE.match(name))
