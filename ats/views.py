from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

from ats.api.exceptions import problem_json_response

logger = logging.getLogger(__name__)

MSG_DATABASE_DOWN = "The database is unreachable."


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and readiness: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        # The driver's message names hosts and ports: it goes to the log, not to the prober.
        logger.warning("healthz: database unreachable: %s", exc)
        return problem_json_response(
            status_code=503,
            title="Service unavailable",
            detail=MSG_DATABASE_DOWN,
            code="database_unavailable",
            database="unavailable",
        )
    return JsonResponse({"status": "ok", "database": "ok"})


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 as problem+json under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return problem_json_response(
            status_code=404, title="Not found", detail="No such endpoint.", code="not_found"
        )
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_json_response(
            status_code=500,
            title="Internal server error",
            detail="Something went wrong on our side; the error was logged.",
            code="server_error",
        )
    from django.views.defaults import server_error as default_server_error

    return default_server_error(request)
