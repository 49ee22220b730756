"""Reads of the queue's state that the status command, /healthz/workers and the admin share."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Count, Min, Q

from .conf import queue_settings
from .models import Job, JobStatus, WorkerProcess


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    ready: int
    scheduled: int
    running: int
    failed: int
    # Seconds the longest-waiting ready job has been ready (since its run_after).
    oldest_ready_age: float | None
    live_workers: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def db_now() -> datetime:
    """The database's clock: the one every timestamp of the queue comes from."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement_timestamp()")
            return cursor.fetchone()[0]
    # SQLite is embedded: its clock is this machine's.
    with connection.cursor() as cursor:
        cursor.execute("SELECT STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')")
        return datetime.fromisoformat(cursor.fetchone()[0]).replace(tzinfo=UTC)


def live_workers(now: datetime | None = None) -> list[WorkerProcess]:
    """Live workers, judged by the database's clock unless `now` is given."""
    return list(WorkerProcess.objects.live(queue_settings().lease_timeout, now))


def queue_depths(now: datetime, workers: list[WorkerProcess]) -> list[QueueDepth]:
    """Per queue with any queued, running or failed job, in one query. Pass `db_now()`:
    `run_after` is on the database's clock."""
    ready = Q(status=JobStatus.QUEUED, run_after__lte=now)
    rows = (
        Job.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED])
        .values("queue")
        .annotate(
            ready=Count("id", filter=ready),
            scheduled=Count("id", filter=Q(status=JobStatus.QUEUED, run_after__gt=now)),
            running=Count("id", filter=Q(status=JobStatus.RUNNING)),
            failed=Count("id", filter=Q(status=JobStatus.FAILED)),
            oldest_ready=Min("run_after", filter=ready),
        )
        .order_by("queue")
    )
    return [
        QueueDepth(
            queue=row["queue"],
            ready=row["ready"],
            scheduled=row["scheduled"],
            running=row["running"],
            failed=row["failed"],
            oldest_ready_age=(
                round((now - row["oldest_ready"]).total_seconds(), 1)
                if row["oldest_ready"]
                else None
            ),
            live_workers=sum(1 for worker in workers if worker.serves(row["queue"])),
        )
        for row in rows
    ]


def starved_queues(depths: list[QueueDepth]) -> list[str]:
    """Queues where ready jobs wait and no live worker takes them."""
    return [depth.queue for depth in depths if depth.ready and not depth.live_workers]
