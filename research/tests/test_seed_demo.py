"""`manage.py seed_demo` (a research command: it makes research runs too): the demo shows every
state of the product, made through the services and the real job handlers; a second run
creates nothing and says so; another tenant's jobs are never run."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

import jobs
from ats.models import Company, CompanyAlias, Membership, Role, Tenant
from jobs.models import Job, JobStatus
from research.bundle import issues
from research.demo.cast import cast
from research.demo.documents import documents
from research.models import (
    Bundle,
    BundleStatus,
    CompanyDecision,
    Prospect,
    ProspectEvidence,
    ProspectMetric,
    ResearchRun,
    RunSource,
    RunStatus,
    Source,
)
from research.review import bundle_matches, is_probable_duplicate, review_panel
from research.services.bundles import INGEST_JOB_TYPE
from research.services.matching import MatchKind
from research.sources import classify

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db(transaction=True)]
MODELS = (
    Tenant, Company, CompanyAlias, Role, Membership, ResearchRun, Bundle, CompanyDecision,
    Prospect, ProspectEvidence, ProspectMetric, Source, RunSource, Job,
)  # fmt: skip


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--admin", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def run_of(key: str) -> ResearchRun:
    return ResearchRun.objects.get(tenant__slug="demo", idempotency_key=key)


def test_a_second_run_creates_nothing_and_says_so(django_user_model) -> None:
    first = seed()
    made = {**counts(), "users": django_user_model.objects.count()}
    second = seed()

    assert {**counts(), "users": django_user_model.objects.count()} == made
    status_lines = [line for line in second.splitlines() if not line.startswith("Demo data")]
    assert status_lines and all(": already present" in line for line in status_lines), second
    assert "created" not in second and "Jobs of the demo tenant" not in second
    assert first.count(": created") == len(status_lines)
    # The counts it prints are the database's.
    known = len(cast().known)
    added = Company.objects.filter(tenant__slug="demo").count() - known
    assert f"the firm's {known} records and {added} other companies" in second
    prospects = Prospect.objects.filter(run=run_of("demo:succeeded")).count()
    assert f"succeeded: {prospects} prospects" in second
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin")


def test_the_run_awaiting_review_shows_every_kind_of_hint() -> None:
    seed()
    run = run_of("demo:awaiting-review")
    assert run.status == RunStatus.NEEDS_REVIEW
    bundle = Bundle.objects.get(run=run, status=BundleStatus.PENDING_REVIEW)
    assert len(bundle.payload["proposal_json"]["companies"]) == 150
    matches = bundle_matches(bundle=bundle)
    kinds = {m.kind for m in matches}
    assert {MatchKind.DOMAIN, MatchKind.NAME, MatchKind.NEW} <= kinds
    assert any(m.ambiguous_with for m in matches)
    reasons = {hint.reason for m in matches if is_probable_duplicate(m) for hint in m.hints}
    assert reasons == {"similar name", "same name, different domain"}
    warnings = {w["type"] for w in bundle.validation_warnings}
    assert {issues.UNVERIFIED_EVIDENCE, issues.DUPLICATE_COMPANY, issues.MIXED_SCRIPT} <= warnings

    panel = review_panel(bundle=bundle)  # the first page, as the reviewer opens it
    client = [c for c in panel.companies if c.is_client]
    assert [c.name for c in client] == ["Northwind Robotics GmbH"]
    assert client[0].match.kind == MatchKind.DOMAIN
    assert len(panel.duplicates) == 2
    unverified = [e for c in panel.companies for e in c.evidence if not e.verified]
    assert any(e.closest for e in unverified) and any(not e.closest for e in unverified)
    metrics = {m.label: m.value for c in panel.companies for m in c.metrics}
    assert re.fullmatch(r"(EUR|CHF|SEK|DKK|PLN|GBP|CZK) [\d.]+M", metrics["Revenue"])


def test_succeeded_failed_and_sources_runs_went_through_the_job_handlers() -> None:
    seed()
    succeeded = run_of("demo:succeeded")
    assert succeeded.status == RunStatus.SUCCEEDED
    bundle = Bundle.objects.get(run=succeeded)
    assert bundle.status == BundleStatus.INGESTED
    ingest = Job.objects.get(pk=bundle.ingest_job_id)
    assert (ingest.job_type, ingest.status) == (INGEST_JOB_TYPE, JobStatus.SUCCEEDED)
    assert ingest.result["prospects_created"] == Prospect.objects.filter(run=succeeded).count() > 0
    decisions = {d.action for d in CompanyDecision.objects.filter(bundle=bundle)}
    assert decisions == {"exclude", "same_as"}

    failed = run_of("demo:failed")
    assert failed.status == RunStatus.FAILED
    assert "no longer validates" in failed.last_error and "run_bundle_v1" in failed.last_error
    job = Job.objects.get(pk=Bundle.objects.get(run=failed).ingest_job_id)
    assert job.status == JobStatus.FAILED

    sources = run_of("demo:sources")
    assert sources.status == RunStatus.SUCCEEDED
    links = RunSource.objects.filter(run=sources)
    decided = sorted(links.values_list("source__title", "decision"))
    assert decided == sorted((document.title, document.expected) for document in documents())
    codes = {code for link in links for code in link.reason_codes}
    assert codes == {
        classify.REJECT_THIN_CONTENT,
        classify.REJECT_EMPTY_TEXT,
        classify.FLAG_PAYWALL_OR_LOGIN,
        classify.FLAG_ERROR_PAGE,
        classify.FLAG_DUPLICATE_TEMPLATE,
    }
    assert Prospect.objects.filter(run=sources).exists()  # mentions of the firm's companies
    assert run_of("demo:draft").status == RunStatus.DRAFT


def test_it_runs_only_the_demo_tenants_jobs(tenant_a: Tenant) -> None:
    others = [
        jobs.enqueue("testapp.record", tenant=tenant_a),
        jobs.enqueue("testapp.record"),  # the system's, no tenant
    ]
    seed()
    for job in others:
        job.refresh_from_db()
        assert (job.status, job.attempts) == (JobStatus.QUEUED, 0)
    demo_jobs = Job.objects.filter(tenant__slug="demo")
    assert (
        demo_jobs.exists()
        and not demo_jobs.exclude(status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED]).exists()
    )
