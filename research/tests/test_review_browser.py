"""The reviewer's workplace in a real browser (Chromium via Playwright, on `live_server`).

One reviewer's afternoon, clicked like a person: log in, open the review page from the run
list, read an unverified evidence passage, exclude a company, resolve a probable duplicate,
pick another company with the search, approve, let the worker ingest, see the result; reject
another bundle with a note; an analyst sees no buttons; a stale page gets the conflict.
Screenshots of every step go to test-artifacts/test_reviewer_workflow/; with
UPDATE_SCREENSHOTS=1 the review page and the run page also become the README's pictures
(docs/screenshots/review.png and run.png).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from ats.actors import Actor
from ats.models import MemberRole, Tenant
from ats.tests.factories import CompanyFactory, MembershipFactory, RoleFactory, UserFactory
from research.inputs import RunCreate
from research.models import Bundle, BundleStatus, CompanyDecision, ResearchRun, RunStatus
from research.services.bundles import bundle_upload
from research.services.runs import run_create

from .review_bundle import review_bundle

pytestmark = pytest.mark.django_db(transaction=True)
AGENT = Actor(label="api_key:research-agent")


def _run(tenant: Tenant, objective: str, **kwargs: Any) -> ResearchRun:
    run, _ = run_create(tenant=tenant, data=RunCreate(objective=objective, **kwargs), actor=AGENT)
    return run


def _upload(run: ResearchRun, *, with_lumenbot: bool = True) -> Bundle:
    payload = review_bundle(str(run.pk), with_lumenbot=with_lumenbot)
    return bundle_upload(run=run, payload=payload, actor=AGENT).bundle


def test_reviewer_workflow(browser_page_for, tenant_a) -> None:
    northwind = CompanyFactory(
        tenant=tenant_a, name="Northwind Robotics GmbH", domain="northwind-robotics.de"
    )
    feldmann = CompanyFactory(
        tenant=tenant_a, name="Feldmann Sensorik GmbH", domain="feldmann-group.com"
    )
    harvest = CompanyFactory(tenant=tenant_a, name="Linz Harvest Robotics", domain="lhr.at")
    role = RoleFactory(tenant=tenant_a, title="Chief Technology Officer", client_company=northwind)
    run = _run(tenant_a, "Robotics companies in DACH with CTO-level talent", role_id=role.pk)
    bundle = _upload(run)
    reviewer = UserFactory(username="rita")
    MembershipFactory(tenant=tenant_a, user=reviewer, role=MemberRole.REVIEWER)

    # Log in like a person.
    page = browser_page_for(None)
    page.goto("/admin/")
    page.fill("#id_username", "rita")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_selector("text=1 run awaiting review")
    assert "ATS Research" in page.inner_text("#site-name")
    page.shot("index", viewports=("laptop", "desktop"))

    # The run list, then its Review link.
    page.click("text=1 run awaiting review")
    page.wait_for_selector("#result_list")
    page.shot("run list", viewports=("laptop", "desktop"))
    page.locator("#result_list a.review-link").first.click()
    page.wait_for_selector("#approve-form")
    assert "Client of this search (Northwind Robotics GmbH)" in page.inner_text("#company-0")
    page.shot("review page", viewports=("laptop", "desktop"))
    page.docs_shot("review")  # the README's picture (UPDATE_SCREENSHOTS=1)

    # An unverified evidence passage, with why.
    unverified = page.locator("#company-2 .evidence.is-unverified")
    assert "Auric Motion is profitable since 2024" in unverified.inner_text()
    assert "not found in the cited source" in unverified.inner_text()
    unverified.scroll_into_view_if_needed()
    page.shot("unverified evidence")

    # Feldmann is a probable duplicate: take it as the existing company.
    duplicate = page.locator("#duplicate-3")
    assert "Same name, different domain" in duplicate.inner_text()
    page.select_option("#id_decision_3", label="Same as Feldmann Sensorik GmbH")
    # Exclude Lumenbot; Stahlgrün is the firm's "Linz Harvest Robotics" (found by search).
    page.select_option("#id_decision_5", "exclude")
    page.select_option("#id_decision_4", "other")
    picker = page.locator("#company-4 .company-picker")
    picker.locator(".select2-selection").click()
    page.fill(".select2-search__field", "Harvest")
    page.locator(".select2-results__option", has_text="Linz Harvest Robotics").click()
    page.fill("#id_approve_note", "Feldmann is our existing record.")
    page.shot("decisions made")
    page.click("input[name=approve]")
    page.wait_for_selector("text=ingestion job")
    page.shot("approved, ingestion queued")

    decisions = {d.company_index: d for d in CompanyDecision.objects.filter(bundle=bundle)}
    assert (decisions[3].action, decisions[3].company_id) == ("same_as", feldmann.pk)
    assert (decisions[4].action, decisions[4].company_id) == ("same_as", harvest.pk)
    assert decisions[5].action == "exclude"

    call_command("runworker", burst=True)
    page.reload()
    page.wait_for_selector("text=What was created")
    assert "Succeeded" in page.inner_text(".run-line")
    created = page.inner_text("[data-testid=outcome]")
    assert "2 new companies" in created.replace("\n", " ")  # Kestrel and Auric
    assert "1 excluded by the reviewer" in created.replace("\n", " ")
    assert "2 taken as an existing company" in created.replace("\n", " ")
    page.shot("ingested", viewports=("laptop", "desktop"))

    # The run page: its history in words.
    page.click("text=Run page and history")
    page.wait_for_selector(".timeline")
    assert "rita approved the bundle" in page.inner_text(".timeline")
    page.shot("run page", viewports=("laptop", "desktop"))
    page.docs_shot("run")

    # Reject another run's bundle with a note.
    second = _run(tenant_a, "Machine vision suppliers in Baden-Württemberg")
    rejected = _upload(second, with_lumenbot=False)
    page.goto(f"/admin/research/researchrun/{second.pk}/review/")
    page.fill("#id_reject_note", "Please cite a source for Stahlgrün's headcount.")
    page.shot("rejecting")
    page.click("input[name=reject]")
    page.wait_for_selector("text=Rejected by rita")
    page.shot("rejected")
    rejected.refresh_from_db()
    assert rejected.status == BundleStatus.REJECTED

    # A stale page: a newer bundle arrives after the page loaded; Approve gets the conflict.
    third = _run(tenant_a, "Cobot makers in Austria")
    stale = _upload(third, with_lumenbot=False)
    page.goto(f"/admin/research/researchrun/{third.pk}/review/")
    newer = _upload(third, with_lumenbot=True)
    with page.expect_status(409):
        page.click("input[name=approve]")
        page.wait_for_selector(".review-errors")
    assert "superseded by a newer upload" in page.inner_text(".review-errors")
    page.shot("stale page conflict")
    newer.refresh_from_db()
    stale.refresh_from_db()
    assert (stale.status, newer.status) == (BundleStatus.SUPERSEDED, BundleStatus.PENDING_REVIEW)
    assert ResearchRun.objects.get(pk=third.pk).status == RunStatus.NEEDS_REVIEW

    # An analyst sees the page read-only.
    analyst = UserFactory(username="andy")
    MembershipFactory(tenant=tenant_a, user=analyst, role=MemberRole.ANALYST)
    analyst_page = browser_page_for(analyst)
    analyst_page.goto(f"/admin/research/researchrun/{third.pk}/review/")
    assert "needs the reviewer role" in analyst_page.inner_text("[data-testid=read-only]")
    assert analyst_page.locator("#approve-form").count() == 0
    assert analyst_page.locator("#reject-form").count() == 0
    assert analyst_page.locator("select.decision-select").count() == 0
    analyst_page.shot("analyst read-only")


def test_decisions_survive_paging_through_a_long_bundle(
    browser_page_for, tenant_a, small_bundle
) -> None:
    """60 companies: 50 on page 1. A decision made on page 1 is still there after a trip to
    page 2, which says what was decided elsewhere."""
    run = _run(tenant_a, "A long list of robotics companies")
    bundle_upload(run=run, payload=small_bundle(run, companies=60), actor=AGENT)
    reviewer = UserFactory(username="paula")
    MembershipFactory(tenant=tenant_a, user=reviewer, role=MemberRole.REVIEWER)
    page = browser_page_for(reviewer)
    page.goto(f"/admin/research/researchrun/{run.pk}/review/")
    page.select_option("#id_decision_3", "exclude")
    page.click("button.page-button:has-text('next')")
    page.wait_for_selector("text=Proposed companies 51\u201360 of 60")
    assert "Also decided on other pages: 1 excluded" in page.inner_text("#approve-form")
    page.shot("page two remembers")
    page.click("button.page-button:has-text('previous')")
    page.wait_for_selector("text=Proposed companies 1\u201350 of 60")
    assert page.input_value("#id_decision_3") == "exclude"
