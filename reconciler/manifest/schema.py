"""The manifest's JSON Schema, generated from the models (`make schema`)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.manifest.models import Manifest
from reconciler.manifest.names import ALIAS_NAME_SCHEMA, FUNCTION_KEY_SCHEMA

_KEY_SCHEMAS = {
    FUNCTION_KEY_SCHEMA["pattern"]: FUNCTION_KEY_SCHEMA,
    ALIAS_NAME_SCHEMA["pattern"]: ALIAS_NAME_SCHEMA,
}


def _close_mappings(node: Any) -> None:
    """Name-keyed mappings: keys checked by `propertyNames`, no other key allowed."""
    if isinstance(node, dict):
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and len(patterns) == 1:
            ((pattern, value),) = patterns.items()
            del node["patternProperties"]
            node["propertyNames"] = _KEY_SCHEMAS.get(pattern, {"pattern": pattern})
            node["additionalProperties"] = value
        for child in node.values():
            _close_mappings(child)
    elif isinstance(node, list):
        for child in node:
            _close_mappings(child)


def json_schema() -> dict[str, Any]:
    """The manifest's JSON Schema (draft 2020-12), generated from the models."""
    schema = Manifest.model_json_schema()
    _close_mappings(schema)
    schema["patternProperties"] = {"^x-": {"description": "Ignored: holds YAML anchors."}}
    # At least one function or layer (`Manifest._manages_something`).
    schema["anyOf"] = [
        {"required": [key], "properties": {key: {"minProperties": 1}}}
        for key in ("functions", "layers")
    ]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "lambda-reconciler manifest v1"
    return schema


def json_schema_text() -> str:
    """`json_schema()` as committed in schemas/manifest.schema.json (`make schema`)."""
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
