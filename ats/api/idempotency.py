"""`Idempotency-Key` on POST (SPEC §9): a retried request gets the first answer again.

- same key, same request (method, path, body) → the stored response, replayed
  (with `Idempotent-Replayed: true`);
- same key, another request → 422;
- same key while the first request is still being answered → 409.

Keys are per tenant and kept for `KEY_LIFETIME`; a response of 500 or more is not kept, so
the request can be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from ats.errors import Conflict, ServiceError
from ats.models import IdempotencyRecord, Tenant

HEADER = "Idempotency-Key"
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
MSG_KEY_REUSED = (
    "Idempotency-Key {key!r} was used for a different request; use a new key for a new request."
)
MSG_IN_PROGRESS = (
    "A request with Idempotency-Key {key!r} is still being answered; retry in a moment."
)
MSG_KEY_TOO_LONG = f"The Idempotency-Key header may have at most {MAX_KEY_LENGTH} characters."


class KeyReused(ServiceError):
    status_code = 422
    code = "idempotency_key_reused"
    title = "Idempotency key reused"


class Replay(exceptions.APIException):
    """Raised before the handler runs: answer with the stored response instead."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request._request.body)  # read before DRF parses it; limited to 25 MB
    return digest.hexdigest()


def begin(*, tenant: Tenant, key: str, request: Request) -> IdempotencyRecord:
    """Claim the key for this request, or raise Replay / KeyReused / Conflict."""
    if len(key) > MAX_KEY_LENGTH:
        raise exceptions.ValidationError({HEADER: [MSG_KEY_TOO_LONG]})
    fingerprint = _fingerprint(request)
    records = IdempotencyRecord.objects.for_tenant(tenant)
    records.filter(key=key, created_at__lt=timezone.now() - KEY_LIFETIME).delete()
    try:
        with transaction.atomic():
            return records.create(tenant=tenant, key=key, request_sha256=fingerprint)
    except IntegrityError:
        existing = records.get(key=key)
    if existing.request_sha256 != fingerprint:
        raise KeyReused(MSG_KEY_REUSED.format(key=key))
    if existing.status != IdempotencyRecord.Status.COMPLETED:
        raise Conflict(MSG_IN_PROGRESS.format(key=key))
    response = Response(
        existing.response_body,
        status=existing.response_status,
        content_type=existing.response_content_type or None,
        headers={"Idempotent-Replayed": "true"},
    )
    raise Replay(response)


def finish(record: IdempotencyRecord, response: Response) -> None:
    """Keep the answer for repeats; forget the key after a server error."""
    if response.status_code >= status.HTTP_500_INTERNAL_SERVER_ERROR:
        abandon(record)
        return
    body = json.loads(response.rendered_content) if response.rendered_content else None
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status=IdempotencyRecord.Status.COMPLETED,
        response_status=response.status_code,
        response_content_type=response.get("Content-Type", ""),
        response_body=body,
    )


def abandon(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).delete()
