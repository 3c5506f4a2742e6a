"""Observed AWS state, as frozen data with no boto3 types.

`responses.py` builds these from API responses; the planner reads them. Version numbers are
ints; `$LATEST` is never a `LiveVersion` (it is `LiveFunction.latest`).

A fleet holds hundreds of thousands of versions, so every class uses slots, and `responses.py`
shares equal strings and configuration mappings between versions instead of copying them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from reconciler.aws.attached import LiveAttachments, LiveReach

LATEST = "$LATEST"
# How live state is read (`reconciler.engine.reads`, `--read-mode`).
READ_MODES = ("auto", "per-function", "bulk")


class AliasTie(str, Enum):
    """Something that lives on an alias and is lost or broken when the alias is deleted."""

    PROVISIONED_CONCURRENCY = "provisioned_concurrency"
    PERMISSION = "permission"  # a resource-policy statement scoped to the alias
    EVENT_SOURCE_MAPPING = "event_source_mapping"
    FUNCTION_URL = "function_url"


@dataclass(frozen=True, slots=True)
class Canary:
    """The one additional version of a weighted alias and its share of traffic (0 < weight < 1)."""

    version: str
    weight: float


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What PublishVersion captures of `$LATEST`, or what a published version holds.

    `config` maps each compared configuration field (runtime, handler, memory, timeout,
    environment, layers, role, …) to a canonical JSON string, so two snapshots compare with `==`.
    A snapshot read by a ListFunctions sweep has only the fields that listing returns, and its
    `dead_letter_arn` is None (unknown): functions whose plan needs the others (publish, canary)
    are never read that way.
    """

    code_sha256: str
    code_size: int
    last_modified: datetime
    description: str
    role: str
    dead_letter_arn: str | None
    config: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class LiveVersion:
    number: int
    snapshot: Snapshot
    # published with SnapStart (`SnapStart.OptimizationStatus: On`): not usable before its
    # `State` is Active, which the version listing does not report
    snapstart: bool = False


@dataclass(frozen=True, slots=True)
class LiveLatest:
    snapshot: Snapshot
    revision_id: str
    snapstart: bool = False  # `SnapStart.ApplyOn: PublishedVersions`: what it publishes is


_RECORD = re.compile(r"(?:^| )\[lr:[^\]]*\]$")


def split_description(description: str) -> tuple[str, str]:
    """An alias description's user text, and the record block the reconciler keeps at its end
    ("" when there is none; `reconciler.plan.record` reads it)."""
    m = _RECORD.search(description)
    if m is None:
        return description, ""
    return description[: m.start()], description[m.start() :].lstrip(" ")


@dataclass(frozen=True, slots=True)
class LiveAlias:
    name: str
    version: str  # "$LATEST" or digits
    canary: Canary | None
    description: str  # the user's text, without the record
    revision_id: str
    record: str = ""  # the reconciler's record block at the end of the description

    @staticmethod
    def of(
        name: str, version: str, canary: Canary | None, description: str, revision_id: str
    ) -> LiveAlias:
        """The alias as AWS returns it: its description split into text and record."""
        text, record = split_description(description)
        return LiveAlias(name, version, canary, text, revision_id, record)


# ---- provisioned concurrency -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LiveProvisioned:
    """One provisioned-concurrency config: on an alias (`qualifier` its name) or on a published
    version (`qualifier` its number). `status` is IN_PROGRESS, READY or FAILED; `reason` is
    Lambda's `StatusReason` (only with FAILED)."""

    qualifier: str
    requested: int
    allocated: int
    status: str
    reason: str = ""

    @property
    def on_version(self) -> bool:
        return self.qualifier.isdigit()


def capacity_of(
    configs: tuple[LiveProvisioned, ...], alias: str, version: str
) -> LiveProvisioned | None:
    """The capacity of an alias: its alias-level config if it has one, else the version-level
    config of its primary `version` (during a move, capacity lives on versions)."""
    for c in configs:
        if c.qualifier == alias:
            return c
    for c in configs:
        if c.qualifier == version and c.on_version:
            return c
    return None


@dataclass(frozen=True, slots=True)
class LiveFunction:
    """Everything read for one function: its versions (from ListVersionsByFunction, or from the
    region's ListFunctions sweep) and its aliases (ListAliases)."""

    name: str
    arn: str
    region: str
    account: str
    latest: LiveLatest
    versions: tuple[LiveVersion, ...]  # ascending by number
    aliases: tuple[LiveAlias, ...]  # sorted by name
    # Versions bound to an event source mapping or a provisioned-concurrency config, each with
    # what uses it ("event source mapping 2f1c…", "provisioned concurrency"). Read only when
    # retention is about to prune something in this function; None means "not read".
    in_use: Mapping[int, tuple[str, ...]] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    tags_read: bool = False  # ListTags was called: `tags` is the function's tags, not a default
    # What hangs on each alias about to be deleted (prune_aliases). Read only for those
    # aliases; None means "not read".
    alias_ties: Mapping[str, tuple[AliasTie, ...]] | None = None
    # The attachments of the aliases whose manifest declares `url`, `async` or `permissions`
    # (only what is declared is read: `LiveAttachments.*_read`); an alias not here: none read.
    attachments: Mapping[str, LiveAttachments] = field(default_factory=dict)
    # What bypasses the aliases under a canary or rollout (None: not read)
    reach: LiveReach | None = None
    # Lambda@Edge: versions CloudFront associates, each with (distribution id, event type);
    # read only in us-east-1 when retention would delete a version (None: not read)
    replicated: Mapping[int, tuple[tuple[str, str], ...]] | None = None
    # Provisioned-concurrency configs (ListProvisionedConcurrencyConfigs), alias- and
    # version-level. Read only for functions whose manifest declares `provisioned_concurrency`
    # on an alias; None means "not read".
    provisioned: tuple[LiveProvisioned, ...] | None = None

    def version(self, number: int) -> LiveVersion | None:
        for v in self.versions:
            if v.number == number:
                return v
        return None

    def alias(self, name: str) -> LiveAlias | None:
        for a in self.aliases:
            if a.name == name:
                return a
        return None

    @property
    def newest(self) -> LiveVersion | None:
        return self.versions[-1] if self.versions else None

    @property
    def version_numbers(self) -> frozenset[str]:
        """The published versions' numbers, as alias routing names them."""
        return frozenset(str(v.number) for v in self.versions)


@dataclass(frozen=True)
class LiveLayerVersion:
    """One version of a layer, from ListLayerVersions (which gives no size: `code_size` is 0
    until GetLayerVersion is read, only for the versions retention would delete)."""

    number: int
    arn: str  # the layer version ARN, ending in :NUMBER
    created: datetime
    code_size: int = 0


@dataclass(frozen=True)
class CodeStorage:
    """A region's code storage (GetAccountSettings): bytes used and the quota, or why unknown."""

    region: str
    used: int
    limit: int
    error: str = ""  # set when the settings could not be read; used and limit are then 0
