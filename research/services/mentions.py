"""Processing accepted sources: mentions of the tenant's known companies become verified
evidence on the run's prospects (SPEC §8, issue 9.6).

Bulk throughout: the tenant's names and aliases are read in two queries, each source's text
is scanned once for all of them (`find_mentions`), and prospects and evidence are written
with one insert each, so the number of queries does not grow with companies or mentions.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.utils import timezone

from ats.bulk import bulk_insert
from ats.models import Company, CompanyAlias
from research.models import (
    EvidenceType,
    Prospect,
    ProspectEvidence,
    ProspectOrigin,
    ResearchRun,
    RunSource,
    SourceDecision,
    Verification,
)
from research.schemas import evidence_text_sha256
from research.sources.mentions import Mention, find_mentions

from .events import event_record
from .steps import WORKER


def tenant_company_names(tenant_id: int) -> dict[int, list[str]]:
    """Every company of the tenant with its name and aliases (two queries)."""
    names: dict[int, list[str]] = defaultdict(list)
    for company_id, name in Company.objects.filter(tenant_id=tenant_id).values_list("pk", "name"):
        names[company_id].append(name)
    aliases = CompanyAlias.objects.filter(tenant_id=tenant_id).values_list("company_id", "alias")
    for company_id, alias in aliases:
        names[company_id].append(alias)
    return names


def run_sources_process_mentions(
    *, run: ResearchRun, links: list[RunSource], job_id: int | None = None
) -> dict[str, Any]:
    """Record the mentions in the run's accepted sources among `links` and mark all of
    `links` processed. Returns the counts the event reports."""
    accepted = [link for link in links if link.decision == SourceDecision.ACCEPT]
    names = tenant_company_names(run.tenant_id) if accepted else {}
    found: dict[int, list[Mention]] = {}
    for link in accepted:
        found[link.source_id] = find_mentions(link.source.text, names) if names else []
    companies = {m.company_id for mentions in found.values() for m in mentions}

    existing = dict(
        Prospect.objects.filter(run=run, company_id__in=companies).values_list("company_id", "pk")
    )
    new_companies = sorted(companies - set(existing))
    now = timezone.now()
    company_names = dict(Company.objects.filter(pk__in=new_companies).values_list("pk", "name"))
    bulk_insert(
        Prospect,
        (
            {
                "tenant_id": run.tenant_id,
                "run_id": run.pk,
                "company_id": company_id,
                "origin": ProspectOrigin.SOURCE,
                "name": company_names[company_id][:500],
                "created_at": now,
                "updated_at": now,
            }
            for company_id in new_companies
        ),
    )
    prospects = (
        dict(
            Prospect.objects.filter(run=run, company_id__in=companies).values_list(
                "company_id", "pk"
            )
        )
        if new_companies
        else existing
    )

    seen = set(
        ProspectEvidence.objects.filter(
            prospect_id__in=list(prospects.values()), source_id__in=list(found)
        ).values_list("prospect_id", "source_id", "text_sha256")
    )
    evidence = []
    per_source: dict[int, dict[str, Any]] = {}
    for source_id, mentions in found.items():
        added = 0
        for mention in mentions:
            key = (prospects[mention.company_id], source_id, evidence_text_sha256(mention.passage))
            if key in seen:
                continue
            seen.add(key)
            added += 1
            evidence.append(
                {
                    "tenant_id": run.tenant_id,
                    "prospect_id": key[0],
                    "source_id": source_id,
                    "evidence_type": EvidenceType.MENTION,
                    "text": mention.passage,
                    "text_sha256": key[2],
                    "verification": Verification.VERIFIED,
                    "created_at": now,
                }
            )
        per_source[source_id] = {
            "mentions": len(mentions),
            "companies": sorted({m.company_id for m in mentions}),
            "evidence_added": added,
        }
    evidence_added = bulk_insert(ProspectEvidence, evidence)

    for link in links:
        link.processed_at = now
        link.result = per_source.get(link.source_id, {"skipped": f"decision {link.decision}"})
    RunSource.objects.bulk_update(links, ["processed_at", "result"])
    counts = {
        "sources_processed": len(links),
        "sources_accepted": len(accepted),
        "companies_found": len(companies),
        "prospects_created": len(new_companies),
        "prospects_existing": len(existing),
        "evidence_added": evidence_added,
    }
    if links:
        event_record(
            run=run,
            event_type="sources_processed",
            actor=WORKER,
            message=(
                f"Processed {len(links)} source(s) ({len(accepted)} accepted): "
                f"{len(companies)} known companies found, {len(new_companies)} prospect(s) "
                f"created, {len(existing)} existing; {evidence_added} evidence added."
            ),
            data=counts,
            job_id=job_id,
        )
    return counts
