"""Every state change of a job (SPEC §4, §6), each a conditional update.

Public: `enqueue`, `cancel`, `retry` (exported as `jobs.enqueue` ...) and `prune`.
Worker side: `claim_batch`, `heartbeat`, `hold_attempt`, `complete`, `fail_attempt`,
`cancel_attempt`, `release`, `reclaim_expired`.

Fencing: a running attempt is (id, fencing_token, locked_by) — `Job.objects.attempt(...)`.
Every update a worker makes to a running job is filtered by that fence, so a worker whose
lease expired (a zombie) changes nothing once another worker has claimed the job.
"""

from __future__ import annotations

import json
import logging
import random
import traceback
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pydantic
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from ats.errors import Conflict
from ats.models import Tenant
from ats.tenant_scope import tenant_or_system

from .conf import queue_settings
from .errors import (
    MSG_CANNOT_CANCEL,
    MSG_CANNOT_RETRY,
    MSG_LEASE_EXPIRED,
    MSG_PAYLOAD_NOT_DICT,
    MSG_PAYLOAD_NOT_JSON,
    MSG_PRIORITY_RANGE,
    MSG_RETRY_DUPLICATE,
    MSG_UNKNOWN_JOB_TYPE,
    InvalidPayload,
    LeaseExpired,
    LeaseLost,
    PermanentError,
    UnknownJobType,
)
from .models import MAX_PRIORITY, MIN_PRIORITY, Job, JobStatus, WorkerProcess
from .registry import JobHandler, get_handler, job_types
from .wakeup import notify

logger = logging.getLogger(__name__)

MESSAGE_LIMIT = 2_000
TRACEBACK_LIMIT = 8_000
UNIQUE_INSERT_TRIES = 3

# Outcomes of an attempt, as the worker logs them.
SUCCEEDED, RETRYING, FAILED, CANCELLED, LOST = (
    "succeeded",
    "retrying",
    "failed",
    "cancelled",
    "lost",
)


# --- enqueue, cancel, retry -------------------------------------------------------------


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
) -> Job:
    """Add a job in the caller's transaction: it exists if and only if the caller commits.

    `queue` and `max_attempts` default to the handler's. With a `unique_key`, an already
    queued or running job of the same (tenant, key) is returned instead of a new one.
    """
    spec = get_handler(job_type)
    if spec is None:
        known = ", ".join(job_types()) or "none"
        raise UnknownJobType(MSG_UNKNOWN_JOB_TYPE.format(job_type=job_type, known=known))
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ValueError(MSG_PRIORITY_RANGE.format(priority=priority))
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise ValueError(MSG_PRIORITY_RANGE.format(priority=priority))
    now = timezone.now()
    job = Job(
        tenant=tenant,
        queue=queue or spec.queue,
        job_type=job_type,
        payload=_json_payload(job_type, payload),
        priority=priority,
        run_after=run_after or now,
        max_attempts=max_attempts or spec.max_attempts,
        unique_key=unique_key,
        created_at=now,
    )
    if unique_key is None:
        job.save(force_insert=True)
    else:
        existing = _insert_unique(job)
        if existing is not None:
            return existing
    if job.run_after <= now:
        notify(job.queue)
    return job


def _json_payload(job_type: str, payload: dict[str, Any] | None) -> dict[str, Any]:
    """The payload as the handler will receive it; refused here rather than in the worker."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise InvalidPayload(MSG_PAYLOAD_NOT_DICT.format(type_name=type(payload).__name__))
    try:
        return json.loads(json.dumps(payload, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidPayload(MSG_PAYLOAD_NOT_JSON.format(job_type=job_type, error=exc)) from exc


def _insert_unique(job: Job) -> Job | None:
    """Insert `job`, or return the active job holding its key.

    The partial unique constraint decides, not a check-then-insert: the INSERT runs in a
    savepoint, and when it conflicts the winner is read back. If the winner finished in
    between, the insert is tried again.
    """
    for _ in range(UNIQUE_INSERT_TRIES):
        try:
            with transaction.atomic():
                job.save(force_insert=True)
        except IntegrityError:
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


def cancel(job: Job) -> Job:
    """Cancel a queued job at once (and run its handler's `on_cancel`); ask a running one to
    stop (it sees the request within one heartbeat and stops at its next
    `job.raise_if_cancelled()`; `on_cancel` runs then)."""
    now = timezone.now()
    with transaction.atomic():
        cancelled = Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
            status=JobStatus.CANCELLED, cancel_requested=True, finished_at=now
        )
        if cancelled:
            job.refresh_from_db()
            _run_cancel_hook(job, get_handler(job.job_type), now)
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
    """Queue a failed or cancelled job again with a fresh budget of attempts. Its error
    history is kept."""
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = Job.objects.filter(
                pk=job.pk, status__in=[JobStatus.FAILED, JobStatus.CANCELLED]
            ).update(
                status=JobStatus.QUEUED,
                attempts=0,
                run_after=now,
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
    except IntegrityError as exc:
        other = (
            Job.objects.active()
            .filter(tenant_id=job.tenant_id, unique_key=job.unique_key)
            .exclude(pk=job.pk)
            .first()
        )
        raise Conflict(
            MSG_RETRY_DUPLICATE.format(job_id=job.pk, other_id=other.pk if other else "?")
        ) from exc
    if not updated:
        job.refresh_from_db()
        raise Conflict(MSG_CANNOT_RETRY.format(job_id=job.pk, status=job.status))
    notify(job.queue)
    job.refresh_from_db()
    logger.info("Job %s #%s queued again.", job.job_type, job.pk)
    return job


def prune(
    *, older_than: timedelta, include_failed: bool = False, batch_size: int = 1_000
) -> Iterator[int]:
    """Delete jobs that finished before now - older_than, in batches; yields each batch's
    count. Succeeded and cancelled jobs, failed ones only with `include_failed`; never a
    queued or running job. Also forgets workers not seen since the cutoff."""
    cutoff = timezone.now() - older_than
    WorkerProcess.objects.filter(last_seen_at__lt=cutoff).delete()
    finished = Job.objects.finished_before(cutoff, include_failed=include_failed)
    while ids := list(finished.order_by("id").values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            # The status filter again: the batch is deleted only while it is finished.
            deleted, _ = finished.filter(pk__in=ids).delete()
        yield deleted


# --- the worker's side -------------------------------------------------------------------


def claim_batch(
    *, worker_id: str, queues: list[str] | None, limit: int, now: datetime | None = None
) -> list[Job]:
    """Claim up to `limit` ready jobs in one transaction, in claim order.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint batches
    without waiting. SQLite: no row locks; the IMMEDIATE transaction holds the database's
    write lock, which serializes claims.
    """
    if limit <= 0:
        return []
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            Job.objects.ready(queues, now)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Job.objects.filter(pk__in=ids).update(
            status=JobStatus.RUNNING,
            attempts=F("attempts") + 1,
            fencing_token=F("fencing_token") + 1,
            locked_by=worker_id,
            locked_at=now,
            heartbeat_at=now,
            started_at=now,
        )
        return list(Job.objects.filter(pk__in=ids).order_by("-priority", "run_after", "id"))


def _fenced(job: Job) -> Any:
    return Job.objects.attempt(
        job_id=job.pk, fencing_token=job.fencing_token, worker_id=job.locked_by
    )


def heartbeat(
    *, worker_id: str, attempts: dict[int, int], now: datetime | None = None
) -> tuple[set[int], set[int]]:
    """Extend the leases of this worker's running attempts ({job id: fencing token}).

    Returns (jobs still owned, jobs whose cancellation was requested). An atomic handler
    holds its job row with `FOR KEY SHARE`, which this plain UPDATE does not wait for.
    """
    if not attempts:
        return set(), set()
    now = now or timezone.now()
    owned = Job.objects.none()
    for job_id, token in attempts.items():
        owned |= Job.objects.attempt(job_id=job_id, fencing_token=token, worker_id=worker_id)
    owned.update(heartbeat_at=now)
    rows = list(owned.values_list("pk", "cancel_requested"))
    return {pk for pk, _ in rows}, {pk for pk, requested in rows if requested}


def hold_attempt(*, job: Job) -> None:
    """In an atomic handler's transaction: lock the job row if this attempt still owns it,
    else raise `LeaseLost`.

    PostgreSQL: `FOR KEY SHARE` keeps reclaimers out (their `FOR UPDATE SKIP LOCKED` skips
    the row) while heartbeats and cancel requests, plain UPDATEs of non-key columns, go on
    without waiting. SQLite: the IMMEDIATE transaction already holds the write lock.
    """
    fenced = _fenced(job).order_by().values("pk")
    if connection.vendor == "postgresql":
        sql, params = fenced.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} FOR KEY SHARE", params)
            held = cursor.fetchone() is not None
    else:
        held = fenced.exists()
    if not held:
        raise LeaseLost(f"Job #{job.pk}: attempt {job.fencing_token} no longer owns the job.")


def complete(*, job: Job, result: Any, now: datetime | None = None) -> bool:
    """Mark the attempt succeeded; False when it no longer owns the job (nothing changed)."""
    now = now or timezone.now()
    done = _fenced(job).update(
        status=JobStatus.SUCCEEDED, result=result, finished_at=now, heartbeat_at=None
    )
    if done:
        job.status, job.result, job.finished_at = JobStatus.SUCCEEDED, result, now
    return bool(done)


def is_permanent(exc: BaseException) -> bool:
    """Failures that no retry can fix: fail at once."""
    return isinstance(exc, PermanentError | pydantic.ValidationError | DjangoValidationError)


def retry_delay(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: base * 2^(attempt-1), capped, ±25 % jitter."""
    conf = queue_settings()
    delay = min(conf.retry_max, conf.retry_base * 2 ** min(attempt - 1, 32))
    return delay * random.uniform(0.75, 1.25)


def error_entry(
    job: Job, exc: BaseException, *, worker_id: str, now: datetime, phase: str = "handler"
) -> dict[str, Any]:
    """One `errors` entry: which attempt, when, where, what, and a truncated traceback."""
    trace = "".join(traceback.format_exception(exc)) if exc.__traceback__ else ""
    if len(trace) > TRACEBACK_LIMIT:
        trace = "…(truncated)\n" + trace[-TRACEBACK_LIMIT:]
    started = job.started_at
    return {
        "attempt": job.attempts,
        "at": now.isoformat(),
        "worker": worker_id,
        "phase": phase,
        "error_class": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "message": str(exc)[:MESSAGE_LIMIT],
        "traceback": trace,
        "duration": round((now - started).total_seconds(), 3) if started else None,
    }


def fail_attempt(
    *, job: Job, exc: BaseException, handler: JobHandler | None, now: datetime | None = None
) -> str:
    """Record a failed attempt: retry with backoff, or fail for good (permanent error or
    attempts used up) and run the handler's `on_failure`; cancelled if that was asked."""
    now = now or timezone.now()
    entry = error_entry(job, exc, worker_id=job.locked_by, now=now)
    with transaction.atomic():
        current = _fenced(job).select_for_update(no_key=True).only("cancel_requested").first()
        if current is None:
            return LOST
        job.errors = [*job.errors, entry]
        if current.cancel_requested:
            outcome = _finish_locked(job, JobStatus.CANCELLED, now)
            _run_cancel_hook(job, handler, now)
            return outcome
        if is_permanent(exc) or job.attempts >= job.max_attempts:
            outcome = _finish_locked(job, JobStatus.FAILED, now)
            _run_failure_hook(job, exc, handler, now)
            return outcome
        job.status, job.run_after = (
            JobStatus.QUEUED,
            now + timedelta(seconds=retry_delay(job.attempts)),
        )
        Job.objects.filter(pk=job.pk).update(
            status=job.status, run_after=job.run_after, errors=job.errors, heartbeat_at=None
        )
    return RETRYING


def _finish_locked(job: Job, status: str, now: datetime) -> str:
    job.status, job.finished_at = status, now
    Job.objects.filter(pk=job.pk).update(
        status=status, errors=job.errors, finished_at=now, heartbeat_at=None
    )
    return FAILED if status == JobStatus.FAILED else CANCELLED


def _run_failure_hook(
    job: Job, exc: BaseException, handler: JobHandler | None, now: datetime
) -> None:
    """`on_failure(job, exc)` in a savepoint of the transaction that marked the job failed:
    both happen or neither (a crash in between leaves the job to the lease reclaimer, which
    runs the hook). The hook's own error is logged and kept on the job, never lost."""
    if handler is not None and handler.on_failure is not None:
        _run_hook(job, "on_failure", lambda: handler.on_failure(job, exc), now)


def _run_cancel_hook(job: Job, handler: JobHandler | None, now: datetime) -> None:
    """`on_cancel(job)` in a savepoint of the transaction that marked the job cancelled."""
    if handler is not None and handler.on_cancel is not None:
        _run_hook(job, "on_cancel", lambda: handler.on_cancel(job), now)


def _run_hook(job: Job, phase: str, call: Any, now: datetime) -> None:
    try:
        with tenant_or_system(job.tenant_id), transaction.atomic():
            call()
    except Exception as hook_exc:
        logger.exception("%s of %s #%s failed.", phase, job.job_type, job.pk)
        job.errors = [
            *job.errors,
            error_entry(job, hook_exc, worker_id=job.locked_by, now=now, phase=phase),
        ]
        Job.objects.filter(pk=job.pk).update(errors=job.errors)


def cancel_attempt(*, job: Job, now: datetime | None = None) -> str:
    """The handler stopped because the job was cancelled."""
    now = now or timezone.now()
    with transaction.atomic():
        done = _fenced(job).update(status=JobStatus.CANCELLED, finished_at=now, heartbeat_at=None)
        if done:
            job.status, job.finished_at = JobStatus.CANCELLED, now
            _run_cancel_hook(job, get_handler(job.job_type), now)
    return CANCELLED if done else LOST


def release(*, job: Job, now: datetime | None = None) -> bool:
    """Give an unfinished attempt back at shutdown: queued again, its attempt not counted.

    The fencing token stays incremented, so the released attempt can never finish the job
    even if its thread were still running when the next claim happens.
    """
    now = now or timezone.now()
    released = _fenced(job).update(
        status=JobStatus.QUEUED,
        attempts=F("attempts") - 1,
        run_after=now,
        heartbeat_at=None,
    )
    if released:
        notify(job.queue)
    return bool(released)


def reclaim_expired(*, limit: int = 100, now: datetime | None = None) -> int:
    """Take back running jobs whose lease expired (their worker died or hangs).

    `FOR UPDATE SKIP LOCKED` skips rows held by a live atomic handler (its transaction
    holds the row) and rows another reclaimer is handling. Each reclaimed attempt counts:
    queued again at once, or failed (with `on_failure`) when it was the last one.
    """
    now = now or timezone.now()
    lease_timeout = queue_settings().lease_timeout
    with transaction.atomic():
        expired = list(
            Job.objects.expired_leases(now, lease_timeout).select_for_update(skip_locked=True)[
                :limit
            ]
        )
        for job in expired:
            exc = LeaseExpired(MSG_LEASE_EXPIRED.format(worker=job.locked_by))
            job.errors = [*job.errors, error_entry(job, exc, worker_id=job.locked_by, now=now)]
            if job.cancel_requested:
                _finish_locked(job, JobStatus.CANCELLED, now)
                _run_cancel_hook(job, get_handler(job.job_type), now)
            elif job.attempts >= job.max_attempts:
                _finish_locked(job, JobStatus.FAILED, now)
                _run_failure_hook(job, exc, get_handler(job.job_type), now)
            else:
                Job.objects.filter(pk=job.pk).update(
                    status=JobStatus.QUEUED, run_after=now, errors=job.errors, heartbeat_at=None
                )
            logger.warning(
                "Job %s #%s: lease of %s expired after attempt %s; reclaimed.",
                job.job_type,
                job.pk,
                job.locked_by,
                job.attempts,
            )
        if expired:
            for queue in {job.queue for job in expired}:
                notify(queue)
    return len(expired)
