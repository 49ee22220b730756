"""The worker's hot path on PostgreSQL: one statement per batch, not per job.

- claim: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING …`;
- completion: one `UPDATE … FROM unnest(ids, tokens, results)` per batch, fenced per job;
- both in one statement (data-modifying CTEs): one round trip and one commit per batch;
- enqueue_many: one `INSERT … SELECT FROM unnest(payloads)`.

Timestamps are `statement_timestamp()`: the database's clock. Statements run on the raw
psycopg connection of the thread's Django connection (the ORM's query building cost more
than the database's work here), with server-side parameters, and named prepared statements
unless `JOBS_PREPARED_STATEMENTS` is off (PgBouncer in transaction mode before 1.21).
Database errors surface as Django's `DatabaseError`s, as from the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

import psycopg
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models.base import ModelState

from ..conf import prepared_statements
from ..models import Job

# One finished attempt: (job id, fencing token, result as JSON text or None).
Finished = tuple[int, int, str | None]

# Completion of finished plain attempts (fenced per job) and the claim of ready jobs, in one
# statement: one round trip and one commit per batch. The outer join yields one row even
# when nothing is claimed, to carry the ids that were completed.
_COMPLETE_AND_CLAIM = """
WITH done AS (
    UPDATE jobs SET status = 'succeeded', result = done.result,
        finished_at = statement_timestamp(), heartbeat_at = NULL
    FROM unnest(%(ids)s::bigint[], %(tokens)s::bigint[], %(results)s::jsonb[])
        AS done(id, token, result)
    WHERE jobs.id = done.id AND jobs.fencing_token = done.token
        AND jobs.locked_by = %(worker)s AND jobs.status = 'running'
    RETURNING jobs.id
), claimed AS (
    UPDATE jobs SET status = 'running', attempts = attempts + 1,
        fencing_token = fencing_token + 1, locked_by = %(worker)s,
        locked_at = statement_timestamp(), heartbeat_at = statement_timestamp(),
        started_at = statement_timestamp()
    WHERE id IN (
        SELECT id FROM jobs
        WHERE status = 'queued' AND run_after <= statement_timestamp(){queue_filter}
        ORDER BY priority DESC, run_after, id
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    RETURNING {columns}
)
SELECT (SELECT coalesce(array_agg(id), '{{}}') FROM done), claimed.*
FROM (SELECT 1) AS one LEFT JOIN claimed ON true
"""

_COMPLETE = """
UPDATE jobs SET status = 'succeeded', result = done.result,
    finished_at = statement_timestamp(), heartbeat_at = NULL
FROM unnest(%(ids)s::bigint[], %(tokens)s::bigint[], %(results)s::jsonb[])
    AS done(id, token, result)
WHERE jobs.id = done.id AND jobs.fencing_token = done.token
    AND jobs.locked_by = %(worker)s AND jobs.status = 'running'
RETURNING jobs.id
"""

# FOR KEY SHARE: reclaimers (FOR UPDATE SKIP LOCKED) skip the rows while an atomic group
# runs; heartbeats and cancel requests (FOR NO KEY UPDATE) do not wait for it.
_HOLD = """
SELECT jobs.id FROM jobs
JOIN unnest(%(ids)s::bigint[], %(tokens)s::bigint[]) AS held(id, token)
    ON jobs.id = held.id AND jobs.fencing_token = held.token
WHERE jobs.locked_by = %(worker)s AND jobs.status = 'running'
FOR KEY SHARE OF jobs
"""

_INSERT = """
INSERT INTO jobs (tenant_id, queue, job_type, payload, priority, status, attempts,
    max_attempts, run_after, fencing_token, locked_by, cancel_requested, errors, created_at,
    request_id)
SELECT %(tenant_id)s::bigint, %(queue)s::text, %(job_type)s::text, new.payload,
    %(priority)s::smallint, 'queued', 0, %(max_attempts)s::integer,
    COALESCE(%(run_after)s::timestamptz, statement_timestamp()), 0, '', false, '[]'::jsonb,
    statement_timestamp(), %(request_id)s::text
FROM unnest(%(payloads)s::text[]::jsonb[]) WITH ORDINALITY AS new(payload, n)
ORDER BY new.n
RETURNING id, extract(epoch FROM run_after)::float8, extract(epoch FROM created_at)::float8
"""


# What a claim returns of a job, and how each column is loaded. Timestamps come as epoch
# seconds (float8, exact to the microsecond): loading them is a C call, where the
# timestamptz loader runs Python per value.
_CLAIMED_COLUMNS = (
    ("id", "id", None),
    ("tenant_id", "tenant_id", None),
    ("queue", "queue", None),
    ("job_type", "job_type", None),
    ("payload", "payload", "json"),
    ("priority", "priority", None),
    ("status", "status", None),
    ("attempts", "attempts", None),
    ("max_attempts", "max_attempts", None),
    ("run_after", "extract(epoch FROM run_after)::float8", "time"),
    ("fencing_token", "fencing_token", None),
    ("locked_by", "locked_by", None),
    ("cancel_requested", "cancel_requested", None),
    ("unique_key", "unique_key", None),
    ("request_id", "request_id", None),
    ("errors", "errors", "json"),
    ("created_at", "extract(epoch FROM created_at)::float8", "time"),
    ("started_at", "extract(epoch FROM started_at)::float8", "time"),
)
# The claim sets these to the claim's time (started_at) or leaves them empty.
_SAME_AS_STARTED = ("locked_at", "heartbeat_at")
_EMPTY_WHEN_CLAIMED = ("result", "finished_at")


@cache
def _complete_and_claim_sql(with_queues: bool) -> str:
    loaded = {name for name, _, _ in _CLAIMED_COLUMNS} | {*_SAME_AS_STARTED, *_EMPTY_WHEN_CLAIMED}
    missing = {field.attname for field in Job._meta.concrete_fields} - loaded
    if missing:  # a field added to Job must be loaded by the claim too
        raise ImproperlyConfigured(f"jobs.services.pg does not load Job fields {sorted(missing)}.")
    columns = ", ".join(f"{expression} AS {name}" for name, expression, _ in _CLAIMED_COLUMNS)
    queue_filter = " AND queue = ANY(%(queues)s::text[])" if with_queues else ""
    return _COMPLETE_AND_CLAIM.format(queue_filter=queue_filter, columns=columns)


def _prepare() -> bool | None:
    return True if prepared_statements() else None


# Django opens psycopg connections with `prepare_threshold=None` unless OPTIONS say
# otherwise, and psycopg then ignores `prepare=True`. A threshold no statement reaches
# prepares exactly the statements that ask for it, and leaves the ORM's queries unprepared.
_PREPARE_ONLY_WHEN_ASKED = 2**31 - 1


def _raw() -> psycopg.Connection:
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None and prepared_statements():
        raw.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
    return raw


def _to_job(row: Sequence[Any]) -> Job:
    """A Job from a claimed row."""
    values = {}
    for (name, _, kind), raw in zip(_CLAIMED_COLUMNS, row, strict=True):
        if kind == "json":
            values[name] = json.loads(raw)
        elif kind == "time" and raw is not None:
            values[name] = datetime.fromtimestamp(raw, UTC)
        else:
            values[name] = raw
    for name in _SAME_AS_STARTED:
        values[name] = values["started_at"]
    for name in _EMPTY_WHEN_CLAIMED:
        values[name] = None
    return loaded_job(values, connection.alias)


def loaded_job(values: dict[str, Any], alias: str) -> Job:
    """A Job as `Model.from_db` makes it, but without `__init__` and its signals (thousands
    of rows a second): `values` must hold every concrete field's attname."""
    job = Job.__new__(Job)
    job.__dict__.update(values)
    state = job._state = ModelState()
    state.adding, state.db = False, alias
    return job


def complete_and_claim(
    *,
    worker_id: str,
    finished: Sequence[Finished],
    limit: int,
    queues: Sequence[str] | None,
) -> tuple[set[int], list[Job]]:
    """Mark `finished` attempts succeeded (fenced) and claim up to `limit` ready jobs, in one
    statement. Returns (ids marked succeeded, claimed jobs in claim order)."""
    params: dict[str, Any] = {
        **_completion_params(worker_id, finished),
        "limit": max(0, limit),
    }
    if queues:
        params["queues"] = list(queues)
    with connection.wrap_database_errors:
        cursor = psycopg.Cursor(_raw())
        cursor.execute(_complete_and_claim_sql(bool(queues)), params, prepare=_prepare())
        rows = cursor.fetchall()
    done = set(rows[0][0])
    claimed = [_to_job(row[1:]) for row in rows if row[1] is not None]
    claimed.sort(key=lambda job: (-job.priority, job.run_after, job.pk))
    return done, claimed


def complete(*, worker_id: str, finished: Sequence[Finished]) -> set[int]:
    """Mark `finished` attempts succeeded (fenced), in the current transaction if any."""
    with connection.wrap_database_errors:
        cursor = psycopg.Cursor(_raw())
        cursor.execute(_COMPLETE, _completion_params(worker_id, finished), prepare=_prepare())
        return {row[0] for row in cursor.fetchall()}


def hold(*, worker_id: str, attempts: Sequence[tuple[int, int]]) -> set[int]:
    """In an atomic group's transaction: lock the rows of the attempts that still own their
    jobs; returns their ids."""
    with connection.wrap_database_errors:
        cursor = psycopg.Cursor(_raw())
        cursor.execute(
            _HOLD,
            {
                "worker": worker_id,
                "ids": [job_id for job_id, _ in attempts],
                "tokens": [token for _, token in attempts],
            },
            prepare=_prepare(),
        )
        return {row[0] for row in cursor.fetchall()}


def insert_jobs(
    *,
    payloads: Sequence[str],
    tenant_id: int | None,
    queue: str,
    job_type: str,
    priority: int,
    max_attempts: int,
    run_after: datetime | None,
    request_id: str,
) -> list[tuple[int, datetime, datetime]]:
    """Insert one queued job per JSON payload; returns (id, run_after, created_at) in the
    order of `payloads`."""
    # Through Django's cursor, so that a broken transaction is refused as with the ORM.
    with connection.wrap_database_errors, connection.cursor() as django_cursor:
        cursor = psycopg.Cursor(django_cursor.cursor.connection)
        cursor.execute(
            _INSERT,
            {
                "tenant_id": tenant_id,
                "queue": queue,
                "job_type": job_type,
                "priority": priority,
                "max_attempts": max_attempts,
                "run_after": run_after,
                "request_id": request_id,
                "payloads": list(payloads),
            },
        )
        # Ids come from one sequence in insertion order (ORDER BY new.n).
        return [
            (pk, datetime.fromtimestamp(ready, UTC), datetime.fromtimestamp(created, UTC))
            for pk, ready, created in sorted(cursor.fetchall())
        ]


def _completion_params(worker_id: str, finished: Sequence[Finished]) -> dict[str, Any]:
    return {
        "worker": worker_id,
        "ids": [job_id for job_id, _, _ in finished],
        "tokens": [token for _, token, _ in finished],
        "results": [result for _, _, result in finished],
    }
