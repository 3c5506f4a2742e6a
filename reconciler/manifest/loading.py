"""Loading: files to validated functions, with `defaults` merged and duplicates refused."""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from reconciler.manifest._base import show
from reconciler.manifest.diagnostics import Diagnostic, Location, ManifestError, to_diagnostics
from reconciler.manifest.models import (
    Defaults,
    FunctionSpec,
    LayerSpec,
    Manifest,
    split_key,
)
from reconciler.manifest.notifications import NotificationsSpec
from reconciler.manifest.target import TargetSpec
from reconciler.manifest.waves import wave_of
from reconciler.manifest.yamlload import MAX_BYTES, Document, YamlError, load_yaml


@dataclass(frozen=True)
class Target:
    """A manifest's `target:`: the account its functions and layers are in, and how to reach
    it (`role_arn` assumed with STS from the ambient credentials, else those credentials)."""

    account: str
    role_arn: str | None
    external_id: str | None
    session_duration: int
    location: Location = field(compare=False)  # of the `target` key

    @property
    def how(self) -> tuple[str | None, str | None, int]:
        """What must agree between two manifests reaching the same account in one run."""
        return (self.role_arn, self.external_id, self.session_duration)


@dataclass(frozen=True)
class FunctionTarget:
    """One function to reconcile: its spec with `defaults` merged in, and where it was declared.

    `region` is the function's own `region`, else its ARN's, else `defaults.region`, else the
    manifest's `region`; None leaves it to the AWS SDK (or `--region`).
    """

    key: str  # as written in the manifest: a name or an ARN
    name: str
    region: str | None
    account: str | None  # from the ARN; None for a bare name
    spec: FunctionSpec
    location: Location  # of the function key
    manifest: str  # the manifest path as given
    allowed_account_ids: frozenset[str] | None
    alias_locations: Mapping[str, Location] = field(default_factory=dict)
    # fleet settings of its manifest: where rollout events go, and its wave (1-based; None:
    # not ordered)
    notifications: NotificationsSpec | None = None
    wave: int | None = None
    target: Target | None = None  # the manifest's `target:`; None: the ambient credentials

    def alias_location(self, alias: str) -> Location:
        """Where the alias key is written (the function key if the alias is not declared)."""
        return self.alias_locations.get(alias, self.location)


@dataclass(frozen=True)
class LayerTarget:
    """One layer whose old versions retention deletes; `region` resolved as for functions."""

    key: str  # as written: a name or a layer ARN
    name: str
    region: str | None
    account: str | None  # from the ARN
    spec: LayerSpec
    location: Location  # of the layer key
    manifest: str
    allowed_account_ids: frozenset[str] | None
    target: Target | None = None


@dataclass(frozen=True)
class ManifestSet:
    """Every function (and layer) of one run, in manifest order (files in the order given)."""

    paths: tuple[str, ...]
    functions: tuple[FunctionTarget, ...]
    layers: tuple[LayerTarget, ...] = ()

    @property
    def roles(self) -> dict[str, Target]:
        """Per account reached by assuming a role, its `target:` (one per account: loading
        refuses two that differ), in account order."""
        every: list[FunctionTarget | LayerTarget] = [*self.functions, *self.layers]
        found = {
            t.target.account: t.target
            for t in reversed(every)
            if t.target is not None and t.target.role_arn is not None
        }
        return dict(sorted(found.items()))


def _layer_targets(manifest: Manifest, doc: Document, path: str) -> list[LayerTarget]:
    defaults = manifest.defaults or Defaults()
    allowed = (
        frozenset(manifest.allowed_account_ids)
        if manifest.allowed_account_ids is not None
        else None
    )
    target = _target(manifest.target, doc, path)
    out: list[LayerTarget] = []
    for key, spec in manifest.layers.items():
        name, arn_region, account = split_key(key)
        region = spec.region or arn_region or defaults.region or manifest.region
        pos = doc.position(("layers", key), key=True)
        location = Location(path, pos.line, pos.col)
        for r in _regions(region, manifest):
            out.append(
                LayerTarget(
                    key,
                    name,
                    r,
                    account or (target.account if target else None),
                    spec,
                    location,
                    path,
                    allowed,
                    target,
                )
            )
    return out


def _target(spec: TargetSpec | None, doc: Document, path: str) -> Target | None:
    if spec is None:
        return None
    pos = doc.position(("target",), key=True)
    return Target(
        spec.account,
        spec.role_arn,
        spec.external_id,
        spec.session_duration,
        Location(path, pos.line, pos.col),
    )


def _regions(region: str | None, manifest: Manifest) -> list[str | None]:
    """The regions a function or layer is managed in: its own, else each of `regions:`."""
    if region is None and manifest.regions:
        return list(manifest.regions)
    return [region]


def _allowed(manifest: Manifest) -> frozenset[str] | None:
    ids = manifest.allowed_account_ids
    return frozenset(ids) if ids is not None else None


def _targets(manifest: Manifest, doc: Document, path: str) -> list[FunctionTarget]:
    defaults = manifest.defaults or Defaults()
    target = _target(manifest.target, doc, path)
    out: list[FunctionTarget] = []
    for key, spec in manifest.functions.items():
        name, arn_region, account = split_key(key)
        own = spec.region or arn_region or defaults.region or manifest.region
        update: dict[str, Any] = {}
        for setting in ("publish", "retention", "prune_aliases"):
            default = getattr(defaults, setting)
            if setting not in spec.model_fields_set and default is not None:
                update[setting] = default
        kpos = doc.position(("functions", key), key=True)
        alias_locations = {}
        for alias in spec.aliases:
            apos = doc.position(("functions", key, "aliases", alias), key=True)
            alias_locations[alias] = Location(path, apos.line, apos.col)
        for region in _regions(own, manifest):
            out.append(
                FunctionTarget(
                    key=key,
                    name=name,
                    region=region,
                    account=account or (target.account if target else None),
                    spec=spec.model_copy(update={**update, "region": region}),
                    location=Location(path, kpos.line, kpos.col),
                    manifest=path,
                    allowed_account_ids=_allowed(manifest),
                    alias_locations=alias_locations,
                    target=target,
                    notifications=defaults.notifications,
                    wave=wave_of(
                        manifest.waves, region, account or (target.account if target else None)
                    ),
                )
            )
    return out


EXTENSION_PREFIX = "x-"  # top-level keys ignored, to hold YAML anchors (as Compose does)


Loaded = tuple[list[FunctionTarget], list[LayerTarget]]


def _load_one(raw: bytes, path: str) -> tuple[Loaded, list[Diagnostic]]:
    try:
        doc = load_yaml(raw, collect=True)
    except YamlError as e:
        return ([], []), [Diagnostic(Location(path, e.position.line, e.position.col), e.message)]
    if doc.data is None:
        return ([], []), [
            Diagnostic(
                Location(path, 1, 1),
                "file is empty: expected a manifest with `version: 1` and `functions:`",
            )
        ]
    if not isinstance(doc.data, dict):
        pos = doc.position(())
        kind = "a list" if isinstance(doc.data, list) else f"the value {show(doc.data)}"
        return ([], []), [
            Diagnostic(
                Location(path, pos.line, pos.col),
                f"expected a mapping with `version: 1` and `functions:` at the top level, "
                f"got {kind}",
            )
        ]
    data = {k: v for k, v in doc.data.items() if not k.startswith(EXTENSION_PREFIX)}
    # Problems of single values found while reading (`010`) come with the schema's errors,
    # so that one does not hide the others; the schema's word on the same value is dropped.
    problems = [
        Diagnostic(Location(path, p.position.line, p.position.col), p.message) for p in doc.problems
    ]
    said = {(d.location.line, d.location.col) for d in problems}
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as e:
        found = [
            d for d in to_diagnostics(e, doc, path) if (d.location.line, d.location.col) not in said
        ]
        return ([], []), sorted(problems + found, key=lambda d: (d.location.line, d.location.col))
    if problems:
        return ([], []), problems
    return (_targets(manifest, doc, path), _layer_targets(manifest, doc, path)), []


def _same_function(a: FunctionTarget, b: FunctionTarget) -> bool:
    """Same name, and region and account equal or unknown (then they may well be the same)."""
    return (
        a.name == b.name
        and (a.region is None or b.region is None or a.region == b.region)
        and (a.account is None or b.account is None or a.account == b.account)
    )


def _duplicates(targets: Sequence[FunctionTarget]) -> list[Diagnostic]:
    """Each function declared again (`_same_function`), at the later declaration. A function
    whose region and account are both known is looked up directly among the earlier ones
    that are known too, so a fleet of many accounts and regions is checked in linear time."""
    out: list[Diagnostic] = []
    known: dict[tuple[str, str, str], tuple[int, FunctionTarget]] = {}
    loose: dict[str, list[tuple[int, FunctionTarget]]] = {}  # region or account unknown
    every: dict[str, list[tuple[int, FunctionTarget]]] = {}
    for i, t in enumerate(targets):
        if t.region is not None and t.account is not None:
            candidates = [known[k]] if (k := (t.name, t.region, t.account)) in known else []
            candidates += [e for e in loose.get(t.name, []) if _same_function(e[1], t)]
        else:
            candidates = [e for e in every.get(t.name, []) if _same_function(e[1], t)]
        if candidates:
            first = min(candidates, key=lambda e: e[0])[1]
            where = f" in {first.region}" if first.region and t.region else ""
            if first.account and t.account:
                where += f" (account {t.account})"
            out.append(
                Diagnostic(
                    t.location,
                    f"functions.{t.key}: function {t.name}{where} is already declared at "
                    f"{first.location}; a function may appear only once per run",
                )
            )
        every.setdefault(t.name, []).append((i, t))
        if t.region is not None and t.account is not None:
            known.setdefault((t.name, t.region, t.account), (i, t))
        else:
            loose.setdefault(t.name, []).append((i, t))
    return out


def _duplicate_layers(layers: Sequence[LayerTarget]) -> list[Diagnostic]:
    """A layer may appear once per run (same name, and region and account equal or unknown)."""
    out: list[Diagnostic] = []
    for i, t in enumerate(layers):
        first = next(
            (
                e
                for e in layers[:i]
                if e.name == t.name
                and (e.region is None or t.region is None or e.region == t.region)
                and (e.account is None or t.account is None or e.account == t.account)
            ),
            None,
        )
        if first is not None:
            out.append(
                Diagnostic(
                    t.location,
                    f"layers.{t.key}: layer {t.name} is already declared at {first.location}; "
                    "a layer may appear only once per run",
                )
            )
    return out


def _conflicting_targets(
    targets: Sequence[FunctionTarget], layers: Sequence[LayerTarget]
) -> list[Diagnostic]:
    """One run reaches an account one way: the same role, external id and duration in every
    manifest whose `target:` names it (one set of credentials, and one pacing, per account)."""
    out: list[Diagnostic] = []
    first: dict[str, Target] = {}
    said: set[Location] = set()
    every: list[FunctionTarget | LayerTarget] = [*targets, *layers]
    for t in every:
        target = t.target
        if target is None or target.location in said:
            continue
        seen = first.setdefault(target.account, target)
        if seen.how != target.how:
            said.add(target.location)
            out.append(
                Diagnostic(
                    target.location,
                    f"target: account {target.account} is reached another way at "
                    f"{seen.location} (role_arn, external_id and session_duration must agree: "
                    "one run reaches an account one way)",
                )
            )
    return out


def load_manifest_text(text: str | bytes, path: str) -> ManifestSet:
    """Load one manifest from a string; raise ManifestError with all its diagnostics."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    (targets, layers), diagnostics = _load_one(raw, path)
    diagnostics += _duplicates(targets) + _duplicate_layers(layers)
    if diagnostics:
        raise ManifestError(diagnostics)
    return ManifestSet(paths=(path,), functions=tuple(targets), layers=tuple(layers))


STDIN = "-"
STDIN_NAME = "<stdin>"  # how diagnostics name standard input
_GLOB_CHARS = frozenset("*?[")


def expand_paths(paths: Sequence[str]) -> tuple[list[str], list[Diagnostic]]:
    """The manifest files that `paths` name, in order and each once: a file as given, `-` for
    standard input, a directory as the *.yaml and *.yml files directly inside it (sorted), and a
    pattern with `*`, `?` or `[` as the files it matches (sorted; `**` spans directories), as
    the GitHub Action expands its `manifests` input. A directory or pattern that names no file
    is a diagnostic, like a missing file."""
    out: list[str] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path == STDIN or os.path.isfile(path):
            found = [path]
        elif os.path.isdir(path):
            found, problem = _directory(path)
            problems += problem
        elif _GLOB_CHARS & set(path):
            found = sorted(f for f in glob.glob(path, recursive=True) if os.path.isfile(f))
            if not found:
                problems.append(Diagnostic(Location(path, 1, 1), "no file matches this pattern"))
        else:
            found = [path]  # reading it reports why it cannot be read
        out += [f for f in found if f not in out]
    return out, problems


def _directory(path: str) -> tuple[list[str], list[Diagnostic]]:
    """The *.yaml and *.yml files directly in a directory, sorted; a diagnostic if none."""
    try:
        names = os.listdir(path)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        return [], [Diagnostic(Location(path, 1, 1), f"cannot read the directory: {reason}")]
    found = sorted(
        os.path.join(path, name)
        for name in names
        if name.endswith((".yaml", ".yml")) and os.path.isfile(os.path.join(path, name))
    )
    if not found:
        return [], [Diagnostic(Location(path, 1, 1), "no *.yaml or *.yml file in this directory")]
    return found, []


def _read(path: str) -> bytes:
    if path == STDIN:
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    with open(path, "rb") as f:
        return f.read(MAX_BYTES + 1)  # enough to tell that a file is too large


def load_manifests(paths: Sequence[str]) -> ManifestSet:
    """Load and check every manifest (files, directories, patterns and `-`: `expand_paths`);
    raise ManifestError with all diagnostics of all files."""
    files, diagnostics = expand_paths(paths)
    targets: list[FunctionTarget] = []
    layers: list[LayerTarget] = []
    for path in files:
        name = STDIN_NAME if path == STDIN else path
        try:
            raw = _read(path)
        except OSError as e:
            reason = e.strerror or type(e).__name__
            diagnostics.append(Diagnostic(Location(name, 1, 1), f"cannot read the file: {reason}"))
            continue
        (found, found_layers), problems = _load_one(raw, name)
        targets += found
        layers += found_layers
        diagnostics += problems
    diagnostics += (
        _duplicates(targets) + _duplicate_layers(layers) + _conflicting_targets(targets, layers)
    )
    if diagnostics:
        raise ManifestError(diagnostics)
    return ManifestSet(
        paths=tuple(STDIN_NAME if f == STDIN else f for f in files),
        functions=tuple(targets),
        layers=tuple(layers),
    )
