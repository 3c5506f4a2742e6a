"""Every request the fake GitHub server receives, checked against GitHub's own description.

The description is the subset of `@octokit/openapi` (GitHub's official OpenAPI files) for the
operations the client uses, committed as `tests/openapi/github-rest-subset.json` with the
package's name and version (regenerate it with `tests/openapi/extract.py`). A request must name
a described path and method, send only described query parameters of the right type and enum,
and a JSON body with only described fields, the required ones present, each of the right type
and enum.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SUBSET = json.loads(
    (Path(__file__).parent / "openapi" / "github-rest-subset.json").read_text(encoding="utf-8")
)
_TEMPLATES = [
    (re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$"), path)
    for path in SUBSET["paths"]
]
_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "object": dict,
}


def operation(method: str, url: str) -> tuple[str, dict[str, Any]] | None:
    """The described (path template, operation) a request is for, if any."""
    path = urlsplit(url).path
    for pattern, template in _TEMPLATES:
        if pattern.match(path) and method in SUBSET["paths"][template]:
            return template, SUBSET["paths"][template][method]
    return None


def _value_problems(name: str, value: Any, schema: dict[str, Any]) -> list[str]:
    if value is None:
        return [] if schema.get("nullable") else [f"{name}: null is not allowed"]
    types = schema.get("type") or []
    if types:
        ok = any(
            isinstance(value, _JSON_TYPES[t]) and not (t == "integer" and isinstance(value, bool))
            for t in types
        )
        if not ok:
            return [f"{name}: {type(value).__name__} is not {' or '.join(types)}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{name}: {value!r} is not one of {schema['enum']}"]
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        return [f"{name}: longer than {schema['maxLength']}"]
    if isinstance(value, list) and "items" in schema:
        return [
            p
            for i, v in enumerate(value)
            for p in _value_problems(f"{name}[{i}]", v, schema["items"])
        ]
    return []


def _query_problems(name: str, raw: str, schema: dict[str, Any]) -> list[str]:
    types = schema.get("type") or ["string"]
    if "integer" in types and not raw.isdigit():
        return [f"query {name}: {raw!r} is not an integer"]
    if "enum" in schema and raw not in schema["enum"]:
        return [f"query {name}: {raw!r} is not one of {schema['enum']}"]
    return []


def problems(method: str, url: str, body: Any) -> list[str]:
    """What is wrong with a request by GitHub's description; empty when nothing is."""
    found = operation(method, url)
    if found is None:
        return [f"{method} {urlsplit(url).path}: not an operation GitHub describes"]
    template, op = found
    out: list[str] = []
    params = op["parameters"]
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    for name, raw in query:
        spec = params.get(name)
        if spec is None or spec["in"] != "query":
            out.append(f"query {name}: not a parameter of {method} {template}")
        else:
            out += _query_problems(name, raw, spec)
    given = {n for n, _ in query}
    out += [
        f"query {n}: required"
        for n, spec in params.items()
        if spec["in"] == "query" and spec["required"] and n not in given
    ]
    described = op.get("body")
    if described is None:
        if body is not None:
            out.append(f"{method} {template} takes no body")
        return out
    if not isinstance(body, dict):
        return [*out, f"{method} {template}: the body must be a JSON object"]
    out += [f"body: {k} is required" for k in described["required"] if k not in body]
    for key, value in body.items():
        spec = described["properties"].get(key)
        if spec is None:
            out.append(f"body: {key} is not a field of {method} {template}")
        else:
            out += _value_problems(f"body.{key}", value, spec)
    return out
