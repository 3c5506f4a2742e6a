"""A benchmark fleet: N functions with V published versions and three aliases each.

The fleet is created directly in the emulator's backend (`EmulatorClient.seed`), which takes
seconds even for thousands of versions and makes no Lambda API call, so the call log of a run
holds only the calls the CLI made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from emulator.client import EmulatorClient

REGION = "us-east-1"
# Lambda's page sizes (the project's Lambda reference): ListVersionsByFunction returns at most
# 50 items per call whatever MaxItems says, and `$LATEST` is one of the items; the emulator
# pages ListAliases at 50 as well.
VERSIONS_PAGE = 50
ALIASES_PAGE = 50
# One manifest file holds at most this many functions (the loader bounds a file's size).
FUNCTIONS_PER_MANIFEST = 1000
SEED_BATCH = 100


@dataclass(frozen=True)
class Fleet:
    size: int
    versions: int = 50

    def name(self, i: int) -> str:
        return f"bench-{i:05d}"

    @property
    def names(self) -> list[str]:
        return [self.name(i) for i in range(self.size)]

    def aliases(self, *, changed: bool = False) -> dict[str, int]:
        """live → the newest version, prev → the one before, stable → 1. `changed` moves prev
        one version further back: the apply benchmark's one alias change per function."""
        v = self.versions
        prev = max(1, v - 2) if changed else max(1, v - 1)
        return {"live": v, "prev": prev, "stable": 1}

    # -- the minimum number of AWS calls -------------------------------------------------------

    @property
    def version_pages(self) -> int:
        """ListVersionsByFunction calls per function: V versions plus `$LATEST`, 50 a page."""
        return math.ceil((self.versions + 1) / VERSIONS_PAGE)

    @property
    def alias_pages(self) -> int:
        return max(1, math.ceil(len(self.aliases()) / ALIASES_PAGE))

    @property
    def plan_calls(self) -> int:
        """An in-sync plan cannot read less than every version page and every alias page of
        every function: no other call is needed (no STS guard, no publish, no retention)."""
        return self.size * (self.version_pages + self.alias_pages)

    @property
    def apply_calls(self) -> int:
        """The same reads, then per function: ListTags (the alias history a move extends),
        TagResource (the history) and UpdateAlias."""
        return self.plan_calls + 3 * self.size


def seed(emu: EmulatorClient, fleet: Fleet) -> None:
    """Forget all state, then create the fleet in the emulator's backend."""
    emu.reset()
    names = fleet.names
    for start in range(0, len(names), SEED_BATCH):
        emu.seed(
            [
                {"name": n, "versions": fleet.versions, "aliases": fleet.aliases()}
                for n in names[start : start + SEED_BATCH]
            ],
            region=REGION,
        )


def write_manifests(fleet: Fleet, directory: Path, *, changed: bool = False) -> list[str]:
    """Manifests declaring the fleet's aliases (in sync with the seed unless `changed`)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths: list[str] = []
    names = fleet.names
    aliases = fleet.aliases(changed=changed)
    routes = ", ".join(f"{a}: {{version: {v}}}" for a, v in aliases.items())
    for part, start in enumerate(range(0, len(names), FUNCTIONS_PER_MANIFEST)):
        lines = ["version: 1", f"region: {REGION}", "functions:"]
        lines += [
            f"  {n}: {{aliases: {{{routes}}}}}"
            for n in names[start : start + FUNCTIONS_PER_MANIFEST]
        ]
        path = directory / f"{'changed' if changed else 'in-sync'}-{part:03d}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(str(path))
    return paths
