"""The queue's metrics.

- Read from the jobs tables at scrape time (`QueueCollector`, registered in `JobsConfig.ready`):
  ready, scheduled, running and failed jobs and the oldest ready job's age per queue, live
  workers per queue and in all.
- Counted by the processes that enqueue and run jobs: `count_enqueued` and `observe_attempt`
  (jobs enqueued, attempts by outcome, attempt duration, queue wait). `enqueue` and
  `enqueue_many` count new jobs; the worker's attempts arrive through the `attempts_finished`
  signal (`record_attempts`, connected in `JobsConfig.ready`: once per batch, off the hot
  path); a queued job cancelled before it ran (`cancel`) and an expired lease taken back
  (`reclaim_expired`) are counted where they happen, when their transaction commits.

Labels: queue names and job types (both come from code, so they are few); never a tenant.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial

from django.db import transaction
from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .selectors import db_now, live_workers, queue_depths
from .signals import AttemptRecord

logger = logging.getLogger(__name__)

# What can become of one attempt (and of a queued job cancelled before any attempt).
SUCCEEDED, RETRIED, FAILED, CANCELLED, LOST, RELEASED = (
    "succeeded",  # the handler returned
    "retried",  # a retryable error: queued again with backoff
    "failed",  # a permanent error, or the last attempt failed (also after an expired lease)
    "cancelled",  # stopped at a safe point after a cancel request, or cancelled while queued
    "lost",  # its lease expired and a worker took the job back, queued again at once
    "released",  # given back to the queue by a stopping worker, attempt not charged
)
OUTCOMES = frozenset({SUCCEEDED, RETRIED, FAILED, CANCELLED, LOST, RELEASED})
MSG_UNKNOWN_OUTCOME = "Unknown job attempt outcome {outcome!r}; one of: {known}."
# The worker's names of an attempt's end (`AttemptRecord.outcome`: the job's new status, or
# `jobs.services.attempts.RETRYING` / `LOST`) → the metric's. A test checks it is complete.
# Each attempt is counted once, by whoever recorded its end in the database. A worker's
# "lost" recorded nothing: the worker that reclaimed the expired lease counted it (as lost,
# failed or cancelled), or the release of a stopping worker did (released).
WORKER_OUTCOMES: dict[str, str | None] = {
    "succeeded": SUCCEEDED,
    "retrying": RETRIED,
    "failed": FAILED,
    "cancelled": CANCELLED,
    "lost": None,
}

# Seconds. Jobs range from a few milliseconds (a small ingestion) to the better part of an
# hour (a large fetch); the queue wait from instant (NOTIFY) to a backlog of hours.
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800, 3600)
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200)

JOBS_ENQUEUED = Counter(
    "ats_jobs_enqueued", "Jobs enqueued (committed), by job type and queue.", ["job_type", "queue"]
)
JOB_ATTEMPTS = Counter(
    "ats_job_attempts",
    "Job attempts that ended, by job type, queue and outcome "
    "(succeeded, retried, failed, cancelled, lost, released); cancelled also counts queued "
    "jobs cancelled before any attempt.",
    ["job_type", "queue", "outcome"],
)
JOB_DURATION = Histogram(
    "ats_job_duration_seconds",
    "Time a job attempt ran (claim to outcome), by job type and queue.",
    ["job_type", "queue"],
    buckets=DURATION_BUCKETS,
)
JOB_QUEUE_WAIT = Histogram(
    "ats_job_queue_wait_seconds",
    "Time a job waited between becoming ready (run_after) and being claimed, by job type and "
    "queue.",
    ["job_type", "queue"],
    buckets=WAIT_BUCKETS,
)


def count_enqueued(*, job_type: str, queue: str, n: int = 1) -> None:
    """Count `n` jobs enqueued, when the enqueueing transaction commits (at once outside one):
    a rolled-back enqueue created no job."""
    transaction.on_commit(partial(JOBS_ENQUEUED.labels(job_type, queue).inc, n))


def observe_attempt(
    *, job_type: str, queue: str, outcome: str, duration_s: float | None, wait_s: float | None
) -> None:
    """Record one finished attempt. `duration_s` is None when no handler ran (a queued job
    cancelled, a lease that expired), `wait_s` (claimed minus ready) when the job was never
    claimed or the wait is unknown: neither histogram then gets a sample."""
    if outcome not in OUTCOMES:
        raise ValueError(
            MSG_UNKNOWN_OUTCOME.format(outcome=outcome, known=", ".join(sorted(OUTCOMES)))
        )
    JOB_ATTEMPTS.labels(job_type, queue, outcome).inc()
    if duration_s is not None:
        JOB_DURATION.labels(job_type, queue).observe(max(duration_s, 0.0))
    if wait_s is not None:
        JOB_QUEUE_WAIT.labels(job_type, queue).observe(max(wait_s, 0.0))


def observe_attempt_on_commit(**observation: object) -> None:
    """`observe_attempt` when the current transaction commits (at once outside one): a
    cancel or a reclaim that rolls back happened to no job."""
    transaction.on_commit(partial(observe_attempt, **observation))


def record_attempts(sender: object, *, records: list[AttemptRecord], **kwargs: object) -> None:
    """Receiver of `jobs.signals.attempts_finished`: the worker's finished attempts, a batch
    at a time (it runs in the worker's main loop, thousands of jobs a second: one counter
    increment per job type, queue and outcome of the batch, and each labelled histogram
    looked up once per batch).

    An unknown outcome is logged and skipped: a metric must never stop a worker."""
    ended: dict[tuple[str, str, str], int] = {}
    timings: dict[tuple[str, str], list[AttemptRecord]] = {}
    for record in records:
        if record.outcome not in WORKER_OUTCOMES:
            logger.error(
                "Job #%s: no metric for the worker's outcome %r.", record.job_id, record.outcome
            )
            continue
        outcome = WORKER_OUTCOMES[record.outcome]
        if outcome is None:  # counted by whoever recorded the attempt's end
            continue
        key = (record.job_type, record.queue, outcome)
        ended[key] = ended.get(key, 0) + 1
        timings.setdefault((record.job_type, record.queue), []).append(record)
    for labels, n in ended.items():
        JOB_ATTEMPTS.labels(*labels).inc(n)
    for labels, timed in timings.items():
        durations, waits = JOB_DURATION.labels(*labels), JOB_QUEUE_WAIT.labels(*labels)
        for record in timed:
            if record.duration is not None:
                durations.observe(max(record.duration, 0.0))
            waits.observe(max(record.wait, 0.0))


class QueueCollector(Collector):
    """The queue as the database has it now (three queries per scrape: its clock, the live
    workers, the queues' depths)."""

    def collect(self) -> Iterator[Metric]:
        now = db_now()  # the queue's timestamps are the database's, not this host's
        workers = live_workers(now)
        depths = {depth.queue: depth for depth in queue_depths(now, workers)}
        # Queues that live workers name explicitly show up at zero rather than disappear.
        named = {queue for worker in workers for queue in worker.queues} - set(depths)
        families = {
            "ready": GaugeMetricFamily(
                "ats_queue_ready_jobs", "Jobs ready to run now, per queue.", labels=["queue"]
            ),
            "scheduled": GaugeMetricFamily(
                "ats_queue_scheduled_jobs",
                "Queued jobs waiting for their run_after (backoff, deferred), per queue.",
                labels=["queue"],
            ),
            "running": GaugeMetricFamily(
                "ats_queue_running_jobs", "Jobs running, per queue.", labels=["queue"]
            ),
            "failed": GaugeMetricFamily(
                "ats_queue_failed_jobs",
                "Failed jobs kept in the table (until pruned), per queue.",
                labels=["queue"],
            ),
            "oldest_ready_age": GaugeMetricFamily(
                "ats_queue_oldest_ready_age_seconds",
                "How long the longest-waiting ready job has been ready, per queue (0: none).",
                labels=["queue"],
            ),
            "live_workers": GaugeMetricFamily(
                "ats_queue_live_workers", "Live workers serving the queue.", labels=["queue"]
            ),
        }
        for queue in sorted([*depths, *named]):
            depth = depths.get(queue)
            for field, family in families.items():
                if depth is not None:
                    value = getattr(depth, field) or 0
                elif field == "live_workers":
                    value = sum(1 for worker in workers if worker.serves(queue))
                else:
                    value = 0
                family.add_metric([queue], value)
        yield from families.values()
        yield GaugeMetricFamily(
            "ats_workers_live", "Live worker processes (all queues).", value=len(workers)
        )
