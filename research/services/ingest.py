"""Ingestion: an approved bundle becomes the tenant's companies, the run's prospects, and
their evidence and metrics (SPEC §7).

`bundle_ingest` runs inside the ingest job's transaction (an atomic job handler): all of it
is written, or none of it. Reads and writes are bulk, so the number of queries does not grow
with the number of companies. Running it again for the same bundle changes nothing: sources,
companies, aliases, evidence and metrics are found before they are created, and prospects are
updated only where the AI fields differ. People's fields (`review_status`, `manual_*`,
`is_pinned`) are never written here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ats.actors import Actor
from ats.bulk import bulk_insert, pipelined
from ats.errors import ServiceError
from ats.gc_pause import gc_paused
from ats.models import AliasType, Company, CompanyAlias, Tenant
from ats.normalize import normalize_company_name
from research.formatting import plural
from research.models import (
    Bundle,
    BundleStatus,
    DecisionAction,
    Prospect,
    ProspectStatus,
    ResearchRun,
    RunSource,
    RunStatus,
    Source,
)
from research.schemas import Company as ProposedCompany
from research.schemas import RunBundleV1, validate_bundle

from .decisions import decisions_of
from .events import event_record
from .ingest_facts import add_evidence, add_metrics, evidence_of_run, metrics_of_run
from .ingest_prospects import upsert_prospects
from .locks import lock_run_key_share
from .matching import (
    CompanyRef,
    Match,
    MatchKind,
    Proposed,
    create_new_companies,
    match_companies,
)
from .status import bundle_transition, run_transition

MSG_BUNDLE_INVALID_AT_INGEST = "The bundle no longer validates: {errors}"
MSG_CHOSEN_COMPANY_GONE = "The reviewer chose companies that no longer exist: {ids}."
MSG_NOT_INGESTABLE = (
    "Bundle {bundle} cannot be ingested: it is {bundle_status} and its run is {run_status}."
)


class IngestError(ServiceError):
    """A problem that retrying cannot fix (the job fails at once)."""

    code = "ingest_error"
    title = "Ingestion failed"


@dataclass
class IngestCounts:
    companies_new: int = 0
    companies_matched: int = 0
    companies_excluded: int = 0
    companies_same_as: int = 0
    prospects_created: int = 0
    prospects_updated: int = 0
    prospects_withdrawn: int = 0
    evidence_added: int = 0
    metrics_added: int = 0
    unverified_evidence: int = 0
    aliases_added: int = 0
    sources_added: int = 0
    merged_proposals: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def bundle_ingest(*, bundle: Bundle, checkpoint: Callable[[], None] = lambda: None) -> IngestCounts:
    """Ingest an approved bundle. Must run inside a transaction (the job's). The bundle is
    read again here, payload included (a caller need not load it: `defer("payload")`).

    `checkpoint` is called between phases; the job passes `raise_if_cancelled`, so a
    cancelled run stops there and the transaction rolls back.
    """
    with gc_paused():  # tens of thousands of objects are built, and none is garbage
        return _ingest(bundle=bundle, checkpoint=checkpoint)


def _ingest(*, bundle: Bundle, checkpoint: Callable[[], None]) -> IngestCounts:
    # Not FOR UPDATE: a cancel must not wait for the whole ingestion (it is seen at the next
    # checkpoint, and the final status update then matches no row).
    lock_run_key_share(bundle.run_id)
    run = ResearchRun.objects.select_related("tenant").get(pk=bundle.run_id)
    bundle = Bundle.objects.get(pk=bundle.pk)  # fresh status, same transaction
    if bundle.status != BundleStatus.APPROVED or run.status != RunStatus.INGESTING:
        raise IngestError(
            MSG_NOT_INGESTABLE.format(
                bundle=bundle.pk, bundle_status=bundle.status, run_status=run.status
            )
        )
    if bundle.tenant_id != run.tenant_id:  # defence in depth: the tenant comes from the run
        raise IngestError(f"Bundle {bundle.pk} does not belong to its run's tenant.")
    validation = validate_bundle(bundle.payload, expected_run_id=run.pk, max_issues=20, stored=True)
    if not validation.ok:
        summary = "; ".join(f"{e.loc}: {e.msg}" for e in validation.errors[:5])
        raise IngestError(MSG_BUNDLE_INVALID_AT_INGEST.format(errors=summary))
    data = validation.bundle
    assert data is not None
    tenant = run.tenant
    counts = IngestCounts()

    sources = _ingest_sources(tenant=tenant, run=run, data=data, counts=counts)
    checkpoint()
    kept, companies, matches = _decided_matches(
        tenant=tenant, bundle=bundle, companies=data.proposal_json.companies, counts=counts
    )
    company_ids = _resolve_companies(
        tenant=tenant, companies=companies, matches=matches, counts=counts
    )
    checkpoint()
    _add_aliases(tenant=tenant, companies=companies, company_ids=company_ids, counts=counts)
    upserted = upsert_prospects(
        run=run, bundle=bundle, companies=companies, company_ids=company_ids
    )
    prospects = upserted.ids
    counts.prospects_created = upserted.created
    counts.prospects_updated = upserted.updated
    counts.prospects_withdrawn = upserted.withdrawn
    counts.merged_proposals = _merged_proposals(
        kept=kept, companies=companies, company_ids=company_ids
    )
    checkpoint()
    # Each proposal with the prospect it became (merged proposals share one).
    proposed = [(c, prospects[cid]) for c, cid in zip(companies, company_ids, strict=True)]
    # Read before the inserts: inside the pipeline below, a read would wait for them.
    seen_evidence, seen_metrics = evidence_of_run(run), metrics_of_run(run)
    # The two inserts are sent without waiting: Python builds the metric rows while
    # PostgreSQL inserts the evidence. (Row counts are unknown in there: none is read.)
    facts = {"tenant_id": tenant.pk, "proposed": proposed, "sources": sources}
    with pipelined():
        counts.evidence_added, counts.unverified_evidence = add_evidence(
            **facts, seen=seen_evidence
        )
        counts.metrics_added = add_metrics(**facts, seen=seen_metrics)
    checkpoint()

    result = counts.as_dict()
    bundle_transition(bundle=bundle, action="ingested")
    run_counts = {
        **run.counts,
        "ingest": {k: v for k, v in result.items() if k != "merged_proposals"},
        "prospects": Prospect.objects.filter(run=run, status=ProspectStatus.ACTIVE).count(),
    }
    run_transition(run=run, action="succeed", counts=run_counts)
    event_record(
        run=run,
        event_type="ingest_succeeded",
        actor=Actor.system("worker"),
        message=_summary(counts),
        data={"bundle_id": str(bundle.pk), **result},
    )
    return counts


def _decided_matches(
    *, tenant: Tenant, bundle: Bundle, companies: list[ProposedCompany], counts: IngestCounts
) -> tuple[list[int], list[ProposedCompany], list[Match]]:
    """The proposals to ingest and their matches, after the reviewer's decisions: excluded
    ones are dropped (with their evidence and metrics), `same_as` overrides matching.
    `kept` maps each remaining proposal to its index in the bundle."""
    decisions = decisions_of(bundle)
    kept = [
        i
        for i in range(len(companies))
        if i not in decisions or decisions[i].action != DecisionAction.EXCLUDE
    ]
    counts.companies_excluded = len(companies) - len(kept)
    kept_companies = [companies[i] for i in kept]
    matches = match_companies(
        tenant=tenant,
        proposals=[
            Proposed(
                name=c.name,
                domain=c.domain or (str(c.website_url) if c.website_url else ""),
                aliases=[a.name for a in c.aliases],
            )
            for c in kept_companies
        ],
    )
    chosen = {
        position: decisions[i].company_id
        for position, i in enumerate(kept)
        if i in decisions and decisions[i].action == DecisionAction.SAME_AS
    }
    if chosen:
        refs = {
            row["id"]: CompanyRef(row["id"], row["name"], row["domain"])
            for row in Company.objects.for_tenant(tenant)
            .filter(pk__any=list(set(chosen.values())))
            .values("id", "name", "domain")
        }
        if missing := set(chosen.values()) - set(refs):
            raise IngestError(MSG_CHOSEN_COMPANY_GONE.format(ids=sorted(missing)))
        for position, company_id in chosen.items():
            matches[position] = replace(
                matches[position], kind=MatchKind.CHOSEN, company=refs[company_id], new_group=None
            )
    counts.companies_same_as = len(chosen)
    return kept, kept_companies, matches


def _merged_proposals(
    *, kept: list[int], companies: list[ProposedCompany], company_ids: list[int]
) -> list[dict[str, Any]]:
    """Proposals that resolved to the company of an earlier one, by their bundle indexes
    (`kept` maps a position among the kept proposals to it): they share its prospect."""
    first: dict[int, int] = {}
    merged = []
    for position, company_id in enumerate(company_ids):
        if company_id not in first:
            first[company_id] = position
            continue
        merged.append(
            {
                "proposal": kept[position],
                "merged_into": kept[first[company_id]],
                "company_id": company_id,
                "name": companies[position].name,
            }
        )
    return merged


def _summary(c: IngestCounts) -> str:
    companies = "company", "companies"
    text = (
        f"Ingested: {plural(c.companies_new, 'new company', 'new companies')} and "
        f"{plural(c.companies_matched, 'matched company', 'matched companies')}, "
        f"{plural(c.prospects_created, 'prospect')} created and {c.prospects_updated:,} updated, "
        f"{plural(c.evidence_added, 'evidence passage')} ({c.unverified_evidence:,} unverified) "
        f"and {plural(c.metrics_added, 'metric')} added."
    )
    if c.merged_proposals:
        text += f" {plural(len(c.merged_proposals), 'proposal')} merged into another of the bundle."
    if c.companies_excluded or c.companies_same_as:
        text += (
            f" Reviewer's decisions: {plural(c.companies_excluded, *companies)} excluded, "
            f"{plural(c.companies_same_as, *companies)} taken as an existing company."
        )
    return text


def _ingest_sources(
    *, tenant: Tenant, run: ResearchRun, data: RunBundleV1, counts: IngestCounts
) -> dict[str, int]:
    """Sources by sha256 → id; the run cites all of them."""
    shas = [s.sha256 for s in data.sources]
    existing = dict(
        Source.objects.for_tenant(tenant).filter(sha256__any=shas).values_list("sha256", "id")
    )
    new = [s for s in data.sources if s.sha256 not in existing]
    if new:
        counts.sources_added = bulk_insert(
            Source,
            (
                {
                    "tenant_id": tenant.pk,
                    "sha256": s.sha256,
                    "title": s.title or "",
                    "url": str(s.url) if s.url else "",
                    "mime_type": s.mime_type or "",
                    "text": s.content_text,
                    "retrieved_at": s.retrieved_at,
                    "meta": s.meta,
                }
                for s in new
            ),
            # Another run of the tenant may insert the same source concurrently.
            ignore_conflicts=True,
        )
        existing = dict(
            Source.objects.for_tenant(tenant).filter(sha256__any=shas).values_list("sha256", "id")
        )
    cited = set(RunSource.objects.filter(run=run).values_list("source_id", flat=True))
    bulk_insert(
        RunSource,
        ({"run_id": run.pk, "source_id": sid} for sid in existing.values() if sid not in cited),
    )
    return existing


def _resolve_companies(
    *,
    tenant: Tenant,
    companies: list[ProposedCompany],
    matches: list[Match],
    counts: IngestCounts,
) -> list[int]:
    """The canonical company id of each proposal, creating new companies (one per group)."""

    def fields_of(index: int) -> dict[str, str]:
        company = companies[index]
        return {
            "name": company.name,
            "website": str(company.website_url or ""),
            "hq_country": company.hq_country or "",
            "hq_city": company.hq_city or "",
            "sector": company.sector or "",
            "description": company.description or "",
        }

    ids = create_new_companies(tenant=tenant, matches=matches, fields_of=fields_of)
    new = {i for i, m in zip(ids, matches, strict=True) if m.kind == MatchKind.NEW}
    counts.companies_new = len(new)
    counts.companies_matched = len(set(ids) - new)
    return ids


def _add_aliases(
    *,
    tenant: Tenant,
    companies: list[ProposedCompany],
    company_ids: list[int],
    counts: IngestCounts,
) -> None:
    """The bundle's aliases, and a proposed name that differs from the company's, become
    aliases of the company."""
    wanted: dict[tuple[int, str], tuple[str, str]] = {}
    for company, company_id in zip(companies, company_ids, strict=True):
        names = [(company.name, AliasType.OTHER)] + [
            (a.name, a.type or AliasType.OTHER) for a in company.aliases
        ]
        for name, alias_type in names:
            key = normalize_company_name(name)
            wanted.setdefault((company_id, key), (name, alias_type))
    ids = list(set(company_ids))
    names = Company.objects.filter(pk__any=ids).values_list("pk", "normalized_name")
    aliases = CompanyAlias.objects.filter(company_id__any=ids).values_list(
        "company_id", "normalized_alias"
    )
    known = set(names) | set(aliases)
    counts.aliases_added = bulk_insert(
        CompanyAlias,
        (
            {
                "tenant_id": tenant.pk,
                "company_id": cid,
                "alias": name,
                "normalized_alias": key,
                "alias_type": alias_type,
            }
            for (cid, key), (name, alias_type) in wanted.items()
            if (cid, key) not in known
        ),
    )
