"""The versions and routes a plan names: a version reference (a number, `$LATEST`, or the version
this plan publishes), where an alias routes, and the actions.

Re-exported by `reconciler.plan.types`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Final, TypeAlias

from reconciler.aws import LiveAlias
from reconciler.plan.fields import (
    Share,
    Via,
)


@dataclass(frozen=True)
class NewVersion:
    """The version this plan publishes: its number is known only after `PublishVersion`."""

    def __str__(self) -> str:
        return "(new)"


NEW_VERSION: Final = NewVersion()
# A version an alias routes to in a plan: digits, "$LATEST", or the version being published.
VersionRef: TypeAlias = str | NewVersion


def _load_ref(value: str) -> VersionRef:
    return NEW_VERSION if value == str(NEW_VERSION) else value


# A version as the plan file saves it: its number, "$LATEST", or "(new)".
Ref = Annotated[VersionRef, Via(str, _load_ref, str)]


def version_label(v: VersionRef) -> str:
    """A version as plan lines and refusals name it: its number, `$LATEST`, or "new version"."""
    return "new version" if isinstance(v, NewVersion) else v


class Action(str, Enum):
    PUBLISH_VERSION = "publish_version"
    CREATE_ALIAS = "create_alias"
    UPDATE_ALIAS = "update_alias"
    DELETE_ALIAS = "delete_alias"
    DELETE_VERSION = "delete_version"
    DELETE_LAYER_VERSION = "delete_layer_version"
    # alias attachments (attachment_types.py); counted in a summary only when planned
    CREATE_FUNCTION_URL = "create_function_url"
    UPDATE_FUNCTION_URL = "update_function_url"
    DELETE_FUNCTION_URL = "delete_function_url"
    PUT_EVENT_INVOKE_CONFIG = "put_event_invoke_config"
    DELETE_EVENT_INVOKE_CONFIG = "delete_event_invoke_config"
    ADD_PERMISSION = "add_permission"
    REMOVE_PERMISSION = "remove_permission"
    SET_PROVISIONED_CONCURRENCY = "set_provisioned_concurrency"


@dataclass(frozen=True)
class Route:
    """The additional version of a weighted alias and its share of traffic (0 < weight < 1)."""

    version: Ref
    weight: Share


@dataclass(frozen=True)
class AliasState:
    """Where an alias routes. `description` None means "not managed" (desired) or unknown."""

    version: Ref
    canary: Route | None = None
    description: str | None = None

    @staticmethod
    def of(alias: LiveAlias) -> AliasState:
        canary = None if alias.canary is None else Route(alias.canary.version, alias.canary.weight)
        return AliasState(alias.version, canary, alias.description)

    def versions(self) -> tuple[VersionRef, ...]:
        """The versions this state routes to: primary, then canary."""
        return (self.version,) if self.canary is None else (self.version, self.canary.version)


class AliasField(str, Enum):
    """A field of an alias that an update changes (field-level diff, computed with deepdiff)."""

    VERSION = "version"
    CANARY = "canary"
    DESCRIPTION = "description"
