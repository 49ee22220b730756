"""Ingestion's prospects: one per company of the bundle, with the proposal's AI fields.

People's fields (`review_status`, `manual_*`, `is_pinned`) are never written here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ats.bulk import bulk_insert_with_ids
from research.models import Bundle, Prospect, ProspectOrigin, ProspectStatus, ResearchRun
from research.schemas import Company as ProposedCompany


@dataclass
class UpsertedProspects:
    """What `upsert_prospects` did."""

    ids: dict[int, int]  # company id → prospect id
    created: int
    updated: int
    withdrawn: int


def upsert_prospects(
    *,
    run: ResearchRun,
    bundle: Bundle,
    companies: list[ProposedCompany],
    company_ids: list[int],
) -> UpsertedProspects:
    """One prospect per company of the bundle (proposals resolving to one company merge):
    created, or its AI fields updated where they differ; the run's bundle prospects that
    this bundle no longer proposes are withdrawn."""
    by_company: dict[int, list[int]] = defaultdict(list)
    for index, company_id in enumerate(company_ids):
        by_company[company_id].append(index)
    # No ordering: the model's default sorts through the run, a join for nothing here.
    existing = {p.company_id: p for p in Prospect.objects.filter(run=run).order_by()}
    now = timezone.now()
    # What every prospect of this bundle shares: written once for new prospects (`common`).
    shared = {"status": ProspectStatus.ACTIVE, "bundle_id": bundle.pk}
    to_create, to_update = [], []
    changed_fields: set[str] = set()  # of the prospects to update: what bulk_update writes
    for company_id, indexes in by_company.items():
        proposals = [companies[i] for i in indexes]
        lead = proposals[0]
        ranks = [p.ai_rank for p in proposals if p.ai_rank is not None]
        scores = [p.ai_score for p in proposals if p.ai_score is not None]
        ai = {
            "name": lead.name,
            "ai_rank": min(ranks) if ranks else None,
            "ai_score": max(scores) if scores else None,
            "proposal": _proposal_summary(lead),
        }
        prospect = existing.get(company_id)
        if prospect is None:
            to_create.append({"company_id": company_id, **ai})
            continue
        changed = {k: v for k, v in {**ai, **shared}.items() if getattr(prospect, k) != v}
        if changed:
            for k, v in changed.items():
                setattr(prospect, k, v)
            prospect.updated_at = now
            to_update.append(prospect)
            changed_fields.update(changed)
    created = bulk_insert_with_ids(
        Prospect,
        to_create,
        common={
            "tenant_id": run.tenant_id,
            "run_id": run.pk,
            "origin": ProspectOrigin.BUNDLE,
            "created_at": now,
            "updated_at": now,
            **shared,
        },
    )
    if to_update:
        Prospect.objects.bulk_update(to_update, [*sorted(changed_fields), "updated_at"])
    # Those of an earlier bundle of the run that this one no longer proposes (read above, in
    # this transaction: only ingestion, serialized per run, creates bundle prospects).
    withdrawn = [
        p.pk
        for p in existing.values()
        if p.company_id not in by_company
        and p.origin == ProspectOrigin.BUNDLE
        and p.status == ProspectStatus.ACTIVE
    ]
    withdrawn_count = 0
    if withdrawn:
        withdrawn_count = Prospect.objects.filter(
            pk__any=withdrawn, status=ProspectStatus.ACTIVE
        ).update(status=ProspectStatus.WITHDRAWN, updated_at=now)
    ids = {company_id: p.pk for company_id, p in existing.items()}
    ids |= {row["company_id"]: pk for row, pk in zip(to_create, created, strict=True)}
    return UpsertedProspects(
        ids=ids, created=len(to_create), updated=len(to_update), withdrawn=withdrawn_count
    )


def _proposal_summary(company: ProposedCompany) -> dict[str, Any]:
    return {
        key: value
        for key, value in {
            "website_url": str(company.website_url) if company.website_url else None,
            "domain": company.domain,
            "hq_country": company.hq_country,
            "hq_city": company.hq_city,
            "sector": company.sector,
            "description": company.description,
            "aliases": [a.name for a in company.aliases],
        }.items()
        if value not in (None, "", [])
    }
