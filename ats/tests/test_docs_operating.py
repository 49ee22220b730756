"""docs/operating.md's connection figures hold: real `runworker` processes at each
`--concurrency` of its table hold exactly the connections it lists (`concurrency + 3`),
counted in `pg_stat_activity` by each worker's `application_name`."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from jobs.tests.utils import WorkerRun, subprocess_env, wait_until

from .subprocess_env import BASE_DIR

OPERATING = BASE_DIR / "docs" / "operating.md"
FORMULA = "**`concurrency + 3`**"
# A table row: | `--concurrency` | connections | of which |
ROW = re.compile(
    r"^\| (\d+)(?: \(default\))? \| (\d+) \| \d+ job threads?, main loop, heartbeat, listener \|$",
    re.M,
)
# After the count is reached: heartbeats and polls at FAST_QUEUE_ENV's 0.2 s open nothing more.
STEADY_FOR_SECONDS = 1.0

pytestmark = [pytest.mark.django_db(transaction=True)]


def connections_by_application(prefix: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity "
            "WHERE application_name LIKE %s GROUP BY 1",
            [prefix + "%"],
        )
        return dict(cursor.fetchall())


def test_a_worker_holds_the_connections_that_operating_md_lists(tmp_path: Path) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("connections are counted in PostgreSQL's pg_stat_activity")
    text = OPERATING.read_text()
    assert FORMULA in text
    rows = {int(concurrency): int(count) for concurrency, count in ROW.findall(text)}
    assert len(rows) >= 3, "the table of measured connections is missing from operating.md"
    assert all(count == concurrency + 3 for concurrency, count in rows.items()), rows

    prefix = f"ats-doc-{uuid.uuid4().hex[:8]}-"
    workers = {
        concurrency: WorkerRun(
            ["--concurrency", str(concurrency)],
            tmp_path / f"worker-{concurrency}.log",
            subprocess_env(DB_APPLICATION_NAME=f"{prefix}{concurrency}"),
        )
        for concurrency in rows
    }
    expected = {f"{prefix}{concurrency}": count for concurrency, count in rows.items()}
    try:
        try:
            wait_until(
                lambda: connections_by_application(prefix) == expected,
                timeout=60,
                message=f"the workers' connections to be {expected}",
            )
        except AssertionError as exc:
            seen = connections_by_application(prefix)
            logs = "\n".join(worker.output() for worker in workers.values())
            raise AssertionError(f"{exc} Seen: {seen}\n{logs}") from None
        # Not a passing moment on the way to more: the figures stay while the workers idle.
        deadline = time.monotonic() + STEADY_FOR_SECONDS
        while time.monotonic() < deadline:
            assert connections_by_application(prefix) == expected
    finally:
        for worker in workers.values():
            worker.send()
        for worker in workers.values():
            assert worker.wait(timeout=60) == 0, worker.output()
            worker.stop()
