"""`--shard K/N`: which functions one job of a CI matrix of N jobs plans and applies.

A function belongs to exactly one shard, chosen by a stable hash of (account, region, name):
SHA-256 of the three joined by NUL, its first 8 bytes as a number, mod N, plus 1. Every job of
the matrix computes the same split from the same manifests, on any machine and Python version
(Python's `hash()` is salted per process, so it is not used); adding or removing a function
never moves the others between shards of the same N.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Final, TypeVar

from reconciler.errors import ReconcilerError
from reconciler.manifest import FunctionTarget, LayerTarget, ManifestSet

MAX_SHARDS: Final = 1000
_SPEC_RE: Final = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*")
T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1 ≤ index ≤ count)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, account: str, region: str, function: str) -> bool:
        return shard_of(account, region, function, self.count) == self.index


def shard_of(account: str, region: str, function: str, count: int) -> int:
    """The shard (1..count) of a function: deterministic, the same in every process."""
    if count < 1:
        raise ValueError(f"shard count must be at least 1, not {count}")
    key = "\0".join((account, region, function)).encode()
    digest = hashlib.sha256(key).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def parse_shard(text: str) -> Shard:
    """`K/N` → Shard(K, N); anything else is a `ReconcilerError` with a one-line cause."""
    m = _SPEC_RE.fullmatch(text)
    if m is None:
        raise ReconcilerError(f"--shard {text!r}: expected K/N, like 2/4 (shard 2 of 4)")
    index, count = int(m[1]), int(m[2])
    if not 1 <= count <= MAX_SHARDS:
        raise ReconcilerError(f"--shard {text}: N must be between 1 and {MAX_SHARDS}")
    if not 1 <= index <= count:
        raise ReconcilerError(f"--shard {text}: K must be between 1 and N ({count})")
    return Shard(index, count)


def select(
    shard: Shard, items: Iterable[T], key: Callable[[T], tuple[str, str, str]]
) -> tuple[T, ...]:
    """The items of `shard`, in their order; `key` gives (account, region, function name)."""
    return tuple(item for item in items if shard.holds(*key(item)))


def shard_manifests(
    manifests: ManifestSet, shard: Shard, default_region: str | None
) -> ManifestSet:
    """The functions and layers of `shard`: a function by (account, region, name), a layer by
    (account, region, `layer:` name). A target without a region counts in `default_region` (the
    run's), one without an account in the account "" (an ARN names it)."""
    region = default_region or ""

    def function_key(t: FunctionTarget) -> tuple[str, str, str]:
        return (t.account or "", t.region or region, t.name)

    def layer_key(t: LayerTarget) -> tuple[str, str, str]:
        return (t.account or "", t.region or region, "layer:" + t.name)

    return replace(
        manifests,
        functions=select(shard, manifests.functions, function_key),
        layers=select(shard, manifests.layers, layer_key),
    )
