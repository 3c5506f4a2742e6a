"""How the plan's values are saved: the markers that the plan's dataclasses carry on their fields
(`Annotated[...]`), read by the one mechanism that writes, reads and describes the JSON plan file
(`reconciler.plan.planfile`).

A field is saved under its own name unless it says `Field(alias=...)`; its constraints (`Count`,
`Share`, `Guard`, a pattern) are checked when a plan file is read and stated in its JSON Schema.
A union of reasons or operations is `Tagged` by the key that names its member (`kind`, `action`;
each member says its own as a class attribute). `Via` saves a value in another form (a version
number as a string, the alias record as its description block); `WriteOnly` fields are written but
not read back, `Transient` ones neither; `OmitNone` fields are left out of the file when None.

This module holds no words and imports no wording: the plan's types depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, TypeVar, get_args

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler, Strict
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, PydanticOmit, core_schema


@dataclass(frozen=True)
class Tagged:
    """A union whose members each name themselves with a class attribute `key` (their tag),
    saved as the object's first key and read back by it; `only` keeps the members of a wider
    union that may stand here."""

    key: str
    only: tuple[type, ...] = ()

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        choices: dict[Any, core_schema.CoreSchema] = {}
        members = tuple(m for m in get_args(source) if not self.only or m in self.only)
        for member in members:
            tag = getattr(member, self.key)
            schema = handler.generate_schema(member)
            if _is_tuple(member):  # a named tuple takes only its fields: drop the tag
                schema = core_schema.no_info_before_validator_function(_without(self.key), schema)
            choices[getattr(tag, "value", tag)] = schema
        return core_schema.tagged_union_schema(
            choices, discriminator=self.key, metadata={_MEMBERS: members}
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        members = schema.get("metadata", {})[_MEMBERS]
        for member, choice in zip(members, out["oneOf"], strict=True):
            resolved = handler.resolve_ref_schema(choice)
            if _is_tuple(member):
                resolved.update(object_schema(member, resolved))
            tag = getattr(member, self.key)
            resolved["properties"] = {
                self.key: {"const": getattr(tag, "value", tag)},
                **resolved.get("properties", {}),
            }
            required = resolved.get("required", [])
            resolved["required"] = [self.key, *(r for r in required if r != self.key)]
        return out


_MEMBERS = "lambda_reconciler_members"


def object_schema(cls: type, schema: dict[str, Any]) -> dict[str, Any]:
    """A named tuple's JSON Schema as the object the plan file saves (pydantic gives an array)."""
    if schema.get("type") != "array":
        return schema
    names = getattr(cls, "_fields")  # noqa: B009
    items = schema.get("prefixItems", [])
    out: dict[str, Any] = {"type": "object", "properties": dict(zip(names, items, strict=True))}
    required = list(names[: schema.get("minItems", 0)])
    if required:
        out["required"] = required
    schema.clear()
    return out


def _is_tuple(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, tuple)


def _without(key: str) -> Callable[[Any], Any]:
    def drop(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if k != key}
        return value

    return drop


def tag_of(cls: type) -> tuple[str, str] | None:
    """(key, tag) of a tagged union's member class, None for any other class."""
    for key in ("kind", "action"):
        tag = getattr(cls, key, None)
        if tag is not None and not callable(tag):
            return key, getattr(tag, "value", tag)
    return None


@dataclass(frozen=True)
class Via:
    """A value saved in another form, `saved` (a type, checked and described as the file holds
    it): `load` turns the saved form into the value, `dump` the value into the saved form."""

    saved: Any
    load: Callable[[Any], Any]
    dump: Callable[[Any], Any]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            self.load, handler.generate_schema(self.saved)
        )


@dataclass(frozen=True)
class WriteOnly:
    """Written to the file (for people and scripts), never read back: reading gives `empty`
    (apply re-reads what it says)."""

    empty: Any = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        empty = self.empty
        return core_schema.no_info_plain_validator_function(
            lambda _: empty, json_schema_input_schema=handler(source)
        )


@dataclass(frozen=True)
class Worded:
    """A value saved as its words (a string; "" for None): the plan file writes them and reads
    them back with the parser it passes as the validation context's `WORDS` entry."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def load(value: Any, info: core_schema.ValidationInfo) -> Any:
            if not isinstance(value, str):
                raise PydanticCustomError("string_type", "Input should be a valid string")
            return (info.context or {})[WORDS](value) if value else None

        return core_schema.with_info_plain_validator_function(load)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "default": ""}


WORDS: Final = "words"


@dataclass(frozen=True)
class _Transient:
    """Neither written nor read: a value of the run only (why a step waits, re-read by apply)."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(lambda _: None)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        raise PydanticOmit


Transient: Final = _Transient()


@dataclass(frozen=True)
class _OmitNone:
    """Left out of the file when None (its key is then absent, not null)."""


OmitNone: Final = _OmitNone()


# ---- value types ---------------------------------------------------------------------------

# Reading is lax about containers and times (a JSON list for a tuple, an ISO 8601 string for a
# time) and strict about numbers and booleans: a string is never read as one.
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Count = Annotated[int, Strict(), Field(ge=0)]
Positive = Annotated[int, Strict(), Field(ge=1)]
Guard = Annotated[str, Field(min_length=1)]  # a RevisionId or CodeSha256 a write is guarded by
Share = Annotated[float, Strict(), Field(gt=0, lt=1, allow_inf_nan=False)]  # a canary's traffic
Weight = Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)]
Rate = Weight
_DIGITS = r"^[1-9][0-9]*$"
# A published version's number, saved as the string AWS's Qualifier takes.
Number = Annotated[int, Via(Annotated[str, Field(pattern=_DIGITS)], int, str)]


_T = TypeVar("_T")


def tag(value: str) -> Callable[[_T], _T]:
    """Name a member of a `Tagged("kind")` union: `kind` is saved first and selects it."""

    def named(cls: _T) -> _T:
        setattr(cls, "kind", value)  # noqa: B010 (a named tuple takes no class attribute)
        return cls

    return named


@dataclass(frozen=True)
class Ignoring:
    """Keys of the saved object that reading ignores (the words beside a named tuple's data)."""

    keys: tuple[str, ...]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        keys = set(self.keys)

        def drop(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: v for k, v in value.items() if k not in keys}
            return value

        return core_schema.no_info_before_validator_function(
            drop, handler(source), metadata={_MEMBERS: (source,)}
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        cls = schema.get("metadata", {})[_MEMBERS][0]
        resolved = handler.resolve_ref_schema(out)
        if _is_tuple(cls):
            resolved.update(object_schema(cls, resolved))
        return out


@dataclass(frozen=True)
class Shape:
    """An object saved in a form other than its fields': `load` turns the saved object into its
    fields (before they are checked), `describe` turns the fields' JSON Schema into the saved
    form's (given a resolver of `$ref`s)."""

    load: Callable[[Any], Any]
    describe: Callable[[dict[str, Any], Callable[[Any], Any]], None]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.load, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        self.describe(handler.resolve_ref_schema(out), handler.resolve_ref_schema)
        return out


# ---- how the plan's containers are saved ---------------------------------------------------


def _required(saved: dict[str, Any], *names: str) -> None:
    for name in names:
        if name not in saved:
            raise PydanticCustomError("missing", "Field required", {"field": name})


def load_function(saved: Any) -> Any:
    """A saved function plan's fields: its key defaults to its name, and its unmanaged aliases
    are saved as their names, with their states and ties beside them by name."""
    if not isinstance(saved, dict):
        return saved
    _required(saved, "function", "fingerprint")
    name = saved["function"] if isinstance(saved["function"], str) else ""
    out = {"key": name, "region": "", "account": "", "source": "", **saved}
    if out["key"] is None:
        out["key"] = name
    names, states = saved.get("unmanaged_aliases", []), saved.get("unmanaged_alias_states", {})
    ties = saved.get("unmanaged_alias_ties", {})
    if isinstance(names, list) and isinstance(states, dict) and isinstance(ties, dict):
        out["unmanaged_aliases"] = [
            {"name": n, "state": states.get(n, {"version": "?"}), "ties": ties.get(n, [])}
            if isinstance(n, str)
            else n
            for n in names
        ]
    return out


def describe_function(schema: dict[str, Any], resolve: Callable[[Any], Any]) -> None:
    props = schema["properties"]
    unmanaged = resolve(props["unmanaged_aliases"]["items"])["properties"]
    props["unmanaged_aliases"] = {"type": "array", "items": {"type": "string"}}
    props["unmanaged_alias_states"] = {"type": "object", "additionalProperties": unmanaged["state"]}
    props["unmanaged_alias_ties"] = {"type": "object", "additionalProperties": unmanaged["ties"]}
    schema["required"] = ["function", "fingerprint"]


def load_layer(saved: Any) -> Any:
    if not isinstance(saved, dict):
        return saved
    return {"region": "", "source": "", **saved}


def describe_layer(schema: dict[str, Any], resolve: Callable[[Any], Any]) -> None:
    schema["required"] = ["key", "layer"]


def load_storage(saved: Any) -> Any:
    """A region's code storage: its byte counts strictly (the dataclass is the AWS layer's), its
    error null when there is none."""
    if not isinstance(saved, dict):
        return saved
    for name in ("used", "limit"):
        value = saved.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise PydanticCustomError(
                "int_type", "Input should be a valid integer", {"field": name, "value": value}
            )
        if isinstance(value, int) and value < 0:
            raise PydanticCustomError(
                "greater_than_equal",
                "Input should be greater than or equal to 0",
                {"field": name, "value": value},
            )
    return {**saved, "error": saved.get("error") or ""}


def describe_storage(schema: dict[str, Any], resolve: Callable[[Any], Any]) -> None:
    schema["properties"]["error"] = {"type": ["string", "null"]}
    for name in ("used", "limit"):
        schema["properties"][name]["minimum"] = 0
