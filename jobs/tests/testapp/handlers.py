"""Job types of the jobs tests. Handlers that wait do so on a file the test creates,
checking `job.raise_if_cancelled()` as they go, and give up after a bounded time."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import jobs
from ats.errors import Conflict
from ats.models import Tenant
from jobs.models import Job

from .models import Effect, FailureMark, HookCall

WAIT_LIMIT = 60.0

logger = logging.getLogger(__name__)


def _effect(job: Job) -> None:
    Effect.objects.create(job_id=job.pk, attempt=job.attempts, worker=job.locked_by)


def _wait_for(job: Job, path: str | None) -> None:
    """Block until `path` exists, at safe points; with no path, do not block."""
    deadline = time.monotonic() + WAIT_LIMIT
    while path and not Path(path).exists():
        job.raise_if_cancelled()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.01)


def mark_failed(job: Job, exc: BaseException) -> None:
    FailureMark.objects.create(job_id=job.pk, error=f"{type(exc).__name__}: {exc}")


def broken_hook(job: Job, exc: BaseException) -> None:
    FailureMark.objects.create(job_id=job.pk, error="written, then rolled back")
    raise RuntimeError("the on_failure hook broke")


def followed_cancel(job: Job) -> None:
    HookCall.objects.create(job_id=job.pk, hook="on_cancel")


def followed_retry(job: Job) -> None:
    if job.payload.get("refuse_retry"):
        raise Conflict("The owning app refuses this retry.")
    HookCall.objects.create(job_id=job.pk, hook="on_retry")


@jobs.handler("testapp.record", atomic=True)
def record(job: Job, *, hold_first_attempt: str | None = None) -> dict:
    """Atomic: one Effect row per successful run. Holds its first attempt until a file."""
    _effect(job)
    if job.attempts == 1:
        _wait_for(job, hold_first_attempt)
    return {"job": job.pk}


@jobs.handler("testapp.record_plain")
def record_plain(job: Job, *, hold_first_attempt: str | None = None) -> None:
    """Not atomic: the Effect row commits at once, before the handler finishes."""
    _effect(job)
    if job.attempts == 1:
        _wait_for(job, hold_first_attempt)


@jobs.handler("testapp.hold")
def hold(job: Job, *, until: str | None = None) -> str:
    _wait_for(job, until)
    return "done"


@jobs.handler("testapp.hold_atomic", atomic=True)
def hold_atomic(job: Job, *, until: str | None = None) -> str:
    _effect(job)
    _wait_for(job, until)
    return "done"


@jobs.handler("testapp.flaky", max_attempts=3, on_failure=mark_failed)
def flaky(job: Job, *, fail_times: int = 99) -> str:
    if job.attempts <= fail_times:
        raise ConnectionError(f"attempt {job.attempts} failed")
    return "ok"


@jobs.handler("testapp.permanent", on_failure=mark_failed)
def permanent(job: Job) -> None:
    raise jobs.PermanentError("the bundle is invalid")


@jobs.handler("testapp.broken_hook", max_attempts=1, on_failure=broken_hook)
def fails_with_broken_hook(job: Job) -> None:
    raise ValueError("handler failed")


@jobs.handler("testapp.slow", timeout=0.05, max_attempts=2)
def slow(job: Job) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline:
        job.raise_if_cancelled()
        time.sleep(0.01)


@jobs.handler("testapp.bad_result", atomic=True)
def bad_result(job: Job) -> object:
    _effect(job)
    return object()


@jobs.handler(
    "testapp.followed",
    max_attempts=1,
    on_failure=mark_failed,
    on_cancel=followed_cancel,
    on_retry=followed_retry,
)
def followed(job: Job, *, until: str | None = None, refuse_retry: bool = False) -> str:
    """Its owning app follows cancels and retries through the hooks."""
    _wait_for(job, until)
    raise ValueError("followed job failed")


@jobs.handler("testapp.visible_tenants")
def visible_tenants(job: Job) -> list[int]:
    """The tenants whose rows the handler can see (row-level security)."""
    return sorted(Tenant.objects.values_list("pk", flat=True))


@jobs.handler("testapp.busy_native", atomic=True)
def busy_native(job: Job, *, until: str, stretch: float = 1.0) -> None:
    """Busy in native code (rapidfuzz's C++, which releases the GIL), with a safe point
    every `stretch` seconds, until `until` exists; as an ingest between its checkpoints."""
    from rapidfuzz import process

    _effect(job)
    names = [f"company number {i} holdings limited" for i in range(300)]
    deadline = time.monotonic() + WAIT_LIMIT
    while not Path(until).exists() and time.monotonic() < deadline:
        busy_until = time.monotonic() + (stretch or 0.5)
        while time.monotonic() < busy_until:
            process.cdist(names, names)
        if stretch:
            job.raise_if_cancelled()


@jobs.handler("testapp.session_settings")
def session_settings(job: Job) -> dict:
    """The job thread's database session settings, as its result."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('idle_in_transaction_session_timeout'), "
            "current_setting('synchronous_commit')"
        )
        idle, synchronous = cursor.fetchone()
    return {"idle_in_transaction_session_timeout": idle, "synchronous_commit": synchronous}


@jobs.handler("testapp.log_and_follow", max_attempts=2)
def log_and_follow(job: Job, *, fail_first: bool = False) -> None:
    """Writes a log line and enqueues a follow-up job (which inherits the attempt's request
    id); its first attempt fails when asked."""
    logger.info("handler line of job #%s", job.pk)
    if fail_first and job.attempts == 1:
        raise ConnectionError("first attempt failed")
    jobs.enqueue("testapp.hold", queue=job.queue)
