"""Manifest v1: pydantic models, loading with locations, checks across manifests, JSON Schema.

The package, one concern per module (import from here; the modules are its layout, not its API):

    yamlload.py     the bounded safe YAML reader that records positions
    names.py        function names and ARNs, alias names, regions, account ids
    selectors.py    version selectors: 5, latest, $LATEST, {alias:}, {sha256:}, {description:}
    weights.py      weights (share of traffic) and intervals
    models.py       the models and the rules between their fields
    rollout.py      the rollout's models: steps or a preset, alarms, gates, hooks
    notifications.py  `defaults.notifications`: EventBridge and webhook sinks of rollout events
    waves.py        `waves:`, the order in which regions or accounts take a rollout
    target.py       `target:`: the account, and the role that reaches it
    attachments.py  what an alias carries: `url`, `async`, `permissions`, provisioned concurrency
    environment.py  `${NAME}` in a version's description, expanded at validation
    diagnostics.py  pydantic errors → `FILE:LINE:COL: path: message`
    loading.py      files → `ManifestSet`, `defaults` merged, duplicates across files refused
    schema.py       the JSON Schema generated from the models

Validation runs in layers, like a linter, and reports every problem it finds, not just the first:

1. `yamlload` reads one bounded YAML document (duplicate keys, size, depth and alias budgets)
   and remembers the line and column of every key and value;
2. the strict, frozen models check types, unknown keys, ranges and the rules between
   fields (canary versus version, alias references, cycles);
3. `load_manifests` checks across files (the same function twice in one run).

Each problem becomes a `Diagnostic` printed as `FILE:LINE:COL: path.to.key: what was expected`.
A rule that spans several fields raises `PydanticCustomError("manifest_rule", ...)` whose context
lists `(sub-path, message, at_key)` issues, so the error points at the exact field at fault, not
at the enclosing mapping. Such rules run once the fields they read are valid themselves (pydantic
runs a model's validator only then), so a second run after fixing field errors may report more.

```yaml
version: 1
region: us-east-1
functions:
  order-processor:
    aliases:
      prod: {version: 5, canary: {version: 6, weight: 10%}}
```
"""

from reconciler.manifest.attachments import AsyncSpec, CorsSpec, PermissionSpec, UrlSpec
from reconciler.manifest.diagnostics import Diagnostic, Location, ManifestError
from reconciler.manifest.loading import (
    FunctionTarget,
    LayerTarget,
    ManifestSet,
    Target,
    load_manifest_text,
    load_manifests,
)
from reconciler.manifest.models import (
    AliasSpec,
    CanarySpec,
    Defaults,
    FunctionSpec,
    LayerRetentionSpec,
    LayerSpec,
    Manifest,
    RetentionSpec,
)
from reconciler.manifest.names import (
    ALIAS_NAME,
    FUNCTION_ARN,
    FUNCTION_NAME,
    PARTITIONS,
    REGION,
    AccountId,
    AliasName,
    FunctionKey,
    Region,
    is_alias_name,
)
from reconciler.manifest.notifications import EventBridgeSpec, NotificationsSpec, WebhookSpec
from reconciler.manifest.rollout import RolloutSpec
from reconciler.manifest.schema import json_schema, json_schema_text
from reconciler.manifest.selectors import AliasRef, DescriptionRef, Selector, Sha256Ref
from reconciler.manifest.weights import (
    WEIGHT_DECIMALS,
    Interval,
    Weight,
    stored_weight,
    weight_text,
)

__all__ = [
    "ALIAS_NAME",
    "FUNCTION_ARN",
    "FUNCTION_NAME",
    "PARTITIONS",
    "REGION",
    "WEIGHT_DECIMALS",
    "AccountId",
    "AliasName",
    "AliasRef",
    "AliasSpec",
    "AsyncSpec",
    "CanarySpec",
    "CorsSpec",
    "Defaults",
    "DescriptionRef",
    "Diagnostic",
    "EventBridgeSpec",
    "FunctionKey",
    "FunctionSpec",
    "FunctionTarget",
    "Interval",
    "LayerRetentionSpec",
    "LayerSpec",
    "LayerTarget",
    "Location",
    "Manifest",
    "ManifestError",
    "ManifestSet",
    "NotificationsSpec",
    "PermissionSpec",
    "Region",
    "RetentionSpec",
    "RolloutSpec",
    "Selector",
    "Sha256Ref",
    "Target",
    "UrlSpec",
    "WebhookSpec",
    "Weight",
    "is_alias_name",
    "json_schema",
    "json_schema_text",
    "load_manifest_text",
    "load_manifests",
    "stored_weight",
    "weight_text",
]
