"""Errors that services raise and every caller understands.

The API's exception handler turns them into problem+json with their status; the admin
shows their message; management commands re-raise them as CommandError.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with the input, at a dotted location such as `proposal_json.companies.3`."""

    loc: str
    msg: str
    type: str

    def as_dict(self) -> dict[str, str]:
        return {"loc": self.loc, "msg": self.msg, "type": self.type}


class ServiceError(Exception):
    """Base of expected, user-facing failures of a service call."""

    status_code = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, message: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class InvalidInput(ServiceError):
    """The input breaks a rule; `errors` names each field."""

    status_code = 400
    code = "validation_error"
    title = "Invalid input"


class Conflict(ServiceError):
    """The request is valid but the current state forbids it (an invalid status transition,
    a duplicate, a concurrent change that won)."""

    status_code = 409
    code = "conflict"
    title = "Conflict"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"
    title = "Not found"
