"""A worker killed in the middle of an ingestion: the job is retried by another worker and
the data ends up exactly as after a clean run (SPEC §6-7)."""

import signal

import pytest

from ats.actors import Actor
from ats.models import Company, CompanyAlias
from jobs.models import Job, JobStatus
from jobs.tests.utils import wait_until
from research.models import Prospect, ProspectEvidence, ProspectMetric, RunSource
from research.services import bundles as bundle_services

from . import builders

SYSTEM = Actor.system("test")
COMPANIES = 1_500  # big enough that the ingest transaction is still open when we kill


def tenant_projection(tenant) -> dict[str, list]:
    """The tenant's ingested data without ids, so that two tenants' data can be compared."""
    return {
        "companies": sorted(
            Company.objects.filter(tenant=tenant).values_list("name", "domain", "hq_country")
        ),
        "aliases": sorted(
            CompanyAlias.objects.filter(tenant=tenant).values_list("company__domain", "alias")
        ),
        "prospects": sorted(
            Prospect.objects.filter(tenant=tenant).values_list(
                "company__domain", "name", "ai_rank", "ai_score", "status", "review_status"
            )
        ),
        "evidence": sorted(
            ProspectEvidence.objects.filter(tenant=tenant).values_list(
                "prospect__company__domain", "source__sha256", "text_sha256", "verification"
            )
        ),
        "metrics": sorted(
            ProspectMetric.objects.filter(tenant=tenant)
            .values_list("prospect__company__domain", "key", "identity_sha256")
            .order_by()
        ),
        "run_sources": sorted(
            RunSource.objects.filter(run__tenant=tenant).values_list("source__sha256", flat=True)
        ),
    }


def approved_job(run) -> Job:
    payload = builders.generated_bundle(run.pk, companies=COMPANIES, sources=300)
    bundle = bundle_services.bundle_upload(run=run, payload=payload, actor=SYSTEM).bundle
    bundle_services.bundle_approve(bundle=bundle, actor=SYSTEM)
    return Job.objects.get(pk=bundle.ingest_job_id)


@pytest.mark.django_db(transaction=True)
def test_worker_killed_during_ingest(start_worker, tenant_a, tenant_b, make_run) -> None:
    clean_job = approved_job(make_run(tenant_b))
    clean = start_worker("--burst")
    assert clean.wait() == 0, clean.output()
    clean_job.refresh_from_db()
    assert clean_job.status == JobStatus.SUCCEEDED, clean_job.errors

    job = approved_job(make_run(tenant_a))
    doomed = start_worker()
    wait_until(
        lambda: Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).exists(),
        message="the worker to claim the ingest job",
    )
    doomed.send(signal.SIGKILL)
    doomed.wait()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING  # the dead worker still holds the lease
    assert not Prospect.objects.filter(tenant=tenant_a).exists()  # nothing half-written

    rescuer = start_worker("--max-jobs", "1")  # reclaims once the lease expires
    assert rescuer.wait() == 0, rescuer.output()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.attempts == 2
    assert tenant_projection(tenant_a) == tenant_projection(tenant_b)
    assert Prospect.objects.filter(tenant=tenant_a).count() == COMPANIES
