"""Weights (a share of traffic) and intervals (a duration in seconds)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

from reconciler.manifest._base import show

_PERCENT_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?) ?%")
_WEIGHT_HELP = 'expected a weight between 0 and 1 such as 0.1 or "10%"'


def _weight(value: Any) -> float:
    """A share of traffic strictly between 0 and 1, written `0.1` or `"10%"`."""
    if isinstance(value, bool):
        raise ValueError(f"{_WEIGHT_HELP}, got {show(value)}")
    if isinstance(value, str) and (m := _PERCENT_RE.fullmatch(value)):
        weight = float(m[1]) / 100
    elif isinstance(value, (int, float)):
        weight = float(value)
    else:
        raise ValueError(f"{_WEIGHT_HELP}, got {show(value)}")
    if not 0 < weight < 1:  # also false for NaN
        raise ValueError(f"{_WEIGHT_HELP}, got {show(value)}")
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
        raise ValueError(f"{_DURATION_HELP}, got {show(value)}")
    if seconds <= 0:
        raise ValueError(f"the interval must be positive, got {show(value)}")
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
