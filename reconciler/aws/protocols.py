"""The seam between the engine and AWS: the Lambda (and alarm) calls the engine makes.

`reconciler.aws.client.Aws` implements it with boto3; the tests' in-memory `MemLambda` implements it
too, and mypy checks both against this Protocol. Nothing here imports boto3.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from reconciler.aws.attached import AsyncConfig, FunctionUrl, Permission
from reconciler.aws.live import (
    AliasTie,
    CodeStorage,
    LiveAlias,
    LiveFunction,
    LiveLayerVersion,
    LiveProvisioned,
)


class LayerUsageReader(Protocol):
    """What both planning and the executor's re-check before a layer deletion read."""

    def layer_usage(self, region: str | None) -> dict[str, tuple[str, ...]]: ...

    def layer_version_policy(self, layer: str, region: str | None, version: int) -> str | None: ...


class AttachmentReader(Protocol):
    """What plan and apply read of alias attachments (`aws/attachments.py`); a 404 is "none"."""

    def function_url(self, name: str, region: str | None, alias: str) -> FunctionUrl | None: ...

    def async_configs(self, name: str, region: str | None) -> dict[str, AsyncConfig]: ...

    def async_config(self, name: str, region: str | None, alias: str) -> AsyncConfig | None: ...

    def alias_policy(
        self, name: str, region: str | None, alias: str | None
    ) -> tuple[tuple[Permission, ...], str]: ...

    def mappings_of(self, target_arn: str, region: str | None) -> tuple[tuple[str, str], ...]:
        """(UUID, FunctionArn) of the event source mappings ListEventSourceMappings returns
        for a function or alias ARN."""
        ...

    def edge_associations(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """CloudFront's Lambda@Edge associations: version ARN → (distribution, event type)."""
        ...


class AttachmentWriter(AttachmentReader, Protocol):
    """The writes of alias attachments, each re-checked or guarded by the executor."""

    def create_function_url(
        self, name: str, region: str | None, alias: str, url: FunctionUrl
    ) -> None: ...

    def update_function_url(
        self, name: str, region: str | None, alias: str, url: FunctionUrl
    ) -> None: ...

    def delete_function_url(self, name: str, region: str | None, alias: str) -> None: ...

    def put_async_config(
        self, name: str, region: str | None, alias: str, config: AsyncConfig
    ) -> None: ...

    def delete_async_config(self, name: str, region: str | None, alias: str) -> None: ...

    def add_permission(
        self, name: str, region: str | None, alias: str, p: Permission, revision_id: str
    ) -> None: ...

    def remove_permission(
        self, name: str, region: str | None, alias: str, sid: str, revision_id: str
    ) -> None: ...


class LambdaReader(LayerUsageReader, AttachmentReader, Protocol):
    """What planning reads."""

    @property
    def default_region(self) -> str | None: ...

    def account_id(self) -> str: ...

    def clock_offset(self) -> float | None:
        """AWS's clock minus this runner's, in seconds, estimated from the `Date` of the
        responses read so far; None before any (or when there is no server clock)."""
        ...

    def probe(self, name: str, region: str | None) -> None: ...

    def read_function(
        self, name: str, region: str | None, *, wait: bool = False
    ) -> LiveFunction: ...

    def function_tags(self, name: str, region: str | None, arn: str) -> dict[str, str]: ...

    def alarm_states(self, region: str | None, names: Iterable[str]) -> dict[str, str]: ...

    def function_exists(self, function: str, region: str | None) -> bool:
        """Whether a function (name or ARN, maybe qualified) exists: a traffic hook's check."""
        ...

    def metric_sums(self, region: str | None, queries: Sequence[MetricQuery]) -> dict[str, float]:
        """One GetMetricData (paginated) for all `queries`: key → sum over its window."""
        ...

    def versions_in_use(
        self, name: str, region: str | None, arn: str
    ) -> dict[int, tuple[str, ...]]: ...

    def alias_ties(
        self, name: str, region: str | None, arn: str, aliases: Iterable[str]
    ) -> dict[str, tuple[AliasTie, ...]]: ...

    def list_layer_versions(
        self, layer: str, region: str | None
    ) -> tuple[LiveLayerVersion, ...]: ...

    def provisioned_configs(self, name: str, region: str | None) -> tuple[LiveProvisioned, ...]:
        """Every provisioned-concurrency config of the function (alias- and version-level)."""
        ...

    def layer_version_size(self, layer: str, region: str | None, version: int) -> int: ...

    def code_storage(self, region: str | None) -> CodeStorage: ...


@dataclass(frozen=True)
class Invocation:
    """What a synchronous Invoke returned: `FunctionError` (None: none) and the payload."""

    function_error: str | None
    payload: bytes


@dataclass(frozen=True)
class MetricQuery:
    """Sum of an `AWS/Lambda` metric of calls through `function:alias` that ran `version`."""

    key: str  # the caller's name for the answer
    function: str
    alias: str
    version: str
    metric: str  # Invocations | Errors
    start: datetime
    end: datetime


class LambdaWriter(LayerUsageReader, AttachmentWriter, Protocol):
    """What applying a plan reads and writes."""

    def alarm_states(self, region: str | None, names: Iterable[str]) -> dict[str, str]: ...

    def invoke(self, function: str, region: str | None, payload: bytes) -> Invocation: ...

    def list_aliases(self, name: str, region: str | None) -> tuple[LiveAlias, ...]: ...

    def untag_function(
        self, name: str, region: str | None, arn: str, keys: Sequence[str]
    ) -> None: ...

    def publish_version(
        self,
        name: str,
        region: str | None,
        code_sha256: str,
        revision_id: str,
        description: str | None = None,
    ) -> str: ...

    def create_alias(
        self,
        name: str,
        region: str | None,
        alias: str,
        version: str,
        weights: Mapping[str, float],
        description: str | None,
    ) -> str: ...

    def update_alias(
        self,
        name: str,
        region: str | None,
        alias: str,
        version: str,
        weights: Mapping[str, float],
        description: str | None,
        revision_id: str,
    ) -> str: ...

    def delete_alias(self, name: str, region: str | None, alias: str) -> None: ...

    def versions_in_use(
        self, name: str, region: str | None, arn: str
    ) -> dict[int, tuple[str, ...]]:
        """Read again right before a version deletion (a mapping may have come since the plan)."""
        ...

    def delete_version(self, name: str, region: str | None, version: str) -> None: ...

    def delete_layer_version(self, layer: str, region: str | None, version: int) -> None: ...

    # -- provisioned concurrency ----------------------------------------------------------------

    def provisioned_config(
        self, name: str, region: str | None, qualifier: str
    ) -> LiveProvisioned | None: ...

    def put_provisioned_concurrency(
        self, name: str, region: str | None, qualifier: str, count: int
    ) -> None: ...

    def delete_provisioned_concurrency(
        self, name: str, region: str | None, qualifier: str
    ) -> None: ...

    # -- SnapStart --------------------------------------------------------------------------------

    def version_state(self, name: str, region: str | None, version: str) -> tuple[str, str]:
        """A published version's `State` and `StateReasonCode` (GetFunctionConfiguration)."""
        ...


class LambdaApi(LambdaReader, LambdaWriter, Protocol):
    """Everything a run of plan and apply calls."""
