"""An inline run keeps its attempt's lease like a worker's heartbeat (PostgreSQL: a second
thread writes while the handler runs)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

import jobs
from ats.models import Tenant
from jobs import inline
from jobs.execution import run_attempt
from jobs.inline import run_tenant_jobs
from jobs.models import Job, JobStatus

from .utils import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cancel_reaches_an_inline_handler_and_its_lease_is_renewed(
    tenant_a: Tenant, tmp_path, settings
) -> None:
    settings.JOBS_HEARTBEAT_INTERVAL = 0.05
    release = tmp_path / "release"
    job = jobs.enqueue("testapp.hold", {"until": str(release)}, tenant=tenant_a)
    renewed = threading.Event()
    side_errors: list[BaseException] = []

    def heartbeat_at() -> object:
        return Job.objects.get(pk=job.pk).heartbeat_at

    def cancel_once_renewed() -> None:
        try:
            first = wait_until(heartbeat_at, message="the job's first heartbeat")
            wait_until(lambda: heartbeat_at() != first, message="a renewed heartbeat")
            renewed.set()
            jobs.cancel(Job.objects.get(pk=job.pk))
        except BaseException as exc:  # raised below, in the test's own thread
            side_errors.append(exc)
            release.touch()  # the handler ends now, not after its 60 s limit
        finally:
            connection.close()  # this thread's own

    side = threading.Thread(target=cancel_once_renewed)
    side.start()
    done = run_tenant_jobs(tenant_id=tenant_a.pk, label="test")
    side.join()

    if side_errors:
        raise side_errors[0]
    assert renewed.is_set()  # the lease was renewed while the handler ran
    assert done.outcomes == {JobStatus.CANCELLED: 1}
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_inside_the_callers_transaction_no_heartbeat_runs(
    tenant_a: Tenant, settings, monkeypatch
) -> None:
    # The claim is not committed: a heartbeat on its own connection would find no job of its
    # own and stop the handler as if its lease had been lost.
    settings.JOBS_HEARTBEAT_INTERVAL = 0.01
    beating_during_handler = []

    def run_watched(attempt):
        beating_during_handler.append(
            any(t.name == "jobs-inline-heartbeat" for t in threading.enumerate())
        )
        return run_attempt(attempt)

    monkeypatch.setattr(inline, "run_attempt", run_watched)
    with transaction.atomic():
        jobs.enqueue("testapp.hold", {}, tenant=tenant_a)
        done = run_tenant_jobs(tenant_id=tenant_a.pk, label="test")
        assert done.outcomes == {JobStatus.SUCCEEDED: 1}
    assert beating_during_handler == [False]
