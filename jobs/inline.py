"""Running one tenant's jobs in the calling process (`seed_demo`, scripts), without a worker.

The same path as a worker's attempt: a fenced claim, the lease renewed while the handler
runs (so a cancel reaches it and no worker takes the job over), the handler in its tenant's
scope, the outcome recorded (retry, failure hooks, cancel) and reported (log line,
metrics). Jobs are claimed one at a time and only the given tenant's: another tenant's work
is never taken, and a worker running beside it claims with `SKIP LOCKED` as usual.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection

from ats.tenant_scope import NO_TENANT, process_scope

from .conf import queue_settings
from .execution import Attempt, run_attempt, start_attempt
from .models import Job
from .presence import renew_leases
from .reporting import Reporter
from .services import attempts

logger = logging.getLogger("jobs.worker")

POLL_SECONDS = 0.1


@dataclass
class InlineRun:
    """What `run_tenant_jobs` did: attempts by outcome, and the tenant's jobs still running
    in some worker when it gave up waiting for them."""

    outcomes: dict[str, int] = field(default_factory=dict)
    still_running: int = 0

    @property
    def attempts(self) -> int:
        return sum(self.outcomes.values())


def run_tenant_jobs(
    *, tenant_id: int, label: str = "inline", max_jobs: int = 10_000, wait_seconds: float = 60.0
) -> InlineRun:
    """Run the tenant's ready jobs, and those they enqueue, until none is ready.

    Jobs of the tenant that a worker is running meanwhile are waited for (up to
    `wait_seconds`), since they may enqueue more. Jobs retrying later (backoff) are left to
    the workers."""
    worker_id = f"{label}:{socket.gethostname()}:{os.getpid()}"
    reporter = Reporter(worker_id=worker_id, sender=Job)
    done = InlineRun()
    deadline: float | None = None
    # As in a worker: the claims see no tenant's rows; each handler runs in its job's tenant.
    with process_scope(NO_TENANT):
        while done.attempts < max_jobs:
            claimed = attempts.claim_batch(
                worker_id=worker_id, queues=None, limit=1, tenant_id=tenant_id
            )
            if claimed:
                attempt = start_attempt(claimed[0])
                with _lease_kept(attempt, worker_id=worker_id):
                    outcome = run_attempt(attempt)
                done.outcomes[outcome] = done.outcomes.get(outcome, 0) + 1
                reporter.report([(attempt, outcome)])
                deadline = None
                continue
            running = Job.objects.running().filter(tenant_id=tenant_id).count()
            # The wait for jobs running elsewhere starts when there is nothing left to claim.
            deadline = deadline or time.monotonic() + wait_seconds
            if not running or time.monotonic() > deadline:
                done.still_running = running
                return done
            time.sleep(POLL_SECONDS)
    return done


@contextmanager
def _lease_kept(attempt: Attempt, *, worker_id: str) -> Iterator[None]:
    """A worker's heartbeat for this one attempt while its handler runs: a worker beside
    this process does not take the job over when its lease would expire, and a cancel
    reaches the handler's `raise_if_cancelled()`. Inside the caller's transaction there is
    nothing to keep: the claim is not committed, so no other connection sees it (a
    heartbeat's own would find no job of its own, call the lease lost and stop the handler)."""
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(queue_settings().heartbeat_interval):
                renew_leases(worker_id=worker_id, claimed={attempt.job.pk: attempt})
        except Exception:
            logger.exception("%s: heartbeat of job %s failed.", worker_id, attempt.job.pk)
        finally:
            connection.close()  # this thread's own

    thread = threading.Thread(target=beat, name="jobs-inline-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
