"""The committed JSON Schema: generated from the models, closed everywhere, and in agreement
with them on the example manifests and on the forms a user may write."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from reconciler.manifest import ManifestError, json_schema, json_schema_text, load_manifest_text
from tests.cli_helpers import run_main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "schemas" / "manifest.schema.json"
EXAMPLES = sorted((ROOT / "manifests").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(json_schema())


def test_committed_schema_is_up_to_date() -> None:
    """schemas/manifest.schema.json is exactly what the models generate."""
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "schemas/manifest.schema.json is stale: run `make schema` and commit the result"
    )


def test_schema_command_prints_the_schema() -> None:
    """`lambda-reconciler schema` prints the same text, and only it, on standard output."""
    r = run_main(["schema"], os.environ, cwd=ROOT)
    assert (r.returncode, r.stdout) == (0, json_schema_text())


def test_schema_is_valid_draft_2020_12() -> None:
    """Editors and check-jsonschema can load it."""
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"]
    assert schema["description"]
    Draft202012Validator.check_schema(schema)


def _objects(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append((path, node))
        for key, child in node.items():
            found += _objects(child, f"{path}/{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            found += _objects(child, f"{path}/{i}")
    return found


def test_every_object_is_closed() -> None:
    """No object schema lets an unknown key through (a typo must never pass the editor)."""
    objects = _objects(json_schema())
    assert len(objects) >= 10
    open_ = [path for path, node in objects if node.get("additionalProperties", True) is True]
    assert open_ == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_pass_the_models_and_the_schema(
    example: Path, validator: Draft202012Validator
) -> None:
    """Each example manifest loads, and the JSON Schema accepts it too."""
    text = example.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schemas/manifest.schema.json\n")
    loaded = load_manifest_text(text, example.name)
    assert loaded.functions or loaded.layers
    assert list(validator.iter_errors(yaml.safe_load(text))) == []


def test_the_expected_examples_exist() -> None:
    """The README points at these."""
    assert [p.name for p in EXAMPLES] == [
        "canary.yaml",
        "minimal.yaml",
        "multi-function.yaml",
        "rollout.yaml",
        "shared-layers.yaml",
    ]


ACCEPTED = [
    {"prod": {"version": 5, "canary": {"version": 6, "weight": "10%"}}},
    {"prod": {"version": "5", "canary": {"version": "6", "weight": 0.1}}},
    {"prod": {"version": "latest", "canary": {"version": 2, "weight": "12.5%"}}},
    {"dev": {"version": "$LATEST", "description": "development"}},
    {"qa": {"version": {"alias": "prod"}}, "prod": {"version": {"sha256": "abc="}}},
    {"prod": {"version": {"description": "release-42"}}},
    {"prod": {"version": 3, "rollout": {"steps": ["10%", 0.5], "interval": "10m"}}},
    {"prod": {"version": 3, "rollout": {"steps": [0.1], "interval": 30, "alarms": ["a"]}}},
    {"prod": {"version": 3, "rollout": {"steps": ["99.99%"], "interval": "1h30m"}}},
    {"prod": {"version": 3, "rollout": {"steps": [0.000001], "interval": "1d"}}},
]


@pytest.mark.parametrize("aliases", ACCEPTED)
def test_schema_and_models_accept_the_written_forms(
    aliases: dict[str, Any], validator: Draft202012Validator
) -> None:
    """`weight: "10%"`, `version: "5"` and the other shorthand pass both."""
    manifest = {"version": 1, "functions": {"api": {"aliases": aliases}}}
    assert list(validator.iter_errors(manifest)) == []
    assert load_manifest_text(json.dumps(manifest), "m.yaml").functions


def test_top_level_x_keys_pass_both(validator: Draft202012Validator) -> None:
    """An `x-` key at the top level (an anchor holder) passes the schema and the models."""
    manifest = {"version": 1, "x-defaults": {"anything": [1]}, "functions": {"api": {}}}
    assert list(validator.iter_errors(manifest)) == []
    assert load_manifest_text(json.dumps(manifest), "m.yaml").functions


def _alias(spec: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "functions": {"api": {"aliases": {"p": spec}}}}


REJECTED = [
    {"version": 1, "functions": {}},
    {"version": 1, "x-only": {}, "y-other": 1, "functions": {"api": {}}},
    _alias({"version": "010"}),
    _alias({"version": 1, "canary": {"version": 2, "weight": 0.0000001}}),
    _alias({"version": 1, "canary": {"version": 2, "weight": 0.9999999}}),
    _alias({"version": 3, "rollout": {"steps": [0.5], "interval": "30m1h"}}),
    _alias({"version": 3, "rollout": {"steps": [0.5], "interval": "0h0m"}}),
    {"version": 2, "functions": {"api": {}}},
    {"functions": {"api": {}}},
    {"version": 1, "functions": {"api": {"alias": {}}}},
    {"version": 1, "functions": {"bad name": {}}},
    {"version": 1, "functions": {"api": {"aliases": {"123": {"version": 1}}}}},
    {"version": 1, "functions": {"api": {"aliases": {"p": {"version": 0}}}}},
    {"version": 1, "functions": {"api": {"aliases": {"p": {"version": "0"}}}}},
    {
        "version": 1,
        "functions": {"api": {"aliases": {"p": {"version": 1, "canary": {"version": 2}}}}},
    },
    {
        "version": 1,
        "functions": {
            "api": {"aliases": {"p": {"version": 1, "canary": {"version": 2, "weight": "100%"}}}}
        },
    },
    {
        "version": 1,
        "functions": {
            "api": {"aliases": {"p": {"version": 1, "canary": {"version": 2, "weight": 0}}}}
        },
    },
    {"version": 1, "functions": {"api": {"retention": {"keep_last": 0}}}},
    {"version": 1, "allowed_account_ids": [123456789012], "functions": {"api": {}}},
    {"version": 1, "region": "US East", "functions": {"api": {}}},
    {
        "version": 1,
        "functions": {"arn:aws:lambda:us-east-1:123456789012:function:api:prod": {}},
    },
]


@pytest.mark.parametrize("manifest", REJECTED)
def test_schema_and_models_reject_the_same_mistakes(
    manifest: dict[str, Any], validator: Draft202012Validator
) -> None:
    """Mistakes an editor can see statically are caught by the schema as by the loader."""
    assert list(validator.iter_errors(manifest)) != []
    with pytest.raises(ManifestError, match=r"m\.yaml:\d+:\d+: "):
        load_manifest_text(json.dumps(manifest), "m.yaml")
