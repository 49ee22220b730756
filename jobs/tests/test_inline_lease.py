"""An inline run keeps its attempt's lease like a worker's heartbeat (PostgreSQL: a second
thread writes while the handler runs)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

import jobs
from ats.models import Tenant
from jobs.inline import run_tenant_jobs
from jobs.models import Job, JobStatus

from .utils import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_cancel_reaches_an_inline_handler_and_its_lease_is_renewed(
    tenant_a: Tenant, tmp_path, settings
) -> None:
    settings.JOBS_HEARTBEAT_INTERVAL = 0.05
    job = jobs.enqueue("testapp.hold", {"until": str(tmp_path / "never")}, tenant=tenant_a)
    renewed = threading.Event()

    def heartbeat_at() -> object:
        return Job.objects.get(pk=job.pk).heartbeat_at

    def cancel_once_renewed() -> None:
        try:
            first = wait_until(heartbeat_at, message="the job's first heartbeat")
            wait_until(lambda: heartbeat_at() != first, message="a renewed heartbeat")
            renewed.set()
            jobs.cancel(Job.objects.get(pk=job.pk))
        finally:
            connection.close()  # this thread's own

    side = threading.Thread(target=cancel_once_renewed)
    side.start()
    done = run_tenant_jobs(tenant_id=tenant_a.pk, label="test")
    side.join()

    assert renewed.is_set()  # the lease was renewed while the handler ran
    assert done.outcomes == {JobStatus.CANCELLED: 1}
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
