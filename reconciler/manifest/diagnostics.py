"""Diagnostics: pydantic's errors turned into `FILE:LINE:COL: path.to.key: message` lines."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union

from pydantic import BaseModel, ValidationError

from reconciler.errors import ReconcilerError
from reconciler.manifest._base import show
from reconciler.manifest.models import Manifest
from reconciler.manifest.yamlload import Document, dotted


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
        return f"unknown key {show(key)}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key {show(key)} ({hint}expected one of: {', '.join(allowed)})"


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
        return f"expected {_TYPE_NAMES[kind]}, got {show(value)}{hint}"
    if kind in ("greater_than_equal", "greater_than"):
        op = ">=" if kind == "greater_than_equal" else ">"
        limit = ctx.get("ge", ctx.get("gt"))
        return f"expected a number {op} {limit}, got {show(value)}"
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


def to_diagnostics(e: ValidationError, doc: Document, path: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []

    def emit(loc: tuple[Hashable, ...], message: str, at_key: bool) -> None:
        # A mapping or list is located by its key; a scalar by its value.
        pos = doc.position(loc, key=at_key or loc not in doc.scalars)
        text = f"{dotted(loc)}: {message}" if loc else message
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
        else:
            emit(loc, _friendly(err, doc.scalars.get(loc)), False)
    return sorted(out, key=lambda d: (d.location.line, d.location.col))
