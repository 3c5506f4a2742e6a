"""Dump test data as YAML that a YAML 1.2 reader reads back as the same values.

PyYAML writes YAML 1.1: it leaves a string like `0E0` or `1e5` unquoted, because YAML 1.1
reads those as text, but the manifest loader follows YAML 1.2 (a number). This dumper quotes
every string that YAML 1.2's core schema would read as a number.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_YAML12_NUMBER = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    r"|0o[0-7]+|0x[0-9a-fA-F]+"
)


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _YAML12_NUMBER.fullmatch(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _str)


def dump(data: Any, **kwargs: Any) -> str:
    """`yaml.safe_dump`, with YAML 1.2 numbers-as-text quoted."""
    text: str = yaml.dump(data, Dumper=_Dumper, **kwargs)
    return text
