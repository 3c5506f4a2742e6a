"""Regenerate github-rest-subset.json from GitHub's published OpenAPI description.

    npm install --prefix /tmp/octokit @octokit/openapi
    python tests/openapi/extract.py /tmp/octokit/node_modules/@octokit/openapi

Only the operations the client uses are kept, and of each only what a request can get wrong:
the path, the method, the parameters (where, required, type, enum) and the request body's
fields (type, enum, maxLength, required). The tests check every request the fake GitHub server
receives against this file, so `make test` needs no network.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = {
    "/user": ["get"],
    "/repos/{owner}/{repo}/issues": ["get", "post"],
    "/repos/{owner}/{repo}/issues/{issue_number}": ["patch"],
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["patch"],
    "/repos/{owner}/{repo}/commits/{commit_sha}/pulls": ["get"],
}


def simplify(schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """type (a list), enum, nullable, maxLength; items and properties one level down."""
    out: dict[str, Any] = {}
    variants = schema.get("oneOf") or schema.get("anyOf") or [schema]
    types: list[str] = []
    enum: list[Any] = []
    for v in variants:
        t = v.get("type")
        types += t if isinstance(t, list) else [t] if t else []
        enum += v.get("enum", [])
        if v.get("nullable"):
            out["nullable"] = True
        if "maxLength" in v:
            out["maxLength"] = v["maxLength"]
        if "items" in v and depth < 2:
            out["items"] = simplify(v["items"], depth + 1)
    if types:
        out["type"] = sorted(set(types))
    if enum:
        out["enum"] = [e for e in dict.fromkeys(enum) if e is not None]
        if None in enum:
            out["nullable"] = True
    if schema.get("nullable"):
        out["nullable"] = True
    return out


def main(package_dir: str) -> None:
    root = Path(package_dir)
    package = json.loads((root / "package.json").read_text())
    spec = json.loads((root / "generated" / "api.github.com.deref.json").read_text())
    subset: dict[str, Any] = {
        "source": {
            "package": package["name"],
            "version": package["version"],
            "file": "generated/api.github.com.deref.json",
            "openapi": spec["openapi"],
            "api_version": spec["info"]["version"],
        },
        "paths": {},
    }
    for path, methods in OPERATIONS.items():
        for method in methods:
            op = spec["paths"][path][method]
            params = {
                p["name"]: {"in": p["in"], "required": bool(p.get("required"))}
                | simplify(p.get("schema", {}))
                for p in op.get("parameters", [])
            }
            entry: dict[str, Any] = {"operationId": op["operationId"], "parameters": params}
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                schema = body["schema"]
                entry["body"] = {
                    "required": sorted(schema.get("required", [])),
                    "properties": {k: simplify(v) for k, v in schema.get("properties", {}).items()},
                }
            entry["responses"] = sorted(op.get("responses", {}))
            subset["paths"].setdefault(path, {})[method.upper()] = entry
    out = Path(__file__).with_name("github-rest-subset.json")
    out.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
