"""The worker behind `manage.py runworker` (shaped like django-tasks' `db_worker`).

Threads:
- the main loop claims batches (one transaction per batch, batch size = free slots), hands
  them to the job threads, reclaims expired leases, and waits for a free slot, a NOTIFY or
  the poll interval;
- `concurrency` job threads, each with its own database connection, run one attempt at a
  time;
- the heartbeat thread extends the leases of running attempts, reads their cancel
  requests, and refreshes this worker's row, including when the main loop last went round
  (so a worker whose loop is stuck is not reported live);
- on PostgreSQL a listener thread LISTENs and wakes the main loop.

Stopping: the first SIGTERM/SIGINT stops claiming; running jobs get the grace period to
finish, then are released back to `queued` without using up an attempt; exit code 0. A
second signal exits at once; the leases of its jobs then expire and other workers take them.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import signal
import socket
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from types import FrameType

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from . import services
from .conf import queue_settings
from .errors import WorkerStartupError
from .execution import Attempt, run_attempt, start_attempt
from .models import WorkerProcess
from .wakeup import Listener

logger = logging.getLogger(__name__)

# The main loop looks at its stop flag at least this often while it waits (the signal
# handler only sets a flag: taking locks in a signal handler can deadlock).
STOP_CHECK_INTERVAL = 0.1
LISTENER_READY_TIMEOUT = 5.0

MSG_DATABASE_UNREACHABLE = "The worker cannot reach the database ({name}): {error}"
MSG_TABLES_MISSING = (
    "The jobs tables are missing or out of date ({error}). Run `manage.py migrate` first."
)
MSG_WORKER_ID_IN_USE = "Worker id {worker_id!r} is in use by a live worker (pid {pid} on {host})."


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


class Worker:
    def __init__(
        self,
        *,
        queues: Sequence[str] | None = None,
        concurrency: int = 1,
        burst: bool = False,
        once: bool = False,
        max_jobs: int | None = None,
        poll_interval: float | None = None,
        worker_id: str | None = None,
        grace_period: float | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1.")
        if burst and once:
            raise ValueError("burst and once exclude each other.")
        conf = queue_settings()
        self.queues = sorted(set(queues)) if queues else None
        self.concurrency = concurrency
        self.burst = burst
        self.once = once
        self.max_jobs = max_jobs
        self.poll_interval = conf.poll_interval if poll_interval is None else poll_interval
        self.heartbeat_interval = conf.heartbeat_interval
        self.lease_timeout = conf.lease_timeout
        self.grace_period = conf.shutdown_grace if grace_period is None else grace_period
        self.worker_id = worker_id or default_worker_id()

        self._running: dict[int, Attempt] = {}
        self._lock = threading.Lock()
        self._work: queue.SimpleQueue[Attempt | None] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._threads_stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: Listener | None = None
        self._signals = 0
        self._claimed = 0
        self._succeeded = 0
        self._failed = 0
        self._last_loop_at: datetime = timezone.now()
        self._next_reclaim = 0.0

    # --- lifecycle ----------------------------------------------------------------------

    def run(self) -> int:
        """Work until done (burst, once, max_jobs) or stopped by a signal; returns the exit
        code (0)."""
        self._register()
        previous = self._install_signal_handlers()
        self._start_threads()
        logger.info(
            "Worker %s started: queues %s, concurrency %s, poll %.1fs.",
            self.worker_id,
            ", ".join(self.queues) if self.queues else "(all)",
            self.concurrency,
            self.poll_interval,
        )
        try:
            self._loop()
            self._drain()
        finally:
            self._stop_threads()
            self._deregister()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        logger.info(
            "Worker %s stopped: %s succeeded, %s failed.",
            self.worker_id,
            self._succeeded,
            self._failed,
        )
        return 0

    def request_stop(self, signum: int, frame: FrameType | None = None) -> None:
        """Signal handler: the first signal stops claiming, the second exits at once."""
        self._signals += 1
        if self._signals > 1:
            os.write(2, b"Second signal: exiting now; running jobs' leases will expire.\n")
            os._exit(128 + signum)

    @property
    def stopping(self) -> bool:
        return self._signals > 0

    def _install_signal_handlers(self) -> dict[int, object]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, self.request_stop)
        return previous

    def _register(self) -> None:
        try:
            connection.ensure_connection()
        except DatabaseError as exc:
            raise WorkerStartupError(
                MSG_DATABASE_UNREACHABLE.format(
                    name=connection.settings_dict.get("NAME"), error=str(exc).strip()
                )
            ) from exc
        now = timezone.now()
        try:
            existing = WorkerProcess.objects.live(now, self.lease_timeout).filter(pk=self.worker_id)
            other = existing.first()
            if other is not None:
                raise WorkerStartupError(
                    MSG_WORKER_ID_IN_USE.format(
                        worker_id=self.worker_id, pid=other.pid, host=other.host
                    )
                )
            WorkerProcess.objects.update_or_create(
                pk=self.worker_id,
                defaults={
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "queues": self.queues or [],
                    "concurrency": self.concurrency,
                    "started_at": now,
                    "last_seen_at": now,
                    "last_loop_at": now,
                    "stopped_at": None,
                    "jobs_succeeded": 0,
                    "jobs_failed": 0,
                    "current_jobs": [],
                },
            )
        except DatabaseError as exc:
            raise WorkerStartupError(MSG_TABLES_MISSING.format(error=str(exc).strip())) from exc

    def _deregister(self) -> None:
        try:
            close_old_connections()
            WorkerProcess.objects.filter(pk=self.worker_id).update(
                stopped_at=timezone.now(),
                current_jobs=[],
                jobs_succeeded=self._succeeded,
                jobs_failed=self._failed,
            )
        except DatabaseError:
            logger.exception("Worker %s: could not record its stop.", self.worker_id)

    def _start_threads(self) -> None:
        for number in range(self.concurrency):
            self._threads.append(
                threading.Thread(target=self._job_thread, name=f"jobs-worker-{number}", daemon=True)
            )
        self._threads.append(
            threading.Thread(target=self._heartbeat_thread, name="jobs-heartbeat", daemon=True)
        )
        for thread in self._threads:
            thread.start()
        if connection.vendor == "postgresql":
            self._listener = Listener(queues=self.queues, wake=self._wake, stop=self._threads_stop)
            self._listener.start()
            # Jobs enqueued from now on wake us; anything earlier is found by the first claim.
            self._listener.listening.wait(LISTENER_READY_TIMEOUT)

    def _stop_threads(self) -> None:
        self._threads_stop.set()
        for _ in range(self.concurrency):
            self._work.put(None)
        # Job threads still inside a handler after the grace period are daemons: the process
        # exits without them (Python cannot kill a thread). Idle ones close their
        # connections and end.
        abandoned = self._running_count() > 0
        for thread in self._threads:
            if thread.name == "jobs-heartbeat" or not abandoned:
                thread.join(timeout=self.heartbeat_interval + 5)
        if self._listener is not None:
            self._listener.join(timeout=5)

    # --- the main loop ------------------------------------------------------------------

    def _loop(self) -> None:
        claiming = True
        while claiming and not self.stopping:
            self._last_loop_at = timezone.now()
            close_old_connections()
            self._reclaim_if_due()
            free = self.concurrency - self._running_count()
            if free > 0:
                limit = free if self.max_jobs is None else min(free, self.max_jobs - self._claimed)
                batch = self._claim(limit)
                if self.once and batch is not None:
                    claiming = False
                if self.max_jobs is not None and self._claimed >= self.max_jobs:
                    claiming = False
                if self.burst and batch == [] and not self._running_count():
                    claiming = False
            if claiming:
                self._wait(self.poll_interval)
        while not self.stopping and self._running_count():
            self._last_loop_at = timezone.now()
            self._wait(self.poll_interval)

    def _claim(self, limit: int) -> list[Attempt] | None:
        """Claim and start up to `limit` jobs; None when the database failed (a burst
        worker must not take that for an empty queue)."""
        if limit <= 0:
            return []
        self._wake.clear()
        try:
            jobs = services.claim_batch(worker_id=self.worker_id, queues=self.queues, limit=limit)
        except DatabaseError:
            logger.exception("Worker %s: claiming failed; trying again.", self.worker_id)
            return None
        attempts = [start_attempt(job) for job in jobs]
        with self._lock:
            for attempt in attempts:
                self._running[attempt.job.pk] = attempt
        self._claimed += len(attempts)
        for attempt in attempts:
            self._work.put(attempt)
        return attempts

    def _reclaim_if_due(self) -> None:
        if time.monotonic() < self._next_reclaim:
            return
        self._next_reclaim = time.monotonic() + self.heartbeat_interval
        try:
            services.reclaim_expired()
        except DatabaseError:
            logger.exception("Worker %s: reclaiming expired leases failed.", self.worker_id)

    def _wait(self, timeout: float) -> None:
        """Until a slot frees, a NOTIFY arrives, a signal comes, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not self.stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._wake.wait(min(remaining, STOP_CHECK_INTERVAL)):
                self._wake.clear()
                return

    def _running_count(self) -> int:
        with self._lock:
            return len(self._running)

    def _drain(self) -> None:
        """After a stop signal: give running jobs the grace period, then release them."""
        if self.stopping:
            logger.info("Worker %s: stop requested; no more claims.", self.worker_id)
        if not self._running_count():
            return
        logger.info(
            "Worker %s stopping: waiting up to %.0fs for %s running job(s).",
            self.worker_id,
            self.grace_period,
            self._running_count(),
        )
        deadline = time.monotonic() + self.grace_period
        while self._running_count() and time.monotonic() < deadline:
            self._last_loop_at = timezone.now()
            self._wake.wait(min(STOP_CHECK_INTERVAL, max(0.0, deadline - time.monotonic())))
            self._wake.clear()
        with self._lock:
            unfinished = list(self._running.values())
        close_old_connections()
        for attempt in unfinished:
            attempt.lease_lost = True  # the handler stops at its next safe point
            try:
                released = services.release(job=attempt.job)
            except DatabaseError:
                logger.exception("Could not release job #%s.", attempt.job.pk)
                continue
            logger.info(
                "Job %s #%s %s after the grace period.",
                attempt.job.job_type,
                attempt.job.pk,
                "released to the queue" if released else "was already finished",
            )

    # --- threads ------------------------------------------------------------------------

    def _job_thread(self) -> None:
        while (attempt := self._work.get()) is not None:
            try:
                self._execute(attempt)
            except BaseException:
                # Not even recording the outcome worked (database gone): the lease expires
                # and another worker takes the job.
                logger.exception(
                    "Job #%s: the worker could not record its outcome.", attempt.job.pk
                )
            finally:
                with self._lock:
                    self._running.pop(attempt.job.pk, None)
                self._wake.set()
                close_old_connections()
        connection.close()

    def _execute(self, attempt: Attempt) -> None:
        job = attempt.job
        started = time.monotonic()
        outcome = run_attempt(attempt)
        duration = time.monotonic() - started
        with self._lock:
            if outcome == services.SUCCEEDED:
                self._succeeded += 1
            elif outcome in (services.FAILED, services.RETRYING):
                self._failed += 1
        level = (
            logging.INFO if outcome in (services.SUCCEEDED, services.CANCELLED) else logging.WARNING
        )
        logger.log(
            level,
            "Job %s #%s attempt %s/%s %s in %.3fs%s",
            job.job_type,
            job.pk,
            job.attempts,
            job.max_attempts,
            outcome,
            duration,
            f": {job.last_error}" if outcome in (services.FAILED, services.RETRYING) else "",
            extra={
                "job_id": job.pk,
                "job_type": job.job_type,
                "attempt": job.attempts,
                "outcome": outcome,
                "duration": round(duration, 3),
                "worker_id": self.worker_id,
            },
        )

    def _heartbeat_thread(self) -> None:
        while not self._threads_stop.wait(self.heartbeat_interval):
            try:
                close_old_connections()
                self._beat()
            except Exception:
                logger.exception("Worker %s: heartbeat failed.", self.worker_id)
        connection.close()

    def _beat(self) -> None:
        with self._lock:
            running = dict(self._running)
        now = timezone.now()
        owned, cancel = services.heartbeat(
            worker_id=self.worker_id,
            attempts={job_id: a.job.fencing_token for job_id, a in running.items()},
            now=now,
        )
        for job_id, attempt in running.items():
            attempt.cancel_requested = attempt.cancel_requested or job_id in cancel
            # Not owned any more: finished a moment ago (then the flag is moot), or taken
            # over by another worker after our lease expired: the handler should stop.
            attempt.lease_lost = attempt.lease_lost or job_id not in owned
        with self._lock:
            succeeded, failed = self._succeeded, self._failed
        WorkerProcess.objects.filter(pk=self.worker_id).update(
            last_seen_at=now,
            last_loop_at=self._last_loop_at,
            current_jobs=sorted(running),
            jobs_succeeded=succeeded,
            jobs_failed=failed,
        )
