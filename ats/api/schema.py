"""OpenAPI post-processing.

Request bodies documented by pydantic models come as JSON Schema 2020-12, where an optional
value is `anyOf: [X, {"type": "null"}]`. OpenAPI 3.0 has no null type: it spells that
`X` plus `nullable: true`. This hook rewrites the former into the latter so that the schema
validates as OpenAPI 3.0.
"""

from __future__ import annotations

from typing import Any


def _fix(node: Any) -> Any:
    if isinstance(node, list):
        return [_fix(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _fix(value) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            node.pop(key)
            if len(rest) == 1:
                node = {**rest[0], **node, "nullable": True}
            else:
                node = {**node, key: rest, "nullable": True}
    if node.get("type") == "null":
        node.pop("type")
        node["nullable"] = True
    if "const" in node:  # 3.1 only
        node["enum"] = [node.pop("const")]
    return node


def openapi30_nullable(result: dict, generator: Any, request: Any, public: bool) -> dict:
    return _fix(result)
