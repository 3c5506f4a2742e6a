"""Lambda as the engine sees it: observed state as frozen data (`live`) and the Protocols of the
calls it makes (`protocols`). `client` implements them with boto3 (composed of `session`,
`reads`, `writes`, `observe`, `responses` and `errors`); only the CLI imports it, and this
package does not, so importing `reconciler.aws` never imports boto3."""

from reconciler.aws.attached import (
    INVOKE_FUNCTION,
    INVOKE_URL,
    AsyncConfig,
    Cors,
    FunctionUrl,
    LiveAttachments,
    LiveReach,
    Permission,
)
from reconciler.aws.live import (
    LATEST,
    READ_MODES,
    AliasTie,
    CodeStorage,
    LiveAlias,
    LiveFunction,
    LiveLayerVersion,
    LiveVersion,
    Snapshot,
    split_description,
)
from reconciler.aws.protocols import (
    AttachmentReader,
    AttachmentWriter,
    Invocation,
    LambdaApi,
    LambdaReader,
    LambdaWriter,
    LayerUsageReader,
    MetricQuery,
)

__all__ = [
    "INVOKE_FUNCTION",
    "INVOKE_URL",
    "LATEST",
    "READ_MODES",
    "AliasTie",
    "AsyncConfig",
    "AttachmentReader",
    "AttachmentWriter",
    "CodeStorage",
    "Cors",
    "FunctionUrl",
    "Invocation",
    "LambdaApi",
    "LambdaReader",
    "LambdaWriter",
    "LayerUsageReader",
    "LiveAlias",
    "LiveAttachments",
    "LiveFunction",
    "LiveLayerVersion",
    "LiveReach",
    "LiveVersion",
    "MetricQuery",
    "Permission",
    "Snapshot",
    "split_description",
]
