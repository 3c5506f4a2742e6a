"""The YAML reader's two parsers (reconciler/manifest/yamlload.py): LibYAML's events, used when
PyYAML has them, and PyYAML's own parser, used otherwise and for every document that fails."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from reconciler.manifest import yamlload
from reconciler.manifest.yamlload import YamlError, load_yaml

DOCS = {
    "block and flow": "version: 1\nfunctions:\n  api: {aliases: {prod: {version: 3}}}\n"
    "  web:\n    aliases:\n      live:\n        version: 2\n"
    "        canary: {version: 3, weight: 5%}\n",
    "non-ASCII before values": "x-note: 'é ü € 😀'\nnäme: {k: v, ü: [1, 2]}\nz: ü€😀 zz\n",
    "CRLF and a byte-order mark": "\ufeffa: 1\r\nb: [x,\r\n  y]\r\n",
    "every scalar style": "a: plain\nb: 'single'\nc: \"double\"\nd: |\n  literal\ne: >\n  folded\n",
    "anchors, aliases and merges": "a: &x {k: 1}\nb: *x\nc:\n  <<: *x\n  j: 2\n",
    "tags, nulls and numbers": "k: !!str 1\nv: ~\nq: null\nf: 1e-6\ni: -3\n",
}


def _never(text: str) -> tuple[bool, yaml.Node | None]:
    return False, None


def _parsed(text: str, *, fast: bool) -> Any:
    """load_yaml's document (data, positions of values and keys, scalars as written), through
    one parser only."""
    saved = yamlload._fast_compose
    if not fast:
        yamlload._fast_compose = _never
    try:
        doc = load_yaml(text.encode("utf-8"))
    finally:
        yamlload._fast_compose = saved
    return doc.data, doc.values, doc.keys, doc.scalars


@pytest.mark.parametrize("name", sorted(DOCS))
def test_both_parsers_give_the_same_document(name: str) -> None:
    """Same data, same line and column of every key and value, same scalar text — and the
    document really went through LibYAML."""
    assert yaml.__with_libyaml__
    text = DOCS[name].removeprefix("\ufeff")
    assert yamlload._fast_compose(text)[0] is True
    assert _parsed(DOCS[name], fast=True) == _parsed(DOCS[name], fast=False)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n---\nb: 2\n",  # two documents
        "a: [1, 2\n",  # unclosed flow sequence
        "a: b: c\n",  # a mapping value where none may start
        "a: 1\na: 2\n",  # duplicate key (found by the walk, after either parser)
        "a: \x07\n",  # a control character
        "[" * 150 + "]" * 150 + "\n",  # deeper than MAX_DEPTH
    ],
)
def test_a_failing_document_gets_the_same_error_and_position(text: str) -> None:
    """What fails on LibYAML is read again by PyYAML's parser: message and position are the
    ones that parser gives, as before."""
    errors = []
    for fast in (True, False):
        with pytest.raises(YamlError) as caught:
            _parsed(text, fast=fast)
        errors.append((caught.value.message, caught.value.position))
    assert errors[0] == errors[1]


def test_an_empty_value_is_placed_where_pyyaml_places_it() -> None:
    """LibYAML puts an empty value after the blanks that follow its key, PyYAML before them:
    such a document is read by PyYAML's parser, so a diagnostic points where it always did."""
    text = "a: {k:     }\nb:\n"
    assert yamlload._fast_compose(text) == (False, None)
    assert _parsed(text, fast=True) == _parsed(text, fast=False)
    assert load_yaml(text.encode()).position(("a", "k")) == yamlload.Position(1, 7)
