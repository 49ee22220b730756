import threading

import pytest
from django.db import connection
from django.urls import reverse

from ats.actors import Actor
from ats.models import MemberRole
from ats.tests.factories import CompanyFactory
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


# --- the admin review workplace ---------------------------------------------------------


@pytest.fixture
def reviewer_user(tenant_a, staff_member_for):
    return staff_member_for(tenant_a, MemberRole.REVIEWER)


def test_review_page_shows_panel(client, reviewer_user, run_a, pending, tenant_a) -> None:
    payload = pending.payload
    first = payload["proposal_json"]["companies"][0]
    CompanyFactory(tenant=tenant_a, name="Existing Robotics", domain=first["domain"])
    client.force_login(reviewer_user)
    response = client.get(reverse("admin:research_researchrun_change", args=[run_a.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "What approval will create" in html
    assert "same domain" in html and "Existing Robotics" in html
    assert "new company" in html
    assert "<mark>" in html  # the evidence passage is highlighted in its source
    # The markup, not the stylesheet (which names both classes on every page).
    assert 'class="badge badge-unverified"' in html
    assert 'class="badge badge-verified"' in html
    assert "Approve and ingest" in html
    assert "bundle_uploaded" in html  # the timeline


def test_analyst_sees_panel_without_buttons(client, tenant_a, staff_member_for, run_a, pending):
    client.force_login(staff_member_for(tenant_a, MemberRole.ANALYST))
    response = client.get(reverse("admin:research_researchrun_change", args=[run_a.pk]))
    assert response.status_code == 200
    assert "Approve and ingest" not in response.content.decode()
    response = client.post(reverse("admin:research_researchrun_approve", args=[run_a.pk]))
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW


def test_admin_approve_and_reject(
    client, reviewer_user, run_a, pending, analyst_client, small_bundle
) -> None:
    client.force_login(reviewer_user)
    url = reverse("admin:research_researchrun_reject", args=[run_a.pk])
    response = client.post(url, {"note": ""})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW  # a note is required
    response = client.post(reverse("admin:research_researchrun_approve", args=[run_a.pk]))
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == BundleStatus.APPROVED
    assert pending.reviewed_by == reviewer_user
    assert Job.objects.filter(pk=pending.ingest_job_id).exists()
    # GET is refused: state changes only by CSRF-protected POST.
    assert (
        client.get(reverse("admin:research_researchrun_approve", args=[run_a.pk])).status_code
        == 405
    )


def test_admin_approve_needs_csrf(reviewer_user, run_a, pending) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer_user)
    response = client.post(reverse("admin:research_researchrun_approve", args=[run_a.pk]))
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW


def test_staff_of_other_tenant_cannot_see_run(client, tenant_b, staff_member_for, run_a, pending):
    client.force_login(staff_member_for(tenant_b, MemberRole.ADMIN))
    response = client.get(reverse("admin:research_researchrun_change", args=[run_a.pk]))
    assert response.status_code == 302  # Django admin redirects for objects it cannot see
    changelist = client.get(reverse("admin:research_researchrun_changelist"))
    assert list(changelist.context["cl"].result_list) == []
    response = client.post(reverse("admin:research_researchrun_approve", args=[run_a.pk]))
    assert response.status_code == 404


def test_review_page_of_2000_companies_has_bounded_queries(
    client, reviewer_user, run_a, small_bundle, django_assert_max_num_queries
) -> None:
    payload = small_bundle(run_a, companies=2_000)
    bundle_services.bundle_upload(run=run_a, payload=payload, actor=Actor.system("test"))
    client.force_login(reviewer_user)
    url = reverse("admin:research_researchrun_change", args=[run_a.pk])
    with django_assert_max_num_queries(20):  # 19 today, whatever the bundle size
        response = client.get(url, {"panel_page": 7})
    assert response.status_code == 200
    html = response.content.decode()
    assert "2000</strong> proposed companies" in html
    assert "Gen Company 300 GmbH" in html  # page 7 shows companies 301-350
    assert "Gen Company 1000 GmbH" not in html


def test_company_page_lists_its_prospects(client, reviewer_user, run_a, tenant_a) -> None:
    from research.models import Prospect

    company = CompanyFactory(tenant=tenant_a, name="Acme Robotics")
    Prospect.objects.create(tenant=tenant_a, run=run_a, company=company, name="ACME", ai_rank=4)
    client.force_login(reviewer_user)
    response = client.get(reverse("admin:ats_company_change", args=[company.pk]))
    assert response.status_code == 200
    assert "prospects in research runs" in response.content.decode().lower()
    assert "ACME" in response.content.decode()


def test_prospect_admin_edits_manual_fields_only(client, reviewer_user, run_a, tenant_a) -> None:
    from research.models import Prospect

    company = CompanyFactory(tenant=tenant_a, name="Acme Robotics")
    prospect = Prospect.objects.create(
        tenant=tenant_a, run=run_a, company=company, name="ACME", ai_rank=4
    )
    client.force_login(reviewer_user)
    url = reverse("admin:research_prospect_change", args=[prospect.pk])
    management = {
        f"{prefix}-{name}": 0
        for prefix in ("evidence", "metrics")
        for name in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    response = client.post(
        url,
        {
            "review_status": "accepted",
            "manual_priority": 2,
            "manual_notes": "Strong fit",
            "is_pinned": "on",
            "ai_rank": 1,
            "name": "Hacked",
            **management,
        },
    )
    assert response.status_code == 302, response.content
    prospect.refresh_from_db()
    assert (
        prospect.review_status,
        prospect.manual_priority,
        prospect.manual_notes,
        prospect.is_pinned,
    ) == ("accepted", 2, "Strong fit", True)
    assert (prospect.ai_rank, prospect.name) == (4, "ACME")  # research's fields are read-only
    assert prospect.edited_by == reviewer_user
    assert RunEvent.objects.filter(run=run_a, event_type="prospect_edited").exists()
