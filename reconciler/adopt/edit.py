"""Edit a manifest's text in place at the exact source positions of its YAML nodes.

`adopt` changes a handful of values and leaves every other byte alone: comments, key order,
quoting, anchors, flow or block style, blank lines, line ends. A round-trip library re-emits the
whole document (and normalises indentation, spacing inside flow mappings and line ends on the
way), so this module edits the text itself instead: PyYAML's composer gives the start and end of
every node, and each edit replaces, inserts or removes exactly the characters of one value or
one `key: value` pair. (ruamel.yaml 0.19, in round-trip mode with quotes preserved, re-emits an
unedited manifest with `version:   3` respaced, `{ a: 1 , b: 2 }` tightened, a long flow
mapping wrapped and an unused anchor dropped.)

YAML that is shared cannot be edited in one place without changing the others: a node defined
with an anchor (`&x`) and used elsewhere (`*x`), or a key that a mapping receives through a
`<<` merge. Such an edit is refused with its FILE:LINE:COL (`Refused`), except where writing the
key explicitly into the mapping overrides the shared value without touching it (a merged key
that must change). The caller verifies every edited text by loading it again (see aliases.py).

Values are written in the style of the value they replace: `"5"` stays quoted, `10%` stays a
percentage, `0.1` stays a number. New keys are written as `key: {flow: mapping}` lines at the
mapping's own indentation (block) or as `, key: value` before the closing brace (flow).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import yaml

_MERGE = "tag:yaml.org,2002:merge"
_PERCENT = re.compile(r"[0-9]+(?:\.[0-9]+)? ?%")
_PREFIX = re.compile(r"(?:[&!]\S*[ \t]+)*")


@dataclass(frozen=True)
class WeightValue:
    """A canary weight to write: as a percentage or a number, like the value it replaces."""

    value: float


@dataclass(frozen=True)
class NullValue:
    """An explicit `null` to write (an `Edit` whose value is None removes the key instead)."""


# lists and booleans: an alias's attachments (`url`, `async`, `permissions`)
Value = Union[  # noqa: UP007 - a recursive alias
    bool, int, str, WeightValue, NullValue, Mapping[str, "Value"], tuple["Value", ...]
]


@dataclass(frozen=True)
class Edit:
    """Set or remove the value at `path` (keys from the document root).

    `comment` is appended at the end of the line that holds the new value. `fallback`, for an
    edit inside a mapping that cannot be edited in place (shared or merged), is the edit of
    that whole mapping instead (a canary's weight → the whole canary).
    """

    path: tuple[str, ...]
    value: Value | None  # None: remove the key
    comment: str = ""
    fallback: Edit | None = None


class Refused(Exception):
    """This edit would change shared YAML or cannot be made in place; `line`/`col` say where."""

    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


# -- the node tree with what plain composition forgets -------------------------------------


class _Composer(yaml.SafeLoader):
    """Composes nodes, and remembers which nodes an alias (`*x`) refers to and where each alias
    token is written (a node reached through an alias carries its anchor's marks)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliased: set[int] = set()
        self.alias_spans: dict[tuple[int, int], tuple[int, int]] = {}

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event: Any = self.peek_event()  # type: ignore[no-untyped-call]
            node = self.anchors.get(event.anchor)
            if node is not None:
                self.aliased.add(id(node))
                if parent is not None and index is not None:
                    where = index if isinstance(index, int) else id(index)
                    self.alias_spans[(id(parent), where)] = (
                        event.start_mark.index,
                        event.end_mark.index,
                    )
        return super().compose_node(parent, index)


class _Tree:
    def __init__(self, text: str) -> None:
        self.text = text
        loader = _Composer(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
        if not isinstance(root, yaml.MappingNode):
            raise Refused("the document is not a mapping", 1, 1)
        self.root = root
        self.aliased = loader.aliased
        self.alias_spans = loader.alias_spans

    def where(self, index: int) -> tuple[int, int]:
        before = self.text[:index]
        return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1

    def refuse(self, message: str, index: int) -> Refused:
        line, col = self.where(index)
        return Refused(message, line, col)

    # -- finding -------------------------------------------------------------------------

    @staticmethod
    def written(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
        for k, v in node.value:
            if k.tag != _MERGE and isinstance(k, yaml.ScalarNode) and str(k.value) == key:
                return k, v
        return None

    def merged(self, node: yaml.MappingNode, key: str, depth: int = 0) -> bool:
        """Whether `key` reaches this mapping through a `<<` merge."""
        if depth > 50:
            return False
        for k, v in node.value:
            if k.tag != _MERGE:
                continue
            for source in v.value if isinstance(v, yaml.SequenceNode) else [v]:
                if isinstance(source, yaml.MappingNode) and (
                    self.written(source, key) is not None or self.merged(source, key, depth + 1)
                ):
                    return True
        return False

    def shared(self, parent: yaml.MappingNode, key: yaml.Node, value: yaml.Node) -> bool:
        return id(value) in self.aliased or (id(parent), id(key)) in self.alias_spans

    def mapping(self, path: Sequence[str]) -> yaml.MappingNode | None:
        """The mapping at `path`, None when its last key is absent; Refused when any step is
        shared (an anchor used elsewhere, an alias) or merged."""
        node: yaml.Node = self.root
        for i, part in enumerate(path):
            assert isinstance(node, yaml.MappingNode)
            shown = _dotted(path[: i + 1])
            pair = self.written(node, part)
            if pair is None:
                if self.merged(node, part):
                    raise self.refuse(
                        f"{shown} comes from a `<<` merge shared with other places; "
                        "adopt does not edit shared YAML: edit it by hand",
                        node.start_mark.index,
                    )
                return None
            k, v = pair
            if self.shared(node, k, v):
                raise self.refuse(
                    f"{shown} is written through an anchor (&/*) shared with another place; "
                    "adopt does not edit shared YAML: edit it by hand",
                    k.start_mark.index,
                )
            if not isinstance(v, yaml.MappingNode):
                raise self.refuse(f"{shown} is not a mapping", v.start_mark.index)
            node = v
        assert isinstance(node, yaml.MappingNode)
        return node

    # -- spans -----------------------------------------------------------------------------

    def end(self, parent: yaml.Node, where: int, node: yaml.Node) -> int:
        """Where the text of `node` (a value of `parent`) ends, trailing comments excluded."""
        span = self.alias_spans.get((id(parent), where))
        if span is not None:
            return span[1]
        if isinstance(node, yaml.ScalarNode):
            if node.style in ("|", ">"):
                start = node.start_mark.index
                return start + len(self.text[start : node.end_mark.index].rstrip())
            return int(node.end_mark.index)
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.flow_style:
            return int(node.end_mark.index)
        if isinstance(node, yaml.MappingNode) and node.value:
            k, v = node.value[-1]
            return max(int(k.end_mark.index), self.end(node, id(k), v))
        if isinstance(node, yaml.SequenceNode) and node.value:
            return self.end(node, len(node.value) - 1, node.value[-1])
        return int(node.end_mark.index)

    def line_end(self, index: int) -> int:
        """The index of the line break at or after `index` (len(text) on the last line)."""
        m = re.compile(r"[\r\n]").search(self.text, index)
        return m.start() if m else len(self.text)

    def after_line(self, index: int) -> int:
        """The index just past the line break that ends the line holding `index`."""
        end = self.line_end(index)
        if self.text.startswith("\r\n", end):
            return end + 2
        return min(end + 1, len(self.text))


def _dotted(path: Sequence[str]) -> str:
    return ".".join(path)


# -- rendering values ----------------------------------------------------------------------


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _plain_ok(text: str, value: str) -> bool:
    """`text` written plain reads back as the string `value`, in block and in flow context."""
    if not text or text != text.strip() or any(c in text for c in "\r\n\t"):
        return False
    for doc in (f"k: {text}\n", f"{{k: {text}}}\n"):
        try:
            if yaml.safe_load(doc) != {"k": value}:
                return False
        except yaml.YAMLError:
            return False
    return True


def _quote(value: str, style: str | None) -> str:
    if style == "'" and "'" not in value and value.isprintable():
        return f"'{value}'"
    if style != '"' and _plain_ok(value, value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _weight_text(weight: float, percent: bool) -> str:
    """The shortest text that reads back as the same weight (5 decimals), strictly in (0, 1)."""
    for digits in range(0, 13):
        if percent:
            text = f"{weight * 100:.{digits}f}"
            parsed = float(text) / 100
        else:
            text = f"{weight:.{max(digits, 1)}f}"
            parsed = float(text)
        if 0 < parsed < 1 and round(parsed, 5) == round(weight, 5):
            return f"{text}%" if percent else text
    return repr(weight)  # pragma: no cover - 12 decimals always suffice


def render(value: Value, old: yaml.Node | None = None) -> str:
    """`value` as YAML text in flow style, in the quoting style of the node it replaces."""
    style = old.style if isinstance(old, yaml.ScalarNode) else None
    quote = style if style in ("'", '"') else None
    if isinstance(value, WeightValue):
        percent = old is None or (
            isinstance(old, yaml.ScalarNode)
            and old.tag == "tag:yaml.org,2002:str"
            and bool(_PERCENT.fullmatch(str(old.value)))
        )
        text = _weight_text(value.value, percent)
        return f"{quote}{text}{quote}" if quote else text
    if isinstance(value, NullValue):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, int):
        # "5" stays quoted; a quoted "$LATEST" replaced by a number becomes a plain number.
        keep = quote and isinstance(old, yaml.ScalarNode) and str(old.value).isdigit()
        return f"{quote}{value}{quote}" if keep else str(value)
    if isinstance(value, str):
        return _quote(value, style)
    items = ", ".join(f"{k}: {render(v)}" for k, v in value.items())
    return "{" + items + "}"


# -- edits ---------------------------------------------------------------------------------


def apply_edit(text: str, edit: Edit) -> str:
    """`text` with `edit` made (not its fallback); Refused when it would touch shared YAML."""
    return _apply(_Tree(text), edit)


def _apply(tree: _Tree, edit: Edit) -> str:
    parent_path, key = edit.path[:-1], edit.path[-1]
    mapping = tree.mapping(parent_path)
    if mapping is None:
        if edit.value is None:
            return tree.text  # removing from an absent mapping: nothing to do
        # The parent is absent: write it with this one key.
        return _apply(tree, Edit(parent_path, {key: edit.value}, edit.comment))
    pair = tree.written(mapping, key)
    if edit.value is None:
        if pair is None:
            if tree.merged(mapping, key):
                raise tree.refuse(
                    f"{_dotted(edit.path)} comes from a `<<` merge; adopt cannot remove a "
                    "merged key: edit it by hand",
                    mapping.start_mark.index,
                )
            return tree.text
        return _remove(tree, mapping, *pair)
    if pair is None:  # absent, or merged: a key written here overrides the merged one
        return _insert(tree, mapping, key, render(edit.value))
    k, v = pair
    if id(v) in tree.aliased and (id(mapping), id(k)) not in tree.alias_spans:
        raise tree.refuse(
            f"{_dotted(edit.path)} defines an anchor (&) used elsewhere; adopt does not edit "
            "shared YAML: edit it by hand",
            k.start_mark.index,
        )
    return _replace(tree, mapping, k, v, edit.value, edit.comment)


def _replace(
    tree: _Tree, mapping: yaml.MappingNode, k: yaml.Node, v: yaml.Node, value: Value, comment: str
) -> str:
    text = tree.text
    end = tree.end(mapping, id(k), v)
    alias = tree.alias_spans.get((id(mapping), id(k)))
    old: yaml.Node | None = None if alias else v
    new = render(value, old)
    if alias is not None:
        start = alias[0]
    elif isinstance(v, (yaml.MappingNode, yaml.SequenceNode)) and not v.flow_style:
        # A block collection starts on the next line: replace from the end of the key.
        start, new = int(k.end_mark.index), ": " + new
    elif isinstance(v, yaml.ScalarNode) and v.style is None and v.value == "":
        # An empty value (`canary:` then nothing): keep a space after the colon.
        start, end = int(v.start_mark.index), int(v.end_mark.index)
        new = " " + new
    else:
        start = int(v.start_mark.index)
        prefix = _PREFIX.match(text, start)
        body = prefix.end() if prefix is not None and prefix.end() <= end else start
        # Keep an anchor (nothing refers to it, or the edit was refused); drop a tag, since
        # the new value is written to read back as what it is.
        kept = [t for t in text[start:body].split() if t.startswith("&")]
        new = "".join(f"{t} " for t in kept) + new
        if isinstance(v, yaml.ScalarNode) and v.style in ("|", ">"):
            header = text[body : tree.line_end(body)]
            if " #" in header:
                old_comment = header[header.index(" #") + 2 :].strip()
                comment = f"{old_comment}; {comment}" if comment else old_comment
    out = text[:start] + new + text[end:]
    if comment:
        line_end = re.compile(r"[\r\n]|$").search(out, start + len(new))
        at = line_end.start() if line_end else len(out)
        out = out[:at] + f"  # {comment}" + out[at:]
    return out


def _insert(tree: _Tree, mapping: yaml.MappingNode, key: str, rendered: str) -> str:
    text = tree.text
    if mapping.flow_style:
        if mapping.value:
            k, v = mapping.value[-1]
            at = tree.end(mapping, id(k), v)
            return text[:at] + f", {key}: {rendered}" + text[at:]
        at = text.index("{", mapping.start_mark.index) + 1
        return text[:at] + f"{key}: {rendered}" + text[at:]
    first = mapping.value[0][0]
    col = int(first.start_mark.column)
    k, v = mapping.value[-1]
    last = max(int(k.end_mark.index), tree.end(mapping, id(k), v))
    at = tree.after_line(last)
    nl = _newline(text)
    line = " " * col + f"{key}: {rendered}" + nl
    if at == len(text) and not text.endswith(("\n", "\r")):
        line = nl + line
    return text[:at] + line + text[at:]


def _remove(tree: _Tree, mapping: yaml.MappingNode, k: yaml.Node, v: yaml.Node) -> str:
    text = tree.text
    if id(v) in tree.aliased and (id(mapping), id(k)) not in tree.alias_spans:
        raise tree.refuse(
            f"{k.value} defines an anchor (&) used elsewhere; adopt does not remove it: "
            "edit it by hand",
            k.start_mark.index,
        )
    end = max(int(k.end_mark.index), tree.end(mapping, id(k), v))
    if mapping.flow_style:
        index = next(i for i, (kk, _) in enumerate(mapping.value) if kk is k)
        if index > 0:
            pk, pv = mapping.value[index - 1]
            start = max(int(pk.end_mark.index), tree.end(mapping, id(pk), pv))
            return text[:start] + text[end:]
        if len(mapping.value) > 1:
            return text[: k.start_mark.index] + text[mapping.value[1][0].start_mark.index :]
        return text[: k.start_mark.index] + text[end:]
    line_start = max(
        text.rfind("\n", 0, k.start_mark.index), text.rfind("\r", 0, k.start_mark.index)
    )
    line_start += 1
    if text[line_start : k.start_mark.index].strip():
        raise tree.refuse(
            f"{k.value} does not start its line; adopt cannot remove it in place",
            k.start_mark.index,
        )
    return text[:line_start] + text[tree.after_line(end) :]
