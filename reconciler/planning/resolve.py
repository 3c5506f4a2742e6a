"""Stage 2 of the planner: every selector of a function's aliases to a version number,
`$LATEST`, or NEW_VERSION (the version this plan publishes), in the state this plan leads to."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from reconciler.aws import LATEST, LiveFunction, Snapshot
from reconciler.manifest import (
    AliasRef,
    AliasSpec,
    DescriptionRef,
    FunctionTarget,
    Selector,
    Sha256Ref,
)
from reconciler.plan import (
    NEW_VERSION,
    AliasState,
    NewVersion,
    Route,
    VersionRef,
    version_label,
)


class PlanError(Exception):
    """A problem that stops planning one function (selector matches nothing, …)."""


class Resolver:
    """Resolves selectors for one function, in the state this plan leads to."""

    def __init__(self, target: FunctionTarget, live: LiveFunction, publishing: bool) -> None:
        self.target = target
        self.live = live
        self.publishing = publishing
        self.numbers = {v.number for v in live.versions}
        # The version this plan publishes: `$LATEST` as it is, with the description that
        # `publish: {description:}` gives it (PublishVersion's Description overrides $LATEST's).
        described = target.spec.publish_description
        latest = live.latest.snapshot
        self.new = latest if described is None else replace(latest, description=described)

    def resolve(self, alias: str, selector: Selector) -> VersionRef:
        if isinstance(selector, AliasRef):  # validation guarantees a declared alias, no cycle
            return self.resolve(alias, self.target.spec.aliases[selector.alias].version)
        if isinstance(selector, int):
            if selector not in self.numbers:
                raise PlanError(
                    f"alias {alias}: version {selector} does not exist "
                    f"(published: {_ranges(sorted(self.numbers))})"
                )
            return str(selector)
        if selector == LATEST:
            return LATEST
        if selector == "latest":
            return self._latest(alias)
        if isinstance(selector, Sha256Ref):
            return self._match(
                alias, lambda s: s.code_sha256 == selector.sha256, f"sha256 {selector.sha256}"
            )
        if isinstance(selector, DescriptionRef):
            return self._match(
                alias,
                lambda s: s.description == selector.description,
                f"description {selector.description!r}",
            )
        raise PlanError(f"alias {alias}: unsupported selector {selector!r}")

    def _latest(self, alias: str) -> VersionRef:
        if self.publishing:
            return NEW_VERSION
        if self.live.newest is None:
            raise PlanError(
                f"alias {alias}: version `latest` matches nothing: no version is published"
            )
        return str(self.live.newest.number)

    def _match(self, alias: str, test: Callable[[Snapshot], bool], what: str) -> VersionRef:
        """The newest version whose snapshot passes `test`, the one being published first."""
        if self.publishing and test(self.new):
            return NEW_VERSION
        for v in reversed(self.live.versions):
            if test(v.snapshot):
                return str(v.number)
        raise PlanError(f"alias {alias}: no version has {what}")

    def snapshot(self, version: VersionRef) -> Snapshot | None:
        if isinstance(version, NewVersion):
            return self.new
        if version == LATEST:
            return self.live.latest.snapshot
        v = self.live.version(int(version))
        return v.snapshot if v else None


def _ranges(numbers: Sequence[int]) -> str:
    if not numbers:
        return "none"
    out: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


def desired_state(resolver: Resolver, name: str, spec: AliasSpec) -> AliasState:
    version = resolver.resolve(name, spec.version)
    if spec.canary is None:
        return AliasState(version=version, canary=None, description=spec.description)
    cversion = resolver.resolve(name, spec.canary.version)
    if cversion == version:
        raise PlanError(
            f"alias {name}: canary resolves to version {version_label(version)}, "
            "the same as the primary"
        )
    a, b = resolver.snapshot(version), resolver.snapshot(cversion)
    if a and b and (a.role != b.role or a.dead_letter_arn != b.dead_letter_arn):
        what = "execution role" if a.role != b.role else "dead-letter configuration"
        raise PlanError(
            f"alias {name}: versions {version_label(version)} and "
            f"{version_label(cversion)} have a different {what}; "
            "AWS only routes between versions that share both"
        )
    return AliasState(version, Route(cversion, spec.canary.weight), spec.description)


def resolve_all(resolver: Resolver) -> tuple[dict[str, AliasState], list[str]]:
    desired: dict[str, AliasState] = {}
    errors: list[str] = []
    for name, aspec in resolver.target.spec.aliases.items():
        try:
            desired[name] = desired_state(resolver, name, aspec)
        except PlanError as e:
            errors.append(str(e))
    return desired, errors
