"""The handler registry: `@jobs.handler("app.name", ...)` and its look-ups.

Apps register handlers in `<app>/handlers.py`; `JobsConfig.ready()` imports every installed
app's `handlers` module, so web processes (which enqueue) and workers (which run) know the
same job types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from .models import Job

HandlerFunc = Callable[..., Any]
FailureHook = Callable[["Job", BaseException], None]
JobHook = Callable[["Job"], None]


@dataclass(frozen=True)
class JobHandler:
    """What the worker needs to run one job type."""

    name: str
    func: HandlerFunc
    queue: str = "default"
    max_attempts: int = 3
    # True: the handler runs inside the transaction that marks the job succeeded, so its
    # database effects happen exactly once. False: at-least-once (it may run again after a
    # crash), and it may run for longer than a transaction should stay open.
    atomic: bool = False
    # Seconds; enforced cooperatively by `job.raise_if_cancelled()`.
    timeout: float | None = None
    # Called as on_failure(job, exc) after the last attempt failed (or a permanent failure).
    on_failure: FailureHook | None = None
    # Called as on_cancel(job) in the transaction that marks the job cancelled, however it
    # got there (API, admin, a cancel seen by a running attempt, a reclaimed lease), so the
    # owning app can follow (a run leaves `ingesting`).
    on_cancel: JobHook | None = None
    # Called as on_retry(job) in the transaction that queues a failed or cancelled job again
    # (admin or API), so a retry goes through the owning app: an exception it raises (say
    # `ats.errors.Conflict`) refuses the retry and nothing changes.
    on_retry: JobHook | None = None


_registry: dict[str, JobHandler] = {}


def handler(
    name: str,
    *,
    queue: str = "default",
    max_attempts: int = 3,
    atomic: bool = False,
    timeout: float | None = None,
    on_failure: FailureHook | None = None,
    on_cancel: JobHook | None = None,
    on_retry: JobHook | None = None,
) -> Callable[[HandlerFunc], HandlerFunc]:
    """Register `fn(job, **payload)` as the handler of job type `name`."""
    if max_attempts < 1:
        raise ImproperlyConfigured(f"Job handler {name!r}: max_attempts must be at least 1.")
    if timeout is not None and timeout <= 0:
        raise ImproperlyConfigured(f"Job handler {name!r}: timeout must be positive.")

    def register(func: HandlerFunc) -> HandlerFunc:
        existing = _registry.get(name)
        if existing is not None and _qualified(existing.func) != _qualified(func):
            raise ImproperlyConfigured(
                f"Job type {name!r} is registered twice: by {_qualified(existing.func)} "
                f"and by {_qualified(func)}."
            )
        _registry[name] = JobHandler(
            name=name,
            func=func,
            queue=queue,
            max_attempts=max_attempts,
            atomic=atomic,
            timeout=timeout,
            on_failure=on_failure,
            on_cancel=on_cancel,
            on_retry=on_retry,
        )
        return func

    return register


def get_handler(name: str) -> JobHandler | None:
    return _registry.get(name)


def job_types() -> list[str]:
    return sorted(_registry)


def _qualified(func: HandlerFunc) -> str:
    return f"{func.__module__}.{func.__qualname__}"
