"""The worker's side: claim, heartbeat, complete, fail, cancel, release and reclaim attempts.

Fencing: a running attempt is (id, fencing_token, locked_by) — `Job.objects.attempt(...)`.
Every update a worker makes to a running job is filtered by that fence, so a worker whose
lease expired (a zombie) changes nothing once another worker has claimed the job.

PostgreSQL takes the one-statement paths of `pg`; SQLite the portable ORM path here (its
IMMEDIATE transactions serialize claims: correct, not fast).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pydantic
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Now

from .. import metrics
from ..conf import queue_settings
from ..errors import MSG_LEASE_EXPIRED, LeaseExpired, PermanentError
from ..models import Job, JobStatus
from ..registry import JobHandler, get_handler
from ..wakeup import notify
from . import pg
from .hooks import error_entry, finish_locked, run_cancel_hook, run_failure_hook

logger = logging.getLogger(__name__)

# An attempt ends with its job's new status (`JobStatus.SUCCEEDED`, `FAILED`, `CANCELLED`)
# or with one of these two, which are not statuses:
RETRYING = "retrying"  # queued again, with backoff
LOST = "lost"  # the attempt no longer owned its job: nothing was recorded

# One finished attempt for `complete_many`: (job, result).
Finished = tuple[Job, Any]


def claim_batch(
    *, worker_id: str, queues: Sequence[str] | None, limit: int, tenant_id: int | None = None
) -> list[Job]:
    """Claim up to `limit` ready jobs in one transaction, in claim order (priority
    descending, run_after, id), stamping the lease with the database's clock. With
    `tenant_id`, only that tenant's jobs (`jobs.inline`; the ORM path, off the hot path)."""
    if limit <= 0:
        return []
    if connection.vendor == "postgresql" and tenant_id is None:
        return pg.complete_and_claim(worker_id=worker_id, finished=(), limit=limit, queues=queues)[
            1
        ]
    ready = Job.objects.ready(queues)
    if tenant_id is not None:
        ready = ready.filter(tenant_id=tenant_id)
    with transaction.atomic():
        ids = list(ready.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        Job.objects.filter(pk__in=ids).update(
            status=JobStatus.RUNNING,
            attempts=F("attempts") + 1,
            fencing_token=F("fencing_token") + 1,
            locked_by=worker_id,
            locked_at=Now(),
            heartbeat_at=Now(),
            started_at=Now(),
        )
        return list(Job.objects.filter(pk__in=ids).order_by("-priority", "run_after", "id"))


def complete_and_claim(
    *, worker_id: str, finished: Sequence[Finished], limit: int, queues: Sequence[str] | None
) -> tuple[set[int], list[Job]]:
    """Mark `finished` attempts succeeded and claim up to `limit` more: on PostgreSQL in one
    round trip and one transaction. Returns (ids marked succeeded, claimed jobs)."""
    if connection.vendor == "postgresql":
        return pg.complete_and_claim(
            worker_id=worker_id, finished=_as_rows(finished), limit=limit, queues=queues
        )
    done = complete_many(worker_id=worker_id, finished=finished)
    return done, claim_batch(worker_id=worker_id, queues=queues, limit=limit)


def complete_many(*, worker_id: str, finished: Sequence[Finished]) -> set[int]:
    """Mark attempts succeeded, each fenced; returns the ids that were (the others lost
    their lease: nothing changed for them)."""
    if not finished:
        return set()
    if connection.vendor == "postgresql":
        done = pg.complete(worker_id=worker_id, finished=_as_rows(finished))
    else:
        done = {
            job.pk
            for job, result in finished
            if _fenced(job).update(
                status=JobStatus.SUCCEEDED, result=result, finished_at=Now(), heartbeat_at=None
            )
        }
    for job, result in finished:
        if job.pk in done:
            job.status, job.result = JobStatus.SUCCEEDED, result
    return done


def complete(*, job: Job, result: Any) -> bool:
    """Mark one attempt succeeded; False when it no longer owns the job (nothing changed)."""
    return job.pk in complete_many(worker_id=job.locked_by, finished=[(job, result)])


def _as_rows(finished: Sequence[Finished]) -> list[pg.Finished]:
    return [
        (job.pk, job.fencing_token, None if result is None else json.dumps(result))
        for job, result in finished
    ]


def _fenced(job: Job) -> Any:
    return Job.objects.attempt(
        job_id=job.pk, fencing_token=job.fencing_token, worker_id=job.locked_by
    )


def hold_attempts(*, worker_id: str, jobs: Sequence[Job]) -> set[int]:
    """In an atomic handler's transaction: lock the rows of the attempts that still own their
    jobs; returns their ids (the others lost their lease and must not run).

    PostgreSQL: `FOR KEY SHARE` keeps reclaimers out (their `FOR UPDATE SKIP LOCKED` skips
    the row) while heartbeats and cancel requests, plain UPDATEs of non-key columns, go on
    without waiting. SQLite: the IMMEDIATE transaction already holds the write lock.
    """
    if connection.vendor == "postgresql":
        return pg.hold(worker_id=worker_id, attempts=[(job.pk, job.fencing_token) for job in jobs])
    return {job.pk for job in jobs if _fenced(job).exists()}


def heartbeat(*, worker_id: str, attempts: dict[int, int]) -> tuple[set[int], set[int]]:
    """Extend the leases of this worker's attempts ({job id: fencing token}) to the
    database's now.

    Returns (jobs still owned, jobs whose cancellation was requested). An atomic handler
    holds its job row with `FOR KEY SHARE`, which this plain UPDATE does not wait for.
    """
    if not attempts:
        return set(), set()
    owned = Job.objects.none()
    for job_id, token in attempts.items():
        owned |= Job.objects.attempt(job_id=job_id, fencing_token=token, worker_id=worker_id)
    owned.update(heartbeat_at=Now())
    rows = list(owned.values_list("pk", "cancel_requested"))
    return {pk for pk, _ in rows}, {pk for pk, requested in rows if requested}


def is_permanent(exc: BaseException) -> bool:
    """Failures that no retry can fix: fail at once."""
    return isinstance(exc, PermanentError | pydantic.ValidationError | DjangoValidationError)


def retry_delay(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: base * 2^(attempt-1) with ±25 % jitter, never
    more than `JOBS_RETRY_MAX`."""
    conf = queue_settings()
    delay = conf.retry_base * 2 ** min(attempt - 1, 32) * random.uniform(0.75, 1.25)
    return min(conf.retry_max, delay)


def fail_attempt(
    *, job: Job, exc: BaseException, handler: JobHandler | None, duration: float | None = None
) -> str:
    """Record a failed attempt: retry with backoff, or fail for good (permanent error or
    attempts used up) and run the handler's `on_failure`; cancelled if that was asked."""
    entry = error_entry(job, exc, worker_id=job.locked_by, duration=duration)
    with transaction.atomic():
        current = _fenced(job).select_for_update(no_key=True).only("cancel_requested").first()
        if current is None:
            return LOST
        job.errors = [*job.errors, entry]
        if current.cancel_requested:
            finish_locked(job, JobStatus.CANCELLED)
            run_cancel_hook(job, handler)
            return JobStatus.CANCELLED
        if is_permanent(exc) or job.attempts >= job.max_attempts:
            finish_locked(job, JobStatus.FAILED)
            run_failure_hook(job, exc, handler)
            return JobStatus.FAILED
        job.status = JobStatus.QUEUED
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.QUEUED,
            run_after=Now() + timedelta(seconds=retry_delay(job.attempts)),
            errors=job.errors,
            heartbeat_at=None,
        )
    return RETRYING


def cancel_attempt(*, job: Job) -> str:
    """The handler stopped because the job was cancelled: `cancelled` and `on_cancel`, in one
    transaction."""
    with transaction.atomic():
        done = _fenced(job).update(status=JobStatus.CANCELLED, finished_at=Now(), heartbeat_at=None)
        if done:
            job.status = JobStatus.CANCELLED
            run_cancel_hook(job, get_handler(job.job_type))
    return JobStatus.CANCELLED if done else LOST


def release(*, job: Job) -> bool:
    """Give an unfinished (or never started) attempt back: queued again at once, its attempt
    not counted.

    The fencing token stays incremented, so the released attempt can never finish the job
    even if its thread were still running when the next claim happens.
    """
    released = _fenced(job).update(
        status=JobStatus.QUEUED,
        attempts=F("attempts") - 1,
        run_after=Now(),
        heartbeat_at=None,
    )
    if released:
        notify(job.queue)
        metrics.observe_attempt_on_commit(
            job_type=job.job_type,
            queue=job.queue,
            outcome=metrics.RELEASED,
            duration_s=None,  # not charged: its wait is observed again at the next claim
            wait_s=None,
        )
    return bool(released)


def reclaim_expired(*, limit: int = 100) -> int:
    """Take back running jobs whose lease expired (their worker died or hangs), by the
    database's clock.

    `FOR UPDATE SKIP LOCKED` skips rows held by a live atomic handler (its transaction
    holds the row) and rows another reclaimer is handling. Each reclaimed attempt counts:
    queued again at once, or failed (with `on_failure`) when it was the last one.
    """
    lease_timeout = queue_settings().lease_timeout
    with transaction.atomic():
        expired = list(
            Job.objects.expired_leases(lease_timeout).select_for_update(skip_locked=True)[:limit]
        )
        for job in expired:
            exc = LeaseExpired(MSG_LEASE_EXPIRED.format(worker=job.locked_by))
            job.errors = [
                *job.errors,
                error_entry(job, exc, worker_id=job.locked_by, duration=None),
            ]
            handler = get_handler(job.job_type)
            if job.cancel_requested:
                finish_locked(job, JobStatus.CANCELLED)
                run_cancel_hook(job, handler)
                outcome = metrics.CANCELLED
            elif job.attempts >= job.max_attempts:
                finish_locked(job, JobStatus.FAILED)
                run_failure_hook(job, exc, handler)
                outcome = metrics.FAILED
            else:
                Job.objects.filter(pk=job.pk).update(
                    status=JobStatus.QUEUED, run_after=Now(), errors=job.errors, heartbeat_at=None
                )
                outcome = metrics.LOST
            # The dead worker never reports this attempt: counted here, how long it ran
            # unknown, its wait known (claimed minus ready).
            metrics.observe_attempt_on_commit(
                job_type=job.job_type,
                queue=job.queue,
                outcome=outcome,
                duration_s=None,
                wait_s=job.queue_wait,
            )
            logger.warning(
                "Job %s #%s: lease of %s expired after attempt %s; reclaimed.",
                job.job_type,
                job.pk,
                job.locked_by,
                job.attempts,
            )
        for queue in {job.queue for job in expired}:
            notify(queue)
    return len(expired)
