"""The raw limits: what PostgreSQL and psycopg allow on our `jobs` table with no queue
library at all. A worker claims `--claim N` jobs per statement
(`UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING`), runs them
and completes the batch in one statement; it LISTENs when idle. Enqueue is one
`INSERT … SELECT FROM unnest(…)` and one NOTIFY."""

from __future__ import annotations

import json
import socket
import sys

import psycopg

from .base import System, emit, paced, timed_enqueue
from .ours import JOBS_TABLE_PENDING, JOBS_TABLE_RESET, SETTINGS
from .stamps import stamp

CLAIM = """
UPDATE jobs SET status = 'running', attempts = attempts + 1,
    fencing_token = fencing_token + 1, locked_by = %(worker)s,
    locked_at = now(), heartbeat_at = now(), started_at = now()
WHERE id IN (
    SELECT id FROM jobs WHERE status = 'queued' AND run_after <= now()
    ORDER BY priority DESC, run_after, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
)
RETURNING id, job_type, payload
"""
COMPLETE = """
UPDATE jobs SET status = 'succeeded', finished_at = now(), heartbeat_at = NULL
WHERE id = ANY(%(ids)s)
"""
INSERT = """
INSERT INTO jobs (queue, job_type, payload, priority, status, attempts, max_attempts,
    run_after, fencing_token, locked_by, cancel_requested, errors, request_id, created_at)
SELECT 'default', %(job_type)s, payload, 0, 'queued', 0, 3, now(), 0, '', false, '[]', '',
    now()
FROM unnest(%(payloads)s::text[]::jsonb[]) AS payload
"""


def system(claim: int) -> System:
    return System(
        key=f"raw-claim-{claim}",
        label=f"raw limit, claim {claim}",
        module=__name__,
        database="raw",
        kind="noop",
        worker_argv=("-m", __name__, "worker", str(claim)),
        pending_sql=JOBS_TABLE_PENDING,
        reset_sql=JOBS_TABLE_RESET,
        # Its `setup` migrates our schema: with the benchmark's settings, as ours does.
        worker_env={"DJANGO_SETTINGS_MODULE": SETTINGS},
        config=(
            f"psycopg {psycopg.__version__}, one autocommit connection, claim {claim} per "
            "statement, complete each batch in one statement, LISTEN when idle"
        ),
    )


def version() -> str:
    return f"psycopg {psycopg.__version__}"


def _url() -> str:
    import os

    return os.environ["DATABASE_URL"]


def worker(claim: int) -> None:
    worker_id = f"{socket.gethostname()}:raw"
    with psycopg.connect(_url(), autocommit=True) as conn:
        conn.execute("LISTEN ats_jobs")
        while True:
            rows = conn.execute(CLAIM, {"worker": worker_id, "limit": claim}).fetchall()
            if not rows:
                for _ in conn.notifies(timeout=1.0, stop_after=1):
                    pass
                continue
            for _, job_type, payload in rows:
                if job_type == "bench.stamp":
                    stamp(payload["seq"])
            conn.execute(COMPLETE, {"ids": [row[0] for row in rows]})


def main(argv: list[str]) -> None:
    command = argv[0]
    if command == "setup":
        from . import ours

        ours.main(["setup"])
    elif command == "worker":
        worker(int(argv[1]))
    elif command == "enqueue":
        with psycopg.connect(_url(), autocommit=True) as conn:

            def enqueue(count: int) -> None:
                with conn.transaction():
                    conn.execute(INSERT, {"job_type": "bench.noop", "payloads": ["{}"] * count})
                    conn.execute("SELECT pg_notify('ats_jobs', 'default')")

            emit(timed_enqueue(enqueue, int(argv[2])))
    elif command == "latency":
        with psycopg.connect(_url(), autocommit=True) as conn:

            def enqueue_one(seq: int) -> None:
                with conn.transaction():
                    payloads = [json.dumps({"seq": seq})]
                    conn.execute(INSERT, {"job_type": "bench.stamp", "payloads": payloads})
                    conn.execute("SELECT pg_notify('ats_jobs', 'default')")

            emit(paced(enqueue_one, int(argv[1]), float(argv[2])))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
