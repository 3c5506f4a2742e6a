"""Version selectors: a number, `latest`, `$LATEST`, `{alias:}`, `{sha256:}` or `{description:}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer, PlainValidator, WithJsonSchema

from reconciler.manifest._base import StrictModel, show


class AliasRef(StrictModel):
    """The primary version of another alias of the same function.

    ```yaml
    version: {alias: staging}
    ```
    """

    alias: str


class Sha256Ref(StrictModel):
    """The newest published version whose `CodeSha256` is this hash.

    ```yaml
    version: {sha256: "vJ6ftDrM+0TtpY63HMluDCPVmbk3zqpNKHv+wVaWCho="}
    ```
    """

    sha256: Annotated[str, Field(min_length=1)]


class DescriptionRef(StrictModel):
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
        raise ValueError(f"{_SELECTOR_HELP}, got {show(value)}")
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"version numbers start at 1, got {value}")
        return value
    if isinstance(value, str):
        if value.isascii() and value.isdigit():
            if len(value) > 1 and value.startswith("0"):
                raise ValueError(f"version {show(value)} has a leading zero: write {int(value)}")
            return _selector(int(value))
        if value in ("latest", "$LATEST"):
            return value
        raise ValueError(f"{_SELECTOR_HELP}, got {show(value)}")
    if isinstance(value, Mapping) and len(value) == 1:
        key, text = next(iter(value.items()))
        ref = _REFS.get(key) if isinstance(key, str) else None
        if ref is not None:
            if not isinstance(text, str) or (not text and key != "description"):
                raise ValueError(f"expected {{{key}: TEXT}} with non-empty text, got {show(value)}")
            return ref.model_validate({key: text})
    raise ValueError(f"{_SELECTOR_HELP}, got {show(value)}")


def dump_selector(value: Any) -> Any:
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
        {"type": "string", "pattern": "^[1-9][0-9]*$"},
        {"enum": ["latest", "$LATEST"]},
        _ref_schema("alias", 1),
        _ref_schema("sha256", 1),
        _ref_schema("description", 0),
    ],
}

Selector = Annotated[
    int | Literal["latest", "$LATEST"] | AliasRef | Sha256Ref | DescriptionRef,
    PlainValidator(_selector),
    PlainSerializer(dump_selector),
    WithJsonSchema(_SELECTOR_SCHEMA),
]
