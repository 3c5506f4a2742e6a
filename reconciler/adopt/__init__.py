"""Live state into manifests: `import` writes new manifest YAML, `adopt` edits existing
manifests in place so they claim the aliases already live (`edit`: YAML text edits by position)."""

from reconciler.adopt.aliases import (
    Result,
    adopt,
    render_markdown,
    summary,
    unified_diff,
)
from reconciler.adopt.importer import (
    render_manifest,
)

__all__ = [
    "Result",
    "adopt",
    "render_manifest",
    "render_markdown",
    "summary",
    "unified_diff",
]
