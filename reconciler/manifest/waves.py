"""`waves:`: the order in which the regions (or accounts) of a manifest take a rollout.

```yaml
waves: [[us-east-1], [eu-west-1, ap-southeast-2]]
```

A function of wave k takes no rollout step until every rollout of the earlier waves in the run
is complete (its alias record says so); one that failed holds the later waves. A member is a
region, or an account id (quoted, 12 digits); a function is in the first wave naming its region
or its account, and one in no wave is not ordered.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from pydantic import Field, PlainValidator, WithJsonSchema

from reconciler.manifest._base import AsTuple, Issue, rule, show
from reconciler.manifest.names import REGION

_ACCOUNT_RE: Final = re.compile(r"[0-9]{12}")
_REGION_RE: Final = re.compile(REGION)


def _member(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f'account id {value} must be quoted, like "123456789012": unquoted, YAML reads it '
            "as a number and drops leading zeros"
        )
    if not isinstance(value, str):
        raise ValueError(f"expected a region or an account id, got {show(value)}")
    if _ACCOUNT_RE.fullmatch(value) or _REGION_RE.fullmatch(value):
        return value
    raise ValueError(
        f"invalid wave member {show(value)}: expected a region like us-east-1 or a quoted "
        'account id like "123456789012"'
    )


WaveMember = Annotated[
    str,
    PlainValidator(_member),
    WithJsonSchema({"type": "string", "pattern": f"^({REGION}|[0-9]{{12}})$"}),
]
Wave = Annotated[tuple[WaveMember, ...], Field(min_length=1), AsTuple]
Waves = Annotated[tuple[Wave, ...], Field(min_length=1), AsTuple]


def check_waves(waves: tuple[tuple[str, ...], ...]) -> None:
    """Each region or account in one wave only, once."""
    seen: dict[str, int] = {}
    issues: list[Issue] = []
    for i, wave in enumerate(waves):
        for j, member in enumerate(wave):
            if member in seen:
                where = f"wave {seen[member] + 1}"
                issues.append((("waves", i, j), f"{member} is already in {where}", False))
            seen.setdefault(member, i)
    if issues:
        rule(issues)


def wave_of(
    waves: tuple[tuple[str, ...], ...] | None, region: str | None, account: str | None
) -> int | None:
    """The wave (1-based) of a function in `region` and `account`: the first naming either."""
    for i, wave in enumerate(waves or ()):
        if (region is not None and region in wave) or (account is not None and account in wave):
            return i + 1
    return None
