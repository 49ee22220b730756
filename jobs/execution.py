"""Running claimed attempts: call the handler and record the outcome (fenced).

- Plain (non-atomic) handlers run in autocommit: at least once. A success is returned as
  `PENDING` and recorded by the worker with the next batch (one UPDATE for many jobs); a
  failure or a cancel is recorded at once.
- `atomic=True` handlers run in a transaction that first locks their job rows with the
  fence check and ends by marking them succeeded, so their database effects commit exactly
  once. Several atomic attempts may share that transaction (group commit): each runs in its
  own savepoint, so a failing one rolls back to it alone, and all commit together with their
  `succeeded` marks.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction

from ats.request_context import bind
from ats.tenant_scope import tenant_or_system

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
from .models import Job, JobStatus
from .registry import JobHandler, get_handler
from .services import attempts
from .services.attempts import LOST

logger = logging.getLogger(__name__)

# A plain handler returned; its success is recorded with the worker's next batch.
PENDING = "pending"


@dataclass(eq=False)
class Attempt:
    """A claimed attempt as its worker sees it. The heartbeat thread sets the flags; the
    handler reads them through `job.raise_if_cancelled()` (no query)."""

    job: Job
    handler: JobHandler | None = None
    started: float | None = None
    finished: float | None = None
    cancel_requested: bool = False
    lease_lost: bool = False
    result: Any = None

    def __post_init__(self) -> None:
        self.job._attempt = self

    @property
    def atomic(self) -> bool:
        return self.handler is not None and self.handler.atomic

    @property
    def duration(self) -> float | None:
        """Seconds the handler ran (None before it started)."""
        if self.started is None:
            return None
        return (self.finished or time.monotonic()) - self.started

    @property
    def deadline(self) -> float | None:
        timeout = self.handler.timeout if self.handler else None
        if timeout is None or self.started is None:
            return None
        return self.started + timeout

    def raise_if_stopped(self) -> None:
        if self.lease_lost:
            raise LeaseLost(f"Job #{self.job.pk}: this worker no longer owns the attempt.")
        if self.cancel_requested:
            raise JobCancelled(MSG_CANCELLED)
        # Python threads cannot be killed: the timeout is enforced here, at the handler's
        # safe points. A handler that never calls raise_if_cancelled() is not interrupted.
        deadline = self.deadline
        if deadline is not None and time.monotonic() > deadline:
            raise JobTimeout(MSG_TIMEOUT.format(timeout=self.handler.timeout))


def start_attempt(job: Job) -> Attempt:
    return Attempt(job=job, handler=get_handler(job.job_type))


def run_attempt(attempt: Attempt) -> str:
    """Run one claimed attempt and record its outcome, whatever its handler."""
    if attempt.atomic:
        return run_atomic_group([attempt])[0]
    outcome = run_plain(attempt)
    if outcome == PENDING:
        recorded = attempts.complete(job=attempt.job, result=attempt.result)
        outcome = JobStatus.SUCCEEDED if recorded else LOST
        if not recorded:
            logger.warning("Job #%s: the attempt lost its lease; result dropped.", attempt.job.pk)
    return outcome


def run_plain(attempt: Attempt) -> str:
    """Run a non-atomic handler in autocommit. Returns `PENDING` on success (the caller
    records it), else the recorded outcome."""
    job = attempt.job
    with bind(request_id=job.attempt_request_id):  # the handler's and the hooks' log lines
        if attempt.handler is None:
            missing = PermanentError(
                MSG_HANDLER_MISSING.format(job_type=job.job_type, worker=job.locked_by)
            )
            return attempts.fail_attempt(job=job, exc=missing, handler=None)
        try:
            _call(attempt)
        except BaseException as exc:
            return _record_stop(attempt, exc)
    return PENDING


def run_atomic_group(group: list[Attempt]) -> list[str]:
    """Run atomic attempts in one transaction, each in its own savepoint, and commit their
    effects together with their `succeeded` marks; returns their outcomes in order.

    If the group cannot commit as a whole (an attempt lost its lease meanwhile, or the
    commit itself fails, say on a deferred constraint), it is rolled back and each attempt
    runs again alone: effects still commit exactly once.
    """
    saved = [(a.job.status, a.job.errors) for a in group]
    outcomes: dict[int, str] = {}
    try:
        with transaction.atomic():
            held = attempts.hold_attempts(
                worker_id=group[0].job.locked_by, jobs=[a.job for a in group]
            )
            succeeded = []
            for attempt in group:
                if attempt.job.pk not in held:
                    outcomes[attempt.job.pk] = LOST
                    continue
                outcome = _run_in_savepoint(attempt)
                if outcome == PENDING:
                    succeeded.append(attempt)
                else:
                    outcomes[attempt.job.pk] = outcome
            done = attempts.complete_many(
                worker_id=group[0].job.locked_by,
                finished=[(a.job, a.result) for a in succeeded],
            )
            if len(done) != len(succeeded):
                raise _GroupRefused
            outcomes.update((a.job.pk, JobStatus.SUCCEEDED) for a in succeeded)
    except (_GroupRefused, DatabaseError) as exc:
        for attempt, (status, errors) in zip(group, saved, strict=True):
            attempt.job.status, attempt.job.errors = status, errors
        if len(group) > 1:
            logger.info("%s grouped atomic jobs failed to commit; one at a time now.", len(group))
            return [run_atomic_group([attempt])[0] for attempt in group]
        return [_single_refused(group[0], exc)]
    return [outcomes[a.job.pk] for a in group]


class _GroupRefused(Exception):
    """An attempt of an atomic group lost its fence before the group committed."""


def _single_refused(attempt: Attempt, exc: Exception) -> str:
    if isinstance(exc, _GroupRefused):
        logger.warning("Job #%s: the attempt lost its lease; rolled back.", attempt.job.pk)
        return LOST
    # The commit failed (a deferred constraint, a serialization error): the handler's
    # effects are rolled back; the failure is the attempt's.
    return attempts.fail_attempt(
        job=attempt.job, exc=exc, handler=attempt.handler, duration=attempt.duration
    )


def _run_in_savepoint(attempt: Attempt) -> str:
    with bind(request_id=attempt.job.attempt_request_id):
        try:
            with transaction.atomic():
                _call(attempt)
        except BaseException as exc:
            return _record_stop(attempt, exc)
    return PENDING


def _record_stop(attempt: Attempt, exc: BaseException) -> str:
    """Record why a handler stopped: cancelled, lost, or a failure (retry or fail)."""
    job = attempt.job
    if isinstance(exc, LeaseLost):
        logger.warning("%s", exc)
        return LOST
    if isinstance(exc, JobCancelled):
        return attempts.cancel_attempt(job=job)
    if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit: not the job's fault
        raise exc
    return attempts.fail_attempt(
        job=job, exc=exc, handler=attempt.handler, duration=attempt.duration
    )


def _call(attempt: Attempt) -> None:
    attempt.started = time.monotonic()
    try:
        attempt.raise_if_stopped()  # cancelled or taken over while it waited to start
        with tenant_or_system(attempt.job.tenant_id):  # its tenant's rows (row-level security)
            result = attempt.handler.func(attempt.job, **attempt.job.payload)
        try:
            json.dumps(result, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise PermanentError(MSG_RESULT_NOT_JSON.format(error=exc)) from exc
        attempt.result = result
    finally:
        attempt.finished = time.monotonic()
