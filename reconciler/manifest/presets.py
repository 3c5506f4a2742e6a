"""CodeDeploy's deployment configurations for Lambda, by their names, as rollout schedules.

`Canary10Percent5Minutes` is 10 % for five minutes, then 100 %; `Linear10PercentEvery2Minutes`
adds 10 % every two minutes until 100 % (nine steps of 10 % … 90 %, each held two minutes);
`AllAtOnce` moves all traffic in one step.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Annotated, Any, Final

from pydantic import PlainValidator, WithJsonSchema

from reconciler.manifest._base import show

_LINEAR: Final = tuple(round(0.1 * i, 1) for i in range(1, 10))


def _presets() -> dict[str, tuple[tuple[float, ...], int]]:
    out: dict[str, tuple[tuple[float, ...], int]] = {}
    for minutes in (5, 10, 15, 30):
        out[f"Canary10Percent{minutes}Minutes"] = ((0.1,), minutes * 60)
    for minutes in (1, 2, 3, 10):
        unit = "Minute" if minutes == 1 else "Minutes"
        out[f"Linear10PercentEvery{minutes}{unit}"] = (_LINEAR, minutes * 60)
    out["AllAtOnce"] = ((), 1)
    return out


# name → (canary weights, seconds at each step); after the last step: 100 %
PRESETS: Final[Mapping[str, tuple[tuple[float, ...], int]]] = _presets()


def _preset(value: Any) -> str:
    if isinstance(value, str) and value in PRESETS:
        return value
    close = difflib.get_close_matches(str(value), list(PRESETS), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}? " if close else ""
    raise ValueError(
        f"unknown rollout preset {show(value)} ({hint}expected one of: {', '.join(PRESETS)})"
    )


Preset = Annotated[
    str,
    PlainValidator(_preset),
    WithJsonSchema(
        {
            "description": "A CodeDeploy deployment configuration name.",
            "enum": list(PRESETS),
        }
    ),
]
