"""Lambda as the engine sees it: observed state as frozen data (`live`) and the Protocols of the
calls it makes (`protocols`). `client` implements them with boto3 (composed of `session`,
`reads`, `writes`, `observe`, `responses` and `errors`); only the CLI imports it, and this
package does not, so importing `reconciler.aws` never imports boto3."""

from reconciler.aws.live import (
    LATEST,
    READ_MODES,
    AliasTie,
    CodeStorage,
    LiveAlias,
    LiveFunction,
    LiveLayerVersion,
    LiveProvisioned,
    LiveVersion,
    Snapshot,
    capacity_of,
    split_description,
)
from reconciler.aws.protocols import (
    Invocation,
    LambdaApi,
    LambdaReader,
    LambdaWriter,
    LayerUsageReader,
    MetricQuery,
)

__all__ = [
    "LATEST",
    "READ_MODES",
    "AliasTie",
    "CodeStorage",
    "Invocation",
    "LambdaApi",
    "LambdaReader",
    "LambdaWriter",
    "LayerUsageReader",
    "LiveAlias",
    "LiveFunction",
    "LiveLayerVersion",
    "LiveProvisioned",
    "LiveVersion",
    "MetricQuery",
    "Snapshot",
    "capacity_of",
    "split_description",
]
