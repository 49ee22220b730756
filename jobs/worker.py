"""The worker behind `manage.py runworker` (shaped like django-tasks' `db_worker`).

Threads:
- the main loop (here) records the successes of plain handlers and claims the next batch in
  one statement (`complete_and_claim`), reclaims expired leases, and reports every finished
  attempt (`reporting`: log line, counters, the `attempts_finished` signal);
- `concurrency` job threads (`pool`), each with its own database connection, run attempts
  from the local buffer of claimed jobs; atomic ones are grouped (group commit);
- the heartbeat thread (`presence`) extends leases, reads cancel requests and refreshes this
  worker's row, including when the main loop last went round;
- on PostgreSQL a listener thread (`wakeup`) LISTENs and wakes the main loop.

Capacity: the worker holds at most one claimed job per connected thread, or
`PREFETCH_FACTOR` per thread while recent handlers are short (under `PREFETCH_MAX_SECONDS`),
so a slow job never keeps fast ones waiting behind it; if no thread started a buffered job
for `PREFETCH_MAX_WAIT`, the buffer goes back to the queue. It claims when half that
capacity is free (or nothing waits locally), so batches stay large under load and a lone
job starts at once.

Stopping: the first SIGTERM/SIGINT stops claiming and gives back the jobs that have not
started; running jobs get the grace period to finish, then are released back to `queued`
without using up an attempt; exit code 0. A second signal exits at once; the leases of its
jobs then expire and other workers take them.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

from django.db import DatabaseError, close_old_connections, connection
from django.db.backends.signals import connection_created

from ats.tenant_scope import NO_TENANT, process_scope

from .conf import queue_settings
from .execution import Attempt, start_attempt
from .models import JobStatus
from .pool import STOP_CHECK_INTERVAL, JobThreads
from .presence import Heartbeat, deregister, register
from .reporting import Reporter
from .services import attempts
from .services.attempts import LOST
from .wakeup import Listener

logger = logging.getLogger(__name__)

# How long the start waits for the heartbeat's and listener's connections and the job threads'.
LISTENER_READY_TIMEOUT = 5.0
# Prefetch and group commit only while recent handlers are this short (an EWMA of their
# durations), so that a long job never holds short ones in this worker's buffer.
PREFETCH_MAX_SECONDS = 0.05
# Group commit: at most this many atomic attempts per transaction, and no more than fit in
# the budget at the recent handler duration.
GROUP_MAX_JOBS = 32
GROUP_BUDGET_SECONDS = 0.02
# While jobs are short the worker holds this many claimed jobs per thread, so the buffer
# outlasts a claim's round trip; a prefetched job that no thread started within
# PREFETCH_MAX_WAIT goes back to the queue.
PREFETCH_FACTOR = 4
PREFETCH_MAX_WAIT = 1.0
# After the grace period and the release, how long job threads get to notice and end.
THREAD_EXIT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY_POSTGRESQL = 8


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"


def default_concurrency() -> int:
    """8 job threads on PostgreSQL; 1 on SQLite, which runs one writer at a time anyway."""
    return DEFAULT_CONCURRENCY_POSTGRESQL if connection.vendor == "postgresql" else 1


class Worker:
    def __init__(
        self,
        *,
        queues: Sequence[str] | None = None,
        concurrency: int | None = None,
        burst: bool = False,
        once: bool = False,
        max_jobs: int | None = None,
        poll_interval: float | None = None,
        worker_id: str | None = None,
        grace_period: float | None = None,
    ) -> None:
        if concurrency is not None and concurrency < 1:
            raise ValueError("concurrency must be at least 1.")
        if burst and once:
            raise ValueError("burst and once exclude each other.")
        conf = queue_settings()
        self.queues = sorted(set(queues)) if queues else None
        self.concurrency = concurrency or default_concurrency()
        self.burst = burst
        self.once = once
        self.max_jobs = max_jobs
        self.poll_interval = conf.poll_interval if poll_interval is None else poll_interval
        self.heartbeat_interval = conf.heartbeat_interval
        self.lease_timeout = conf.lease_timeout
        self.grace_period = conf.shutdown_grace if grace_period is None else grace_period
        self.worker_id = worker_id or default_worker_id()
        # Job threads still running a handler when the worker stopped (see `run`).
        self.abandoned_threads = 0

        self._lock = threading.Lock()
        self._claimed: dict[int, Attempt] = {}  # claimed and not yet reported
        self._wake = threading.Event()
        self._reporter = Reporter(worker_id=self.worker_id, sender=type(self))
        self._threads_stop = threading.Event()
        self._heartbeat = Heartbeat(self)
        self._pool = JobThreads(
            concurrency=self.concurrency,
            worker_id=self.worker_id,
            lock=self._lock,
            wake=self._wake,
            stop=self._threads_stop,
            group_limit=self._group_limit,
            upkeep_interval=self.heartbeat_interval,
        )
        self._listener: Listener | None = None
        self._signals = 0
        self._claimed_total = 0
        self._last_loop = time.monotonic()
        self._loop_thread: threading.Thread | None = None
        self._next_reclaim = 0.0
        self._next_maintenance = 0.0

    # --- lifecycle ----------------------------------------------------------------------

    def run(self) -> int:
        """Work until done (burst, once, max_jobs) or stopped by a signal; returns the exit
        code (0).

        Job threads that are still inside a handler when it returns (a handler that ignores
        `raise_if_cancelled()`) are counted in `abandoned_threads`: the process should then
        end with `os._exit`, as `runworker` does, rather than finalize the interpreter under
        a thread that may be inside a C call."""
        self._loop_thread = threading.current_thread()
        # The queue's own statements (claims, heartbeats, completions) see no tenant's rows
        # and pay nothing for row-level security; each handler runs in its job's tenant.
        with process_scope(NO_TENANT):
            return self._run()

    def _run(self) -> int:
        connection_created.connect(self._configure_session)
        try:
            register(
                worker_id=self.worker_id,
                queues=self.queues,
                concurrency=self.concurrency,
                lease_timeout=self.lease_timeout,
            )
        except BaseException:
            connection_created.disconnect(self._configure_session)
            raise
        previous = self._install_signal_handlers()
        try:
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
            finally:
                # Also after an unexpected error: nothing claimed may stay `running`.
                self._drain()
        finally:
            self._stop_threads()
            connection_created.disconnect(self._configure_session)
            deregister(self.worker_id, self._reporter)
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        logger.info(
            "Worker %s stopped: %s succeeded, %s failed.",
            self.worker_id,
            self._reporter.succeeded,
            self._reporter.failed,
        )
        return 0

    def request_stop(self, signum: int, frame: FrameType | None = None) -> None:
        """Signal handler: the first signal stops claiming, the second exits at once."""
        self._signals += 1
        if self._signals > 1:
            os.write(2, b"Second signal: exiting now; running jobs' leases will expire.\n")
            os._exit(128 + signum)
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._signals > 0

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, self.request_stop)
        return previous

    def _configure_session(self, sender: Any, connection: Any, **kwargs: Any) -> None:
        """Every connection of the worker: a session left idle inside a transaction (a
        stopped worker's atomic handler) ends after the lease timeout, so its row locks
        cannot keep the reclaimer out for ever.

        The queue's own bookkeeping (the main loop's claims and completions, heartbeats)
        commits asynchronously: the loop does not wait for a WAL flush per batch. A server
        crash can lose the last fraction of a second of it; each lost change is redone (a
        claim never happened, a completion runs the plain job again: at least once, as
        promised). Job threads, where handlers write, keep `synchronous_commit`."""
        if connection.vendor != "postgresql":
            return
        current = threading.current_thread()
        bookkeeping = current is self._loop_thread or current.name == "jobs-heartbeat"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('idle_in_transaction_session_timeout', %s, false), "
                "set_config('synchronous_commit', %s, false)",
                [str(int(self.lease_timeout * 1000)), "off" if bookkeeping else "on"],
            )

    def _start_threads(self) -> None:
        """The heartbeat and the listener connect first: where connections are scarce, a
        job thread goes without (and the worker claims less), never the leases or the
        wake-ups."""
        self._heartbeat.start()
        self._heartbeat.connected.wait(LISTENER_READY_TIMEOUT)
        if connection.vendor == "postgresql":
            self._listener = Listener(queues=self.queues, wake=self._wake, stop=self._threads_stop)
            self._listener.start()
            # Jobs enqueued from now on wake us; anything earlier is found by the first claim.
            self._listener.listening.wait(LISTENER_READY_TIMEOUT)
        self._pool.start()
        self._pool.settled.wait(LISTENER_READY_TIMEOUT)

    def _stop_threads(self) -> None:
        self._threads_stop.set()
        self._pool.wake_all()
        self.abandoned_threads = self._pool.join(THREAD_EXIT_TIMEOUT)
        if self.abandoned_threads:
            logger.warning(
                "Worker %s: %s job thread(s) still inside a handler; leaving them.",
                self.worker_id,
                self.abandoned_threads,
            )
        self._heartbeat.join(timeout=self.heartbeat_interval + 5)
        if self._listener is not None:
            self._listener.join(timeout=5)

    # --- the main loop ------------------------------------------------------------------

    def _loop(self) -> None:
        claiming = True
        while not self.stopping:
            self._last_loop = time.monotonic()
            self._maintain()
            want = self._claim_size() if claiming else 0
            claimed = self._complete_and_claim(want)
            if claimed is not None and want:
                if self.once:
                    claiming = False
                if self.max_jobs is not None and self._claimed_total >= self.max_jobs:
                    claiming = False
                if self.burst and not claimed and not self._outstanding():
                    claiming = False
            if not claiming and not self._outstanding():
                return
            self._wait(self.poll_interval)

    def _capacity(self) -> int:
        """How many claimed jobs this worker may hold: a job per connected thread, and as
        many again (prefetch) while recent handlers are short."""
        with self._lock:
            connected = self._pool.connected
        if self.once or not self._reporter.jobs_are_short(PREFETCH_MAX_SECONDS):
            return connected
        return PREFETCH_FACTOR * connected

    def _group_limit(self) -> int:
        """How many atomic attempts share a transaction: as many as fit in
        `GROUP_BUDGET_SECONDS` of recent handler time (at most `GROUP_MAX_JOBS`), so a
        group never keeps its members' effects waiting long; 1 while handlers are long or
        unknown."""
        recent = self._reporter.recent_duration
        if recent is None or recent > GROUP_BUDGET_SECONDS:
            return 1
        return max(1, min(GROUP_MAX_JOBS, int(GROUP_BUDGET_SECONDS / max(recent, 1e-6))))

    def _claim_size(self) -> int:
        capacity = self._capacity()
        with self._lock:
            # Finished attempts are forgotten with this batch: their slots are free.
            held = len(self._claimed) - len(self._pool.pending) - len(self._pool.finished)
            waiting = self._pool.unstarted
        free = capacity - held
        if free <= 0 or (waiting and free < max(1, capacity // 2)):
            return 0
        if self.max_jobs is not None:
            free = min(free, self.max_jobs - self._claimed_total)
        return max(0, free)

    def _outstanding(self) -> bool:
        with self._lock:
            return bool(self._claimed or self._pool.finished or self._pool.give_back)

    def _complete_and_claim(self, limit: int) -> list[Attempt] | None:
        """Record pending successes, claim up to `limit` jobs and hand them to the threads;
        report what finished. None when the database failed (a burst worker must not take
        that for an empty queue)."""
        with self._lock:
            pool = self._pool
            pending, pool.pending = pool.pending, []
            give_back, pool.give_back = pool.give_back, []
            stuck = pool.unstarted and time.monotonic() - pool.last_take > PREFETCH_MAX_WAIT
        if stuck:  # every thread is busy with a slow job: let other workers take the rest
            give_back.extend(pool.take_unstarted())
        self._wake.clear()
        for attempt in give_back:
            self._release(attempt, "given back to the queue before it started")
        claimed: list[Attempt] | None = []
        if pending or limit:
            try:
                done, jobs = attempts.complete_and_claim(
                    worker_id=self.worker_id,
                    finished=[(a.job, a.result) for a in pending],
                    limit=limit,
                    queues=self.queues,
                )
            except DatabaseError:
                logger.exception("Worker %s: claiming failed; trying again.", self.worker_id)
                close_old_connections()
                with self._lock:  # recorded with the next batch
                    pool.pending[:0] = pending
                return None
            recorded = []
            for attempt in pending:
                if attempt.job.pk in done:
                    attempt.job.status = JobStatus.SUCCEEDED
                    recorded.append((attempt, JobStatus.SUCCEEDED))
                else:
                    logger.warning("Job #%s: the attempt lost its lease.", attempt.job.pk)
                    recorded.append((attempt, LOST))
            claimed = [start_attempt(job) for job in jobs]
            self._claimed_total += len(claimed)
            with self._lock:
                pool.finished.extend(recorded)
                for attempt in claimed:
                    self._claimed[attempt.job.pk] = attempt
            pool.hand(claimed)
        with self._lock:
            finished, pool.finished = pool.finished, []
            for attempt, _ in finished:
                self._claimed.pop(attempt.job.pk, None)
        self._reporter.report(finished)
        return claimed

    def _maintain(self) -> None:
        """Connection upkeep and lease reclaim, each once per heartbeat interval (never per
        job: `close_old_connections()` costs a health-check query on the next use)."""
        now = time.monotonic()
        if now >= self._next_maintenance:
            self._next_maintenance = now + self.heartbeat_interval
            close_old_connections()
        if now >= self._next_reclaim:
            self._next_reclaim = now + self.heartbeat_interval
            try:
                attempts.reclaim_expired()
            except DatabaseError:
                logger.exception("Worker %s: reclaiming expired leases failed.", self.worker_id)
                close_old_connections()

    def _wait(self, timeout: float) -> None:
        """Until a job finishes, a NOTIFY arrives, a signal comes, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while not self.stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._wake.wait(min(remaining, STOP_CHECK_INTERVAL)):
                return

    def _drain(self) -> None:
        """After the loop: give back jobs that never started at once, give running ones the
        grace period (recording what finishes), then release the rest."""
        if self.stopping:
            logger.info("Worker %s: stop requested; no more claims.", self.worker_id)
        for attempt in self._pool.take_unstarted():
            self._release(attempt, "given back: the worker is stopping")
        deadline = time.monotonic() + self.grace_period
        if self._outstanding():
            logger.info(
                "Worker %s stopping: waiting up to %.0fs for %s running job(s).",
                self.worker_id,
                self.grace_period,
                len(self._claimed),
            )
        while self._outstanding() and time.monotonic() < deadline:
            self._last_loop = time.monotonic()
            self._complete_and_claim(0)
            if self._outstanding():
                self._wake.wait(min(STOP_CHECK_INTERVAL, max(0.0, deadline - time.monotonic())))
        with self._lock:
            unfinished = [a for a in self._claimed.values() if a not in self._pool.pending]
        for attempt in unfinished:
            attempt.lease_lost = True  # the handler stops at its next safe point
            self._release(attempt, "released to the queue after the grace period")
        self._complete_and_claim(0)

    def _release(self, attempt: Attempt, why: str) -> None:
        try:
            released = attempts.release(job=attempt.job)
        except DatabaseError:
            logger.exception("Could not release job #%s.", attempt.job.pk)
            close_old_connections()
            return
        with self._lock:
            self._claimed.pop(attempt.job.pk, None)
        logger.info(
            "Job %s #%s %s",
            attempt.job.job_type,
            attempt.job.pk,
            why if released else "was already finished",
        )
