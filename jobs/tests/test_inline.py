"""`jobs.inline.run_tenant_jobs`: one tenant's jobs run in the calling process through the
worker's path (fenced claim, handler, failure hooks), never another tenant's or the system's."""

from __future__ import annotations

import pytest

import jobs
from ats.models import Tenant
from jobs.inline import run_tenant_jobs
from jobs.models import Job, JobStatus
from jobs.services.attempts import RETRYING

from .testapp.models import Effect, FailureMark

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db(transaction=True)]


def test_only_the_tenants_jobs_run(tenant_a: Tenant, tenant_b: Tenant) -> None:
    mine = [jobs.enqueue("testapp.record", tenant=tenant_a) for _ in range(3)]
    failing = jobs.enqueue("testapp.permanent", tenant=tenant_a)
    retrying = jobs.enqueue("testapp.flaky", {"fail_times": 1}, tenant=tenant_a)
    others = [jobs.enqueue("testapp.record", tenant=tenant_b), jobs.enqueue("testapp.record")]

    done = run_tenant_jobs(tenant_id=tenant_a.pk, label="test")

    assert done.outcomes == {JobStatus.SUCCEEDED: 3, JobStatus.FAILED: 1, RETRYING: 1}
    assert done.still_running == 0
    assert sorted(Effect.objects.values_list("job_id", flat=True)) == [j.pk for j in mine]
    assert Effect.objects.first().worker.startswith("test:")
    assert FailureMark.objects.get().job_id == failing.pk  # the failure hook ran
    statuses = dict(Job.objects.values_list("pk", "status"))
    assert statuses[failing.pk] == JobStatus.FAILED
    assert statuses[retrying.pk] == JobStatus.QUEUED  # its retry waits for its backoff
    assert [statuses[j.pk] for j in others] == [JobStatus.QUEUED, JobStatus.QUEUED]
    assert not Job.objects.filter(pk__in=[j.pk for j in others], attempts__gt=0).exists()
