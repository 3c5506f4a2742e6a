"""`${NAME}` in a version's description: the environment variable NAME, expanded when the
manifest is validated (an unset one is an error, never an empty string)."""

from __future__ import annotations

import os
import re

from pydantic_core import PydanticCustomError

_ENV_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
DESCRIPTION_MAX = 256  # Lambda's limit on a version's Description


def expand_environment(text: str) -> str:
    """`${NAME}` → the environment variable NAME (`$$` → `$`). An unset variable is an error at
    validation, never an empty string: a release must not be published without its tag."""
    missing: list[str] = []

    def value(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        if name not in os.environ:
            missing.append(name)
            return ""
        return os.environ[name]

    out = _ENV_REF.sub(value, text)
    if missing:
        names = ", ".join(dict.fromkeys(missing))
        raise PydanticCustomError(
            "manifest_env",
            "environment variable {names} is not set; set it, or write $$ for a literal $",
            {"names": names},
        )
    if len(out) > DESCRIPTION_MAX:
        raise PydanticCustomError(
            "manifest_env",
            "the description is {length} characters once expanded; Lambda allows {limit}",
            {"length": len(out), "limit": DESCRIPTION_MAX},
        )
    return out
