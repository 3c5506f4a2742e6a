"""What every part of the manifest package shares: the strict frozen model base, rule failures
that point at the field at fault, and values shown the way the author wrote them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NoReturn

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError


def show(value: Any) -> str:
    """A value as the manifest author would write it (JSON/YAML flow style), kept short."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_tuple(value: Any) -> Any:
    """YAML gives lists; the frozen models keep tuples (strict mode takes no list for a tuple)."""
    return tuple(value) if isinstance(value, list) else value


AsTuple = BeforeValidator(_as_tuple)


Issue = tuple[tuple[str | int, ...], str, bool]  # (path below the model, message, at the key)


def rule(issues: Sequence[Issue]) -> NoReturn:
    """Fail a rule between fields, pointing each issue at the field at fault."""
    raise PydanticCustomError(
        "manifest_rule",
        "{message}",
        {"message": "; ".join(message for _, message, _ in issues), "issues": tuple(issues)},
    )


class StrictModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
