"""Small helpers for the words the CLI prints (no dependencies: `validate` imports it too)."""

from __future__ import annotations


def plural(n: int, one: str, many: str) -> str:
    """`1 function`, `2 functions`, `0 functions`."""
    return f"{n} {one if n == 1 else many}"
