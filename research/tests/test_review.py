import threading

import pytest
from django.db import connection

from ats.actors import Actor
from jobs.models import Job
from research.models import Bundle, BundleStatus, ResearchRun, RunEvent, RunStatus
from research.services import bundles as bundle_services
from research.services.status import InvalidTransition

PROBLEM = "application/problem+json"


@pytest.fixture
def pending(analyst_client, run_a, small_bundle):
    response = analyst_client.post(
        f"/api/v1/runs/{run_a.pk}/bundle/", small_bundle(run_a), format="json"
    )
    assert response.status_code == 201
    return Bundle.objects.get(pk=response.json()["bundle_id"])


def test_analyst_cannot_approve_or_reject(analyst_client, run_a, pending) -> None:
    for verb, body in (("approve", {}), ("reject", {"note": "no"})):
        response = analyst_client.post(f"/api/v1/runs/{run_a.pk}/{verb}/", body, format="json")
        assert response.status_code == 403
        assert response["Content-Type"] == PROBLEM
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW
    assert not Job.objects.exists()


def test_reviewer_approves_and_job_is_enqueued(reviewer_client, run_a, pending) -> None:
    response = reviewer_client.post(f"/api/v1/runs/{run_a.pk}/approve/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ingesting"
    job = Job.objects.get(pk=body["job_id"])
    assert job.job_type == "research.ingest_bundle"
    assert job.tenant_id == run_a.tenant_id
    assert job.payload == {"bundle_id": str(pending.pk)}
    pending.refresh_from_db()
    assert pending.status == BundleStatus.APPROVED
    assert pending.reviewed_by_actor == "api_key:reviewer key"
    event = RunEvent.objects.get(run=run_a, event_type="bundle_approved")
    assert event.job_id == job.pk and event.actor == "api_key:reviewer key"
    again = reviewer_client.post(f"/api/v1/runs/{run_a.pk}/approve/", {}, format="json")
    assert again.status_code == 409
    assert Job.objects.count() == 1


def test_reject_needs_a_note(reviewer_client, run_a, pending) -> None:
    response = reviewer_client.post(f"/api/v1/runs/{run_a.pk}/reject/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == "note"
    response = reviewer_client.post(
        f"/api/v1/runs/{run_a.pk}/reject/", {"note": "  "}, format="json"
    )
    assert response.status_code == 400
    response = reviewer_client.post(
        f"/api/v1/runs/{run_a.pk}/reject/",
        {"note": "Cite sources for 3 companies"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    pending.refresh_from_db()
    assert pending.status == BundleStatus.REJECTED
    assert pending.review_note == "Cite sources for 3 companies"
    # The researcher refines and uploads again: back to review.
    assert ResearchRun.objects.get(pk=run_a.pk).status == RunStatus.REJECTED


def test_approve_without_pending_bundle_is_409(reviewer_client, run_a) -> None:
    response = reviewer_client.post(f"/api/v1/runs/{run_a.pk}/approve/", {}, format="json")
    assert response.status_code == 409


def test_cancel_then_approve_is_409(analyst_client, reviewer_client, run_a, pending) -> None:
    assert analyst_client.post(f"/api/v1/runs/{run_a.pk}/cancel/").json()["status"] == "cancelled"
    response = reviewer_client.post(f"/api/v1/runs/{run_a.pk}/approve/", {}, format="json")
    assert response.status_code == 409
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW  # the approval rolled back entirely
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_approvals_one_wins(tenant_a, make_run, small_bundle) -> None:
    run = make_run(tenant_a)
    result = bundle_services.bundle_upload(
        run=run, payload=small_bundle(run), actor=Actor.system("test")
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(name: str) -> None:
        try:
            bundle = Bundle.objects.select_related("run").get(pk=result.bundle.pk)
            barrier.wait(timeout=10)
            bundle_services.bundle_approve(bundle=bundle, actor=Actor.system(name))
            outcomes.append("approved")
        except InvalidTransition:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(f"r{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["approved", "conflict"]
    assert Job.objects.count() == 1
    assert RunEvent.objects.filter(run=run, event_type="bundle_approved").count() == 1
