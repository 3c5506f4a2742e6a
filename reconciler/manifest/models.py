"""The manifest's models: each checks its own fields and the rules between them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

from reconciler.manifest._base import AsTuple, Issue, StrictModel, rule, show
from reconciler.manifest.attachments import (
    AsyncSpec,
    Permissions,
    UrlSpec,
    capacity_issues,
    permission_issues,
)
from reconciler.manifest.environment import expand_environment
from reconciler.manifest.names import AccountId, AliasName, FunctionKey, LayerKey, Region
from reconciler.manifest.notifications import NotificationsSpec
from reconciler.manifest.rollout import RolloutSpec
from reconciler.manifest.selectors import AliasRef, Selector, dump_selector
from reconciler.manifest.target import TargetSpec
from reconciler.manifest.waves import Waves, check_waves
from reconciler.manifest.weights import Weight


class CanarySpec(StrictModel):
    """A second version and its share of the alias's traffic.

    ```yaml
    canary: {version: 6, weight: 10%}
    ```
    """

    version: Selector = Field(description="The canary version; never $LATEST.")
    weight: Weight = Field(description='Its share of traffic: 0.1 or "10%".')


class AliasSpec(StrictModel):
    """Where one alias routes.

    ```yaml
    prod:
      version: 5
      canary: {version: 6, weight: 10%}
      description: Production
    ```
    """

    version: Selector = Field(description="The primary version.")
    canary: CanarySpec | None = Field(default=None, description="A second version with a weight.")
    description: Annotated[str, Field(max_length=128)] | None = Field(
        default=None,
        description="The alias description, at most 128 characters (the rest of AWS's 256 holds "
        "the reconciler's record); absent leaves the live one alone.",
    )
    rollout: RolloutSpec | None = Field(
        default=None, description="Move to `version` in steps; excludes `canary`."
    )
    provisioned_concurrency: Annotated[int, Field(ge=0, strict=True)] | None = Field(
        default=None,
        description="Provisioned concurrency on this alias (0: none, any config removed); "
        "absent leaves the live one alone.",
    )

    # ---- attachments (reconciler/manifest/attachments.py): absent = unmanaged
    url: UrlSpec | None = Field(
        default=None, description="The alias's function URL; null: none; absent: left alone."
    )
    async_: AsyncSpec | None = Field(
        default=None,
        alias="async",
        description="The alias's event-invoke configuration; null: none; absent: left alone.",
    )
    permissions: Permissions | None = Field(
        default=None,
        description="Exactly the statements of the alias's own resource policy; [] or null: "
        "none; absent: left alone.",
    )

    @property
    def declares_url(self) -> bool:
        return "url" in self.model_fields_set

    @property
    def declares_async(self) -> bool:
        return "async_" in self.model_fields_set

    @property
    def declares_permissions(self) -> bool:
        return "permissions" in self.model_fields_set

    @property
    def declares_attachments(self) -> bool:
        return self.declares_url or self.declares_async or self.declares_permissions

    @model_validator(mode="after")
    def _rules(self) -> AliasSpec:
        issues: list[Issue] = permission_issues(self.permissions) + capacity_issues(self)
        if self.canary is not None and self.rollout is not None:
            issues.append(
                (("rollout",), "`canary` and `rollout` exclude each other: use one", True)
            )
        if self.canary is not None:
            if self.version == "$LATEST":
                issues.append((("canary",), _NO_LATEST_CANARY, True))
            elif self.canary.version == "$LATEST":
                issues.append((("canary", "version"), _LATEST_AS_CANARY, False))
            elif self.canary.version == self.version:
                issues.append(
                    (
                        ("canary", "version"),
                        "canary.version must differ from version "
                        f"(both are {show(dump_selector(self.version))})",
                        False,
                    )
                )
        if self.rollout is not None and self.version == "$LATEST":
            issues.append((("rollout",), _NO_LATEST_ROLLOUT, True))
        if self.description is not None and "[lr:" in self.description:
            issues.append((("description",), _RECORD_MARK, False))
        if issues:
            rule(issues)
        return self


_NO_LATEST_CANARY = (
    "no canary when version is $LATEST: AWS routes weighted traffic between published versions only"
)
_LATEST_AS_CANARY = (
    "$LATEST cannot be a canary: AWS routes weighted traffic between published versions only"
)
_NO_LATEST_ROLLOUT = "a rollout cannot move to $LATEST: it needs a published version"
_RECORD_MARK = (
    "a description may not contain `[lr:`: it marks the record the reconciler keeps at the end "
    "of the alias description"
)


class RetentionSpec(StrictModel):
    """Which published versions to keep; the others are deleted (opt-in).

    ```yaml
    retention: {keep_last: 10, keep_days: 30, protect: [1], keep_previous: 1}
    ```
    """

    keep_last: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Keep this many newest published versions."
    )
    keep_days: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Also keep every version modified in this many days."
    )
    protect: Annotated[tuple[Annotated[int, Field(ge=1)], ...], AsTuple] = Field(
        default=(), description="Versions never deleted."
    )
    keep_previous: Annotated[int, Field(ge=0, le=10)] = Field(
        default=1,
        description="Also keep the last N versions each managed alias pointed to before its "
        "current one (its rollback targets); 0 opts out.",
    )

    @model_validator(mode="after")
    def _something(self) -> RetentionSpec:
        if self.keep_last is None and self.keep_days is None:
            rule([((), "retention needs keep_last, keep_days or both", True)])
        return self


class PublishSpec(StrictModel):
    """Publish `$LATEST` when it differs from the newest version, with this description on the
    new version (PublishVersion's `Description`), so a `{description: …}` selector finds it.
    `${NAME}` is replaced by the environment variable NAME when the manifest is read.

    ```yaml
    publish: {description: "release ${GITHUB_SHA}"}
    ```
    """

    description: Annotated[str, Field(min_length=1), AfterValidator(expand_environment)] = Field(
        description="The new version's description; ${NAME} is the environment variable NAME "
        "(unset: an error), $$ a literal $."
    )


def _publish(value: Any) -> bool | PublishSpec:
    """true/false, or the mapping form; errors inside the mapping keep their own location."""
    if isinstance(value, bool | PublishSpec):
        return value
    if isinstance(value, Mapping):
        return PublishSpec.model_validate(value)
    raise PydanticCustomError(
        "publish_type",
        "expected true, false or {form}, got {value}",
        {"form": "{description: TEXT}", "value": show(value)},
    )


Publish = Annotated[
    bool | PublishSpec, PlainValidator(_publish, json_schema_input_type=bool | PublishSpec)
]


def publishes(publish: bool | PublishSpec) -> bool:
    return publish is not False


class FunctionSpec(StrictModel):
    """One function: its aliases, publishing and retention.

    ```yaml
    order-processor:
      publish: true
      aliases:
        prod: {version: 5}
        staging: {version: latest}
      retention: {keep_last: 10}
    ```
    """

    aliases: dict[AliasName, AliasSpec] = Field(
        default_factory=dict, description="Aliases this manifest manages, by name."
    )
    publish: Publish = Field(
        default=False,
        description="Publish $LATEST when it differs from the newest version: true, or "
        "{description: TEXT} to also set the new version's description.",
    )
    retention: RetentionSpec | None = Field(
        default=None, description="Delete old versions; without it none is ever deleted."
    )
    prune_aliases: bool | Literal["force"] = Field(
        default=False,
        description="Delete live aliases that this manifest does not name (not one that "
        "carries provisioned concurrency, a permission, a mapping or a URL; `force`: even those).",
    )
    region: Region | None = Field(default=None, description="This function's region.")

    @property
    def publishes(self) -> bool:
        """Whether `$LATEST` is published when it differs from the newest version."""
        return publishes(self.publish)

    @property
    def publish_description(self) -> str | None:
        """The description given to a version this tool publishes (None: `$LATEST`'s own)."""
        return self.publish.description if isinstance(self.publish, PublishSpec) else None

    @model_validator(mode="after")
    def _alias_refs(self) -> FunctionSpec:
        issues = _alias_ref_issues(self.aliases)
        if issues:
            rule(issues)
        return self


def _alias_ref_issues(aliases: Mapping[str, AliasSpec]) -> list[Issue]:
    """`{alias: NAME}` rules: NAME declared, no cycles, and what the chains resolve to."""
    issues: list[Issue] = []
    terminal: dict[str, Any] = {}  # alias → the non-alias selector its chain ends at
    for name, spec in aliases.items():
        selector, issue = _follow(name, aliases)
        if issue is not None:
            issues.append(issue)
        elif selector is not None:
            terminal[name] = selector
        ref = spec.canary.version if spec.canary is not None else None
        if isinstance(ref, AliasRef) and ref.alias not in aliases:
            where = ("aliases", name, "canary", "version")
            issues.append(_unknown_alias(where, name, ref, aliases))
    for name, spec in aliases.items():
        issues += _resolved_issues(name, spec, terminal)
    return issues


def _unknown_alias(
    where: tuple[str | int, ...], name: str, ref: AliasRef, aliases: Mapping[str, AliasSpec]
) -> Issue:
    declared = ", ".join(aliases) or "none"
    return (
        (*where, "alias"),
        f"alias {name} follows {{alias: {ref.alias}}}, which this function does not "
        f"declare (declared: {declared})",
        False,
    )


def _follow(name: str, aliases: Mapping[str, AliasSpec]) -> tuple[Any, Issue | None]:
    """Where the `{alias:}` chain from `name` ends: (the selector there, None), or (None, the
    issue to report at `name`). A cycle is reported once, at its first alias in manifest order;
    a broken link further down the chain is reported at its own alias."""
    order = list(aliases)
    chain = [name]
    selector: Any = aliases[name].version
    while isinstance(selector, AliasRef) and selector.alias in aliases:
        if selector.alias in chain:
            cycle = chain[chain.index(selector.alias) :]
            if min(cycle, key=order.index) != name:
                return None, None
            message = f"alias cycle: {' → '.join([*cycle, selector.alias])}"
            return None, (("aliases", name, "version"), message, False)
        chain.append(selector.alias)
        selector = aliases[selector.alias].version
    if not isinstance(selector, AliasRef):
        return selector, None
    if len(chain) == 1:
        return None, _unknown_alias(("aliases", name, "version"), name, selector, aliases)
    return None, None


def _resolved_issues(name: str, spec: AliasSpec, terminal: Mapping[str, Any]) -> list[Issue]:
    """$LATEST and same-version rules on what the alias's chains resolve to."""
    issues: list[Issue] = []
    primary = terminal.get(name)
    if spec.rollout is not None and primary == "$LATEST":
        issues.append((("aliases", name, "rollout"), _NO_LATEST_ROLLOUT, True))
    if spec.canary is None:
        return issues
    ref = spec.canary.version
    canary = terminal.get(ref.alias) if isinstance(ref, AliasRef) else ref
    if primary == "$LATEST":
        issues.append((("aliases", name, "canary"), _NO_LATEST_CANARY, True))
    elif canary == "$LATEST":
        issues.append((("aliases", name, "canary", "version"), _LATEST_AS_CANARY, False))
    elif primary is not None and canary == primary:
        issues.append(
            (
                ("aliases", name, "canary", "version"),
                "canary.version resolves to the same version as version "
                f"({show(dump_selector(primary))})",
                False,
            )
        )
    return issues


class LayerRetentionSpec(StrictModel):
    """Which versions of a layer to keep; the others are deleted when no function version in the
    region uses them and their policy shares them with no other account or organization.

    ```yaml
    retention: {keep_last: 5, keep_days: 30}
    ```
    """

    keep_last: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Keep this many newest layer versions."
    )
    keep_days: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Also keep every layer version created in this many days."
    )
    protect: Annotated[tuple[Annotated[int, Field(ge=1)], ...], AsTuple] = Field(
        default=(), description="Layer versions never deleted."
    )

    @model_validator(mode="after")
    def _something(self) -> LayerRetentionSpec:
        if self.keep_last is None and self.keep_days is None:
            rule([((), "retention needs keep_last, keep_days or both", True)])
        return self


class LayerSpec(StrictModel):
    """One layer whose old versions retention deletes.

    ```yaml
    shared-deps:
      retention: {keep_last: 5, keep_days: 30}
    ```
    """

    retention: LayerRetentionSpec = Field(description="Which layer versions to keep.")
    region: Region | None = Field(default=None, description="This layer's region.")


class Defaults(StrictModel):
    """Values for every function that does not set the key itself.

    ```yaml
    defaults:
      publish: true
      retention: {keep_last: 5}
    ```
    """

    publish: Publish | None = Field(default=None, description="Default for `publish`.")
    retention: RetentionSpec | None = Field(
        default=None, description="Default `retention`; a function's own replaces it whole."
    )
    prune_aliases: bool | Literal["force"] | None = Field(
        default=None, description="Default for `prune_aliases`."
    )
    region: Region | None = Field(default=None, description="Default region.")
    notifications: NotificationsSpec | None = Field(
        default=None,
        description="Where rollout state changes are announced (EventBridge, a webhook).",
    )


def _format_version(value: Any) -> Literal[1]:
    if isinstance(value, int) and not isinstance(value, bool) and value == 1:
        return 1
    raise ValueError(f"expected `version: 1` (the manifest format version), got {show(value)}")


class Manifest(StrictModel):
    """A manifest file: the functions to reconcile and how, the layers whose old versions go.
    It manages at least one function or layer: a platform team's repository may hold only
    `layers:`.

    ```yaml
    # yaml-language-server: $schema=../schemas/manifest.schema.json
    version: 1
    region: us-east-1
    allowed_account_ids: ["123456789012"]
    defaults: {retention: {keep_last: 5}}
    functions:
      order-processor:
        aliases: {prod: {version: 5}}
    ```
    """

    version: Annotated[
        Literal[1], PlainValidator(_format_version), WithJsonSchema({"const": 1})
    ] = Field(description="The manifest format version: 1.")
    region: Region | None = Field(default=None, description="Default region for all functions.")
    regions: Annotated[tuple[Region, ...], Field(min_length=1), AsTuple] | None = Field(
        default=None,
        description="Instead of `region`: every function without its own region is managed in "
        "each of these regions.",
    )
    target: TargetSpec | None = Field(
        default=None,
        description="The account these functions are in and how to reach it (assume a role); "
        "absent: the ambient credentials' account.",
    )
    allowed_account_ids: Annotated[tuple[AccountId, ...], Field(min_length=1), AsTuple] | None = (
        Field(default=None, description="Refuse to run against any other account.")
    )
    defaults: Defaults | None = Field(
        default=None, description="Values for functions that do not set them."
    )
    functions: dict[FunctionKey, FunctionSpec] = Field(
        default_factory=dict,
        description="The functions, by name or full ARN (optional when `layers` has one).",
    )
    layers: dict[LayerKey, LayerSpec] = Field(
        default_factory=dict, description="Layers whose old versions retention deletes."
    )
    waves: Waves | None = Field(
        default=None,
        description="The order in which regions (or accounts) take a rollout: a wave starts "
        "only when every rollout of the waves before it is complete.",
    )

    @model_validator(mode="after")
    def _waves(self) -> Manifest:
        if self.waves is not None:
            check_waves(self.waves)
        return self

    @model_validator(mode="after")
    def _manages_something(self) -> Manifest:
        """At least one function or layer: a manifest that manages nothing is a mistake."""
        if self.functions or self.layers:
            return self
        if "functions" in self.model_fields_set:
            rule([(("functions",), f"no functions: declare at least one {_OR_LAYERS}", True)])
        if "layers" in self.model_fields_set:
            rule([(("layers",), f"no layers: declare at least one {_OR_FUNCTIONS}", True)])
        rule([((), f"`functions` or `layers` is required: {_NOTHING}", False)])

    @model_validator(mode="after")
    def _regions_and_target(self) -> Manifest:
        issues: list[Issue] = []
        if self.regions is not None:
            if self.region is not None:
                issues.append((("regions",), "`region` and `regions` exclude each other", True))
            if self.defaults is not None and self.defaults.region is not None:
                issues.append(
                    (("regions",), "`defaults.region` and `regions` exclude each other", True)
                )
            seen: set[str] = set()
            for i, r in enumerate(self.regions):
                if r in seen:
                    issues.append((("regions", i), f"region {r} is listed twice", False))
                seen.add(r)
        target = self.target
        if target is not None:
            allowed = self.allowed_account_ids
            if allowed is not None and target.account not in allowed:
                issues.append(
                    (
                        ("target", "account"),
                        f"target account {target.account} is not in allowed_account_ids",
                        False,
                    )
                )
            keys = [("functions", k) for k in self.functions] + [("layers", k) for k in self.layers]
            for kind, key in keys:
                _, _, account = split_key(key)
                if account is not None and account != target.account:
                    issues.append(
                        (
                            (kind, key),
                            f"account {account} of this ARN is not the target account "
                            f"{target.account}",
                            True,
                        )
                    )
        if issues:
            rule(issues)
        return self

    @model_validator(mode="after")
    def _arns(self) -> Manifest:
        issues: list[Issue] = []
        for key, spec in self.functions.items():
            _, arn_region, account = split_key(key)
            if arn_region and spec.region is not None and spec.region != arn_region:
                issues.append(
                    (
                        ("functions", key, "region"),
                        f"region {spec.region} contradicts the function ARN's {arn_region}",
                        False,
                    )
                )
            allowed = self.allowed_account_ids
            if account is not None and allowed is not None and account not in allowed:
                issues.append(
                    (
                        ("functions", key),
                        f"account {account} of this ARN is not in allowed_account_ids",
                        True,
                    )
                )
        issues += _layer_issues(self.layers, self.allowed_account_ids)
        if issues:
            rule(issues)
        return self


_OR_LAYERS = "under `functions:`, or a layer under `layers:`"
_OR_FUNCTIONS = "under `layers:`, or a function under `functions:`"
_NOTHING = "a manifest manages at least one function or layer"


def _layer_issues(layers: Mapping[str, LayerSpec], allowed: tuple[str, ...] | None) -> list[Issue]:
    issues: list[Issue] = []
    for key, spec in layers.items():
        _, arn_region, account = split_key(key)
        if arn_region and spec.region is not None and spec.region != arn_region:
            message = f"region {spec.region} contradicts the layer ARN's {arn_region}"
            issues.append((("layers", key, "region"), message, False))
        if account is not None and allowed is not None and account not in allowed:
            message = f"account {account} of this ARN is not in allowed_account_ids"
            issues.append((("layers", key), message, True))
    return issues


def split_key(key: str) -> tuple[str, str | None, str | None]:
    """(name, region, account) of a function or layer key; region and account only from an
    ARN."""
    if key.startswith("arn:"):
        parts = key.split(":")
        return parts[6], parts[3], parts[4]
    return key, None, None
