"""The worker's job threads and the buffer of claimed attempts they take from.

Each thread has its own database connection and takes attempts only while it has one: the
worker claims for connected threads alone. A thread whose connection was closed and cannot
be opened again gives its attempts back at once. Atomic attempts waiting side by side are
taken as a group and committed together (group commit) while recent handlers are short.
What threads finish is collected by the worker's main loop: plain successes (`pending`, to
be recorded in its next batch), recorded outcomes (`finished`), attempts to give back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, close_old_connections, connection

from .execution import PENDING, Attempt, run_atomic_group, run_plain
from .services.attempts import LOST

logger = logging.getLogger("jobs.worker")

STOP_CHECK_INTERVAL = 0.1
CONNECT_RETRY_DELAY = 2.0


class JobThreads:
    def __init__(
        self,
        *,
        concurrency: int,
        worker_id: str,
        lock: threading.Lock,
        wake: threading.Event,
        stop: threading.Event,
        group_limit: Callable[[], int],
        upkeep_interval: float,
    ) -> None:
        self._concurrency = concurrency
        self._worker_id = worker_id
        self._lock = lock  # the worker's: guards the lists and counters below
        self._wake = wake  # set whenever the main loop has something to collect
        self._stop = stop
        self._group_limit = group_limit  # how many atomic attempts one transaction takes
        self._upkeep_interval = upkeep_interval
        # Attempts for the threads; None wakes a waiting thread to look at `stop` (wake_all).
        self._ready: queue.SimpleQueue[Attempt | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self.unstarted = 0  # attempts in the buffer
        self.last_take = time.monotonic()  # when a thread last took one
        self.connected = 0  # threads with a database connection
        # Set once every thread has tried its first connection, so that the first claim is
        # sized for all of them (not for whichever thread happened to connect first).
        self.settled = threading.Event()
        self._first_tries = 0
        self.pending: list[Attempt] = []  # plain successes, recorded with the next batch
        self.finished: list[tuple[Attempt, str]] = []  # recorded outcomes, to report
        self.give_back: list[Attempt] = []  # a thread could not run them (no connection)

    def start(self) -> None:
        for number in range(self._concurrency):
            thread = threading.Thread(
                target=self._thread_main, name=f"jobs-worker-{number}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def wake_all(self) -> None:
        """After `stop` is set: wake every thread that waits for an attempt now. Seen on a
        loaded machine: a thread in a timed `get` that did not come back for seconds."""
        for _ in self._threads:
            self._ready.put(None)

    def join(self, timeout: float) -> int:
        """Wait up to `timeout` for the threads to end (after `stop` is set); returns how
        many are still running (inside a handler that ignored the stop)."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        return sum(1 for thread in self._threads if thread.is_alive())

    def hand(self, claimed: list[Attempt]) -> None:
        """New attempts for the threads (the caller holds no lock)."""
        with self._lock:
            if not self.unstarted:
                self.last_take = time.monotonic()
            self.unstarted += len(claimed)
        for attempt in claimed:
            self._ready.put(attempt)

    def _thread_main(self) -> None:
        connected = tried = False
        carried: Attempt | None = None
        next_upkeep = time.monotonic() + self._upkeep_interval
        try:
            while not self._stop.is_set():
                if not connected:
                    connected = self._connect()
                    if not tried:
                        tried = True
                        self._note_first_try()
                    if not connected:
                        self._stop.wait(CONNECT_RETRY_DELAY)
                        continue
                group, carried = self._take(carried)
                if not group:
                    continue
                if connection.connection is None and not self._reconnect(group, carried):
                    connected, carried = False, None
                    continue
                self._run(group)
                if time.monotonic() >= next_upkeep:  # CONN_MAX_AGE, not a check per job
                    next_upkeep = time.monotonic() + self._upkeep_interval
                    close_old_connections()
        finally:
            if connected:
                with self._lock:
                    self.connected -= 1
            connection.close()

    def _note_first_try(self) -> None:
        with self._lock:
            self._first_tries += 1
            if self._first_tries >= self._concurrency:
                self.settled.set()

    def _connect(self) -> bool:
        """Open this thread's connection; only then does the worker claim for it."""
        try:
            connection.ensure_connection()
        except DatabaseError as exc:
            logger.warning(
                "Worker %s: a job thread cannot connect (%s); it takes no jobs until it can.",
                self._worker_id,
                str(exc).strip(),
            )
            return False
        with self._lock:
            self.connected += 1
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
                self.connected -= 1
                self.give_back.extend([*group, carried] if carried else group)
            self._wake.set()
            return False

    def _take(self, carried: Attempt | None) -> tuple[list[Attempt], Attempt | None]:
        """The next attempt, or a group of the atomic ones waiting in the buffer (group
        commit), as many as `group_limit()` allows. Returns (group, an attempt taken while
        grouping that is not atomic: the next to run)."""
        first = carried or self._get()
        if first is None:
            return [], None
        group, rest = [first], None
        limit = self._group_limit() if first.atomic else 1
        while len(group) < limit and (following := self._get(block=False)) is not None:
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
                attempt = None
            if attempt is None:
                if not block or self._stop.is_set():
                    return None
                continue
            with self._lock:
                self.unstarted -= 1
                self.last_take = time.monotonic()
            return attempt

    def take_unstarted(self) -> list[Attempt]:
        """Empty the buffer (to give its attempts back)."""
        taken = []
        while True:
            try:
                attempt = self._ready.get_nowait()
            except queue.Empty:
                break
            if attempt is not None:
                taken.append(attempt)
        with self._lock:
            self.unstarted -= len(taken)
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
                    self.pending.append(attempt)
                else:
                    self.finished.append((attempt, outcome))
        self._wake.set()
