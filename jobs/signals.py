"""Signals of the queue, for observability (metrics, structured logs) without touching the
worker's hot path.

`attempts_finished` is sent by the worker once per batch of finished attempts (from its main
loop, after their outcomes are recorded), with `records`: a list of `AttemptRecord`. With no
receiver connected it costs nothing per job.

    from django.dispatch import receiver
    from jobs.signals import attempts_finished

    @receiver(attempts_finished)
    def count(sender, *, records, **kwargs):
        for r in records:
            JOB_DURATION.labels(r.job_type, r.outcome).observe(r.duration or 0)
"""

from __future__ import annotations

from dataclasses import dataclass

from django.dispatch import Signal

attempts_finished = Signal()


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One finished attempt, as the worker knows it."""

    job_id: int
    job_type: str
    queue: str
    tenant_id: int | None
    attempt: int
    # `succeeded`, `failed`, `cancelled` (the job's new status), `retrying` or `lost`.
    outcome: str
    # Seconds the handler ran (worker's monotonic clock); None if it never started.
    duration: float | None
    # Seconds the job waited to be claimed: claimed - ready (`started_at` - `run_after`),
    # both from the database's clock.
    wait: float
    worker_id: str
    # The request id the attempt logged with (the enqueueing request's, else `job-<id>`).
    request_id: str = ""
