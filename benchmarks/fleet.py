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
# ListFunctions(FunctionVersion=ALL) pages hold at most 50 items of any functions of the region.
SWEEP_PAGE = 50
# One manifest file holds at most this many functions (the loader bounds a file's size).
FUNCTIONS_PER_MANIFEST = 1000
SEED_BATCH = 100


@dataclass(frozen=True)
class Fleet:
    size: int
    versions: int = 50
    # Manifests with retention that keeps every version (keep_last 3, the rest young by
    # keep_days): the planner weighs each version, and nothing is deleted.
    retention: bool = False

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
    def sweep_pages(self) -> int:
        """ListFunctions(FunctionVersion=ALL) calls for the region holding only this fleet."""
        return math.ceil(self.size * (self.versions + 1) / SWEEP_PAGE)

    @property
    def plan_calls(self) -> int:
        """Read per function, an in-sync plan cannot read less than every version page and
        every alias page of every function: no other call is needed (no STS guard, no publish,
        and retention that deletes nothing reads nothing more)."""
        return self.size * (self.version_pages + self.alias_pages)

    def min_plan_calls(self, read_mode: str) -> int:
        """The least Lambda calls of an in-sync plan in a read mode: per function, or the
        region's sweep plus every alias page (auto sweeps a fleet of 10 or more)."""
        probe = 1 if self.size >= 10 else 0  # the engine's single-attempt call first
        if read_mode == "per-function" or (read_mode == "auto" and self.size < 10):
            return self.plan_calls + probe
        return self.sweep_pages + self.size * self.alias_pages + probe

    @property
    def apply_calls(self) -> int:
        """The same reads, then per function one UpdateAlias (the alias record, with the
        history of versions, is written in the same call)."""
        return self.plan_calls + self.size

    def min_apply_calls(self, read_mode: str) -> int:
        """The reads, then per function one UpdateAlias (as above)."""
        return self.min_plan_calls(read_mode) + self.size


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
    spec = f"aliases: {{{routes}}}"
    if fleet.retention:
        spec += ", retention: {keep_last: 3, keep_days: 3650}"
    for part, start in enumerate(range(0, len(names), FUNCTIONS_PER_MANIFEST)):
        lines = ["version: 1", f"region: {REGION}", "functions:"]
        lines += [f"  {n}: {{{spec}}}" for n in names[start : start + FUNCTIONS_PER_MANIFEST]]
        path = directory / f"{'changed' if changed else 'in-sync'}-{part:03d}.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(str(path))
    return paths


# -- a fleet handed over from a janitor: housekeeping due, a shared layer ------------------------

LAYER = "shared-deps"


@dataclass(frozen=True)
class HousekeepingFleet:
    """N functions of V versions, `live` on the newest, under `retention: {keep_last: K}`: each
    function has V - K versions due for deletion (housekeeping, not drift). The first
    `layer_users` functions are built through the API so that version k uses layer version k of
    `shared-deps` (`$LATEST` the newest); under `keep_last: 1` for the layer, the layer versions
    used only by the function versions retention deletes are due in the same apply."""

    size: int = 250
    versions: int = 6
    keep_last: int = 3
    layer_users: int = 25

    def name(self, i: int) -> str:
        return f"fleet-{i:04d}"

    @property
    def deletions(self) -> tuple[int, int]:
        """(function versions, layer versions) one apply deletes."""
        return self.size * (self.versions - self.keep_last), self.versions - self.keep_last

    def manifest(self) -> str:
        lines = [
            "version: 1",
            f"region: {REGION}",
            f"defaults: {{retention: {{keep_last: {self.keep_last}}}}}",
            "functions:",
        ]
        lines += [
            f"  {self.name(i)}: {{aliases: {{live: {{version: {self.versions}}}}}}}"
            for i in range(self.size)
        ]
        lines += ["layers:", f"  {LAYER}: {{retention: {{keep_last: 1}}}}"]
        return "\n".join(lines) + "\n"


def _zip(text: str) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("python/m.py", date_time=(2024, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def seed_housekeeping(emu: EmulatorClient, fleet: HousekeepingFleet, parallelism: int = 8) -> None:
    """Forget all state; the layer's versions and the layer users through the API (a version
    per layer version), the other functions in the emulator's backend."""
    from concurrent.futures import ThreadPoolExecutor

    from emulator.fixtures import create_function, wait_updated

    emu.reset()
    client = emu.boto3_client("lambda", REGION)
    arns = [
        str(
            client.publish_layer_version(LayerName=LAYER, Content={"ZipFile": _zip(f"X = {k}")})[
                "LayerVersionArn"
            ]
        )
        for k in range(1, fleet.versions + 1)
    ]

    def build(i: int) -> None:
        name = fleet.name(i)
        create_function(client, name, code=f"{name}-1", Layers=[arns[0]])
        for k in range(1, fleet.versions + 1):
            if k > 1:
                client.update_function_configuration(FunctionName=name, Layers=[arns[k - 1]])
                wait_updated(client, name)
            client.publish_version(FunctionName=name)
        client.create_alias(FunctionName=name, Name="live", FunctionVersion=str(fleet.versions))

    with ThreadPoolExecutor(max_workers=parallelism) as pool:
        list(pool.map(build, range(fleet.layer_users)))
    rest = [
        {"name": fleet.name(i), "versions": fleet.versions, "aliases": {"live": fleet.versions}}
        for i in range(fleet.layer_users, fleet.size)
    ]
    for start in range(0, len(rest), SEED_BATCH):
        emu.seed(rest[start : start + SEED_BATCH], region=REGION)
