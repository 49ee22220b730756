"""What the current request (or job attempt) is: its request id, tenant and actor.

A `ContextVar`, so each gunicorn thread and each worker thread sees its own. The request
middleware binds it for every HTTP request; log records carry it (`ats.logging`), and the jobs
app reads `current_request_id()` at enqueue time so that one id follows a bundle from its
upload to its ingestion.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

REQUEST_ID_HEADER = "X-Request-ID"
MAX_REQUEST_ID_LENGTH = 128
# Letters, digits and the punctuation of common id formats (UUIDs, ULIDs, trace ids such as
# "Root=1-5759e988-bd862e3fe1be46a994272793"): nothing that could break a log line or a header.
_SAFE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:=/+-]{{1,{MAX_REQUEST_ID_LENGTH}}}")


@dataclass
class RequestContext:
    request_id: str
    tenant: str = ""  # the tenant's slug, once the request is authenticated
    actor: str = ""  # as the audit trail names it: user:ann@example.com, api_key:agent


_current: ContextVar[RequestContext | None] = ContextVar("ats_request_context", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(value: str | None) -> str | None:
    """`value` if it is a safe request id (bounded length, safe characters), else None."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return None


@contextmanager
def bind(*, request_id: str) -> Iterator[RequestContext]:
    """Make `request_id` current for the block (a request, a job attempt)."""
    context = RequestContext(request_id=request_id)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def current() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str | None:
    """The request id of the request (or job attempt) this code runs for, if any."""
    context = _current.get()
    return context.request_id if context else None


def note_caller(*, tenant: str, actor: str) -> None:
    """Record who is calling, once authentication has found out (logs show it)."""
    context = _current.get()
    if context is not None:
        context.tenant, context.actor = tenant, actor
