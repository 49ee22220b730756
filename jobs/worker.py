"""The worker behind `manage.py runworker` (shaped like django-tasks' `db_worker`).

Threads:
- the main loop claims batches and records the successes of plain handlers, both in one
  round trip (`complete_and_claim`), reclaims expired leases, and reports every finished
  attempt (log line, counters, the `attempts_finished` signal);
- `concurrency` job threads, each with its own database connection, run attempts from the
  local buffer of claimed jobs; atomic ones are grouped into one transaction (group commit);
- the heartbeat thread extends the leases of claimed attempts, reads their cancel requests,
  and refreshes this worker's row, including when the main loop last went round (so a worker
  whose loop is stuck is not reported live);
- on PostgreSQL a listener thread LISTENs and wakes the main loop.

Capacity: the worker holds at most `connected threads + prefetch` claimed jobs, the prefetch
being as many again while recent handlers are short (under `PREFETCH_MAX_SECONDS`) and none
when they are long, so a slow job never keeps fast ones waiting behind it. It claims when
half that capacity is free (or nothing is waiting locally), so batches stay large under load
and a lone job starts at once. A thread without a database connection takes no job; one
that loses its connection gives its job back at once.

Stopping: the first SIGTERM/SIGINT stops claiming and gives back the jobs that have not
started; running jobs get the grace period to finish, then are released back to `queued`
without using up an attempt; exit code 0. A second signal exits at once; the leases of its
jobs then expire and other workers take them.
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
from datetime import timedelta
from types import FrameType
from typing import Any

from django.db import DatabaseError, close_old_connections, connection
from django.db.backends.signals import connection_created
from django.db.models.functions import Now

from .conf import queue_settings
from .errors import WorkerStartupError
from .execution import PENDING, Attempt, run_atomic_group, run_plain, start_attempt
from .models import JobStatus, WorkerProcess
from .services import attempts
from .services.attempts import LOST, RETRYING
from .signals import AttemptRecord, attempts_finished
from .wakeup import Listener

logger = logging.getLogger(__name__)

# The main loop looks at its stop flag at least this often while it waits (the signal
# handler only sets a flag: taking locks in a signal handler can deadlock).
STOP_CHECK_INTERVAL = 0.1
LISTENER_READY_TIMEOUT = 5.0
CONNECT_RETRY_DELAY = 2.0
# Prefetch and group commit only while recent handlers are this short (an EWMA of their
# durations), so that a long job never holds short ones in this worker's buffer.
PREFETCH_MAX_SECONDS = 0.05
GROUP_MAX_SECONDS = 0.02
GROUP_MAX_JOBS = 16
# While jobs are short the worker holds this many claimed jobs per thread, so the buffer
# outlasts a claim's round trip; a prefetched job that no thread started within
# PREFETCH_MAX_WAIT goes back to the queue.
PREFETCH_FACTOR = 4
PREFETCH_MAX_WAIT = 1.0
# After the grace period and the release, how long job threads get to notice and end.
THREAD_EXIT_TIMEOUT = 5.0
DEFAULT_CONCURRENCY_POSTGRESQL = 8

MSG_DATABASE_UNREACHABLE = "The worker cannot reach the database ({name}): {error}"
MSG_TABLES_MISSING = (
    "The jobs tables are missing or out of date ({error}). Run `manage.py migrate` first."
)
MSG_WORKER_ID_IN_USE = "Worker id {worker_id!r} is in use by a live worker (pid {pid} on {host})."


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
        self._claimed: dict[int, Attempt] = {}  # claimed and not yet recorded
        self._ready: queue.SimpleQueue[Attempt] = queue.SimpleQueue()  # waiting for a thread
        self._unstarted = 0  # attempts in `_ready`
        self._last_take = time.monotonic()  # when a thread last took one
        self._pending: list[Attempt] = []  # plain successes, recorded with the next batch
        self._finished: list[tuple[Attempt, str]] = []  # recorded, to report
        self._give_back: list[Attempt] = []  # a thread could not run them (no connection)
        self._connected = 0
        # An EWMA of handler durations; None (unknown) counts as long: no prefetch and no
        # group commit until short jobs have been seen.
        self._recent_duration: float | None = None
        self._wake = threading.Event()
        self._heartbeat_connected = threading.Event()
        self._threads_stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener: Listener | None = None
        self._signals = 0
        self._claimed_total = 0
        self._succeeded = 0
        self._failed = 0
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
        connection_created.connect(self._configure_session)
        try:
            self._register()
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

    def _register(self) -> None:
        try:
            connection.ensure_connection()
        except DatabaseError as exc:
            raise WorkerStartupError(
                MSG_DATABASE_UNREACHABLE.format(
                    name=connection.settings_dict.get("NAME"), error=str(exc).strip()
                )
            ) from exc
        try:
            other = WorkerProcess.objects.live(self.lease_timeout).filter(pk=self.worker_id).first()
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

    def _deregister(self) -> None:
        try:
            close_old_connections()
            WorkerProcess.objects.filter(pk=self.worker_id).update(
                stopped_at=Now(),
                current_jobs=[],
                jobs_succeeded=self._succeeded,
                jobs_failed=self._failed,
            )
        except DatabaseError:
            logger.exception("Worker %s: could not record its stop.", self.worker_id)

    def _start_threads(self) -> None:
        """The heartbeat and the listener connect first: where connections are scarce, a
        job thread goes without (and the worker claims less), never the leases or the
        wake-ups."""
        heartbeat = threading.Thread(
            target=self._heartbeat_thread, name="jobs-heartbeat", daemon=True
        )
        self._threads.append(heartbeat)
        heartbeat.start()
        self._heartbeat_connected.wait(LISTENER_READY_TIMEOUT)
        if connection.vendor == "postgresql":
            self._listener = Listener(queues=self.queues, wake=self._wake, stop=self._threads_stop)
            self._listener.start()
            # Jobs enqueued from now on wake us; anything earlier is found by the first claim.
            self._listener.listening.wait(LISTENER_READY_TIMEOUT)
        for number in range(self.concurrency):
            thread = threading.Thread(
                target=self._job_thread, name=f"jobs-worker-{number}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _stop_threads(self) -> None:
        self._threads_stop.set()
        deadline = time.monotonic() + THREAD_EXIT_TIMEOUT
        for thread in self._threads:
            if thread.name == "jobs-heartbeat":
                thread.join(timeout=self.heartbeat_interval + 5)
            else:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self.abandoned_threads = sum(
            1 for t in self._threads if t.is_alive() and t.name != "jobs-heartbeat"
        )
        if self.abandoned_threads:
            logger.warning(
                "Worker %s: %s job thread(s) still inside a handler; leaving them.",
                self.worker_id,
                self.abandoned_threads,
            )
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
            connected = self._connected
        if self.once or not self._jobs_are_short(PREFETCH_MAX_SECONDS):
            return connected
        return PREFETCH_FACTOR * connected

    def _jobs_are_short(self, limit: float) -> bool:
        return self._recent_duration is not None and self._recent_duration <= limit

    def _claim_size(self) -> int:
        capacity = self._capacity()
        with self._lock:
            held = len(self._claimed) - len(self._pending)
            waiting = self._unstarted
        free = capacity - held
        if free <= 0 or (waiting and free < max(1, capacity // 2)):
            return 0
        if self.max_jobs is not None:
            free = min(free, self.max_jobs - self._claimed_total)
        return max(0, free)

    def _outstanding(self) -> bool:
        with self._lock:
            return bool(self._claimed or self._finished or self._give_back)

    def _complete_and_claim(self, limit: int) -> list[Attempt] | None:
        """Record pending successes, claim up to `limit` jobs and hand them to the threads;
        report what finished. None when the database failed (a burst worker must not take
        that for an empty queue)."""
        with self._lock:
            pending, self._pending = self._pending, []
            give_back, self._give_back = self._give_back, []
            stuck = self._unstarted and time.monotonic() - self._last_take > PREFETCH_MAX_WAIT
        if stuck:  # every thread is busy with a slow job: let other workers take the rest
            give_back.extend(self._take_unstarted())
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
                    self._pending[:0] = pending
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
                self._finished.extend(recorded)
                for attempt in claimed:
                    self._claimed[attempt.job.pk] = attempt
                if not self._unstarted:
                    self._last_take = time.monotonic()
                self._unstarted += len(claimed)
            for attempt in claimed:
                self._ready.put(attempt)
        self._report()
        return claimed

    def _report(self) -> None:
        """Forget finished attempts; one log line each, counters, and the signal."""
        with self._lock:
            finished, self._finished = self._finished, []
            for attempt, _ in finished:
                self._claimed.pop(attempt.job.pk, None)
        if not finished:
            return
        records = []
        send = attempts_finished.has_listeners()
        for attempt, outcome in finished:
            if outcome == JobStatus.SUCCEEDED:
                self._succeeded += 1
            elif outcome == JobStatus.FAILED:
                self._failed += 1
            duration = attempt.duration
            if duration is not None:
                recent = duration if self._recent_duration is None else self._recent_duration
                self._recent_duration = recent + 0.1 * (duration - recent)
            self._log(attempt, outcome, duration)
            if send:
                records.append(self._record(attempt, outcome, duration))
        if send:
            attempts_finished.send(type(self), records=records)

    def _record(self, attempt: Attempt, outcome: str, duration: float | None) -> AttemptRecord:
        job = attempt.job
        wait = (job.started_at - job.run_after).total_seconds() if job.started_at else 0.0
        return AttemptRecord(
            job_id=job.pk,
            job_type=job.job_type,
            queue=job.queue,
            tenant_id=job.tenant_id,
            attempt=job.attempts,
            outcome=outcome,
            duration=duration,
            wait=max(0.0, wait),
            worker_id=self.worker_id,
        )

    def _log(self, attempt: Attempt, outcome: str, duration: float | None) -> None:
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
            "Job %s #%s attempt %s/%s %s in %.3fs%s",
            (
                job.job_type,
                job.pk,
                job.attempts,
                job.max_attempts,
                outcome,
                duration or 0.0,
                f": {job.last_error}" if failed else "",
            ),
            None,
            func="_report",
            extra={
                "job_id": job.pk,
                "job_type": job.job_type,
                "attempt": job.attempts,
                "outcome": outcome,
                "duration": round(duration or 0.0, 3),
                "worker_id": self.worker_id,
            },
        )
        logger.handle(record)

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
        for attempt in self._take_unstarted():
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
            unfinished = [a for a in self._claimed.values() if a not in self._pending]
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

    # --- job threads --------------------------------------------------------------------

    def _job_thread(self) -> None:
        connected = False
        carried: Attempt | None = None
        next_upkeep = time.monotonic() + self.heartbeat_interval
        try:
            while not self._threads_stop.is_set():
                if not connected:
                    connected = self._connect()
                    if not connected:
                        self._threads_stop.wait(CONNECT_RETRY_DELAY)
                        continue
                group, carried = self._take(carried)
                if not group:
                    continue
                if connection.connection is None and not self._reconnect(group, carried):
                    connected, carried = False, None
                    continue
                self._run(group)
                if time.monotonic() >= next_upkeep:  # CONN_MAX_AGE, not a check per job
                    next_upkeep = time.monotonic() + self.heartbeat_interval
                    close_old_connections()
        finally:
            if connected:
                with self._lock:
                    self._connected -= 1
            connection.close()

    def _connect(self) -> bool:
        """Open this thread's connection; only then does the worker claim for it."""
        try:
            connection.ensure_connection()
        except DatabaseError as exc:
            logger.warning(
                "Worker %s: a job thread cannot connect (%s); it takes no jobs until it can.",
                self.worker_id,
                str(exc).strip(),
            )
            return False
        with self._lock:
            self._connected += 1
        self._wake.set()
        return True

    def _reconnect(self, group: list[Attempt], carried: Attempt | None) -> bool:
        """The connection was closed (an error, its age): open it again, or give the jobs
        back at once and stop counting this thread."""
        try:
            connection.ensure_connection()
            return True
        except DatabaseError:
            with self._lock:
                self._connected -= 1
                self._give_back.extend([*group, carried] if carried else group)
            self._wake.set()
            return False

    def _take(self, carried: Attempt | None) -> tuple[list[Attempt], Attempt | None]:
        """The next attempt, or a group of atomic ones (group commit) while recent handlers
        are short, at most its fair share of the buffer. Returns (group, an attempt taken
        while grouping that is not atomic: the next to run)."""
        first = carried or self._get()
        if first is None:
            return [], None
        group, rest = [first], None
        if first.atomic and self._jobs_are_short(GROUP_MAX_SECONDS):
            with self._lock:
                share = min(GROUP_MAX_JOBS, -(-self._unstarted // self.concurrency))
            while len(group) <= share and (following := self._get(block=False)) is not None:
                if not following.atomic:
                    rest = following
                    break
                group.append(following)
        return group, rest

    def _get(self, *, block: bool = True) -> Attempt | None:
        while True:
            try:
                attempt = self._ready.get(block, STOP_CHECK_INTERVAL)
            except queue.Empty:
                if not block or self._threads_stop.is_set():
                    return None
                continue
            with self._lock:
                self._unstarted -= 1
                self._last_take = time.monotonic()
            return attempt

    def _take_unstarted(self) -> list[Attempt]:
        """Empty the buffer (to give its attempts back)."""
        taken = []
        while True:
            try:
                taken.append(self._ready.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            self._unstarted -= len(taken)
        return taken

    def _run(self, group: list[Attempt]) -> None:
        try:
            outcomes = run_atomic_group(group) if group[0].atomic else [run_plain(group[0])]
        except Exception:
            # Not even recording the outcome worked (database gone): the lease expires and
            # another worker takes the job.
            logger.exception(
                "Job(s) %s: the worker could not record the outcome.",
                ", ".join(f"#{a.job.pk}" for a in group),
            )
            close_old_connections()
            outcomes = [LOST] * len(group)
        with self._lock:
            for attempt, outcome in zip(group, outcomes, strict=True):
                if outcome == PENDING:
                    self._pending.append(attempt)
                else:
                    self._finished.append((attempt, outcome))
        self._wake.set()

    # --- heartbeat ----------------------------------------------------------------------

    def _heartbeat_thread(self) -> None:
        try:
            connection.ensure_connection()
        except DatabaseError:
            logger.exception("Worker %s: the heartbeat cannot connect yet.", self.worker_id)
        self._heartbeat_connected.set()
        while not self._threads_stop.wait(self.heartbeat_interval):
            try:
                close_old_connections()
                self._beat()
            except Exception:
                logger.exception("Worker %s: heartbeat failed.", self.worker_id)
        connection.close()

    def _beat(self) -> None:
        with self._lock:
            claimed = dict(self._claimed)
            succeeded, failed = self._succeeded, self._failed
        owned, cancel = attempts.heartbeat(
            worker_id=self.worker_id,
            attempts={job_id: a.job.fencing_token for job_id, a in claimed.items()},
        )
        for job_id, attempt in claimed.items():
            attempt.cancel_requested = attempt.cancel_requested or job_id in cancel
            # Not owned any more: finished a moment ago (then the flag is moot), or taken
            # over by another worker after our lease expired: the handler should stop.
            attempt.lease_lost = attempt.lease_lost or job_id not in owned
        loop_age = max(0.0, time.monotonic() - self._last_loop)
        WorkerProcess.objects.filter(pk=self.worker_id).update(
            last_seen_at=Now(),
            last_loop_at=Now() - timedelta(seconds=loop_age),
            current_jobs=sorted(claimed),
            jobs_succeeded=succeeded,
            jobs_failed=failed,
        )
