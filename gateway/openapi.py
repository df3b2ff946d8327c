"""One OpenAPI document for the whole public API, merged from the services' own documents. No I/O.

Two services may name different request models alike (e.g. `ReviewIn`); the later one is then
renamed after its service, and its references with it, so that each path keeps its own schema.
Each operation says which roles the access table admits (`x-roles`); public ones need no credential.
"""

import json
from typing import Any

from backbone.access import ACCESS, PUBLIC

REF = "#/components/schemas/"
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "POST /api/v1/auth/token; a session ends after 30 idle minutes, at sign-out or "
                              "when the password changes."},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key", "description": "Machine accounts."},
}
METHODS = ("get", "post", "put", "patch", "delete")


def merge(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The public document from each service's own (by service name), paths under /api/v1 only."""
    merged: dict[str, Any] = {"openapi": "3.1.0",
                              "info": {"title": "FundWatch public API", "version": "1.0.0",
                                       "description": "财政扶贫资金动态监控平台: every endpoint behind the gateway."},
                              "paths": {}, "components": {"schemas": {}, "securitySchemes": SECURITY_SCHEMES},
                              "security": [{"bearer": []}, {"apiKey": []}]}
    schemas = merged["components"]["schemas"]
    for service, doc in docs.items():
        renames = {name: f"{service.title()}{name}" for name, schema in doc.get("components", {}).get(
            "schemas", {}).items() if name in schemas and schemas[name] != _renamed(schema, {})}
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = _renamed(schema, renames)
        for path, operations in doc.get("paths", {}).items():
            if path.startswith("/api/v1/"):
                merged["paths"][path] = {method: _with_access(method, path, _renamed(op, renames))
                                         for method, op in operations.items()}
    return merged


def _renamed(node: Any, renames: dict[str, str]) -> Any:
    if not renames:
        return node
    text = json.dumps(node)
    for old, new in renames.items():
        text = text.replace(f'"{REF}{old}"', f'"{REF}{new}"')
    return json.loads(text)


def _with_access(method: str, path: str, operation: dict[str, Any]) -> dict[str, Any]:
    if method not in METHODS:
        return operation
    roles = ACCESS.get(f"{method.upper()} {path}")
    if roles is PUBLIC:
        return {**operation, "security": []}
    return {**operation, "x-roles": sorted(roles or ())}
