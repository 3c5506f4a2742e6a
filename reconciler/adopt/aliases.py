"""`adopt`: make git follow live state — the other way to settle drift.

`drift` reports a change made outside git; `apply` reverts it. `adopt` instead rewrites the
manifests so that the live aliases become the desired state, changing only the values that
differ and keeping every other byte (see `adopt_edit`). Stages:

1. decide (pure): for each function, from its target and its live state, which values change.
   Selectors are resolved by the planner's own resolver against live state as it is, in the
   manifest as adopted so far (an `{alias: X}` follows X's adopted value), until nothing more
   changes. A selector that still resolves to the live value is kept (`version: latest` that is
   still right stays `latest`); one that does not is pinned to the live number, with a trailing
   comment saying what it was. Canaries are added, changed or removed; a managed description
   follows the live one; with `include_unmanaged`, live aliases the manifest does not name are
   added. Retention, `publish`, `prune_aliases` and rollout settings are never touched.
2. edit: each change is a text edit at the node's source position. Shared YAML (anchors used
   elsewhere, `<<` merges) is left alone for that function, with a located warning.
3. verify: the edited text must load as a valid manifest; every value outside the edited paths
   must read back exactly as before; and deciding again on the edited manifest must find
   nothing more to adopt. Anything else is an error and nothing is written.

No AWS call is made here: the caller reads live state (read-only) and passes it in.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reconciler.adopt.attachments import attachment_edits
from reconciler.adopt.edit import Edit, Refused, Value, WeightValue, apply_edit
from reconciler.aws import LATEST, LiveAlias, LiveFunction, capacity_of
from reconciler.errors import ReconcilerError
from reconciler.manifest import (
    AliasRef,
    AliasSpec,
    CanarySpec,
    DescriptionRef,
    FunctionTarget,
    ManifestError,
    Sha256Ref,
    load_manifest_text,
)
from reconciler.manifest.yamlload import YamlError, load_yaml
from reconciler.plan.wording import plural
from reconciler.planning import PlanError, Resolver, same_weight, state_of

OUTSIDE_GIT = "changed outside git since the last apply"


class AdoptError(ReconcilerError):
    """Adopt could not produce a manifest that it can prove right; nothing was written."""


@dataclass(frozen=True)
class FunctionAdoption:
    """What adopting one function changes (`edits`), in words (`changes`), and what it leaves
    alone and why (`notes`)."""

    target: FunctionTarget
    edits: tuple[Edit, ...] = ()
    changes: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    left: frozenset[str] = frozenset()  # managed aliases left as they are (see `notes`)
    refused: str = ""  # why none of this function's edits was made (shared YAML), if so


# -- 1. decide -------------------------------------------------------------------------------


def show_selector(selector: Any) -> str:
    if isinstance(selector, AliasRef):
        return f"{{alias: {selector.alias}}}"
    if isinstance(selector, Sha256Ref):
        return f"{{sha256: {selector.sha256}}}"
    if isinstance(selector, DescriptionRef):
        text = " ".join(selector.description.split())
        return f"{{description: {text[:40] + '…' if len(text) > 40 else text}}}"
    return str(selector)


def _weight(w: float) -> str:
    return f"{round(w * 100, 3):g}%"


def _pin(version: str) -> int | str:
    return int(version) if version.isdigit() else LATEST


def _canary_text(version: str, weight: float) -> str:
    return f"{version} @ {_weight(weight)}"


Resolve = Callable[[str, Any], "str | None"]
Pins = dict[tuple[str, str], tuple[Any, "str | None"]]  # (alias, field) → (was, resolved)


def decide(
    target: FunctionTarget, live: LiveFunction, *, include_unmanaged: bool = False
) -> FunctionAdoption:
    """The adoption of one function (pure): live aliases → values of the manifest."""
    original = dict(target.spec.aliases)
    aliases = dict(original)

    def resolve(name: str, selector: Any) -> str | None:
        spec = target.spec.model_copy(update={"aliases": aliases})
        try:
            got = Resolver(replace(target, spec=spec), live, False).resolve(name, selector)
        except PlanError:
            return None
        return got if isinstance(got, str) else None  # not publishing: never a new version

    fixed, notes = _left_alone(original, live, resolve)
    pins: Pins = {}
    _converge(original, aliases, fixed, live, resolve, pins)
    edits, changes = _edits(target, original, aliases, fixed, live, pins)
    unmanaged = [a for a in live.aliases if a.name not in original]
    base = ("functions", target.key, "aliases")
    for a in unmanaged:
        if include_unmanaged:
            edits.append(Edit((*base, a.name), _entry(a)))
            changes.append(f"{a.name}: added ({_live_text(a)})")
        else:
            verb = "apply deletes it (prune_aliases)" if target.spec.prune_aliases else "listed"
            notes.append(f"{a.name}: live but not in git ({verb}); --include-unmanaged adds it")
    return FunctionAdoption(target, tuple(edits), tuple(changes), tuple(notes), frozenset(fixed))


def _left_alone(
    original: dict[str, AliasSpec], live: LiveFunction, resolve: Resolve
) -> tuple[set[str], list[str]]:
    """The aliases adopt leaves as they are (missing live, or a rollout's business), and why."""
    fixed: set[str] = set()
    notes: list[str] = []
    for name, spec in original.items():
        current = live.alias(name)
        if current is None:
            notes.append(
                f"{name}: in git but not live; adopt does not remove aliases (apply creates it)"
            )
            fixed.add(name)
        elif spec.rollout is not None:
            goal = resolve(name, spec.version)
            if current.canary is not None:
                if current.canary.version != goal:
                    notes.append(
                        f"{name}: live routes to {current.version} + "
                        f"{_canary_text(current.canary.version, current.canary.weight)}, but "
                        "an alias with a rollout cannot declare a canary: left alone"
                    )
                fixed.add(name)  # a rollout in progress towards git's version is no drift
            else:
                state = state_of(live, name)
                if state is not None and state.status == "failed" and state.target == goal:
                    fixed.add(name)  # rolled back by an alarm: the plan already holds it
    return fixed, notes


def _converge(
    original: dict[str, AliasSpec],
    aliases: dict[str, AliasSpec],
    fixed: set[str],
    live: LiveFunction,
    resolve: Resolve,
    pins: Pins,
) -> None:
    """Pin what no longer resolves to the live value, until nothing changes (`{alias: X}`
    follows X's adopted value)."""
    for _ in range(len(aliases) + 1):
        changed = False
        for name in original:
            if name in fixed:
                continue
            current = live.alias(name)
            assert current is not None
            spec = aliases[name]
            got = resolve(name, spec.version)
            if got != current.version:
                pins.setdefault((name, "version"), (spec.version, got))
                spec = aliases[name] = spec.model_copy(update={"version": _pin(current.version)})
                changed = True
            if spec.rollout is not None:
                continue
            new_canary = _adopt_canary(name, spec, current, resolve, pins)
            if new_canary is not spec.canary:
                aliases[name] = spec.model_copy(update={"canary": new_canary})
                changed = True
        if not changed:
            return


def _edits(
    target: FunctionTarget,
    original: dict[str, AliasSpec],
    aliases: dict[str, AliasSpec],
    fixed: set[str],
    live: LiveFunction,
    pins: Pins,
) -> tuple[list[Edit], list[str]]:
    """The text edits and the change lines for the managed aliases."""
    edits: list[Edit] = []
    changes: list[str] = []
    base = ("functions", target.key, "aliases")
    for name, before in original.items():
        after = aliases[name]
        current = live.alias(name)
        if current is None or name in fixed:
            continue
        path = (*base, name)
        if after.version != before.version:
            was, resolved = pins[(name, "version")]
            pinned = _pin(current.version)
            edits.append(Edit((*path, "version"), pinned, _comment(was, resolved)))
            changes.append(f"{name}: version {_was(was, resolved)} → {after.version}")
        edits_c, changes_c = _canary_edits(name, path, before.canary, after.canary, pins)
        edits += edits_c
        changes += changes_c
        if before.description is not None and before.description != current.description:
            edits.append(Edit((*path, "description"), current.description))
            changes.append(f"{name}: description {before.description!r} → {current.description!r}")
        edits_a, changes_a = attachment_edits(name, path, before, live.attachments.get(name))
        edits += edits_a
        changes += changes_a
        edits_p, changes_p = _capacity_edits(name, path, before, current, live)
        edits += edits_p
        changes += changes_p
    return edits, changes


def _capacity_edits(
    name: str, path: tuple[str, ...], before: AliasSpec, current: LiveAlias, live: LiveFunction
) -> tuple[list[Edit], list[str]]:
    """A declared `provisioned_concurrency` follows the live capacity (0: none); an alias
    with routing is left alone (Lambda manages none on it while the routing lasts)."""
    declared = before.provisioned_concurrency
    if declared is None or live.provisioned is None or current.canary is not None:
        return [], []
    cap = capacity_of(live.provisioned, name, current.version)
    have = 0 if cap is None else cap.requested
    if have == declared:
        return [], []
    line = f"{name}: provisioned_concurrency {declared} → {have}"
    return [Edit((*path, "provisioned_concurrency"), have)], [line]


def _adopt_canary(
    name: str,
    spec: AliasSpec,
    current: LiveAlias,
    resolve: Callable[[str, Any], str | None],
    pins: dict[tuple[str, str], tuple[Any, str | None]],
) -> CanarySpec | None:
    """The canary spec that matches the live one: `spec.canary` itself when it already does."""
    live, want = current.canary, spec.canary
    if live is None:
        return None
    if want is None:
        return CanarySpec.model_validate({"version": _pin(live.version), "weight": live.weight})
    version: Any = want.version
    weight = want.weight
    got = resolve(name, want.version)
    if got != live.version:
        pins.setdefault((name, "canary"), (want.version, got))
        version = _pin(live.version)
    if not same_weight(want.weight, live.weight):
        weight = live.weight
    if version == want.version and weight == want.weight:
        return want
    return want.model_copy(update={"version": version, "weight": weight})


def _canary_edits(
    name: str,
    path: tuple[str, ...],
    before: CanarySpec | None,
    after: CanarySpec | None,
    pins: Mapping[tuple[str, str], tuple[Any, str | None]],
) -> tuple[list[Edit], list[str]]:
    if before is after:
        return [], []
    where = (*path, "canary")
    if after is None:
        assert before is not None
        shown = show_selector(before.version)
        return [Edit(where, None)], [f"{name}: canary {shown} @ {_weight(before.weight)} → none"]
    whole: dict[str, Value] = {
        "version": int(after.version) if isinstance(after.version, int) else str(after.version),
        "weight": WeightValue(after.weight),
    }
    if before is None:
        text = _canary_text(str(after.version), after.weight)
        return [Edit(where, whole)], [f"{name}: canary none → {text}"]
    fallback = Edit(where, whole)
    edits: list[Edit] = []
    lines: list[str] = []
    if after.version != before.version:
        was, resolved = pins[(name, "canary")]
        edits.append(Edit((*where, "version"), whole["version"], _comment(was, resolved), fallback))
        lines.append(f"{name}: canary version {_was(was, resolved)} → {after.version}")
    if after.weight != before.weight:
        edits.append(Edit((*where, "weight"), WeightValue(after.weight), fallback=fallback))
        lines.append(f"{name}: canary weight {_weight(before.weight)} → {_weight(after.weight)}")
    return edits, lines


def _was(selector: Any, resolved: str | None) -> str:
    if isinstance(selector, int) or selector == LATEST:
        return str(selector)
    return f"{show_selector(selector)} (now {resolved or 'nothing'})"


def _comment(selector: Any, resolved: str | None) -> str:
    """The trailing comment of a pinned selector; none for a number replaced by a number."""
    if isinstance(selector, int) or selector == LATEST:
        return ""
    now = f"resolves to {resolved}" if resolved else "matches nothing"
    return f"pinned by adopt: {show_selector(selector)} {now}, live differs"


def _live_text(a: LiveAlias) -> str:
    text = a.version
    if a.canary is not None:
        text += " + " + _canary_text(a.canary.version, a.canary.weight)
    return text


def _entry(a: LiveAlias) -> dict[str, Value]:
    entry: dict[str, Value] = {"version": _pin(a.version)}
    if a.canary is not None:
        entry["canary"] = {
            "version": _pin(a.canary.version),
            "weight": WeightValue(a.canary.weight),
        }
    if a.description:
        entry["description"] = a.description
    return entry


# -- 2 and 3. edit and verify ----------------------------------------------------------------


@dataclass(frozen=True)
class FileResult:
    path: str
    before: bytes
    after: bytes

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Result:
    files: tuple[FileResult, ...]
    functions: tuple[FunctionAdoption, ...]
    warnings: tuple[str, ...]  # FILE:LINE:COL: what adopt left alone and why

    @property
    def changed(self) -> bool:
        return any(f.changed for f in self.files)


def _mask(data: Any, path: Sequence[str]) -> None:
    """Delete `path` from `data` (when there), and any mapping that leaves empty."""
    parents = [data]
    for part in path[:-1]:
        node = parents[-1]
        if not isinstance(node, dict) or part not in node:
            return
        parents.append(node[part])
    if isinstance(parents[-1], dict):
        parents[-1].pop(path[-1], None)


def _verify(
    path: str,
    raw: bytes,
    new_raw: bytes,
    applied: Sequence[Edit],
    adopted: Sequence[tuple[FunctionAdoption, LiveFunction]],
    include_unmanaged: bool,
) -> None:
    def broken(why: str) -> AdoptError:
        return AdoptError(
            f"{path}: adopt could not rewrite this file safely ({why}); nothing was written"
        )

    try:
        loaded = load_manifest_text(new_raw, path)
        before, after = load_yaml(raw).data, load_yaml(new_raw).data
    except (ManifestError, YamlError) as e:
        raise broken(f"the result does not load: {e}") from None
    before, after = copy.deepcopy(before), copy.deepcopy(after)
    for edit in applied:
        _mask(before, edit.path)
        _mask(after, edit.path)
        for cut in range(len(edit.path) - 1, 0, -1):  # a mapping written just for this edit
            parent: Any = after
            old: Any = before
            for part in edit.path[:cut]:
                parent = parent.get(part) if isinstance(parent, dict) else None
                old = old.get(part) if isinstance(old, dict) else None
            if parent == {} and old is None:
                _mask(after, edit.path[:cut])
    if before != after:
        raise broken("a value outside the adopted ones would change")
    targets = {t.key: t for t in loaded.functions}
    for fa, live in adopted:
        again = decide(targets[fa.target.key], live, include_unmanaged=include_unmanaged)
        if again.edits:
            raise broken(f"{fa.target.name}: still differs from live: {'; '.join(again.changes)}")


def adopt(
    pairs: Sequence[tuple[FunctionTarget, LiveFunction]],
    *,
    include_unmanaged: bool = False,
    read: Callable[[str], bytes],
) -> Result:
    """Adopt live state into the manifests of `pairs`; `read(path)` gives a file's bytes."""
    by_file: dict[str, list[tuple[FunctionTarget, LiveFunction]]] = {}
    for t, live in pairs:
        by_file.setdefault(t.manifest, []).append((t, live))
    files: list[FileResult] = []
    functions: list[FunctionAdoption] = []
    warnings: list[str] = []
    for path, items in by_file.items():
        raw = read(path)
        text = raw.decode("utf-8")
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        text = text[len(bom) :]
        applied: list[Edit] = []
        adopted: list[tuple[FunctionAdoption, LiveFunction]] = []
        for t, live in items:
            fa = decide(t, live, include_unmanaged=include_unmanaged)
            warnings += [f"{t.location}: {t.name}: {n}" for n in fa.notes]
            if not fa.edits:
                functions.append(fa)
                continue
            attempt, done = text, []
            try:
                for edit in fa.edits:
                    attempt, used = _edit_with_comment(attempt, edit)
                    done.append(used)
            except Refused as e:
                warnings.append(f"{path}:{e.line}:{e.col}: {t.name}: {e.message}; not adopted")
                functions.append(replace(fa, edits=(), changes=(), refused=e.message))
                continue
            text = attempt
            applied += done
            adopted.append((fa, live))
            functions.append(fa)
        new_raw = (bom + text).encode("utf-8")
        if new_raw != raw:
            _verify(path, raw, new_raw, applied, adopted, include_unmanaged)
        files.append(FileResult(path, raw, new_raw))
    return Result(tuple(files), tuple(functions), tuple(warnings))


def _edit_with_comment(text: str, edit: Edit) -> tuple[str, Edit]:
    """Make `edit`; return the text and the edit actually made (its fallback, if refused).

    A trailing comment goes at the end of the value's line; should that line end inside a
    multi-line scalar, the comment is dropped rather than risk changing that scalar.
    """
    try:
        out = apply_edit(text, edit)
        used = edit
    except Refused:
        if edit.fallback is None:
            raise
        out = apply_edit(text, edit.fallback)
        used = edit.fallback
    if used.comment:
        try:
            plain = apply_edit(text, replace(used, comment=""))
            if load_yaml(out.encode()).data != load_yaml(plain.encode()).data:
                out = plain
        except YamlError:
            out = apply_edit(text, replace(used, comment=""))
    return out, used


# -- output ----------------------------------------------------------------------------------


def unified_diff(result: Result) -> str:
    out: list[str] = []
    for f in result.files:
        if not f.changed:
            continue
        a = f.before.decode("utf-8").splitlines(keepends=True)
        b = f.after.decode("utf-8").splitlines(keepends=True)
        for line in difflib.unified_diff(a, b, f"a/{f.path}", f"b/{f.path}"):
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def summary(result: Result) -> str:
    functions = [fa for fa in result.functions if fa.edits and fa.changes]
    changes = sum(len(fa.changes) for fa in functions)
    if not changes:
        return "Nothing to adopt: the managed aliases match live state."
    files = sum(1 for f in result.files if f.changed)
    return (
        f"Adopt: {plural(changes, 'change', 'changes')} in "
        f"{plural(len(functions), 'function', 'functions')} and "
        f"{plural(files, 'manifest', 'manifests')}."
    )


def render_markdown(result: Result, marker: str, *, limit: int = 60_000) -> str:
    """The pull-request body: opening markers, each change, what was left alone, the diff."""
    lines = [marker, "", "### Adopt live state into git", ""]
    adopted = [fa for fa in result.functions if fa.edits and fa.changes]
    if not adopted:
        lines.append("Nothing to adopt: the managed aliases match live state.")
    else:
        lines += [
            f"These aliases were {OUTSIDE_GIT} (CloudTrail is not read, so who changed them "
            "is not known). Merging this pull request makes git follow live state; closing it "
            "and running `apply` reverts live state to git instead.",
            "",
        ]
        for fa in adopted:
            lines.append(f"- `{fa.target.name}` ({fa.target.location}):")
            lines += [f"  - {change}" for change in fa.changes]
    if result.warnings:
        lines += ["", "Left alone:", ""]
        lines += [f"- {w}" for w in result.warnings]
    diff = unified_diff(result)
    if diff:
        fence = "````"
        if len(diff) > limit:
            diff = diff[:limit] + "\n… (cut: the diff is longer than a pull-request body)\n"
        lines += [
            "",
            "<details><summary>diff</summary>",
            "",
            fence + "diff",
            diff.rstrip("\n"),
            fence,
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n"
