"""Weights (a share of traffic) and intervals (a duration in seconds).

A weight is kept to `WEIGHT_DECIMALS` decimal places of the fraction, the precision assumed for
Lambda's `AdditionalVersionWeights` (the API takes a double between 0.0 and 1.0 and documents no
precision; six places, 0.0001 %, is finer than any traffic split can be observed). Every weight,
written in a manifest or read from AWS, goes through `stored_weight` before it is compared or sent,
so `"99.99%"` is exactly 0.9999 and two weights that Lambda would store alike are equal. A weight
that rounds to 0 or 1 there is refused: it would act as no canary or as all traffic.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

from reconciler.manifest._base import show

WEIGHT_DECIMALS = 6
_QUANTUM = Decimal(1).scaleb(-WEIGHT_DECIMALS)


def _stored(weight: Decimal) -> Decimal:
    return weight.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN)


def stored_weight(weight: float) -> float:
    """A weight as Lambda stores it: rounded to `WEIGHT_DECIMALS` places (0.9998999999999999 →
    0.9999). Use it on both sides before comparing a desired weight with a live one."""
    return float(_stored(Decimal(repr(weight))))


def weight_text(weight: float) -> str:
    """A weight as a percentage with exactly the digits needed: 0.1 → "10%", 0.9999 → "99.99%",
    0.000001 → "0.0001%". Two weights that Lambda stores differently never read alike."""
    percent = (_stored(Decimal(repr(weight))) * 100).normalize()
    return f"{format(percent, 'f')}%"


_PERCENT_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?) ?%")
_WEIGHT_HELP = 'expected a weight between 0 and 1 such as 0.1 or "10%"'


def _weight(value: Any) -> float:
    """A share of traffic strictly between 0 and 1, written `0.1` or `"10%"`."""
    if isinstance(value, bool):
        raise ValueError(f"{_WEIGHT_HELP}, got {show(value)}")
    if isinstance(value, str) and (m := _PERCENT_RE.fullmatch(value)):
        exact = Decimal(m[1]) / 100  # decimal arithmetic: "99.99%" is exactly 0.9999
    elif isinstance(value, (int, float)):
        try:
            exact = Decimal(repr(value))
        except InvalidOperation:  # pragma: no cover - repr of an int or float always parses
            raise ValueError(f"{_WEIGHT_HELP}, got {show(value)}") from None
    else:
        raise ValueError(f"{_WEIGHT_HELP}, got {show(value)}")
    if not exact.is_finite() or not 0 < exact < 1:
        raise ValueError(f"{_WEIGHT_HELP}, got {show(value)}")
    stored = _stored(exact)
    if stored in (0, 1):
        edge, bound = ("0%", "smallest weight") if stored == 0 else ("100%", "largest weight")
        nearest = _QUANTUM if stored == 0 else 1 - _QUANTUM
        raise ValueError(
            f"weight {show(value)} rounds to {edge} at the precision Lambda keeps "
            f"({WEIGHT_DECIMALS} decimal places): the {bound} is {format(nearest, 'f')} "
            f"({weight_text(float(nearest))})"
        )
    return float(stored)


_WEIGHT_SCHEMA: dict[str, Any] = {
    "description": (
        'A share of traffic, 0 < weight < 1: 0.1 or "10%"; kept to six decimal places '
        "(steps of 0.0001%), and never rounding to 0% or 100%."
    ),
    "anyOf": [
        # what rounds to 0.000001 .. 0.999999 (half to even: 0.0000005 rounds to 0)
        {"type": "number", "exclusiveMinimum": 0.0000005, "exclusiveMaximum": 0.9999995},
        {
            "type": "string",
            # 1-99.x % or 0.x % with a non-zero digit: never 0% nor 100%.
            "pattern": r"^0*(?:[1-9][0-9]?(?:\.[0-9]+)?|0?\.[0-9]*[1-9][0-9]*) ?%$",
        },
    ],
}

Weight = Annotated[float, PlainValidator(_weight), WithJsonSchema(_WEIGHT_SCHEMA)]

_PART_RE = re.compile(r"([0-9]+)([dhms])")
_DURATION_RE = re.compile(r"(?:[0-9]+[dhms])+")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_HELP = 'expected a duration such as "30s", "10m", "1h30m", "1d" or a number of seconds'


def _duration(text: str) -> int | None:
    """Seconds in a Go-style compound duration (`1h30m`, `2m30s`, `1d`), units largest first
    and each at most once; None if `text` is not one."""
    if not _DURATION_RE.fullmatch(text):
        return None
    parts = _PART_RE.findall(text)
    units = [unit for _, unit in parts]
    order = list(_UNITS)
    if len(set(units)) != len(units) or units != sorted(units, key=order.index):
        return None
    return sum(int(number) * _UNITS[unit] for number, unit in parts)


def _interval(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and (parsed := _duration(value)) is not None:
        seconds = parsed
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
            "description": (
                'Minimum time at each step: seconds, or "30s", "10m", "1h30m", "1d" '
                "(units d, h, m, s, largest first)."
            ),
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {
                    "type": "string",
                    "pattern": ("^(?=.*[1-9])(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$"),
                },
            ],
        }
    ),
]
