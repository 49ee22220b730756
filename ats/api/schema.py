"""The OpenAPI schema: pydantic request bodies, nullability, and the error responses.

- Request bodies documented by pydantic models are their JSON Schema in validation mode (what
  is accepted, e.g. a bundle's evidence as a string or an object), with nested models as
  components named after the outer model (`RunBundleV1Company`, never colliding with the
  API's own `Company`).
- JSON Schema 2020-12 spells an optional value `anyOf: [X, {"type": "null"}]`; OpenAPI 3.0 has
  no null type and spells it `X` plus `nullable: true` (`openapi30_nullable`).
- Every operation documents its error answers as `application/problem+json`
  (`document_problems`), so clients and the schema fuzzer know them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.plumbing import ResolvedComponent
from pydantic.json_schema import model_json_schema

from .exceptions import PROBLEM_CONTENT_TYPE


class PydanticRequestExtension(OpenApiSerializerExtension):
    """Pydantic models in `@extend_schema`, preferred over drf-spectacular's contrib one,
    which documents request bodies in serialization mode and names nested models bare."""

    target_class = "pydantic.BaseModel"
    match_subclasses = True
    priority = 1

    def get_name(self, auto_schema: Any, direction: str) -> str:
        return self.target.__name__

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        prefix = self.target.__name__
        schema = model_json_schema(
            self.target,
            ref_template=f"#/components/schemas/{prefix}{{model}}",
            mode="validation" if direction == "request" else "serialization",
        )
        for name, sub_schema in schema.pop("$defs", {}).items():
            component = ResolvedComponent(
                name=f"{prefix}{name}",
                type=ResolvedComponent.SCHEMA,
                object=f"{prefix}{name}",
                schema=sub_schema,
            )
            auto_schema.registry.register_on_missing(component)
        return schema


_NULL = {"nullable": True}
# JSON Schema keywords OpenAPI 3.0 lacks. Conditional rules (a metric's value type follows its
# `type`) are left to the validator, which checks them anyway; the shape stays documented.
_CONDITIONALS = ("if", "then", "else")


def _fix(node: Any) -> Any:
    if isinstance(node, list):
        return [_fix(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _fix(value) for key, value in node.items() if key not in _CONDITIONALS}
    if isinstance(node.get("allOf"), list):  # without the conditionals, some parts are empty
        node["allOf"] = [part for part in node["allOf"] if part != {}] or None
        if node["allOf"] is None:
            node.pop("allOf")
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        # The options were fixed first: a null option now reads {"nullable": True}.
        if isinstance(options, list) and _NULL in options:
            rest = [option for option in options if option != _NULL]
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
    for bound, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), int | float) and not isinstance(node[bound], bool):
            node[inclusive] = node[bound]
            node[bound] = True
    if isinstance(node.get("examples"), list):
        examples = node.pop("examples")
        if examples:
            node.setdefault("example", examples[0])
    return node


def openapi30_nullable(result: dict, generator: Any, request: Any, public: bool) -> dict:
    return _fix(result)


_PROBLEM_SCHEMA = {
    "type": "object",
    "description": "An error (RFC 9457).",
    "properties": {
        "type": {"type": "string", "example": "/api/problems/validation-error"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "example": "validation_error"},
        "errors": {
            "type": "array",
            "description": "For invalid input: each problem and where it is.",
            "items": {"$ref": "#/components/schemas/ProblemFieldError"},
        },
    },
    "required": ["type", "title", "status", "detail", "code"],
}
_FIELD_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "loc": {"type": "string", "example": "proposal_json.companies.3.name"},
        "msg": {"type": "string"},
        "type": {"type": "string", "example": "string_too_long"},
    },
    "required": ["loc", "msg", "type"],
}
_EVERY_OPERATION = {
    "400": "Invalid input (a parameter or the body); `errors` names each field.",
    "401": "No valid API key or session.",
    "403": "The caller's role does not allow this.",
    "404": "No such object in the caller's tenant (or no such endpoint).",
    "406": "None of the `Accept`ed media types can be served.",
    "429": "Too many requests; retry after `Retry-After` seconds.",
}
_WITH_BODY = {
    "413": "The body is larger than the limit (25 MB).",
    "415": "The body's content type is not accepted.",
}
_WRITES = {"409": "The object's state does not allow this now (e.g. a status transition)."}
_POST = {"422": "This Idempotency-Key was used for another request."}


def _optional_bodies(result: dict) -> None:
    """A body whose every field is optional may be left out: document it as optional."""
    schemas = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody")
            if not body:
                continue
            for content in body.get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                schema = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else content["schema"]
                if schema.get("type") == "object" and not schema.get("required"):
                    body["required"] = False


def document_problems(result: dict, generator: Any, request: Any, public: bool) -> dict:
    _optional_bodies(result)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = _PROBLEM_SCHEMA
    schemas["ProblemFieldError"] = _FIELD_ERROR_SCHEMA
    problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            codes = dict(_EVERY_OPERATION)
            if "requestBody" in operation:
                codes |= _WITH_BODY
            if method in ("post", "patch"):
                codes |= _WRITES
            if method == "post":
                codes |= _POST
            responses = operation.setdefault("responses", {})
            for code, description in codes.items():
                answer: dict[str, Any] = {"description": description, "content": problem}
                if code == "429":
                    answer["headers"] = {
                        "Retry-After": {"schema": {"type": "integer", "minimum": 1}}
                    }
                responses.setdefault(code, answer)
    return result
