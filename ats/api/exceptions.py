"""Every API error as `application/problem+json` (RFC 9457, SPEC §9).

Body: `type`, `title`, `status`, `detail`, `code`, and for validation errors
`errors: [{loc, msg, type}]` with dotted locations such as `proposal_json.companies.3.name`.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import pydantic
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import set_rollback

from ats.errors import FieldError, ServiceError

from .parsers import BodyTooLarge

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "/api/problems/"


def problem_body(
    *,
    status_code: int,
    title: str,
    detail: str,
    code: str,
    errors: list[FieldError] | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """The problem body; `extensions` are extra members (RFC 9457 §3.2)."""
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_BASE}{code.replace('_', '-')}",
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
        **extensions,
    }
    if errors is not None:
        body["errors"] = [error.as_dict() for error in errors]
    return body


class ProblemResponse(Response):
    """A problem is JSON whatever renderer the request negotiated (the CSV export's, the
    schema's YAML): `Accept: text/csv` must not turn an error into a spreadsheet."""

    @property
    def rendered_content(self) -> bytes:
        self.accepted_renderer = JSONRenderer()
        self.accepted_media_type = JSONRenderer.media_type
        return super().rendered_content


def problem_response(**kwargs: Any) -> Response:
    body = problem_body(**kwargs)
    return ProblemResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)


def problem_json_response(**kwargs: Any) -> JsonResponse:
    """The same body for plain Django views (404 handler, /healthz)."""
    body = problem_body(**kwargs)
    return JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)


def _flatten(detail: Any, loc: str = "") -> list[FieldError]:
    """DRF's nested error detail as a flat list of dotted locations."""
    if isinstance(detail, dict):
        found: list[FieldError] = []
        for raw_key, value in detail.items():
            key = "" if raw_key == "non_field_errors" else str(raw_key)
            found += _flatten(value, f"{loc}.{key}" if loc and key else loc or key)
        return found
    if isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            return [FieldError(loc, str(item), getattr(item, "code", "invalid")) for item in detail]
        found = []
        for index, item in enumerate(detail):
            found += _flatten(item, f"{loc}.{index}" if loc else str(index))
        return found
    return [FieldError(loc, str(detail), getattr(detail, "code", "invalid"))]


def pydantic_errors(exc: pydantic.ValidationError) -> list[FieldError]:
    return [
        FieldError(".".join(str(part) for part in error["loc"]), error["msg"], error["type"])
        for error in exc.errors(include_url=False, include_input=False)
    ]


_DRF_CODES = {
    exceptions.NotAuthenticated: ("not_authenticated", "Not authenticated"),
    exceptions.AuthenticationFailed: ("authentication_failed", "Not authenticated"),
    exceptions.PermissionDenied: ("permission_denied", "Forbidden"),
    exceptions.NotFound: ("not_found", "Not found"),
    exceptions.MethodNotAllowed: ("method_not_allowed", "Method not allowed"),
    exceptions.NotAcceptable: ("not_acceptable", "Not acceptable"),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Unsupported media type"),
    exceptions.ParseError: ("parse_error", "Malformed request body"),
    exceptions.Throttled: ("throttled", "Too many requests"),
    BodyTooLarge: ("body_too_large", "Request body too large"),
}


def _validation_errors(exc: Exception) -> list[FieldError] | None:
    """The field errors of any kind of validation error, or None if `exc` is not one."""
    if isinstance(exc, pydantic.ValidationError):
        return pydantic_errors(exc)
    if isinstance(exc, DjangoValidationError):
        return _flatten(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, exceptions.ValidationError):
        return _flatten(exc.detail)
    return None


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER. Returns None only for unexpected errors (a 500)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

    if isinstance(exc, ServiceError):
        set_rollback()
        return problem_response(
            status_code=exc.status_code,
            title=exc.title,
            detail=exc.message,
            code=exc.code,
            errors=exc.errors if exc.errors or exc.status_code in (400, 422) else None,
        )
    errors = _validation_errors(exc)
    if errors is not None:
        set_rollback()
        return problem_response(
            status_code=400,
            title="Invalid input",
            detail="The request is invalid; see errors.",
            code="validation_error",
            errors=errors,
        )
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        code, title = next(
            (value for cls, value in _DRF_CODES.items() if isinstance(exc, cls)),
            (str(exc.default_code), "Error"),
        )
        response = problem_response(
            status_code=exc.status_code, title=title, detail=str(exc.detail), code=code
        )
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, exceptions.Throttled):  # whole seconds, at least one
            response["Retry-After"] = str(max(1, math.ceil(exc.wait or 1)))
        return response
    return None
