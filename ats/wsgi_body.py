"""Request bodies sent with `Transfer-Encoding: chunked`, read within the body-size limit.

Django reads exactly CONTENT_LENGTH bytes of a body, and a chunked request has no
Content-Length: its body would silently read as empty (a misleading "objective: Field
required"). This WSGI middleware reads such a body up to the limit (413 beyond it) and hands
Django a buffered body with its length. When the server does not mark the decoded input as
terminated (`wsgi.input_terminated`, set by gunicorn), the body cannot be read safely: 411.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.conf import settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
MSG_LENGTH_REQUIRED = (
    "This server cannot read a chunked body here: send a Content-Length header instead."
)


class ChunkedBodyMiddleware:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            if not environ.get("wsgi.input_terminated"):
                return _problem(start_response, 411, "Length required", MSG_LENGTH_REQUIRED)
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                detail = f"The request body is larger than {limit // (1024 * 1024)} MB."
                return _problem(start_response, 413, "Request body too large", detail)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def _problem(start_response: Callable[..., Any], status: int, title: str, detail: str) -> list:
    from ats.api.exceptions import PROBLEM_CONTENT_TYPE, problem_body  # once Django is set up

    code = title.lower().replace(" ", "_")
    body = json.dumps(problem_body(status_code=status, title=title, detail=detail, code=code))
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", PROBLEM_CONTENT_TYPE), ("Content-Length", str(len(body.encode())))],
    )
    return [body.encode()]
