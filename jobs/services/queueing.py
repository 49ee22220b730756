"""The public API of the queue: `enqueue`, `enqueue_many`, `cancel`, `retry` (exported as
`jobs.enqueue` ...) and pruning (`prunable_jobs`, `delete_finished_jobs`, `forget_workers`).
Other apps, the admin and the API call these."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Now
from django.utils import timezone

from ats.errors import Conflict
from ats.models import Tenant
from ats.request_context import current_request_id
from ats.tenant_scope import tenant_or_system

from .. import metrics
from ..errors import (
    MSG_CANNOT_CANCEL,
    MSG_CANNOT_RETRY,
    MSG_MAX_ATTEMPTS,
    MSG_PAYLOAD_NOT_DICT,
    MSG_PAYLOAD_NOT_JSON,
    MSG_PRIORITY_RANGE,
    MSG_RETRY_DUPLICATE,
    MSG_UNKNOWN_JOB_TYPE,
    InvalidPayload,
    UnknownJobType,
)
from ..models import MAX_PRIORITY, MIN_PRIORITY, UNIQUE_ACTIVE_KEY, Job, JobStatus, WorkerProcess
from ..registry import JobHandler, get_handler, job_types
from ..wakeup import notify
from . import pg
from .hooks import run_cancel_hook

logger = logging.getLogger(__name__)

UNIQUE_INSERT_TRIES = 3
# A queued job's fields that enqueue_many does not choose.
NEW_JOB_FIELDS = {
    "status": JobStatus.QUEUED,
    "attempts": 0,
    "fencing_token": 0,
    "locked_by": "",
    "locked_at": None,
    "heartbeat_at": None,
    "cancel_requested": False,
    "unique_key": None,
    "result": None,
    "started_at": None,
    "finished_at": None,
}


def enqueue(
    job_type: str,
    payload: dict[str, Any] | None = None,
    *,
    tenant: Tenant | None = None,
    queue: str | None = None,
    priority: int = 0,
    run_after: datetime | None = None,
    max_attempts: int | None = None,
    unique_key: str | None = None,
    request_id: str | None = None,
) -> Job:
    """Add a job in the caller's transaction: it exists if and only if the caller commits.

    `queue` and `max_attempts` default to the handler's. With a `unique_key`, an already
    queued or running job of the same (tenant, key) is returned instead of a new one.
    Without `run_after` the job is ready at once by the database's clock. The job keeps
    `request_id` (default: the current request's id) for its attempts' log lines.
    """
    spec = _handler_for(job_type)
    _check_options(priority=priority, max_attempts=max_attempts)
    job = Job(
        tenant=tenant,
        queue=queue or spec.queue,
        job_type=job_type,
        payload=json.loads(_payload_json(job_type, payload)),
        priority=priority,
        max_attempts=spec.max_attempts if max_attempts is None else max_attempts,
        unique_key=unique_key,
        request_id=request_id or current_request_id() or "",
        **_ready_at(run_after),
    )
    if unique_key is None:
        job.save(force_insert=True)
    else:
        existing = _insert_unique(job)
        if existing is not None:
            return existing  # not a new job: not counted
    metrics.count_enqueued(job_type=job_type, queue=job.queue)
    if run_after is None or run_after <= timezone.now():
        notify(job.queue)
    return job


def enqueue_many(
    job_type: str,
    payloads: Iterable[dict[str, Any] | None],
    *,
    tenant: Tenant | None = None,
    queue: str | None = None,
    priority: int = 0,
    run_after: datetime | None = None,
    max_attempts: int | None = None,
) -> list[Job]:
    """Add one job of `job_type` per payload, in the caller's transaction, with one INSERT
    and one NOTIFY. Returns the jobs in the order of `payloads`.

    For unique keys use `enqueue` (each key needs its own conflict check).
    """
    spec = _handler_for(job_type)
    _check_options(priority=priority, max_attempts=max_attempts)
    texts = [_payload_json(job_type, payload) for payload in payloads]
    if not texts:
        return []
    values = {
        "tenant_id": tenant.pk if tenant is not None else None,
        "queue": queue or spec.queue,
        "job_type": job_type,
        "priority": priority,
        "max_attempts": spec.max_attempts if max_attempts is None else max_attempts,
        "request_id": current_request_id() or "",
    }
    if connection.vendor == "postgresql":
        rows = pg.insert_jobs(payloads=texts, run_after=run_after, **values)
        fresh = {**NEW_JOB_FIELDS, **values}
        alias = connection.alias
        created = [
            pg.loaded_job(
                {
                    **fresh,
                    "id": pk,
                    "payload": json.loads(text),
                    "run_after": ready,
                    "created_at": at,
                    "errors": [],
                },
                alias,
            )
            for text, (pk, ready, at) in zip(texts, rows, strict=True)
        ]
    else:  # the portable path: one ORM bulk insert, stamped by the database's clock
        created = Job.objects.bulk_create(
            Job(payload=json.loads(text), **_ready_at(run_after), **values) for text in texts
        )
    metrics.count_enqueued(job_type=job_type, queue=values["queue"], n=len(created))
    if run_after is None or run_after <= timezone.now():
        notify(values["queue"])
    return created


def _handler_for(job_type: str) -> JobHandler:
    spec = get_handler(job_type)
    if spec is None:
        known = ", ".join(job_types()) or "none"
        raise UnknownJobType(MSG_UNKNOWN_JOB_TYPE.format(job_type=job_type, known=known))
    return spec


def _check_options(*, priority: Any, max_attempts: Any) -> None:
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ValueError(MSG_PRIORITY_RANGE.format(priority=priority))
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise ValueError(MSG_PRIORITY_RANGE.format(priority=priority))
    if max_attempts is not None and (
        isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1
    ):
        raise ValueError(MSG_MAX_ATTEMPTS.format(max_attempts=max_attempts))


def _payload_json(job_type: str, payload: dict[str, Any] | None) -> str:
    """The payload as JSON text; refused here rather than in the worker."""
    if payload is None:
        return "{}"
    if not isinstance(payload, dict):
        raise InvalidPayload(MSG_PAYLOAD_NOT_DICT.format(type_name=type(payload).__name__))
    try:
        return json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidPayload(MSG_PAYLOAD_NOT_JSON.format(job_type=job_type, error=exc)) from exc


def _ready_at(run_after: datetime | None) -> dict[str, datetime]:
    """A new job's `run_after`, when it is not now: its column's default is the database's
    clock, like its `created_at` (SQLite compares times as text, and a Python time's six
    decimals would sort after the claim's `Now()`, three, for the rest of its millisecond)."""
    return {} if run_after is None else {"run_after": run_after}


def _insert_unique(job: Job) -> Job | None:
    """Insert `job`, or return the active job holding its key.

    The partial unique constraint decides, not a check-then-insert: the INSERT runs in a
    savepoint, and when it conflicts the winner is read back. If the winner finished in
    between, the insert is tried again. Any other integrity error (a tenant that does not
    exist) is the caller's, raised as it is.
    """
    for _ in range(UNIQUE_INSERT_TRIES):
        try:
            with transaction.atomic():
                job.save(force_insert=True)
        except IntegrityError as exc:
            if not is_unique_key_conflict(exc):
                raise
            job.pk = None
            job._state.adding = True
            existing = (
                Job.objects.active()
                .filter(tenant=job.tenant, unique_key=job.unique_key)
                .order_by("id")
                .first()
            )
            if existing is not None:
                return existing
        else:
            return None
    raise IntegrityError(f"Could not enqueue {job.job_type} with unique key {job.unique_key!r}.")


def is_unique_key_conflict(exc: IntegrityError) -> bool:
    """Whether `exc` is a violation of `job_unique_active_key` (and not, say, a foreign key)."""
    diag = getattr(exc.__cause__, "diag", None)
    if diag is not None:  # psycopg names the constraint
        return diag.constraint_name == UNIQUE_ACTIVE_KEY
    return UNIQUE_ACTIVE_KEY in str(exc)  # SQLite: "UNIQUE constraint failed: index '...'"


def cancel(job: Job) -> Job:
    """Cancel a queued job at once (and run its handler's `on_cancel`); ask a running one to
    stop (it sees the request within one heartbeat and stops at its next
    `job.raise_if_cancelled()`; `on_cancel` runs then)."""
    with transaction.atomic():
        cancelled = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, cancel_requested=True, finished_at=Now()
        )
        if cancelled:
            job.refresh_from_db()
            run_cancel_hook(job, get_handler(job.job_type))
            # Ended before any attempt (a running job's cancel is counted by its worker).
            metrics.observe_attempt_on_commit(
                job_type=job.job_type,
                queue=job.queue,
                outcome=metrics.CANCELLED,
                duration_s=None,
                wait_s=None,
            )
    if not cancelled:
        requested = Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
            cancel_requested=True
        )
        if not requested:
            job.refresh_from_db()
            raise Conflict(MSG_CANNOT_CANCEL.format(job_id=job.pk, status=job.status))
    job.refresh_from_db()
    logger.info("Job %s #%s: cancel requested (now %s).", job.job_type, job.pk, job.status)
    return job


def retry(job: Job) -> Job:
    """Queue a failed or cancelled job again with a fresh budget of attempts, through the
    handler's `on_retry` (which may refuse by raising). Its error history is kept."""
    try:
        with transaction.atomic():
            updated = Job.objects.filter(
                pk=job.pk, status__in=[JobStatus.FAILED, JobStatus.CANCELLED]
            ).update(
                status=JobStatus.QUEUED,
                attempts=0,
                run_after=Now(),
                cancel_requested=False,
                finished_at=None,
                result=None,
                heartbeat_at=None,
            )
            handler = get_handler(job.job_type)
            if updated and handler is not None and handler.on_retry is not None:
                # The owning app may refuse (its exception rolls the retry back).
                job.refresh_from_db()
                with tenant_or_system(job.tenant_id):
                    handler.on_retry(job)
            if updated:
                notify(job.queue)
    except IntegrityError as exc:
        if not is_unique_key_conflict(exc):
            raise
        other = (
            Job.objects.active()
            .filter(tenant_id=job.tenant_id, unique_key=job.unique_key)
            .exclude(pk=job.pk)
            .first()
        )
        raise Conflict(
            MSG_RETRY_DUPLICATE.format(job_id=job.pk, other_id=other.pk if other else "?")
        ) from exc
    job.refresh_from_db()
    if not updated:
        raise Conflict(MSG_CANNOT_RETRY.format(job_id=job.pk, status=job.status))
    logger.info("Job %s #%s queued again.", job.job_type, job.pk)
    return job


def prunable_jobs(
    *, cutoff: datetime, include_failed: bool, tenant: Tenant | None = None
) -> QuerySet[Job]:
    """Jobs that finished before `cutoff` (succeeded, cancelled, and failed when
    `include_failed`): every tenant's and the system's, or one tenant's."""
    finished = Job.objects.finished_before(cutoff, include_failed=include_failed)
    return finished if tenant is None else finished.for_tenant(tenant)


def delete_finished_jobs(*, ids: list[int], cutoff: datetime, include_failed: bool) -> int:
    """Delete the jobs `ids` that are still finished before `cutoff` (a retry may have queued
    one again since it was selected); returns how many were deleted."""
    with transaction.atomic():
        deleted, _ = (
            prunable_jobs(cutoff=cutoff, include_failed=include_failed).filter(pk__in=ids).delete()
        )
    return deleted


def forget_workers(*, cutoff: datetime, ids: list[str]) -> int:
    """Delete the rows of the workers `ids` that are still not seen since `cutoff`."""
    deleted, _ = WorkerProcess.objects.filter(pk__in=ids, last_seen_at__lt=cutoff).delete()
    return deleted
