"""Approval bound to the bundle the reviewer saw, and per-company decisions (SPEC §9, §10):
validated, stored with the approval, honoured by ingestion, idempotent."""

from __future__ import annotations

import pytest
from django.db import transaction

from ats.actors import Actor
from ats.models import Company
from ats.tests.factories import CompanyFactory
from jobs.models import Job
from research.inputs import CompanyDecisionInput
from research.models import (
    Bundle,
    BundleStatus,
    CompanyDecision,
    Prospect,
    ProspectEvidence,
    ProspectMetric,
    RunEvent,
)
from research.services import bundles as bundle_services
from research.services.ingest import bundle_ingest

from .test_ingest import table_state

SYSTEM = Actor.system("test")
PROBLEM = "application/problem+json"


@pytest.fixture
def pending(run_a, small_bundle) -> Bundle:
    result = bundle_services.bundle_upload(run=run_a, payload=small_bundle(run_a), actor=SYSTEM)
    return result.bundle


def url(run, verb: str) -> str:
    return f"/api/v1/runs/{run.pk}/{verb}/"


def test_api_approve_with_the_reviewed_sha(reviewer_client, run_a, pending) -> None:
    response = reviewer_client.post(
        url(run_a, "approve"),
        {"bundle_sha256": pending.sha256.upper(), "note": "ok", "decisions": []},
        format="json",
    )
    assert response.status_code == 200, response.json()
    pending.refresh_from_db()
    assert pending.status == BundleStatus.APPROVED and pending.review_note == "ok"


def test_api_approve_with_a_stale_sha_is_409_and_changes_nothing(
    reviewer_client, run_a, pending, small_bundle
) -> None:
    newer = bundle_services.bundle_upload(
        run=run_a, payload=small_bundle(run_a, companies=4), actor=SYSTEM
    ).bundle
    before = table_state()
    for verb, body in (
        ("approve", {"bundle_sha256": pending.sha256}),
        ("reject", {"bundle_sha256": pending.sha256, "note": "no"}),
    ):
        response = reviewer_client.post(url(run_a, verb), body, format="json")
        assert response.status_code == 409
        assert response["Content-Type"] == PROBLEM
        problem = response.json()
        assert problem["code"] == "bundle_not_pending"
        assert "superseded by a newer upload" in problem["detail"]
        assert "by test (system)" in problem["detail"]  # who uploaded the newer one
    newer.refresh_from_db()
    assert newer.status == BundleStatus.PENDING_REVIEW
    assert not Job.objects.exists() and not CompanyDecision.objects.exists()
    assert table_state() == before


def test_api_approve_already_decided_says_by_whom_and_when(reviewer_client, run_a, pending) -> None:
    body = {"bundle_sha256": pending.sha256}
    assert reviewer_client.post(url(run_a, "approve"), body, format="json").status_code == 200
    again = reviewer_client.post(url(run_a, "approve"), body, format="json")
    assert again.status_code == 409
    assert "already approved by API key “reviewer key” on" in again.json()["detail"]
    assert Job.objects.count() == 1


def test_api_approve_unknown_sha_is_409(reviewer_client, run_a, pending) -> None:
    response = reviewer_client.post(
        url(run_a, "approve"), {"bundle_sha256": "a" * 64}, format="json"
    )
    assert response.status_code == 409
    assert "No bundle with SHA-256 aaaaaaaaaaaa" in response.json()["detail"]


@pytest.mark.parametrize(
    ("decision", "loc", "fragment"),
    [
        ({"company": 3, "action": "exclude"}, "decisions.0.company", "no company 3"),
        ({"company": -1, "action": "exclude"}, "decisions.0.company", "greater than"),
        ({"company": 0, "action": "merge"}, "decisions.0.action", "include"),
        ({"company": 0, "action": "same_as"}, "decisions.0.company_id", "needs `company_id`"),
        ({"company": 0, "action": "exclude", "company_id": 1}, "decisions.0.company_id", "only"),
        ({"company": 0, "action": "same_as", "company_id": 10**9}, "decisions.0.company_id", ""),
    ],
)
def test_api_decisions_are_validated(
    reviewer_client, run_a, pending, decision, loc, fragment
) -> None:
    response = reviewer_client.post(
        url(run_a, "approve"),
        {"bundle_sha256": pending.sha256, "decisions": [decision]},
        format="json",
    )
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert [e["loc"] for e in errors] == [loc]
    assert fragment.lower() in errors[0]["msg"].lower()
    pending.refresh_from_db()
    assert pending.status == BundleStatus.PENDING_REVIEW
    assert not Job.objects.exists()


def test_api_same_as_a_company_of_another_tenant_is_400(
    reviewer_client, run_a, pending, tenant_b
) -> None:
    theirs = CompanyFactory(tenant=tenant_b, name="Theirs AG")
    response = reviewer_client.post(
        url(run_a, "approve"),
        {
            "bundle_sha256": pending.sha256,
            "decisions": [
                {"company": 0, "action": "exclude"},
                {"company": 0, "action": "include"},
                {"company": 1, "action": "same_as", "company_id": theirs.pk},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    errors = {e["loc"]: e["msg"] for e in response.json()["errors"]}
    assert set(errors) == {"decisions.1.company", "decisions.2.company_id"}
    assert f"No company with id {theirs.pk} in this tenant" in errors["decisions.2.company_id"]
    assert "decided twice" in errors["decisions.1.company"]


def _approve(bundle: Bundle, decisions: list[dict]) -> None:
    bundle_services.bundle_approve(
        bundle=bundle,
        actor=SYSTEM,
        decisions=[CompanyDecisionInput(**d) for d in decisions],
    )


def _ingest(bundle: Bundle):
    with transaction.atomic():
        return bundle_ingest(bundle=Bundle.objects.get(pk=bundle.pk))


def test_ingestion_honours_exclusions_and_overrides(run_a, pending, tenant_a) -> None:
    """Three proposals: 0 excluded, 1 taken as an existing company, 2 included as new."""
    chosen = CompanyFactory(tenant=tenant_a, name="Chosen Robotics SE", domain="chosen.example")
    companies = pending.payload["proposal_json"]["companies"]
    _approve(
        pending,
        [
            {"company": 0, "action": "exclude"},
            {"company": 1, "action": "same_as", "company_id": chosen.pk},
        ],
    )
    counts = _ingest(pending)
    assert (counts.companies_excluded, counts.companies_same_as) == (1, 1)
    assert (counts.companies_new, counts.companies_matched) == (1, 1)

    names = set(Company.objects.filter(tenant=tenant_a).values_list("name", flat=True))
    assert names == {"Chosen Robotics SE", companies[2]["name"]}
    prospects = {p.company_id: p for p in Prospect.objects.filter(run=run_a)}
    new_company = Company.objects.get(tenant=tenant_a, name=companies[2]["name"])
    assert set(prospects) == {chosen.pk, new_company.pk}
    assert prospects[chosen.pk].name == companies[1]["name"]
    # The chosen company learns the proposed name as an alias.
    assert chosen.aliases.filter(alias=companies[1]["name"]).exists()
    # Evidence and metrics only of the two ingested proposals.
    per_company = len(companies[1]["evidence_snippets"])
    assert ProspectEvidence.objects.filter(prospect__run=run_a).count() == 2 * per_company
    assert ProspectMetric.objects.filter(prospect__run=run_a).count() == 2 * len(
        companies[1]["metrics"]
    )
    event = RunEvent.objects.get(run=run_a, event_type="ingest_succeeded")
    assert event.data["companies_excluded"] == 1 and event.data["companies_same_as"] == 1
    assert "1 company excluded, 1 company taken as an existing company" in event.message
    approved = RunEvent.objects.get(run=run_a, event_type="bundle_approved")
    assert approved.data["decisions"] == {"included": 0, "excluded": 1, "same_as": 1}
    assert "1 company excluded" in approved.message

    # Ingesting the same bundle with the same decisions again changes nothing.
    before = table_state()
    Bundle.objects.filter(pk=pending.pk).update(status=BundleStatus.APPROVED)
    run_a.__class__.objects.filter(pk=run_a.pk).update(status="ingesting")
    again = _ingest(pending)
    assert table_state() == before
    assert (again.prospects_created, again.evidence_added, again.metrics_added) == (0, 0, 0)


def test_ingestion_with_every_company_excluded_creates_nothing(run_a, pending) -> None:
    _approve(pending, [{"company": i, "action": "exclude"} for i in range(3)])
    counts = _ingest(pending)
    assert counts.companies_excluded == 3
    assert not Company.objects.exists() and not Prospect.objects.exists()


def test_ingestion_query_count_does_not_grow_with_decisions(
    run_a, small_bundle, tenant_a, django_assert_max_num_queries
) -> None:
    bundle = bundle_services.bundle_upload(
        run=run_a, payload=small_bundle(run_a, companies=200), actor=SYSTEM
    ).bundle
    chosen = [CompanyFactory(tenant=tenant_a) for _ in range(5)]
    _approve(
        bundle,
        [{"company": i, "action": "exclude"} for i in range(0, 100, 2)]
        + [
            {"company": 101 + i, "action": "same_as", "company_id": c.pk}
            for i, c in enumerate(chosen)
        ],
    )
    # One INSERT per bulk insert; new companies and prospects take their ids from the
    # sequence first (one query each).
    with django_assert_max_num_queries(38):
        counts = _ingest(bundle)
    assert counts.companies_excluded == 50 and counts.companies_same_as == 5
