"""Waking idle workers: `NOTIFY` on enqueue, `LISTEN` in the worker (PostgreSQL only).

`notify()` runs in the enqueuing transaction, so PostgreSQL delivers it at commit (and drops
it on rollback); it is sent once per queue and transaction, not once per job. Polling
remains the fallback, and the only mechanism on SQLite.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection

from django.db import connection, transaction

from .conf import NOTIFY_CHANNEL

logger = logging.getLogger(__name__)

# How often the listener looks up from its socket to see whether it should stop.
LISTEN_SLICE = 0.25
RECONNECT_DELAY = 2.0


class _Notified:
    """An `on_commit` no-op that marks "this transaction already notified `queue`": Django
    drops it at commit and with a rolled-back savepoint, exactly when PostgreSQL delivers or
    drops the NOTIFY sent beside it."""

    def __init__(self, queue: str) -> None:
        self.queue = queue

    def __call__(self) -> None:
        pass


def notify(queue: str) -> None:
    """Tell listening workers that `queue` has a ready job (at commit): one NOTIFY per queue
    and transaction, however many jobs it enqueues."""
    if connection.vendor != "postgresql":
        return
    in_transaction = connection.in_atomic_block
    if in_transaction and any(
        isinstance(func, _Notified) and func.queue == queue
        for _, func, _ in connection.run_on_commit
    ):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, queue])
    if in_transaction:
        transaction.on_commit(_Notified(queue))


class Listener(threading.Thread):
    """A daemon thread with its own psycopg connection that LISTENs and sets `wake`
    whenever a job of one of `queues` (None: any) is enqueued."""

    def __init__(
        self,
        *,
        queues: Collection[str] | None,
        wake: threading.Event,
        stop: threading.Event,
    ) -> None:
        super().__init__(name="jobs-listener", daemon=True)
        self.queues = set(queues) if queues is not None else None
        self.wake = wake
        self.stop = stop
        self.listening = threading.Event()

    def run(self) -> None:
        import psycopg

        # Django's own parameters (host, user, options, adapters), not its connection:
        # a LISTEN needs a session of its own, in autocommit.
        params = connection.get_connection_params()
        while not self.stop.is_set():
            try:
                with psycopg.connect(**params, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.listening.set()
                    # Anything enqueued while we were not listening must not wait a poll.
                    self.wake.set()
                    while not self.stop.is_set():
                        for notification in conn.notifies(timeout=LISTEN_SLICE):
                            if self.queues is None or notification.payload in self.queues:
                                self.wake.set()
            except psycopg.Error as exc:
                self.listening.clear()
                logger.warning(
                    "LISTEN connection lost (%s); polling until it is back.",
                    str(exc).strip(),
                )
                self.stop.wait(RECONNECT_DELAY)
