"""A worker's presence in the `workers` table, and its heartbeat thread.

The heartbeat extends the leases of the worker's claimed attempts (on the database's
clock), reads their cancel requests, and refreshes the worker's row: when it was last seen
and when its main loop last went round, so a worker whose loop is stuck is not counted as
live (`WorkerQuerySet.live`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import DatabaseError, close_old_connections, connection
from django.db.models.functions import Now

from .errors import WorkerStartupError
from .models import WorkerProcess
from .services import attempts

if TYPE_CHECKING:
    from .execution import Attempt
    from .reporting import Reporter
    from .worker import Worker

logger = logging.getLogger("jobs.worker")

MSG_DATABASE_UNREACHABLE = "The worker cannot reach the database ({name}): {error}"
MSG_TABLES_MISSING = (
    "The jobs tables are missing or out of date ({error}). Run `manage.py migrate` first."
)
MSG_WORKER_ID_IN_USE = "Worker id {worker_id!r} is in use by a live worker (pid {pid} on {host})."


def register(
    *, worker_id: str, queues: Sequence[str] | None, concurrency: int, lease_timeout: float
) -> None:
    """Record the worker, refusing an id that a live worker uses; `WorkerStartupError` with
    a clear message when the database cannot be reached or is not migrated."""
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        raise WorkerStartupError(
            MSG_DATABASE_UNREACHABLE.format(
                name=connection.settings_dict.get("NAME"), error=str(exc).strip()
            )
        ) from exc
    try:
        other = WorkerProcess.objects.live(lease_timeout).filter(pk=worker_id).first()
        if other is not None:
            raise WorkerStartupError(
                MSG_WORKER_ID_IN_USE.format(worker_id=worker_id, pid=other.pid, host=other.host)
            )
        WorkerProcess.objects.update_or_create(
            pk=worker_id,
            defaults={
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "queues": list(queues or []),
                "concurrency": concurrency,
                "started_at": Now(),
                "last_seen_at": Now(),
                "last_loop_at": Now(),
                "stopped_at": None,
                "jobs_succeeded": 0,
                "jobs_failed": 0,
                "current_jobs": [],
            },
        )
    except DatabaseError as exc:
        raise WorkerStartupError(MSG_TABLES_MISSING.format(error=str(exc).strip())) from exc


def deregister(worker_id: str, reporter: Reporter) -> None:
    try:
        close_old_connections()
        WorkerProcess.objects.filter(pk=worker_id).update(
            stopped_at=Now(),
            current_jobs=[],
            jobs_succeeded=reporter.succeeded,
            jobs_failed=reporter.failed,
        )
    except DatabaseError:
        logger.exception("Worker %s: could not record its stop.", worker_id)


def renew_leases(*, worker_id: str, claimed: dict[int, Attempt]) -> None:
    """One heartbeat of these attempts (by job id): their leases extended, and their flags
    set for their handlers' next `raise_if_cancelled()`."""
    owned, cancel = attempts.heartbeat(
        worker_id=worker_id,
        attempts={job_id: a.job.fencing_token for job_id, a in claimed.items()},
    )
    for job_id, attempt in claimed.items():
        attempt.cancel_requested = attempt.cancel_requested or job_id in cancel
        # Not owned any more: finished a moment ago (then the flag is moot), or taken over
        # by another worker after our lease expired: the handler should stop.
        attempt.lease_lost = attempt.lease_lost or job_id not in owned


class Heartbeat(threading.Thread):
    def __init__(self, worker: Worker) -> None:
        super().__init__(name="jobs-heartbeat", daemon=True)
        self.worker = worker
        self.connected = threading.Event()  # set once it tried to connect

    def run(self) -> None:
        worker = self.worker
        try:
            connection.ensure_connection()
        except DatabaseError:
            logger.exception("Worker %s: the heartbeat cannot connect yet.", worker.worker_id)
        self.connected.set()
        while not worker._threads_stop.wait(worker.heartbeat_interval):
            try:
                close_old_connections()
                self.beat()
            except Exception:
                logger.exception("Worker %s: heartbeat failed.", worker.worker_id)
        connection.close()

    def beat(self) -> None:
        worker = self.worker
        with worker._lock:
            claimed = dict(worker._claimed)
            succeeded, failed = worker._reporter.succeeded, worker._reporter.failed
        renew_leases(worker_id=worker.worker_id, claimed=claimed)
        loop_age = max(0.0, time.monotonic() - worker._last_loop)
        WorkerProcess.objects.filter(pk=worker.worker_id).update(
            last_seen_at=Now(),
            last_loop_at=Now() - timedelta(seconds=loop_age),
            current_jobs=sorted(claimed),
            jobs_succeeded=succeeded,
            jobs_failed=failed,
        )
