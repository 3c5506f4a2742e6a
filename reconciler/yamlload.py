"""A safe, bounded YAML reader that remembers where every value came from.

Only PyYAML's SafeLoader composer is used (no tags, no Python objects). The node tree becomes
plain Python data plus a map from each value's path (a tuple of keys) to its line and column, so
that every later error can say FILE:LINE:COL. Duplicate keys, multiple documents, excessive
nesting and alias expansion beyond a node budget (the "billion laughs" attack) are refused.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

Path = tuple[Hashable, ...]


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    col: int  # 1-based


class YamlError(Exception):
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass
class Document:
    data: Any
    values: dict[Path, Position] = field(default_factory=dict)  # where each value starts
    keys: dict[Path, Position] = field(default_factory=dict)  # where each mapping key starts

    def position(self, path: Path, *, key: bool = False) -> Position:
        """The position of `path`, or of its nearest ancestor that has one."""
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


def _pos(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.count = 0
        self.loader = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlError(
                f"document expands to more than {MAX_NODES} values "
                "(anchors and aliases are limited)",
                _pos(node),
            )
        if depth > MAX_DEPTH:
            raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", _pos(node))
        self.doc.values.setdefault(path, _pos(node))
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise YamlError("mapping keys must be plain scalars", _pos(key_node))
                key = self.scalar(key_node)
                if isinstance(key, (dict, list)):
                    raise YamlError("mapping keys must be plain scalars", _pos(key_node))
                if key in out:
                    raise YamlError(f"duplicate key {key!r}", _pos(key_node))
                self.doc.keys.setdefault((*path, key), _pos(key_node))
                out[key] = self.build(value_node, (*path, key), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return self.scalar(node)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates stay strings: nothing here is a timestamp
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as e:
            raise YamlError(f"invalid value: {e}", _pos(node)) from None


def _composer_error(e: yaml.MarkedYAMLError) -> YamlError:
    mark = e.problem_mark or e.context_mark
    position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
    problem = e.problem or e.context or "malformed YAML"
    return YamlError(f"malformed YAML: {problem}", position)


def load_yaml(raw: bytes) -> Document:
    """Parse one YAML document from bytes; raise YamlError with a position on any problem."""
    if len(raw) > MAX_BYTES:
        raise YamlError(f"file is larger than {MAX_BYTES // 1024} KiB", Position(1, 1))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        before = raw[: e.start]
        line = before.count(b"\n") + 1
        col = e.start - (before.rfind(b"\n") + 1) + 1
        raise YamlError("file is not valid UTF-8", Position(line, col)) from None
    text = text.removeprefix("\ufeff")
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise YamlError("file is empty: expected a manifest with `version: 1`", Position(1, 1))
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.composer.ComposerError as e:
        if "expected a single document" in str(e.context or ""):
            mark = e.problem_mark
            pos = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
            raise YamlError("more than one YAML document; expected exactly one", pos) from None
        raise _composer_error(e) from None
    except yaml.MarkedYAMLError as e:
        raise _composer_error(e) from None
    except yaml.YAMLError as e:
        raise YamlError(f"malformed YAML: {e}", Position(1, 1)) from None
    except RecursionError:
        raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", Position(1, 1)) from None
    finally:
        loader.dispose()
    if node is None:
        raise YamlError("file is empty: expected a manifest with `version: 1`", Position(1, 1))
    doc = Document(data=None)
    try:
        doc.data = _Builder(doc).build(node, (), 0)
    except RecursionError:
        raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", _pos(node)) from None
    return doc
