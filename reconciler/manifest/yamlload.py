"""A safe, bounded YAML reader that remembers where every key and value came from.

Stages: bytes → text (size and UTF-8 checks) → PyYAML's safe composer builds a node tree (one
document only, nesting depth capped while composing) → our own walk turns nodes into plain Python
data and records the line and column of every key and value by path (a tuple of keys and list
indexes), so every later error can say FILE:LINE:COL.

The composer reads its events from LibYAML's parser (C) when PyYAML has it: the same events with
the same positions, about three times faster than PyYAML's Python scanner, which was most of the
time a run spends before its first AWS call. A document that fails there in any way is read
again by PyYAML's own parser, whose messages and positions the errors below are written for.

Hostile input is bounded: files over `MAX_BYTES` are refused before parsing; nesting deeper than
`MAX_DEPTH` is refused while composing (so the recursive composer never nears Python's recursion
limit); the walk counts every value it produces, including each expansion of an alias, and stops
at `MAX_VALUES`, so an anchor bomb ("billion laughs") fails after a bounded amount of work.

Mapping keys are always text (`on:`, `123:` and `null:` name things; YAML 1.1 would otherwise
read them as a boolean, a number and null). Duplicate keys are errors. `<<` merge keys work as in
YAML 1.1: keys written in the mapping win over merged ones.

Integers are read only in their YAML 1.2 form (`-?(0|[1-9][0-9]*)`). The YAML 1.1 forms PyYAML
resolves — a leading zero (octal: `010` is 8), `0x1F`, `0b101`, `1_000`, `+2`, `1:30` (base 60) —
are errors that say what to write instead, so no number is read differently from how it reads.
Floats with an exponent are read as YAML 1.2 and JSON read them (`1e-6` is a number, not text).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_BYTES = 1024 * 1024
MAX_VALUES = 100_000
MAX_DEPTH = 100

Path = tuple[Hashable, ...]

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_INT = "tag:yaml.org,2002:int"
_INT_12 = re.compile(r"-?(?:0|[1-9][0-9]*)")
_STR = "tag:yaml.org,2002:str"
# YAML 1.2 floats with an exponent that YAML 1.1 reads as text (`1e-6`, `1.5E3`: no dot or no
# exponent sign); JSON writes small numbers this way.
_EXP_FLOAT_12 = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    col: int  # 1-based


class YamlError(Exception):
    """The file cannot be read as one YAML document; `position` says where."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass
class Document:
    """Plain data of one YAML document plus where each part of it was written."""

    data: Any
    values: dict[Path, Position] = field(default_factory=dict)  # where each value starts
    keys: dict[Path, Position] = field(default_factory=dict)  # where each mapping key starts
    scalars: dict[Path, str] = field(default_factory=dict)  # a scalar's text as written
    # Problems of single values that do not stop the reading (a YAML 1.1 integer such as
    # `010`, kept as its text): reported together with the schema's errors, in one pass.
    problems: list[YamlError] = field(default_factory=list)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """Where `path` (its key when `key` is true) starts, else its nearest recorded ancestor."""
        p = tuple(path)
        while True:
            if key and p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
            if p in self.keys:
                return self.keys[p]
            if not p:
                return Position(1, 1)
            p = p[:-1]


def _pos(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1) if mark is not None else Position(1, 1)


def _node_pos(node: yaml.Node) -> Position:
    return _pos(node.start_mark)


def _too_deep() -> str:
    return f"nesting deeper than {MAX_DEPTH} levels; a manifest needs fewer than 10"


def _too_many() -> str:
    """Found while expanding aliases: the file itself is below the limit."""
    return (
        f"the document expands to more than {MAX_VALUES:,} values "
        "(an alias *name counts the values of its anchor again each time it is used)"
    )


def _too_many_written() -> str:
    """Found while reading the file: it holds that many values as written."""
    return (
        f"the file holds more than {MAX_VALUES:,} values (keys, values and list items), the "
        "limit per manifest; split it into several manifests (a directory or a glob of them "
        "is one run)"
    )


class _Bounded:
    """A composer that refuses to nest deeper than MAX_DEPTH or to make more than MAX_VALUES
    nodes (mixed into a loader before its composer)."""

    _depth = 0
    _nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                raise YamlError(_too_deep(), self._here())
            if self._nodes > MAX_VALUES:  # stop early: the walk below would refuse it anyway
                raise YamlError(_too_many_written(), self._here())
            node: yaml.Node | None = super().compose_node(parent, index)  # type: ignore[misc]
            return node
        finally:
            self._depth -= 1

    def _here(self) -> Position:
        event: Any = self.peek_event()  # type: ignore[attr-defined]
        return _pos(event.start_mark)


class _Loader(_Bounded, yaml.SafeLoader):
    """SafeLoader (PyYAML's Python parser) with the bounded composer."""


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _FastLoader(
        _Bounded,
        yaml.composer.Composer,
        CParser,
        yaml.constructor.SafeConstructor,
        yaml.resolver.Resolver,
    ):
        """The bounded composer (Python) on LibYAML's events (C)."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        def compose_scalar_node(self, anchor: Any) -> yaml.ScalarNode:
            node: yaml.ScalarNode = super().compose_scalar_node(anchor)
            if node.style == "":  # a plain scalar: "" from LibYAML, None from PyYAML
                node.style = None
                if node.value == "":
                    # An empty value: LibYAML places it after the blanks that follow its key,
                    # PyYAML before them. PyYAML's position is the one diagnostics report.
                    raise _Unplaced
            return node


class _Unplaced(Exception):
    """A node LibYAML places differently from PyYAML's parser: read the document with that."""


def _fast_compose(text: str) -> tuple[bool, yaml.Node | None]:
    """(True, the node tree) from LibYAML's events, or (False, None) when PyYAML has no LibYAML
    or the document fails there (then PyYAML's own parser says why)."""
    if not yaml.__with_libyaml__:
        return False, None
    try:
        loader = _FastLoader(text)
        try:
            node: yaml.Node | None = loader.get_single_node()
        finally:
            loader.dispose()
    except Exception:  # any failure: read again by the parser whose errors are handled below
        return False, None
    return True, node


class _Builder:
    """Turns a composed node tree into plain data, recording positions, within budgets."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.count = 0
        self.active: set[int] = set()  # ids of the collection nodes being built (alias cycles)
        self.constructor = yaml.SafeLoader("")

    def _tick(self, node: yaml.Node) -> None:
        self.count += 1
        if self.count > MAX_VALUES:
            raise YamlError(_too_many(), _node_pos(node))

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self._tick(node)
        if depth > MAX_DEPTH:
            raise YamlError(_too_deep(), _node_pos(node))
        self.doc.values.setdefault(path, _node_pos(node))
        if isinstance(node, yaml.ScalarNode):
            self.doc.scalars.setdefault(path, str(node.value))
            if node.tag == _INT and not _INT_12.fullmatch(node.value) and self._reads_as_int(node):
                problem = YamlError(_not_yaml12_int(path, str(node.value)), _node_pos(node))
                self.doc.problems.append(problem)
                return str(node.value)  # the file is refused: read on for its other errors
            if node.tag == _STR and node.style is None and _EXP_FLOAT_12.fullmatch(node.value):
                return float(node.value)
            return self._scalar(node)
        if id(node) in self.active:
            raise YamlError("an alias refers to a collection that contains it", _node_pos(node))
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                if node.tag != _MAP:
                    raise YamlError(f"unsupported tag {node.tag!r} on a mapping", _node_pos(node))
                out: dict[str, Any] = {}
                for key, key_node, value_node in self._pairs(node, depth):
                    self.doc.keys.setdefault((*path, key), _node_pos(key_node))
                    out[key] = self.build(value_node, (*path, key), depth + 1)
                return out
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _SEQ:
                    raise YamlError(f"unsupported tag {node.tag!r} on a list", _node_pos(node))
                return [
                    self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)
                ]
            raise YamlError("unsupported YAML node", _node_pos(node))  # pragma: no cover
        finally:
            self.active.discard(id(node))

    def _reads_as_int(self, node: yaml.ScalarNode) -> bool:
        """Whether YAML 1.1 reads the text as an integer (`!!int x` does not: it fails later)."""
        resolved = self.constructor.resolve(  # type: ignore[no-untyped-call]
            yaml.ScalarNode, node.value, (True, False)
        )
        return bool(resolved == _INT)

    def _pairs(self, node: yaml.MappingNode, depth: int) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The mapping's (key, key node, value node) with `<<` merges resolved."""
        if depth > MAX_DEPTH:
            raise YamlError(_too_deep(), _node_pos(node))
        written: list[tuple[str, yaml.Node, yaml.Node]] = []
        merged: list[tuple[str, yaml.Node, yaml.Node]] = []
        names: set[str] = set()
        for key_node, value_node in node.value:
            self._tick(key_node)
            if key_node.tag == _MERGE:
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise YamlError(
                            "`<<` merges a mapping or a list of mappings", _node_pos(source)
                        )
                    if id(source) in self.active:
                        raise YamlError(
                            "an alias refers to a collection that contains it", _node_pos(source)
                        )
                    self.active.add(id(source))
                    try:
                        merged += self._pairs(source, depth + 1)
                    finally:
                        self.active.discard(id(source))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(
                    "a mapping key must be a plain name, not a list or mapping",
                    _node_pos(key_node),
                )
            name = str(key_node.value)
            if name in names:  # the first one stands; read on for the file's other errors
                self.doc.problems.append(YamlError(f"duplicate key {name!r}", _node_pos(key_node)))
                continue
            names.add(name)
            written.append((name, key_node, value_node))
        for item in merged:  # earlier sources win over later ones, written keys over all
            if item[0] not in names:
                names.add(item[0])
                written.append(item)
        return written

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == _TIMESTAMP:
            return str(node.value)  # no field is a date: keep what was written
        if node.tag not in yaml.SafeLoader.yaml_constructors:
            raise YamlError(f"unsupported tag {node.tag!r}", _node_pos(node))
        try:
            return self.constructor.construct_object(node, deep=True)
        except Exception as e:  # explicit tags (`!!int abc`) fail with assorted exception types
            reason = e.problem if isinstance(e, yaml.MarkedYAMLError) else str(e)
            raise YamlError(
                f"cannot read {node.value!r} as {node.tag!r}: {reason}", _node_pos(node)
            ) from None


def dotted(path: Sequence[Hashable]) -> str:
    """A path as diagnostics print it: `functions.api.aliases.prod`, `steps[1]`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _not_yaml12_int(path: Path, text: str) -> str:
    """Why `text` is not a YAML 1.2 integer, and the plain integer to write instead."""
    where = f"{dotted(path)}: " if path else ""
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("+-").replace("_", "").lower()
    if ":" in body:
        value = 0
        for part in body.split(":"):
            value = value * 60 + int(part)
        why = f"YAML 1.1 reads it in base 60, as {value}"
    elif body.startswith(("0x", "0b")):
        why = "hexadecimal" if body[1] == "x" else "binary"
        if len(body) == 2:  # `0x_`: no digits at all
            return f"{where}{text} is not a number; put it in quotes if it is text"
        value = int(body, 0)
    elif len(body) > 1 and body.startswith("0"):
        value = int(body, 10)
        why = f"with a leading zero YAML 1.1 reads it as octal {sign}{int(body, 8)}"
    elif "_" in text:
        value, why = int(body), "underscores"
    else:
        value, why = int(body), "a plus sign"
    return (
        f"{where}{text} is not a YAML 1.2 integer ({why}): write {sign}{value}, "
        f'or "{text}" in quotes if it is text'
    )


def _marked(e: yaml.MarkedYAMLError) -> YamlError:
    problem = e.problem or e.context or "unexpected content"
    context = f" ({e.context})" if e.problem and e.context else ""
    return YamlError(f"malformed YAML: {problem}{context}", _pos(e.problem_mark or e.context_mark))


def _position_of_index(text: str, index: int) -> Position:
    before = text[:index]
    return Position(before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1)


def load_yaml(raw: bytes, *, collect: bool = False) -> Document:
    """Parse exactly one YAML document; raise YamlError with a position on any problem. With
    `collect`, problems of single values that leave the rest readable (a YAML 1.1 integer, a
    duplicate key) are in `problems` instead, for the caller to report with its own checks."""
    if len(raw) > MAX_BYTES:
        raise YamlError(
            f"file is larger than the limit of {MAX_BYTES:,} bytes (1 MiB) per manifest; split "
            "it into several manifests (a directory or a glob of them is one run)",
            Position(1, 1),
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        col = e.start - (before.rfind(b"\n") + 1) + 1
        raise YamlError(
            f"file is not valid UTF-8 (byte 0x{raw[e.start]:02x}); save it as UTF-8",
            Position(line, col),
        ) from None
    text = text.removeprefix("\ufeff")
    done, node = _fast_compose(text)
    if not done:
        node = _compose(text)
    if node is None:
        raise YamlError(
            "file is empty: expected a manifest with `version: 1` and `functions:`",
            Position(1, 1),
        )
    doc = Document(data=None)
    doc.data = _Builder(doc).build(node, (), 0)
    if doc.problems and not collect:
        raise doc.problems[0]
    return doc


def _compose(text: str) -> yaml.Node | None:
    """The node tree by PyYAML's Python parser; every failure as a YamlError with a position."""
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader checks for forbidden characters here
        node: yaml.Node | None = loader.get_single_node()
    except yaml.composer.ComposerError as e:
        if e.context == "expected a single document in the stream":
            raise YamlError(
                "more than one YAML document (---); a manifest is exactly one document",
                _pos(e.problem_mark),
            ) from None
        raise _marked(e) from None
    except yaml.MarkedYAMLError as e:
        raise _marked(e) from None
    except yaml.reader.ReaderError as e:
        code = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or " ")
        raise YamlError(
            f"malformed YAML: control character U+{code:04X} is not allowed",
            _position_of_index(text, e.position),
        ) from None
    except yaml.YAMLError as e:  # pragma: no cover - every PyYAML error above carries a mark
        raise YamlError(f"malformed YAML: {e}", Position(1, 1)) from None
    finally:
        if loader is not None:
            loader.dispose()
    return node
