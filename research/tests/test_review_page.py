"""The review page in the admin (SPEC §10): a view of its own, approve and reject bound to
the bundle shown, per-company decisions, read-only for analysts, the truth afterwards."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ats.actors import Actor
from ats.models import MemberRole
from ats.tests.factories import CompanyFactory, RoleFactory
from jobs.models import Job
from research.models import Bundle, BundleStatus, CompanyDecision, ResearchRun, RunStatus
from research.services import bundles as bundle_services

from . import builders

SYSTEM = Actor.system("test")


@pytest.fixture
def reviewer_user(tenant_a, staff_member_for):
    return staff_member_for(tenant_a, MemberRole.REVIEWER)


@pytest.fixture
def reviewer(client, reviewer_user) -> Client:
    client.force_login(reviewer_user)
    return client


@pytest.fixture
def pending(run_a, small_bundle) -> Bundle:
    return bundle_services.bundle_upload(
        run=run_a, payload=small_bundle(run_a), actor=SYSTEM
    ).bundle


def review_url(run: ResearchRun) -> str:
    return reverse("admin:research_researchrun_review", args=[run.pk])


def approve(client: Client, run: ResearchRun, bundle: Bundle, **fields: str):
    return client.post(
        reverse("admin:research_researchrun_approve", args=[run.pk]),
        {"bundle_id": str(bundle.pk), "bundle_sha256": bundle.sha256, **fields},
    )


def reject(client: Client, run: ResearchRun, bundle: Bundle, note: str):
    return client.post(
        reverse("admin:research_researchrun_reject", args=[run.pk]),
        {"bundle_id": str(bundle.pk), "bundle_sha256": bundle.sha256, "note": note},
    )


def test_review_page_shows_the_bundle(reviewer, run_a, pending, tenant_a) -> None:
    first = pending.payload["proposal_json"]["companies"][0]
    CompanyFactory(tenant=tenant_a, name="Existing Robotics", domain=first["domain"])
    response = reviewer.get(review_url(run_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "What approval will create" in html
    assert "Same domain" in html and "Existing Robotics" in html
    assert "New company" in html
    assert "<mark>" in html
    assert 'class="badge badge-unverified"' in html
    assert 'class="badge badge-verified"' in html
    assert pending.sha256 in html and str(pending.pk) in html
    # Approve and Reject are separate top-level forms; the decisions belong to Approve.
    assert html.count("<form") == 3  # approve, reject, and the admin's logout form
    assert 'id="approve-form"' in html and 'id="reject-form"' in html
    assert 'form="approve-form"' in html
    assert "Approve and ingest" in html and "Reject bundle" in html


def test_change_form_links_to_review_and_has_no_review_forms(reviewer, run_a, pending) -> None:
    response = reviewer.get(reverse("admin:research_researchrun_change", args=[run_a.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert review_url(run_a) in html
    assert "Approve and ingest" not in html
    assert "uploaded a bundle" in html  # the timeline, in words


def test_run_list_links_review(reviewer, run_a, pending) -> None:
    html = reviewer.get(reverse("admin:research_researchrun_changelist")).content.decode()
    assert review_url(run_a) in html


def test_admin_approve_binds_the_bundle_and_stores_decisions(
    reviewer, reviewer_user, run_a, pending, tenant_a
) -> None:
    existing = CompanyFactory(tenant=tenant_a, name="Somebody Else AG")
    response = approve(
        reviewer,
        run_a,
        pending,
        **{"decision-0": "exclude", "decision-1": "other", "company-1": str(existing.pk)},
        note="Looks good",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    pending.refresh_from_db()
    assert pending.status == BundleStatus.APPROVED
    assert pending.reviewed_by == reviewer_user and pending.review_note == "Looks good"
    decisions = {d.company_index: d for d in CompanyDecision.objects.filter(bundle=pending)}
    assert decisions[0].action == "exclude" and decisions[0].company_id is None
    assert (decisions[1].action, decisions[1].company_id) == ("same_as", existing.pk)
    assert decisions[1].decided_by == reviewer_user
    assert Job.objects.filter(pk=pending.ingest_job_id).exists()


def test_admin_approve_of_a_superseded_bundle_is_409(reviewer, run_a, pending, small_bundle):
    newer = bundle_services.bundle_upload(
        run=run_a, payload=small_bundle(run_a, companies=4), actor=SYSTEM
    ).bundle
    response = approve(reviewer, run_a, pending)
    assert response.status_code == 409
    assert "superseded by a newer upload" in response.content.decode()
    newer.refresh_from_db()
    assert newer.status == BundleStatus.PENDING_REVIEW
    assert not Job.objects.exists()
    assert ResearchRun.objects.get(pk=run_a.pk).status == RunStatus.NEEDS_REVIEW


def test_admin_approve_already_decided_says_by_whom(reviewer, run_a, pending) -> None:
    bundle_services.bundle_reject(
        bundle=pending,
        actor=Actor(label="user:ann"),
        decision=bundle_services.RejectDecision(note="Missing sources"),
    )
    response = approve(reviewer, run_a, pending)
    assert response.status_code == 409
    html = response.content.decode()
    assert "already rejected by ann" in html
    assert not Job.objects.exists()


def test_admin_reject_needs_a_note(reviewer, run_a, pending) -> None:
    response = reject(reviewer, run_a, pending, note="  ")
    assert response.status_code == 400
    assert "A note is required" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW
    response = reject(reviewer, run_a, pending, note="Cite the register for Gen Company 2")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == BundleStatus.REJECTED
    page = reviewer.get(review_url(run_a)).content.decode()
    assert "Rejected by" in page and "Cite the register for Gen Company 2" in page
    assert "What approval will create" not in page


def test_crafted_decisions_answer_400_not_500(reviewer, run_a, pending) -> None:
    for fields in (
        {"decision-0": "same_as:abc"},
        {"decision-99": "exclude"},
        {"decision-x": "exclude"},
        {"decision-0": "other"},
        {"decision-0": "same_as:999999"},
    ):
        response = approve(reviewer, run_a, pending, **fields)
        assert response.status_code == 400, fields
    response = reviewer.post(
        reverse("admin:research_researchrun_approve", args=[run_a.pk]), {"bundle_sha256": "x"}
    )
    assert response.status_code == 409
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW


def test_analyst_sees_read_only_page_and_forced_post_is_403(
    client, tenant_a, staff_member_for, run_a, pending
) -> None:
    client.force_login(staff_member_for(tenant_a, MemberRole.ANALYST))
    response = client.get(review_url(run_a))
    html = response.content.decode()
    assert response.status_code == 200
    assert "needs the reviewer role" in html
    assert "Approve and ingest" not in html and 'id="approve-form"' not in html
    for response in (approve(client, run_a, pending), reject(client, run_a, pending, "no")):
        assert response.status_code == 403
        html = response.content.decode()
        assert "needs the reviewer role" in html
        assert 'id="site-name"' in html  # the admin layout, not a bare page
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW


def test_admin_approve_needs_csrf(reviewer_user, run_a, pending) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer_user)
    assert approve(client, run_a, pending).status_code == 403
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW


def test_approve_and_reject_refuse_get(reviewer, run_a, pending) -> None:
    for name in ("approve", "reject"):
        url = reverse(f"admin:research_researchrun_{name}", args=[run_a.pk])
        assert reviewer.get(url).status_code == 405


def test_staff_of_other_tenant_gets_404(client, tenant_b, staff_member_for, run_a, pending):
    client.force_login(staff_member_for(tenant_b, MemberRole.ADMIN))
    assert client.get(review_url(run_a)).status_code == 404
    assert approve(client, run_a, pending).status_code == 404
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW


def test_probable_duplicate_needs_the_decision_the_page_shows(reviewer, run_a, tenant_a) -> None:
    """A duplicate is created new only when the approving page showed it (with its
    decision); a page that did not (a company appeared since) gets 409."""
    text = "Acme Robotics builds welding cells in Lyon for car makers."
    source = builders.source(text, url="https://news.example.org/acme", title="Acme news")
    payload = builders.bundle(
        run_a.pk,
        [builders.company("Acme Robotics", sources=[source], domain="acme-robotics.fr")],
        [source],
    )
    bundle = bundle_services.bundle_upload(run=run_a, payload=payload, actor=SYSTEM).bundle
    html = reviewer.get(review_url(run_a)).content.decode()
    assert "Probable duplicate" not in html
    CompanyFactory(tenant=tenant_a, name="ACME Robotics", domain="acme.com")
    html = reviewer.get(review_url(run_a)).content.decode()
    assert "Probable duplicate" in html and 'name="decision-0"' in html
    assert approve(reviewer, run_a, bundle).status_code == 409  # decision not sent
    response = approve(reviewer, run_a, bundle, **{"decision-0": "include"})
    assert response.status_code == 302
    decision = CompanyDecision.objects.get(bundle=bundle)
    assert decision.action == "include"


@pytest.mark.django_db(transaction=True)  # the worker's threads use their own connections
def test_after_ingestion_the_page_shows_stored_counts(reviewer, run_a, pending) -> None:
    approve(reviewer, run_a, pending, **{"decision-2": "exclude"})
    call_command("runworker", burst=True)
    assert ResearchRun.objects.get(pk=run_a.pk).status == RunStatus.SUCCEEDED
    html = reviewer.get(review_url(run_a)).content.decode()
    assert "What was created" in html and "What approval will create" not in html
    assert "<strong>2</strong> new companies" in html
    assert "<strong>1</strong> excluded by the reviewer" in html
    assert "Excluded" in html  # the decisions stay visible


@pytest.mark.django_db(transaction=True)  # the worker's threads use their own connections
def test_run_page_lists_its_prospects_and_links_to_all(reviewer, run_a, pending) -> None:
    run_page = reverse("admin:research_researchrun_change", args=[run_a.pk])
    html = reviewer.get(run_page).content.decode()
    assert "run-prospects" not in html  # nothing ingested yet
    assert "Sources" not in html and "Run steps" not in html  # no empty tables of headers
    approve(reviewer, run_a, pending, **{"decision-2": "exclude"})
    call_command("runworker", burst=True)

    html = reviewer.get(run_page).content.decode()
    companies = pending.payload["proposal_json"]["companies"]
    assert "Prospects: 2 companies" in html
    assert "Sources" not in html  # the bundle's sources are on the review page, not here
    assert companies[0]["name"] in html and companies[2]["name"] not in html
    all_link = f"?run__id__exact={run_a.pk}"
    assert "All 2 prospects of this run" in html and all_link in html
    listed = reviewer.get(reverse("admin:research_prospect_changelist") + all_link)
    assert listed.status_code == 200 and "2 prospects" in listed.content.decode()


def test_client_company_is_flagged(reviewer, run_a, pending, tenant_a) -> None:
    first = pending.payload["proposal_json"]["companies"][0]
    client_company = CompanyFactory(tenant=tenant_a, name="Client AG", domain=first["domain"])
    run_a.role = RoleFactory(tenant=tenant_a, client_company=client_company)
    run_a.save(update_fields=["role"])
    html = reviewer.get(review_url(run_a)).content.decode()
    assert "Client of this search (Client AG)" in html


def test_review_page_of_2000_companies_has_bounded_queries(
    reviewer, run_a, small_bundle, django_assert_max_num_queries
) -> None:
    payload = small_bundle(run_a, companies=2_000)
    bundle_services.bundle_upload(run=run_a, payload=payload, actor=SYSTEM)
    with django_assert_max_num_queries(25):
        response = reviewer.get(review_url(run_a), {"page": 7})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>2000</strong> proposed companies" in html
    assert "Gen Company 300 GmbH" in html  # page 7 shows companies 301-350
    assert "Gen Company 1000 GmbH" not in html


def go_to_page(client: Client, run: ResearchRun, bundle: Bundle, page: int, **fields: str):
    return client.post(
        reverse("admin:research_researchrun_review_page", args=[run.pk]),
        {"bundle_id": str(bundle.pk), "bundle_sha256": bundle.sha256, "goto": str(page), **fields},
    )


def test_decisions_are_kept_across_pages_until_approve(
    reviewer, run_a, small_bundle, tenant_a
) -> None:
    """The page shows 50 companies at a time: decisions made on page 1 survive going to
    page 2 (shown again when coming back), and Approve sends those of every page."""
    bundle = bundle_services.bundle_upload(
        run=run_a, payload=small_bundle(run_a, companies=120), actor=SYSTEM
    ).bundle
    existing = CompanyFactory(tenant=tenant_a, name="Existing Robotics")
    response = go_to_page(
        reviewer,
        run_a,
        bundle,
        2,
        **{"decision-3": "exclude", "decision-4": "other", "company-4": str(existing.pk)},
        note="first pass",
    )
    assert response.status_code == 302 and response["Location"].endswith("?page=2#companies")
    page_two = reviewer.get(review_url(run_a), {"page": 2}).content.decode()
    assert "Also decided on other pages:" in page_two
    assert "1 excluded, 1 same as an existing company" in page_two
    assert "first pass" in page_two  # the note too
    page_one = reviewer.get(review_url(run_a), {"page": 1}).content.decode()
    assert '<option value="exclude" selected>' in page_one.split('name="decision-3"')[1][:2000]

    # Back to the default on page 1 takes a decision out; page 2 adds one; then approve.
    go_to_page(reviewer, run_a, bundle, 2, **{"decision-3": ""})
    response = approve(reviewer, run_a, bundle, **{"decision-60": "exclude"})
    assert response.status_code == 302
    stored = {
        (d.company_index, d.action, d.company_id)
        for d in CompanyDecision.objects.filter(bundle=bundle)
    }
    assert stored == {(4, "same_as", existing.pk), (60, "exclude", None)}
    assert "research-review-draft" not in str(dict(reviewer.session))  # cleared


def test_changing_pages_needs_the_reviewer_role_and_the_current_bundle(
    client, reviewer, tenant_a, staff_member_for, run_a, small_bundle
) -> None:
    bundle = bundle_services.bundle_upload(
        run=run_a, payload=small_bundle(run_a, companies=60), actor=SYSTEM
    ).bundle
    newer = bundle_services.bundle_upload(
        run=run_a, payload=small_bundle(run_a, companies=61), actor=SYSTEM
    ).bundle
    assert go_to_page(reviewer, run_a, bundle, 2, **{"decision-1": "exclude"}).status_code == 409
    assert go_to_page(reviewer, run_a, newer, 2, **{"decision-1": "nonsense"}).status_code == 400
    analyst = Client()
    analyst.force_login(staff_member_for(tenant_a, MemberRole.ANALYST))
    assert go_to_page(analyst, run_a, newer, 2).status_code == 403
    assert not CompanyDecision.objects.exists()
