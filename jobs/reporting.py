"""What the worker reports of every finished attempt: one log line, its counters (the
workers table), the recent duration of handlers (which decides prefetch and group commit),
and the `attempts_finished` signal, sent once per batch for metrics and structured logs."""

from __future__ import annotations

import logging

from .execution import Attempt
from .models import JobStatus
from .services.attempts import RETRYING
from .signals import AttemptRecord, attempts_finished

logger = logging.getLogger("jobs.worker")


class Reporter:
    def __init__(self, *, worker_id: str, sender: type) -> None:
        self.worker_id = worker_id
        self.sender = sender
        self.succeeded = 0
        self.failed = 0
        # An EWMA of handler durations; None (unknown) counts as long: no prefetch and no
        # group commit until short jobs have been seen.
        self.recent_duration: float | None = None

    def jobs_are_short(self, limit: float) -> bool:
        return self.recent_duration is not None and self.recent_duration <= limit

    def report(self, finished: list[tuple[Attempt, str]]) -> None:
        """One log line per attempt, the counters, and the signal (once per batch)."""
        if not finished:
            return
        records = []
        send = attempts_finished.has_listeners()
        for attempt, outcome in finished:
            if outcome == JobStatus.SUCCEEDED:
                self.succeeded += 1
            elif outcome == JobStatus.FAILED:
                self.failed += 1
            duration = attempt.duration
            if duration is not None:
                recent = duration if self.recent_duration is None else self.recent_duration
                self.recent_duration = recent + 0.1 * (duration - recent)
            wait = _wait(attempt)
            self._log(attempt, outcome, duration, wait)
            if send:
                records.append(self._record(attempt, outcome, duration, wait))
        if send:
            attempts_finished.send(self.sender, records=records)

    def _record(
        self, attempt: Attempt, outcome: str, duration: float | None, wait: float
    ) -> AttemptRecord:
        job = attempt.job
        return AttemptRecord(
            job_id=job.pk,
            job_type=job.job_type,
            queue=job.queue,
            tenant_id=job.tenant_id,
            attempt=job.attempts,
            outcome=outcome,
            duration=duration,
            wait=wait,
            worker_id=self.worker_id,
            request_id=job.attempt_request_id,
        )

    def _log(self, attempt: Attempt, outcome: str, duration: float | None, wait: float) -> None:
        ok = outcome in (JobStatus.SUCCEEDED, JobStatus.CANCELLED)
        level = logging.INFO if ok else logging.WARNING
        if not logger.isEnabledFor(level):
            return
        job = attempt.job
        failed = outcome in (JobStatus.FAILED, RETRYING)
        # makeRecord + handle: what Logger.log does, less its stack walk (findCaller) for
        # every job.
        record = logger.makeRecord(
            logger.name,
            level,
            __file__,
            0,
            "Job %s #%s attempt %s/%s %s in %.3fs (waited %.3fs)%s",
            (
                job.job_type,
                job.pk,
                job.attempts,
                job.max_attempts,
                outcome,
                duration or 0.0,
                wait,
                f": {job.last_error}" if failed else "",
            ),
            None,
            func="report",
            extra={
                "job_id": job.pk,
                "job_type": job.job_type,
                "queue": job.queue,
                "attempt": job.attempts,
                "outcome": outcome,
                "duration": round(duration or 0.0, 3),
                "wait": round(wait, 3),
                "worker_id": self.worker_id,
                # The attempt's line is written by the main loop, outside the attempt's
                # context: the id that the handler's lines carry, given explicitly.
                "request_id": job.attempt_request_id,
            },
        )
        logger.handle(record)


def _wait(attempt: Attempt) -> float:
    """Seconds the job waited to be claimed (0 when unknown)."""
    return max(0.0, attempt.job.queue_wait or 0.0)
