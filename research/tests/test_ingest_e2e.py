"""Approval to prospects through the real queue and worker (committed transactions)."""

import pytest
from django.test import override_settings

from jobs.models import Job, JobStatus
from jobs.worker import Worker
from research.models import Bundle, BundleStatus, Prospect, ResearchRun, RunEvent, RunStatus

pytestmark = pytest.mark.django_db(transaction=True)


def drain() -> None:
    Worker(burst=True, poll_interval=0.05).run()


def upload_and_approve(analyst_client, reviewer_client, run, payload) -> int:
    response = analyst_client.post(f"/api/v1/runs/{run.pk}/bundle/", payload, format="json")
    assert response.status_code == 201, response.content
    response = reviewer_client.post(f"/api/v1/runs/{run.pk}/approve/", {}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["job_id"]


@pytest.mark.sqlite
def test_approval_ends_in_prospects(analyst_client, reviewer_client, run_a, small_bundle) -> None:
    job_id = upload_and_approve(analyst_client, reviewer_client, run_a, small_bundle(run_a, 5))
    drain()
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result["prospects_created"] == 5
    run = analyst_client.get(f"/api/v1/runs/{run_a.pk}/").json()
    assert run["status"] == "succeeded"
    assert run["counts"]["prospects"] == 5
    assert Prospect.objects.filter(run=run_a).count() == 5
    jobs = analyst_client.get(f"/api/v1/runs/{run_a.pk}/jobs/").json()["results"]
    assert [j["id"] for j in jobs] == [job_id]
    events = [
        e["event_type"]
        for e in analyst_client.get(f"/api/v1/runs/{run_a.pk}/events/").json()["results"]
    ]
    assert events == ["run_created", "bundle_uploaded", "bundle_approved", "ingest_succeeded"]


@override_settings(JOBS_RETRY_BASE=0.0, JOBS_RETRY_MAX=0.0)
def test_failed_ingest_marks_run_failed_then_retry_succeeds(
    analyst_client, reviewer_client, run_a, small_bundle
) -> None:
    job_id = upload_and_approve(analyst_client, reviewer_client, run_a, small_bundle(run_a, 3))
    bundle = Bundle.objects.get(run=run_a)
    good_payload = bundle.payload
    # Something the bundle validator rejects at ingest: a permanent failure, no retries.
    Bundle.objects.filter(pk=bundle.pk).update(payload={**good_payload, "version": "v0"})
    drain()
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.FAILED and job.attempts == 1
    run = ResearchRun.objects.get(pk=run_a.pk)
    assert run.status == RunStatus.FAILED
    assert "no longer validates" in run.last_error
    assert Bundle.objects.get(pk=bundle.pk).status == BundleStatus.FAILED
    assert RunEvent.objects.filter(run=run_a, event_type="ingest_failed").exists()
    assert not Prospect.objects.exists()

    Bundle.objects.filter(pk=bundle.pk).update(payload=good_payload)
    response = analyst_client.post(f"/api/v1/runs/{run_a.pk}/retry/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ingesting"
    new_job = response.json()["job_id"]
    assert new_job != job_id
    drain()
    assert ResearchRun.objects.get(pk=run_a.pk).status == RunStatus.SUCCEEDED
    assert ResearchRun.objects.get(pk=run_a.pk).last_error == ""
    assert Prospect.objects.filter(run=run_a).count() == 3


def test_cancel_while_queued_stops_ingestion(
    analyst_client, reviewer_client, run_a, small_bundle
) -> None:
    job_id = upload_and_approve(analyst_client, reviewer_client, run_a, small_bundle(run_a, 3))
    assert analyst_client.post(f"/api/v1/runs/{run_a.pk}/cancel/").json()["status"] == "cancelled"
    assert Job.objects.get(pk=job_id).status == JobStatus.CANCELLED
    drain()
    assert not Prospect.objects.exists()
    assert ResearchRun.objects.get(pk=run_a.pk).status == RunStatus.CANCELLED


@pytest.mark.sqlite
def test_list_of_names_becomes_prospects(analyst_client, run_a, tenant_a) -> None:
    from ats.tests.factories import CompanyAliasFactory, CompanyFactory

    acme = CompanyFactory(tenant=tenant_a, name="Acme Robotics GmbH", domain="acme.de")
    twin_a = CompanyFactory(tenant=tenant_a, name="Twin Labs", domain="")
    twin_b = CompanyFactory(tenant=tenant_a, name="Other Name", domain="")
    CompanyAliasFactory(company=twin_b, alias="Twin Labs")
    text = (
        "name,domain\nACME Robotics,\nNewco AG,newco.ch\nTwin Labs,\nnewco,https://www.newco.ch/\n"
    )
    response = analyst_client.post(f"/api/v1/runs/{run_a.pk}/lists/", {"text": text}, format="json")
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    drain()
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.result["matched"] == 1
    assert job.result["new"] == 2  # Newco twice: one company
    assert job.result["ambiguous"] == 1
    assert job.result["ambiguous_entries"][0]["candidates"] == [twin_a.pk, twin_b.pk]
    prospects = Prospect.objects.filter(run=run_a)
    assert {p.company.name for p in prospects} == {acme.name, "Newco AG"}
    assert all(p.origin == "list" for p in prospects)
    evidence = prospects.get(company=acme).evidence.get()
    assert evidence.evidence_type == "manual_list" and evidence.text == "ACME Robotics"


def test_invalid_list_names_the_line(analyst_client, run_a) -> None:
    response = analyst_client.post(
        f"/api/v1/runs/{run_a.pk}/lists/",
        {"text": "name,domain\nAcme,not a domain\n"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == "text.2"
    assert not Job.objects.exists()
