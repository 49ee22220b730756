"""Running one claimed attempt: call the handler and record the outcome (fenced).

`atomic=True` handlers run inside the transaction that marks the job succeeded, after that
transaction locked the job row with the fence check, so their database effects commit
exactly once. Other handlers run in autocommit, then the success is recorded: at least once.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from ats.tenant_scope import tenant_or_system

from . import services
from .errors import (
    MSG_CANCELLED,
    MSG_HANDLER_MISSING,
    MSG_RESULT_NOT_JSON,
    MSG_TIMEOUT,
    JobCancelled,
    JobTimeout,
    LeaseLost,
    PermanentError,
)
from .models import Job
from .registry import JobHandler, get_handler

logger = logging.getLogger(__name__)


@dataclass
class Attempt:
    """A running attempt as its worker sees it. The heartbeat thread sets the flags; the
    handler reads them through `job.raise_if_cancelled()` (no query)."""

    job: Job
    timeout: float | None = None
    started: float = field(default_factory=time.monotonic)
    cancel_requested: bool = False
    lease_lost: bool = False

    def __post_init__(self) -> None:
        self.job._attempt = self

    @property
    def deadline(self) -> float | None:
        return None if self.timeout is None else self.started + self.timeout

    def raise_if_stopped(self) -> None:
        if self.lease_lost:
            raise LeaseLost(f"Job #{self.job.pk}: this worker no longer owns the attempt.")
        if self.cancel_requested:
            raise JobCancelled(MSG_CANCELLED)
        # Python threads cannot be killed: the timeout is enforced here, at the handler's
        # safe points. A handler that never calls raise_if_cancelled() is not interrupted.
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise JobTimeout(MSG_TIMEOUT.format(timeout=self.timeout))


def start_attempt(job: Job) -> Attempt:
    spec = get_handler(job.job_type)
    return Attempt(job=job, timeout=spec.timeout if spec else None)


def run_attempt(attempt: Attempt) -> str:
    """Run the claimed job's handler and record what happened; returns the outcome."""
    job = attempt.job
    spec = get_handler(job.job_type)
    if spec is None:
        missing = PermanentError(
            MSG_HANDLER_MISSING.format(job_type=job.job_type, worker=job.locked_by)
        )
        return services.fail_attempt(job=job, exc=missing, handler=None)
    try:
        if spec.atomic:
            with transaction.atomic():
                services.hold_attempt(job=job)
                result = _call(spec, job)
                if not services.complete(job=job, result=result):
                    raise LeaseLost(f"Job #{job.pk}: the attempt lost its lease; rolled back.")
        else:
            result = _call(spec, job)
            if not services.complete(job=job, result=result):
                raise LeaseLost(f"Job #{job.pk}: the attempt lost its lease; result dropped.")
    except LeaseLost as exc:
        logger.warning("%s", exc)
        return services.LOST
    except JobCancelled:
        return services.cancel_attempt(job=job)
    except Exception as exc:
        return services.fail_attempt(job=job, exc=exc, handler=spec)
    return services.SUCCEEDED


def _call(spec: JobHandler, job: Job) -> Any:
    with tenant_or_system(job.tenant_id):  # the job's tenant's rows (row-level security)
        result = spec.func(job, **job.payload)
    try:
        json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PermanentError(MSG_RESULT_NOT_JSON.format(error=exc)) from exc
    return result
