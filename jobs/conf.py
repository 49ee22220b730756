"""The queue's settings, read when used (never at import time) so that tests can override
them with `override_settings` and worker processes with the environment (SPEC §2)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

NOTIFY_CHANNEL = "ats_jobs"
# Django Tasks are stored as jobs of this type (jobs/backend.py).
DJANGO_TASK_JOB_TYPE = "django.task"


@dataclass(frozen=True)
class QueueSettings:
    poll_interval: float
    heartbeat_interval: float
    lease_timeout: float
    retry_base: float
    retry_max: float
    shutdown_grace: float


def queue_settings() -> QueueSettings:
    return QueueSettings(
        poll_interval=float(settings.JOBS_POLL_INTERVAL),
        heartbeat_interval=float(settings.JOBS_HEARTBEAT_INTERVAL),
        lease_timeout=float(settings.JOBS_LEASE_TIMEOUT),
        retry_base=float(settings.JOBS_RETRY_BASE),
        retry_max=float(settings.JOBS_RETRY_MAX),
        shutdown_grace=float(getattr(settings, "JOBS_SHUTDOWN_GRACE", 30.0)),
    )


def prepared_statements() -> bool:
    """Whether the worker's hot-path statements are named prepared statements
    (`JOBS_PREPARED_STATEMENTS`, on by default)."""
    return bool(getattr(settings, "JOBS_PREPARED_STATEMENTS", True))
