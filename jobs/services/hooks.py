"""The owning app's hooks and the `errors` entries, shared by the public API (a cancel) and
the worker (a failure, a cancel seen by a running attempt, a reclaimed lease)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone

from ats.tenant_scope import tenant_or_system

from ..models import Job
from ..registry import JobHandler

logger = logging.getLogger(__name__)

MESSAGE_LIMIT = 2_000
TRACEBACK_LIMIT = 8_000


def error_entry(
    job: Job,
    exc: BaseException,
    *,
    worker_id: str,
    duration: float | None,
    phase: str = "handler",
) -> dict[str, Any]:
    """One `errors` entry: which attempt, when, where, what, and a truncated traceback.

    `at` is informational (this process's clock); `duration` is measured on the worker's
    monotonic clock, so neither depends on clocks agreeing between hosts.
    """
    trace = "".join(traceback.format_exception(exc)) if exc.__traceback__ else ""
    if len(trace) > TRACEBACK_LIMIT:
        trace = "…(truncated)\n" + trace[-TRACEBACK_LIMIT:]
    return {
        "attempt": job.attempts,
        "at": timezone.now().isoformat(),
        "worker": worker_id,
        "phase": phase,
        "error_class": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "message": str(exc)[:MESSAGE_LIMIT],
        "traceback": trace,
        "duration": None if duration is None else round(duration, 3),
    }


def finish_locked(job: Job, status: str) -> None:
    """Mark a job whose row this transaction holds finished (`failed` or `cancelled`)."""
    job.status = status
    Job.objects.filter(pk=job.pk).update(
        status=status, errors=job.errors, finished_at=Now(), heartbeat_at=None
    )


def run_failure_hook(job: Job, exc: BaseException, handler: JobHandler | None) -> None:
    """`on_failure(job, exc)` in a savepoint of the transaction that marked the job failed:
    both happen or neither (a crash in between leaves the job to the lease reclaimer, which
    runs the hook). The hook's own error is logged and kept on the job, never lost."""
    if handler is not None and handler.on_failure is not None:
        _run_hook(job, "on_failure", lambda: handler.on_failure(job, exc))


def run_cancel_hook(job: Job, handler: JobHandler | None) -> None:
    """`on_cancel(job)` in a savepoint of the transaction that marked the job cancelled."""
    if handler is not None and handler.on_cancel is not None:
        _run_hook(job, "on_cancel", lambda: handler.on_cancel(job))


def _run_hook(job: Job, phase: str, call: Callable[[], None]) -> None:
    try:
        with tenant_or_system(job.tenant_id), transaction.atomic():
            call()
    except Exception as hook_exc:
        logger.exception("%s of %s #%s failed.", phase, job.job_type, job.pk)
        job.errors = [
            *job.errors,
            error_entry(job, hook_exc, worker_id=job.locked_by, duration=None, phase=phase),
        ]
        Job.objects.filter(pk=job.pk).update(errors=job.errors)
