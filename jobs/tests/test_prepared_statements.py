"""The worker's hot-path statements are server-side prepared when JOBS_PREPARED_STATEMENTS
is on (the default) and never when it is off (PgBouncer in transaction mode before 1.21)."""

from __future__ import annotations

import pytest
from django.db import connection

import jobs
from jobs.services import attempts


def prepared_in_this_session() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def fresh_connection(db: None) -> None:
    # Whatever earlier tests prepared on this connection must not count.
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.connection.prepare_threshold = None  # as Django opens it
    connection.connection._prepared.clear()


@pytest.mark.parametrize("enabled", [True, False])
def test_claims_are_prepared_only_when_enabled(fresh_connection, settings, enabled) -> None:
    settings.JOBS_PREPARED_STATEMENTS = enabled
    jobs.enqueue_many("testapp.record_plain", [{}] * 3)
    for _ in range(2):
        attempts.claim_batch(worker_id="w1", queues=None, limit=1)

    claims = [sql for sql in prepared_in_this_session() if "SKIP LOCKED" in sql]
    assert len(claims) == (1 if enabled else 0)
    # The ORM's own queries (the enqueue's INSERT among them) stay unprepared either way.
    assert all("SKIP LOCKED" in sql for sql in prepared_in_this_session())
