"""What a review binds: the commit, every write of the plan, the rollout specs, the retention
decisions and the manifests' contents.

A plan comment records a `Review`'s fingerprint for the pull request's head commit, and an
index of its parts (a short digest per named part) so that, on merge, a fresh plan that differs
is refused with the parts that differ named: "rollout alarms of orders:prod changed".

The parts, each named as a person would say it:

- `manifest PATH`: the file's git blob hash (what `git hash-object` prints);
- `operations of FUNCTION (REGION)`: each operation in order with all its parameters (the alias
  states, the version, the code published and its description, the rollout step it takes),
  leaving out only the words, the RevisionId guards and what moves with the clock (ages,
  times, metric counts);
- `retention of FUNCTION (REGION)`: the versions retention keeps outside `keep_last`, and why;
- `rollout steps|interval|alarms|gates|hooks|bake|attempt of FUNCTION:ALIAS (REGION)`: the
  manifest's rollout spec, field by field;
- the same for layers, and the run's `max_deletions` and errors.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import ReconcilerError

SHORT = 10  # hex digits of a part's digest in the index: enough to say which part changed
INDEX_ROOM = 12_000  # characters of index a comment may carry; beyond, one digest a function
_WORDS = frozenset({"changes", "reason", "message", "rollback_alarm", "status", "summary"})
_GUARDS = frozenset({"revision_id", "fingerprint"})
_CLOCK = frozenset({"age_days", "age_minutes", "since", "next_at", "schedule", "days"})
_METRICS = frozenset({"invocations", "errors"})
_BOOKKEEPING = frozenset({"rollout_state", "history"})  # derived from the rollout and the clock
_ROLLOUT_FIELDS = ("steps", "interval", "alarms", "gates", "hooks", "bake", "attempt")


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def blob_hash(data: bytes) -> str:
    """The git blob hash of a file's bytes (`git hash-object FILE`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _stable(value: Any, drop: frozenset[str]) -> Any:
    """`value` without the keys in `drop`, at any depth."""
    if isinstance(value, Mapping):
        return {k: _stable(v, drop) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [_stable(v, drop) for v in value]
    return value


_OP_DROP = _WORDS | _GUARDS | _CLOCK | _BOOKKEEPING
_ROLLOUT_DROP = _WORDS | _CLOCK | _METRICS


def _operation(op: Mapping[str, Any]) -> Any:
    out = _stable({k: v for k, v in op.items() if k != "rollout"}, _OP_DROP)
    if isinstance(op.get("rollout"), Mapping):
        out["rollout"] = _stable(op["rollout"], _ROLLOUT_DROP)
    return out


def _where(item: Mapping[str, Any], name: str) -> str:
    region = item.get("region")
    return f"{name} ({region})" if region else str(name)


def _item_parts(item: Mapping[str, Any], label: str, parts: dict[str, Any]) -> None:
    """The operations, retention decisions and errors of one function or layer."""
    ops = [_operation(op) for op in item.get("operations") or []]
    if ops:
        parts[f"operations of {label}"] = ops
    kept = [
        [k.get("version"), _stable(k.get("reasons") or [], _CLOCK)] for k in item.get("kept") or []
    ]
    if kept:
        parts[f"retention of {label}"] = kept
    if item.get("errors"):
        parts[f"errors of {label}"] = list(item["errors"])


def _plan_parts(plan: Mapping[str, Any]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for fp in plan.get("functions") or []:
        _item_parts(fp, _where(fp, str(fp.get("function"))), parts)
    for lp in plan.get("layers") or []:
        _item_parts(lp, _where(lp, f"layer {lp.get('layer')}"), parts)
    parts["max_deletions"] = plan.get("max_deletions")
    if plan.get("errors"):
        parts["plan errors"] = list(plan["errors"])
    return parts


def _rollout_parts(paths: Sequence[str]) -> dict[str, Any]:
    """Each rollout spec of the manifests, field by field."""
    from reconciler.manifest import ManifestError, load_manifests

    try:
        manifests = load_manifests(list(paths))
    except ManifestError as e:
        raise ReconcilerError(f"the manifests the plan names are not valid here: {e}") from None
    parts: dict[str, Any] = {}
    for target in manifests.functions:
        for alias, spec in target.spec.aliases.items():
            if spec.rollout is None:
                continue
            r = spec.rollout.model_dump(mode="json")
            weights, interval = spec.rollout.schedule
            values = {
                "steps": [r.get("preset"), list(weights)],
                "interval": interval,
                "alarms": r.get("alarms"),
                "gates": r.get("gates"),
                "hooks": r.get("hooks"),
                "bake": r.get("bake"),
                "attempt": r.get("attempt"),
            }
            where = f"{target.name}:{alias}"
            label = f"{where} ({target.region})" if target.region else where
            for name in _ROLLOUT_FIELDS:
                parts[f"rollout {name} of {label}"] = values[name]
    return parts


def _manifest_parts(paths: Iterable[str]) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for path in paths:
        try:
            with open(path, "rb") as f:
                parts[f"manifest {path}"] = blob_hash(f.read())
        except OSError as e:
            raise ReconcilerError(
                f"{path}: cannot read the manifest the plan names ({e.strerror or e}): run from "
                "the directory the plan was made in"
            ) from None
    return parts


@dataclass(frozen=True)
class Review:
    """The named parts of what a plan will do, each as a full digest."""

    parts: Mapping[str, str]

    @classmethod
    def of(cls, plan: Mapping[str, Any]) -> Review:
        """The review of a JSON plan (docs/plan-format.md), with its manifests read from disk."""
        paths = [str(m) for m in plan.get("manifests") or []]
        named = {**_manifest_parts(paths), **_rollout_parts(paths), **_plan_parts(plan)}
        return cls({k: _digest(v) for k, v in named.items()})

    def fingerprint(self, commit: str) -> str:
        """One digest of the commit and every part: equal only when nothing differs."""
        return "sha256:" + _digest([commit, sorted(self.parts.items())])

    def _coarse(self) -> dict[str, str]:
        """One digest per function, layer or file: the parts grouped by what they belong to."""
        grouped: dict[str, list[str]] = {}
        for k, v in sorted(self.parts.items()):
            grouped.setdefault(_owner(k), []).append(v)
        return {k: _digest(v) for k, v in grouped.items()}

    def index(self) -> str:
        """The parts' short digests, compressed, for the trailer (no spaces).

        `f.` then every part; past INDEX_ROOM characters `c.` then one digest per function (or
        layer, or file), which still names the function that changed.
        """
        text = "f." + _pack({k: v[:SHORT] for k, v in self.parts.items()})
        if len(text) <= INDEX_ROOM:
            return text
        return "c." + _pack({k: v[:SHORT] for k, v in self._coarse().items()})

    def differences(self, index: str) -> list[str]:
        """What differs from the review whose `index` is given, one phrase a part."""
        kind, _, packed = index.partition(".")
        try:
            reviewed = json.loads(zlib.decompress(base64.b64decode(packed, validate=True)))
        except (ValueError, zlib.error):
            return []
        if kind not in ("f", "c") or not isinstance(reviewed, dict):
            return []
        full = self.parts if kind == "f" else self._coarse()
        mine = {k: v[:SHORT] for k, v in full.items()}
        out = []
        for name in sorted(set(reviewed) | set(mine)):
            if name not in mine:
                out.append(f"{name} is gone")
            elif name not in reviewed:
                out.append(f"{name} is new")
            elif mine[name] != reviewed[name]:
                out.append(f"{name} changed")
        return out


def _pack(data: Mapping[str, str]) -> str:
    raw = json.dumps(dict(sorted(data.items())), separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw, 9)).decode()


def _owner(part: str) -> str:
    """The function, layer or file a part belongs to: `operations of x (r)` → `x (r)`."""
    head, sep, rest = part.partition(" of ")
    if not sep:
        return part
    name = rest.split(":", 1)[0] if head.startswith("rollout ") else rest
    if head.startswith("rollout ") and " (" in rest:
        name += " (" + rest.rsplit(" (", 1)[1]
    return name
