"""Site-wide request edges: query strings, trailing slashes, and errors under /api/.

- Query parameters holding NUL characters (`?domain=a%00b`) reach PostgreSQL text lookups,
  which refuse them with a 500; they are refused here with 400 (problem+json naming the
  parameter under /api/, Django's 400 page elsewhere).
- A POST/PUT/PATCH/DELETE to a URL missing its trailing slash gets a 308, which clients repeat
  with the same method and body, instead of Django's 301 (repeated as a GET) or, with DEBUG
  on, a RuntimeError.
- Every 4xx under /api/ is problem+json, whoever produced it (Django's 404 page with DEBUG on,
  its 400 for a disallowed host, a 405 from a plain view).
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.middleware import common
from django.utils.http import escape_leading_slashes
from django.views.defaults import bad_request

from ats.api.exceptions import PROBLEM_CONTENT_TYPE, problem_json_response
from ats.errors import FieldError
from ats.jsonvalues import printable, string_problem

API_PREFIX = "/api/"
MSG_BAD_QUERY = "The query string holds values that cannot be used; see errors."
MSG_NO_ENDPOINT = "No such endpoint. API paths end with a slash, e.g. /api/v1/runs/."
# Headers of the original answer that still hold for its problem+json replacement.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def query_errors(request: HttpRequest) -> list[FieldError]:
    """Each query parameter (by name) whose name or a value cannot be used."""
    errors = []
    for key, values in request.GET.lists():
        problems = [problem for text in (key, *values) if (problem := string_problem(text))]
        if problems:
            errors.append(FieldError(printable(key), *problems[0]))
    return errors


class ApiEdgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith(API_PREFIX)
        if errors := query_errors(request):
            if not is_api:
                return bad_request(request, ValueError(MSG_BAD_QUERY))
            return problem_json_response(
                status_code=400,
                title="Invalid input",
                detail=MSG_BAD_QUERY,
                code="validation_error",
                errors=errors,
            )
        response = self.get_response(request)
        if is_api and 400 <= response.status_code < 500:
            return as_problem(response)
        return response


def as_problem(response: HttpResponse) -> HttpResponse:
    """`response` if it is problem+json already, else a problem+json of the same status."""
    if response.get("Content-Type", "").startswith(PROBLEM_CONTENT_TYPE):
        return response
    status = HTTPStatus(response.status_code)
    problem = problem_json_response(
        status_code=status.value,
        title=status.phrase,
        detail=MSG_NO_ENDPOINT if status == HTTPStatus.NOT_FOUND else f"{status.phrase}.",
        code=status.phrase.lower().replace(" ", "_").replace("-", "_"),
    )
    for header in _KEPT_HEADERS:
        if header in response:
            problem[header] = response[header]
    return problem


class CommonMiddleware(common.CommonMiddleware):
    """Django's, with 308 for requests with a body to a URL missing its slash (see above)."""

    def get_full_path_with_slash(self, request: HttpRequest) -> str:
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if (
            response.status_code == 404
            and request.method not in _SAFE_METHODS
            and self.should_redirect_with_slash(request)
        ):
            response = HttpResponsePermanentRedirect(
                self.get_full_path_with_slash(request), preserve_request=True
            )
        return super().process_response(request, response)
