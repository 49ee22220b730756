"""The durable job queue (SPEC §6).

    import jobs

    @jobs.handler("research.ingest_bundle", atomic=True, on_failure=mark_run_failed)
    def ingest_bundle(job, *, bundle_id): ...

    job = jobs.enqueue("research.ingest_bundle", {"bundle_id": 7}, tenant=tenant)
    jobs.enqueue_many("research.fetch_source", [{"source_id": i} for i in ids])
    jobs.cancel(job); jobs.retry(job)

This module must not import models when it is imported (apps load it before the model
registry is ready), so the service functions are resolved on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import JobCancelled, JobTimeout, PermanentError, UnknownJobType
from .registry import handler

if TYPE_CHECKING:
    from .models import Job, JobStatus
    from .services import cancel, enqueue, enqueue_many, retry

__all__ = [
    "Job",
    "JobCancelled",
    "JobStatus",
    "JobTimeout",
    "PermanentError",
    "UnknownJobType",
    "cancel",
    "enqueue",
    "enqueue_many",
    "handler",
    "retry",
]

_LAZY = {
    "enqueue": "services",
    "enqueue_many": "services",
    "cancel": "services",
    "retry": "services",
    "Job": "models",
    "JobStatus": "models",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'jobs' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"jobs.{module}"), name)
