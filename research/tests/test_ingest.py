import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from ats.actors import Actor
from ats.models import Company, CompanyAlias
from ats.tests.factories import CompanyAliasFactory, CompanyFactory
from research.models import (
    Bundle,
    BundleStatus,
    Prospect,
    ProspectEvidence,
    ProspectMetric,
    ProspectStatus,
    ResearchRun,
    ReviewStatus,
    RunEvent,
    RunSource,
    RunStatus,
    Source,
    Verification,
)
from research.services import bundles as bundle_services
from research.services.ingest import IngestError, bundle_ingest

from . import builders

SYSTEM = Actor.system("test")


def approve(run, payload) -> Bundle:
    bundle = bundle_services.bundle_upload(run=run, payload=payload, actor=SYSTEM).bundle
    bundle_services.bundle_approve(bundle=bundle, actor=SYSTEM)
    return bundle


def ingest(bundle: Bundle, **kwargs):
    with transaction.atomic():
        return bundle_ingest(bundle=bundle, **kwargs)


def table_state() -> dict[str, list]:
    return {
        "companies": sorted(Company.objects.values_list("tenant_id", "name", "domain")),
        "aliases": sorted(CompanyAlias.objects.values_list("company_id", "normalized_alias")),
        "sources": sorted(Source.objects.values_list("tenant_id", "sha256")),
        "run_sources": sorted(RunSource.objects.values_list("run_id", "source_id")),
        "prospects": sorted(
            Prospect.objects.values_list(
                "run_id", "company_id", "name", "ai_rank", "ai_score", "status", "review_status"
            )
        ),
        "evidence": sorted(
            ProspectEvidence.objects.values_list(
                "prospect_id", "source_id", "text_sha256", "verification"
            )
        ),
        "metrics": sorted(ProspectMetric.objects.values_list("prospect_id", "identity_sha256")),
    }


def reset_for_reingest(bundle: Bundle) -> None:
    Bundle.objects.filter(pk=bundle.pk).update(status=BundleStatus.APPROVED)
    ResearchRun.objects.filter(pk=bundle.run_id).update(status=RunStatus.INGESTING)


@pytest.mark.sqlite
def test_ingest_creates_everything_with_counts(run_a, small_bundle, tenant_a) -> None:
    payload = small_bundle(run_a, companies=4)
    existing = CompanyFactory(
        tenant=tenant_a, name="Known Co", domain=payload["proposal_json"]["companies"][0]["domain"]
    )
    bundle = approve(run_a, payload)
    counts = ingest(bundle)
    assert counts.companies_new == 3 and counts.companies_matched == 1
    assert counts.prospects_created == 4
    assert counts.evidence_added == 4 * 3
    assert counts.unverified_evidence == 4  # one unverifiable claim per company
    assert counts.metrics_added == 4 * 3
    run_a.refresh_from_db()
    bundle.refresh_from_db()
    assert run_a.status == RunStatus.SUCCEEDED and bundle.status == BundleStatus.INGESTED
    assert run_a.counts["prospects"] == 4
    prospect = Prospect.objects.get(run=run_a, company=existing)
    assert prospect.name == "Gen Company 0 GmbH" and prospect.ai_rank == 1
    assert prospect.evidence.filter(verification=Verification.UNVERIFIED).count() == 1
    metric = prospect.metrics.get(key="headcount")
    assert metric.value == 100 and metric.unit == "people" and metric.source is not None
    # The proposed name became an alias of the existing company.
    assert existing.aliases.filter(normalized_alias="gen company 0").exists()
    event = RunEvent.objects.get(run=run_a, event_type="ingest_succeeded")
    assert event.data["companies_new"] == 3 and event.data["evidence_added"] == 12
    assert "3 new companies and 1 matched company" in event.message


def test_ingest_again_changes_nothing(run_a, small_bundle) -> None:
    bundle = approve(run_a, small_bundle(run_a, companies=5))
    ingest(bundle)
    before = table_state()
    reset_for_reingest(bundle)
    counts = ingest(bundle)
    assert table_state() == before
    assert (
        counts.companies_new,
        counts.prospects_created,
        counts.prospects_updated,
        counts.evidence_added,
        counts.metrics_added,
        counts.aliases_added,
        counts.sources_added,
    ) == (0, 0, 0, 0, 0, 0, 0)
    assert counts.companies_matched == 5


def test_failure_mid_ingest_leaves_no_row(run_a, small_bundle) -> None:
    bundle = approve(run_a, small_bundle(run_a, companies=5))
    before = table_state()
    calls = []

    def fail_on_third_checkpoint() -> None:
        calls.append(1)
        if len(calls) == 3:  # after companies and prospects were written
            raise RuntimeError("worker crashed")

    with pytest.raises(RuntimeError):
        ingest(bundle, checkpoint=fail_on_third_checkpoint)
    assert table_state() == before
    run_a.refresh_from_db()
    bundle.refresh_from_db()
    assert run_a.status == RunStatus.INGESTING and bundle.status == BundleStatus.APPROVED
    counts = ingest(bundle)  # and a retry then succeeds
    assert counts.prospects_created == 5


def test_a_database_error_in_the_pipelined_inserts_leaves_no_row(
    run_a, small_bundle, monkeypatch
) -> None:
    """The evidence and metric INSERTs are sent without waiting: an error in the first comes
    back late, yet it still fails the ingestion and rolls everything back."""
    from research.services import ingest_facts

    bundle = approve(run_a, small_bundle(run_a, companies=5))
    before = table_state()
    insert = ingest_facts.bulk_insert

    def evidence_violating_its_check(model, rows, **kwargs):
        if model is ProspectEvidence:  # 30 characters into a varchar(20): refused by the server
            assert connection.connection.pgconn.pipeline_status  # sent, not awaited
            rows = [{**row, "verification": "x" * 30} for row in rows]
        return insert(model, rows, **kwargs)

    monkeypatch.setattr(ingest_facts, "bulk_insert", evidence_violating_its_check)
    with pytest.raises(DataError):
        ingest(bundle)

    assert table_state() == before
    run_a.refresh_from_db()
    assert run_a.status == RunStatus.INGESTING


def test_manual_fields_survive_reingest(run_a, small_bundle, analyst_client) -> None:
    bundle = approve(run_a, small_bundle(run_a, companies=3))
    ingest(bundle)
    prospect = Prospect.objects.get(run=run_a, ai_rank=1)
    Prospect.objects.filter(pk=prospect.pk).update(
        review_status=ReviewStatus.ACCEPTED,
        manual_priority=1,
        manual_notes="Call Anna",
        is_pinned=True,
    )
    # The researcher refines: a new bundle for the same run, ranks changed.
    payload = small_bundle(run_a, companies=3)
    for company in payload["proposal_json"]["companies"]:
        company["ai_rank"] += 10
        company["ai_score"] = 0.5
    payload["proposal_json"]["companies"][0]["description"] = "Refined description."
    payload["proposal_json"]["query"] = "refined query"
    bundle2 = approve(run_a, payload)
    counts = ingest(bundle2)
    assert counts.prospects_updated == 3 and counts.prospects_created == 0
    prospect.refresh_from_db()
    assert (
        prospect.review_status,
        prospect.manual_priority,
        prospect.manual_notes,
        prospect.is_pinned,
    ) == (ReviewStatus.ACCEPTED, 1, "Call Anna", True)
    assert prospect.ai_rank == 11 and prospect.ai_score == 0.5
    assert prospect.proposal["description"] == "Refined description."


def test_company_no_longer_proposed_is_withdrawn(run_a, small_bundle) -> None:
    ingest(approve(run_a, small_bundle(run_a, companies=3)))
    payload = small_bundle(run_a, companies=3)
    payload["proposal_json"]["companies"] = payload["proposal_json"]["companies"][:2]
    counts = ingest(approve(run_a, payload))
    assert counts.prospects_withdrawn == 1
    assert Prospect.objects.filter(run=run_a, status=ProspectStatus.WITHDRAWN).count() == 1


def test_two_proposals_resolving_to_one_company_merge(run_a, tenant_a) -> None:
    src = builders.source("Acme Robotics makes arms. Acme also makes grippers.")
    payload = builders.bundle(
        run_a.pk,
        [
            builders.company(
                "Acme Robotics",
                sources=[src],
                evidence=["Acme Robotics makes arms"],
                domain="acme.io",
                ai_rank=2,
                ai_score=0.7,
            ),
            builders.company(
                "ACME Robotics GmbH",
                sources=[src],
                evidence=["Acme also makes grippers", "acme robotics MAKES arms"],
                ai_rank=1,
                ai_score=0.9,
            ),
        ],
        [src],
    )
    counts = ingest(approve(run_a, payload))
    assert counts.companies_new == 1
    assert counts.prospects_created == 1
    assert counts.evidence_added == 2  # the repeated snippet (other case) is stored once
    assert len(counts.merged_proposals) == 1
    prospect = Prospect.objects.get(run=run_a)
    assert (prospect.ai_rank, prospect.ai_score) == (1, 0.9)
    event = RunEvent.objects.get(run=run_a, event_type="ingest_succeeded")
    assert "merged" in event.message and event.data["merged_proposals"][0]["proposal"] == 1


def test_bundle_never_attaches_to_another_tenants_company(
    run_a, tenant_a, tenant_b, small_bundle
) -> None:
    payload = small_bundle(run_a, companies=2)
    first = payload["proposal_json"]["companies"][0]
    theirs = CompanyFactory(tenant=tenant_b, name=first["name"], domain=first["domain"])
    CompanyAliasFactory(company=theirs, alias=payload["proposal_json"]["companies"][1]["name"])
    before = (
        Company.objects.filter(tenant=tenant_b).count(),
        CompanyAlias.objects.filter(tenant=tenant_b).count(),
    )
    counts = ingest(approve(run_a, payload))
    assert counts.companies_new == 2
    assert not Prospect.objects.filter(company__tenant=tenant_b).exists()
    assert all(p.company.tenant_id == tenant_a.pk for p in Prospect.objects.all())
    assert before == (
        Company.objects.filter(tenant=tenant_b).count(),
        CompanyAlias.objects.filter(tenant=tenant_b).count(),
    )


def test_ingest_refuses_a_bundle_that_is_not_approved(run_a, small_bundle) -> None:
    bundle = bundle_services.bundle_upload(run=run_a, payload=small_bundle(run_a), actor=SYSTEM)
    with pytest.raises(IngestError, match="pending_review"):
        ingest(bundle.bundle)


def test_validation_problem_at_ingest_is_permanent(run_a, small_bundle) -> None:
    bundle = approve(run_a, small_bundle(run_a))
    Bundle.objects.filter(pk=bundle.pk).update(payload={"version": "run_bundle_v2"})
    with pytest.raises(IngestError, match="no longer validates"):
        ingest(bundle)


def _queries_of(callable_) -> int:
    with CaptureQueriesContext(connection) as queries:
        callable_()
    return len(queries)


def test_query_count_does_not_grow_with_companies(tenant_a, make_run, small_bundle) -> None:
    first, again = [], []
    for size in (10, 500):
        run = make_run(tenant_a)
        bundle = approve(run, small_bundle(run, companies=size, prefix=f"Q{size}"))
        first.append(_queries_of(lambda bundle=bundle: ingest(bundle)))
        reset_for_reingest(bundle)  # the re-ingest path reads and compares every prospect
        again.append(_queries_of(lambda bundle=bundle: ingest(bundle)))
    assert first[0] == first[1], first
    assert again[0] == again[1], again


SHA = "ab" * 32


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("metric", "identity"),
    [
        (
            ("revenue", "json", {"b": [1, 2.5], "a": "Zü"}, "EUR m", "EUR", "2026-01-02", SHA),
            "88f1c5549659bb46c09b457056eaa1d3f1b2cdc1194c6290ca1d2da03905d98b",
        ),
        (
            ("headcount", "number", 420, "people", "", None, None),
            "d42a690a664e1c1b6604ef390b9b4896af061d27ab4fbac3133ae665fab88366",
        ),
    ],
)
def test_metric_identities_never_change(metric, identity) -> None:
    """Stored identities make re-ingestion idempotent: the same metric must hash the same in
    every version (these were computed by json.dumps, before the encoder was reused)."""
    from research.services.ingest_facts import metric_identity

    key, value_type, value, unit, currency, as_of_date, source_sha256 = metric
    assert (
        metric_identity(
            key=key,
            value_type=value_type,
            value=value,
            unit=unit,
            currency=currency,
            as_of_date=as_of_date,
            source_sha256=source_sha256,
        )
        == identity
    )
