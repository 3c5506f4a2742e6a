"""Lambda's answers as the live dataclasses (`reconciler.aws.live`): configurations as compact
snapshots, aliases, one function's versions. Pure: no call is made here.

Live state is kept small: a `Snapshot`'s configuration mapping and its role are shared by every
version that has the same ones (`_Interner`), and the live dataclasses use slots, so a version
costs a few hundred bytes however many fields Lambda returns.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from reconciler.aws.live import (
    LATEST,
    Canary,
    LiveAlias,
    LiveFunction,
    LiveLatest,
    LiveVersion,
    Snapshot,
)
from reconciler.errors import AwsError

# Configuration fields that PublishVersion snapshots and that decide whether `$LATEST` differs
# from the newest version (contract §3). The description is deliberately absent.
SNAPSHOT_FIELDS: tuple[tuple[str, str], ...] = (
    ("runtime", "Runtime"),
    ("handler", "Handler"),
    ("memory", "MemorySize"),
    ("timeout", "Timeout"),
    ("environment", "Environment"),
    ("layers", "Layers"),
    ("role", "Role"),
    ("architectures", "Architectures"),
    ("ephemeral_storage", "EphemeralStorage"),
    ("vpc", "VpcConfig"),
    ("tracing", "TracingConfig"),
    ("dead_letter", "DeadLetterConfig"),
    ("file_systems", "FileSystemConfigs"),
    ("image_config", "ImageConfigResponse"),
    ("logging", "LoggingConfig"),
)

# What ListFunctions with FunctionVersion=ALL returns of each version (the project's Lambda
# reference): a subset of the configuration. Of SNAPSHOT_FIELDS it lacks the handler, the
# dead-letter configuration and others, so a function whose plan compares configurations
# (`publish`) or checks a canary's dead-letter target is never read that way
# (`reconciler.engine.reads`).
LIST_FUNCTIONS_FIELDS = frozenset(
    {
        "FunctionName",
        "FunctionArn",
        "Version",
        "CodeSha256",
        "CodeSize",
        "Description",
        "LastModified",
        "RevisionId",
        "Layers",
        "Role",
        "Runtime",
        "MemorySize",
        "Timeout",
        "Environment",
    }
)
SWEEP_SNAPSHOT_FIELDS = tuple((k, f) for k, f in SNAPSHOT_FIELDS if f in LIST_FUNCTIONS_FIELDS)


def _prune_empty(value: Any) -> Any:
    """Drop empty containers and strings so that absent and empty settings compare equal."""
    if isinstance(value, Mapping):
        out = {k: _prune_empty(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_prune_empty(v) for v in value]
    return value


def _canonical(key: str, value: Any) -> str:
    value = _prune_empty(value)
    if key == "layers" and isinstance(value, list):
        value = [layer.get("Arn") for layer in value if isinstance(layer, Mapping)]
    if key == "vpc" and isinstance(value, Mapping):
        value = {k: sorted(v) if isinstance(v, list) else v for k, v in value.items()}
        value.pop("VpcId", None)
    if key == "logging" and isinstance(value, Mapping) and value.get("LogFormat") == "Text":
        value = {k: v for k, v in value.items() if k not in ("LogFormat",)}
    text = json.dumps(value, sort_keys=True, default=str)
    if key == "environment":
        # Environment values are secrets as far as this tool is concerned: keep only a digest,
        # so no plan, log or saved plan file can ever contain them.
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


class _Interner:
    """Shares equal values between versions: most versions of a fleet have the same role,
    description and configuration, so one object serves them all. Keys of the configuration
    cache are digests, so no environment value is kept as a key."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._configs: dict[bytes, Mapping[str, str]] = {}
        self._lock = threading.Lock()

    def string(self, value: str) -> str:
        with self._lock:
            return self._strings.setdefault(value, value)

    def config(
        self, raw: Mapping[str, Any], fields: tuple[tuple[str, str], ...]
    ) -> Mapping[str, str]:
        digest = hashlib.sha256(
            repr([(f, raw.get(f)) for _, f in fields]).encode("utf-8", "replace")
        ).digest()
        with self._lock:
            cached = self._configs.get(digest)
        if cached is not None:
            return cached
        built = {key: self.string(_canonical(key, raw.get(f))) for key, f in fields}
        with self._lock:
            return self._configs.setdefault(digest, built)


_INTERNED = _Interner()


def snapshot_from(
    config: Mapping[str, Any], fields: tuple[tuple[str, str], ...] = SNAPSHOT_FIELDS
) -> Snapshot:
    """`fields` are the configuration fields compared; ListFunctions items carry fewer
    (`SWEEP_SNAPSHOT_FIELDS`), and their `dead_letter_arn` is unknown (None)."""
    raw_modified = str(config.get("LastModified") or "1970-01-01T00:00:00.000+0000")
    dlq = config.get("DeadLetterConfig") or {}
    return Snapshot(
        code_sha256=str(config.get("CodeSha256", "")),
        code_size=int(config.get("CodeSize") or 0),
        last_modified=parse_time(raw_modified),
        description=_INTERNED.string(str(config.get("Description") or "")),
        role=_INTERNED.string(str(config.get("Role") or "")),
        dead_letter_arn=dlq.get("TargetArn") or None,
        config=_INTERNED.config(config, fields),
    )


def parse_time(raw: str) -> datetime:
    """Lambda's LastModified, e.g. 2024-05-01T12:00:00.000+0000, as an aware datetime."""
    try:
        fast = datetime.fromisoformat(raw)  # C code: a fifth of strptime's time per version
    except ValueError:
        fast = None
    if fast is not None and fast.tzinfo is not None:
        return fast
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=timezone.utc)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def alias_from(item: Mapping[str, Any]) -> LiveAlias:
    weights = (item.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    canary = None
    if weights:
        version, weight = sorted(weights.items())[0]
        canary = Canary(version=str(version), weight=float(weight))
    return LiveAlias.of(
        name=str(item["Name"]),
        version=str(item["FunctionVersion"]),
        canary=canary,
        description=str(item.get("Description") or ""),
        revision_id=str(item.get("RevisionId") or ""),
    )


def unqualified(arn: str, name: str) -> str:
    """A function ARN without its `:$LATEST` or `:N` qualifier."""
    head = arn.rpartition(":")[0]
    return head if head.endswith(":function:" + name) else arn


def live_function_from(
    name: str, configs: Iterable[Mapping[str, Any]], aliases: Iterable[LiveAlias]
) -> LiveFunction:
    latest: LiveLatest | None = None
    versions: list[LiveVersion] = []
    arn = ""
    for c in configs:
        version = str(c.get("Version", ""))
        snap = c.get("SnapStart") or {}
        if version == LATEST:
            on = snap.get("ApplyOn") == "PublishedVersions"
            latest = LiveLatest(snapshot_from(c), str(c.get("RevisionId", "")), on)
            arn = str(c.get("FunctionArn", ""))
        elif version.isdigit():
            on = snap.get("OptimizationStatus") == "On"
            versions.append(LiveVersion(int(version), snapshot_from(c), on))
            if not arn:
                arn = str(c.get("FunctionArn", "")).rsplit(":", 1)[0]
    if latest is None:
        raise AwsError(f"reading {name}: ListVersionsByFunction returned no $LATEST")
    if arn.endswith(":" + LATEST):
        arn = arn[: -len(LATEST) - 1]
    parts = arn.split(":")
    region = parts[3] if len(parts) > 4 else ""
    account = parts[4] if len(parts) > 4 else ""
    return LiveFunction(
        name=name,
        arn=arn,
        region=region,
        account=account,
        latest=latest,
        versions=tuple(sorted(versions, key=lambda v: v.number)),
        aliases=tuple(sorted(aliases, key=lambda a: a.name)),
    )
