"""Log output: a console format for people (the default) and one JSON object per line for
machines (`LOG_FORMAT=json`, written by python-json-logger).

Every record gets the current request id, tenant and actor (`ats.request_context`), so all
lines of one request, and of the jobs it enqueued, can be found together. Nothing here logs
headers, bodies or query strings: secrets (API keys, passwords, session cookies) travel only
in those.
"""

from __future__ import annotations

import logging
from typing import Any

from ats import request_context

# Fields the filter adds to every record; "-" outside a request.
CONTEXT_FIELDS = ("request_id", "tenant", "actor")
CONSOLE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = ("levelname", "name", "message", *CONTEXT_FIELDS)
JSON_RENAMES = {"levelname": "level", "name": "logger"}


class RequestContextFilter(logging.Filter):
    """Adds the request id, tenant and actor of the current request to each record.

    A handler filter (not a logger filter) so that it sees records of every logger.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs 4xx/5xx after the middleware returned, with the request attached.
        context = request_context.current() or getattr(
            getattr(record, "request", None), "request_context", None
        )
        values = {
            "request_id": context.request_id if context else "",
            "tenant": context.tenant if context else "",
            "actor": context.actor if context else "",
        }
        for field, value in values.items():
            if not getattr(record, field, ""):  # an explicit extra= wins
                setattr(record, field, value or "-")
        return True


def logging_config(*, log_format: str, level: str) -> dict[str, Any]:
    """The LOGGING setting for `log_format` ("console" or "json")."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "ats.logging.RequestContextFilter"}},
        "formatters": {
            "console": {"format": CONSOLE_FORMAT},
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": list(JSON_FIELDS),
                "rename_fields": JSON_RENAMES,
                "timestamp": "time",  # ISO 8601, UTC
            },
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_context"],
            },
        },
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "django": {"handlers": ["default"], "level": "INFO", "propagate": False},
            # SQL statements carry their parameters: session keys, password and key hashes.
            # Never logged, whatever LOG_LEVEL says (Django writes them only with DEBUG on).
            "django.db.backends": {"level": "INFO"},
            # trafilatura warns "discarding data: None" for every page part it drops: that is
            # extraction working, not a problem; its errors still come through.
            "trafilatura": {"level": "ERROR"},
        },
    }
