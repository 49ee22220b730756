"""The `jobs` table (durable background work) and the `workers` table (who runs it).

A job moves `queued` → `running` → `succeeded` | `failed` | `cancelled`, and `running` →
`queued` again on a retryable error or when its lease expires (SPEC §4). Every transition is
a conditional update in `jobs/services/`; this module only holds the rows and the queries
that find them.

Priority: higher runs first (-100..100, default 0), the same convention as Django Tasks;
ready jobs are claimed in the order (priority descending, run_after, id).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Now

from ats.models import TenantQuerySet
from ats.request_context import MAX_REQUEST_ID_LENGTH

from .errors import MSG_CANCELLED, JobCancelled

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Self

    from .execution import Attempt

MIN_PRIORITY, MAX_PRIORITY = -100, 100
# The constraint that keeps one active job per (tenant, unique_key); enqueue tells its
# violation (a race for the key) from any other integrity error by this name.
UNIQUE_ACTIVE_KEY = "job_unique_active_key"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class JobQuerySet(TenantQuerySet):
    def in_queues(self, queues: Iterable[str] | None) -> Self:
        """Jobs of these queues; None (a worker without --queue) means every queue."""
        return self if queues is None else self.filter(queue__in=list(queues))

    def ready(self, queues: Iterable[str] | None) -> Self:
        """Queued jobs that may start now by the database's clock, in claim order. Served by
        `job_claim_idx` (some queues) or `job_ready_idx` (every queue)."""
        return (
            self.in_queues(queues)
            .filter(status=JobStatus.QUEUED, run_after__lte=Now())
            .order_by("-priority", "run_after", "id")
        )

    def scheduled(self) -> Self:
        """Queued jobs waiting for their run_after (retry backoff or deferred)."""
        return self.filter(status=JobStatus.QUEUED, run_after__gt=Now())

    def running(self) -> Self:
        return self.filter(status=JobStatus.RUNNING)

    def failed(self) -> Self:
        return self.filter(status=JobStatus.FAILED)

    def active(self) -> Self:
        return self.filter(status__in=ACTIVE_STATUSES)

    def expired_leases(self, lease_timeout: float) -> Self:
        """Running jobs whose worker stopped heartbeating, by the database's clock (the one
        that wrote the heartbeats): any worker may reclaim them."""
        return self.filter(
            status=JobStatus.RUNNING, heartbeat_at__lt=Now() - timedelta(seconds=lease_timeout)
        ).order_by("heartbeat_at", "id")

    def attempt(self, *, job_id: int, fencing_token: int, worker_id: str) -> Self:
        """The one running attempt identified by its fence; empty once a newer attempt
        took the job or the attempt was finished or released."""
        return self.filter(
            pk=job_id,
            status=JobStatus.RUNNING,
            fencing_token=fencing_token,
            locked_by=worker_id,
        )

    def finished_before(self, cutoff: datetime, *, include_failed: bool) -> Self:
        statuses = [JobStatus.SUCCEEDED, JobStatus.CANCELLED]
        if include_failed:
            statuses.append(JobStatus.FAILED)
        return self.filter(status__in=statuses, finished_at__lt=cutoff)


class Job(models.Model):
    """One unit of background work. `tenant` is empty for system jobs."""

    # Indexed by job_tenant_type_idx, which starts with the tenant.
    tenant = models.ForeignKey(
        "ats.Tenant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    queue = models.CharField(max_length=100, default="default")
    job_type = models.CharField(max_length=200)
    payload = models.JSONField(default=dict, blank=True)
    priority = models.SmallIntegerField(default=0, help_text="Higher runs first (-100..100).")
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED)
    # Attempts charged so far (a graceful shutdown gives its attempt back).
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    # On the database's clock, like every time the queue compares: on SQLite the application's
    # microseconds would run ahead of the claim's millisecond Now() and hide a new job.
    run_after = models.DateTimeField(db_default=Now())
    # The running attempt's fence: every claim increments the token and it never goes back,
    # so (id, fencing_token, locked_by) names one attempt for ever, even after a release.
    fencing_token = models.PositiveBigIntegerField(default=0)
    # The worker running the job, then the one that finished it.
    locked_by = models.CharField(max_length=200, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    unique_key = models.CharField(max_length=255, null=True, blank=True)
    # The request id of the request (or job attempt) that enqueued the job: its attempts log
    # with it, so one id follows a bundle from its upload to its ingestion.
    # A database default too: hand-written INSERTs (the queue's hot path) need not name it.
    request_id = models.CharField(
        max_length=MAX_REQUEST_ID_LENGTH, blank=True, default="", db_default=""
    )
    result = models.JSONField(null=True, blank=True)
    # One entry per failed attempt: attempt, at, worker, error_class, message, traceback.
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        db_table = "jobs"
        ordering = ["-id"]
        indexes = [
            # The claim query: queued jobs of a queue in claim order (Oban's and River's
            # shape); partial, so finished rows cost the claim nothing.
            models.Index(
                fields=["queue", "-priority", "run_after", "id"],
                condition=Q(status="queued"),
                name="job_claim_idx",
            ),
            # The same for workers that serve every queue (the default): without it their
            # claim sorts the whole backlog.
            models.Index(
                fields=["-priority", "run_after", "id"],
                condition=Q(status="queued"),
                name="job_ready_idx",
            ),
            models.Index(
                fields=["heartbeat_at"], condition=Q(status="running"), name="job_lease_idx"
            ),
            models.Index(
                fields=["finished_at"],
                condition=Q(finished_at__isnull=False),
                name="job_finished_idx",
            ),
            models.Index(fields=["tenant", "job_type"], name="job_tenant_type_idx"),
        ]
        constraints = [
            # One active job per (tenant, unique_key). COALESCE makes system jobs (no
            # tenant) unique too: NULLs are distinct in a plain unique index, and this form
            # works on SQLite and on PostgreSQL before 15 alike.
            models.UniqueConstraint(
                Coalesce(F("tenant"), Value(0), output_field=models.BigIntegerField()),
                F("unique_key"),
                condition=Q(status__in=["queued", "running"], unique_key__isnull=False),
                name=UNIQUE_ACTIVE_KEY,
            ),
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="job_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=MIN_PRIORITY, priority__lte=MAX_PRIORITY),
                name="job_priority_range",
            ),
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="job_max_attempts"),
        ]

    def __str__(self) -> str:
        return f"{self.job_type} #{self.pk} ({self.status})"

    @property
    def last_error(self) -> str:
        """The latest attempt's error as `Class: message`, or "" when none failed."""
        if not self.errors:
            return ""
        entry = self.errors[-1]
        return f"{entry.get('error_class', 'Error')}: {entry.get('message', '')}"

    @property
    def attempt_request_id(self) -> str:
        """The request id its attempts log with: the enqueueing request's, else `job-<id>`."""
        return self.request_id or f"job-{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def queue_wait(self) -> float | None:
        """Seconds it waited to be claimed, from ready (`run_after`) to claimed
        (`started_at`), both on the database's clock; None before a claim."""
        if self.started_at is None:
            return None
        return (self.started_at - self.run_after).total_seconds()

    def raise_if_cancelled(self) -> None:
        """A handler's safe point: raise when it should stop.

        Inside a worker this reads flags the heartbeat thread keeps up to date (no query):
        `JobCancelled` after `jobs.cancel(job)`, `JobTimeout` past the handler's timeout,
        `LeaseLost` when another worker took the job over. Outside a worker (a shell, a
        test calling a handler directly) it asks the database about cancellation.
        """
        attempt: Attempt | None = getattr(self, "_attempt", None)
        if attempt is not None:
            attempt.raise_if_stopped()
        elif self.pk and Job.objects.filter(pk=self.pk, cancel_requested=True).exists():
            raise JobCancelled(MSG_CANCELLED)


def live_condition(lease_timeout: float, now: datetime | None = None) -> Q:
    """A worker is live when its heartbeat *and* its main loop are recent and it has not
    stopped, by the database's clock (the one that wrote them) unless `now` is given.

    The heartbeat runs in its own thread, so a fresh heartbeat alone would call a worker
    healthy whose loop is dead or stuck; the heartbeat reports when the loop last went
    round, and both must be within the lease timeout.
    """
    cutoff = (Now() if now is None else now) - timedelta(seconds=lease_timeout)
    return Q(stopped_at__isnull=True, last_seen_at__gte=cutoff, last_loop_at__gte=cutoff)


class WorkerQuerySet(models.QuerySet):
    def live(self, lease_timeout: float, now: datetime | None = None) -> Self:
        return self.filter(live_condition(lease_timeout, now))


class WorkerProcess(models.Model):
    """One `manage.py runworker` process (SPEC §6: the workers table)."""

    id = models.CharField(max_length=200, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    # Empty: every queue.
    queues = models.JSONField(default=list, blank=True)
    concurrency = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField(db_default=Now())
    # Written by the heartbeat thread; `last_loop_at` is when the main loop last went round.
    last_seen_at = models.DateTimeField(db_default=Now())
    last_loop_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    jobs_succeeded = models.PositiveIntegerField(default=0)
    jobs_failed = models.PositiveIntegerField(default=0)
    current_jobs = models.JSONField(default=list, blank=True)

    objects = WorkerQuerySet.as_manager()

    class Meta:
        db_table = "workers"
        verbose_name = "worker"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.id

    def serves(self, queue: str) -> bool:
        return not self.queues or queue in self.queues

    def describe_queues(self) -> str:
        return ", ".join(self.queues) if self.queues else "(all)"

    def as_status(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "pid": self.pid,
            "queues": self.queues,
            "concurrency": self.concurrency,
            "started_at": self.started_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "last_loop_at": self.last_loop_at.isoformat() if self.last_loop_at else None,
            "jobs_succeeded": self.jobs_succeeded,
            "jobs_failed": self.jobs_failed,
            "current_jobs": self.current_jobs,
        }
