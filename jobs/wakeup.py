"""Waking idle workers: `NOTIFY` on enqueue, `LISTEN` in the worker (PostgreSQL only).

`notify()` runs in the enqueuing transaction, so PostgreSQL delivers it at commit (and drops
it on rollback); identical notifications of one transaction are folded into one. Polling
remains the fallback, and the only mechanism on SQLite.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection

from django.db import connection

from .conf import NOTIFY_CHANNEL

logger = logging.getLogger(__name__)

# How often the listener looks up from its socket to see whether it should stop.
LISTEN_SLICE = 0.25
RECONNECT_DELAY = 2.0


def notify(queue: str) -> None:
    """Tell listening workers that `queue` has a ready job (at commit)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [NOTIFY_CHANNEL, queue])


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
