"""Reads that more than one caller needs: the review panel of a bundle, a run's jobs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from ats.errors import FieldError, InvalidInput
from ats.normalize import normalize_company_name
from research.bundle import issues
from research.models import (
    Bundle,
    Prospect,
    ProspectEvidence,
    ProspectMetric,
    ProspectStatus,
    ReviewStatus,
    RunEvent,
    RunStatus,
)

from .services.matching import (
    Match,
    Proposed,
    add_similarity_hints,
    match_companies,
    summarize,
)

PANEL_PAGE_SIZE = 50
# Bundle warnings about a company's name, shown beside it on the review page.
NAME_WARNINGS = (issues.DUPLICATE_COMPANY, issues.MIXED_SCRIPT)
PASSAGE_CONTEXT = 160  # characters shown around a snippet in its source


@dataclass
class EvidenceView:
    text: str
    source_sha256: str
    source_title: str
    verified: bool
    passage: tuple[str, str, str] | None  # before, the snippet as found, after


@dataclass
class CompanyView:
    index: int
    name: str
    domain: str
    website_url: str
    ai_rank: int | None
    ai_score: float | None
    hq: str
    sector: str
    match: Match
    metrics: list[dict[str, Any]]
    evidence: list[EvidenceView]
    name_warnings: list[str] = field(default_factory=list)  # duplicate or look-alike names


@dataclass
class ReviewPanel:
    bundle: Bundle
    totals: dict[str, int]
    page: Page
    companies: list[CompanyView] = field(default_factory=list)


def _passage(snippet: str, text: str) -> tuple[str, str, str] | None:
    """Where the snippet stands in the source: whitespace- and case-insensitive."""
    words = snippet.split()
    if not words or not text:
        return None
    pattern = r"\s+".join(re.escape(word) for word in words)
    found = re.search(pattern, text, flags=re.IGNORECASE)
    if found is None:
        return None
    start, end = found.span()
    before = text[max(0, start - PASSAGE_CONTEXT) : start]
    after = text[end : end + PASSAGE_CONTEXT]
    return (
        ("…" if start > PASSAGE_CONTEXT else "") + before,
        found.group(0),
        after + ("…" if end + PASSAGE_CONTEXT < len(text) else ""),
    )


def _proposed(company: dict[str, Any]) -> Proposed:
    aliases = [a if isinstance(a, str) else a.get("name", "") for a in company.get("aliases") or []]
    return Proposed(
        name=company["name"],
        domain=company.get("domain") or company.get("website_url") or "",
        aliases=aliases,
    )


def review_panel(*, bundle: Bundle, page_number: int | str = 1) -> ReviewPanel:
    """What approving `bundle` will do, and one page of its companies with their matches,
    metrics and evidence. A constant number of queries for any bundle size."""
    payload = bundle.payload
    companies = payload["proposal_json"]["companies"]
    sources = {s["sha256"].lower(): s for s in payload["sources"]}
    proposals = [_proposed(c) for c in companies]
    matches = match_companies(tenant=bundle.run.tenant, proposals=proposals)

    existing_prospects = set(
        Prospect.objects.filter(run_id=bundle.run_id).values_list("company_id", flat=True)
    )
    totals = summarize(matches)
    matched_ids = {m.company.id for m in matches if m.company is not None}
    totals.update(
        companies=len(companies),
        prospects_to_create=len(matched_ids - existing_prospects) + totals["new_companies"],
        prospects_to_update=len(matched_ids & existing_prospects),
        evidence=bundle.counts.get("evidence", 0),
        unverified_evidence=bundle.counts.get("unverified_evidence", 0),
        metrics=bundle.counts.get("metrics", 0),
        sources=len(sources),
    )

    page = Paginator(range(len(companies)), PANEL_PAGE_SIZE).get_page(page_number)
    shown = list(page.object_list)
    # Hints (fuzzy, costlier) only for the companies on this page.
    hinted = add_similarity_hints(
        tenant=bundle.run.tenant,
        proposals=[proposals[i] for i in shown],
        matches=[matches[i] for i in shown],
    )
    unverified = {
        w["loc"] for w in bundle.validation_warnings if w.get("type") == "unverified_evidence"
    }
    name_warnings: dict[str, list[str]] = {}
    for warning in bundle.validation_warnings:
        if warning.get("type") in NAME_WARNINGS:
            name_warnings.setdefault(warning["loc"], []).append(warning["msg"])
    views = []
    for i, match in zip(shown, hinted, strict=True):
        company = companies[i]
        evidence = []
        for j, snippet in enumerate(company["evidence_snippets"]):
            text = snippet if isinstance(snippet, str) else snippet["text"]
            cited = None if isinstance(snippet, str) else snippet.get("source_sha256")
            candidates = [cited] if cited else company["source_sha256s"]
            verified = f"proposal_json.companies.{i}.evidence_snippets.{j}" not in unverified
            sha, passage = (cited or company["source_sha256s"][0]).lower(), None
            for candidate in candidates:
                source = sources.get(candidate.lower())
                passage = _passage(text, source["content_text"]) if source else None
                if passage is not None:
                    sha = candidate.lower()
                    break
            source = sources.get(sha, {})
            evidence.append(
                EvidenceView(
                    text,
                    sha,
                    source.get("title") or source.get("url") or sha[:12],
                    verified,
                    passage,
                )
            )
        views.append(
            CompanyView(
                index=i,
                name=company["name"],
                domain=match.domain,
                website_url=company.get("website_url") or "",
                ai_rank=company.get("ai_rank"),
                ai_score=company.get("ai_score"),
                hq=", ".join(filter(None, [company.get("hq_city"), company.get("hq_country")])),
                sector=company.get("sector") or "",
                match=match,
                metrics=company.get("metrics") or [],
                evidence=evidence,
                name_warnings=name_warnings.get(f"proposal_json.companies.{i}.name", []),
            )
        )
    return ReviewPanel(bundle=bundle, totals=totals, page=page, companies=views)


def run_job_ids(run_id: Any) -> list[int]:
    """Ids of the jobs that worked on a run (from its events and bundles)."""
    ids = set(
        RunEvent.objects.filter(run_id=run_id, job_id__isnull=False).values_list(
            "job_id", flat=True
        )
    ) | set(
        Bundle.objects.filter(run_id=run_id, ingest_job_id__isnull=False).values_list(
            "ingest_job_id", flat=True
        )
    )
    return sorted(ids)


def filter_runs(queryset: QuerySet, params: Any) -> QuerySet:
    """`?status=a,b` and `?role=<id>`; raises InvalidInput naming a bad parameter."""
    errors = []
    if params.get("status"):
        statuses = params["status"].split(",")
        if bad := [s for s in statuses if s not in RunStatus.values]:
            errors.append(
                FieldError(
                    "status",
                    f"Unknown run status {bad[0]!r}; use {', '.join(RunStatus.values)}.",
                    "invalid_choice",
                )
            )
        queryset = queryset.filter(status__in=statuses)
    if params.get("role"):
        if not params["role"].isdigit():
            errors.append(FieldError("role", "A role id (a whole number).", "invalid"))
        else:
            queryset = queryset.filter(role_id=int(params["role"]))
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return queryset


PROSPECT_ORDERINGS = {
    "rank": ("rank_order", "id"),
    "-rank": ("-rank_order", "-id"),
    "score": ("score_order", "id"),
    "-score": ("-score_order", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
}
MSG_BAD_ORDERING = "Unknown ordering {value!r}; use one of: {choices}."


def _count(model: type, field: str = "prospect") -> Coalesce:
    """A correlated count (two joins in one query would multiply each other's rows)."""
    counted = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def prospects_with_counts(queryset: QuerySet) -> QuerySet:
    """Prospects with `evidence_count`, `metrics_count` and sortable rank/score (NULLs last:
    cursor pagination needs non-null positions)."""
    return queryset.select_related("company").annotate(
        evidence_count=_count(ProspectEvidence),
        metrics_count=_count(ProspectMetric),
        rank_order=Coalesce(F("ai_rank"), Value(2_147_483_647), output_field=IntegerField()),
        score_order=Coalesce(F("ai_score"), Value(-1.0), output_field=FloatField()),
    )


def filter_prospects(queryset: QuerySet, params: Any) -> tuple[QuerySet, tuple[str, ...]]:
    """The list filters of SPEC §9 (review status, minimum score, pinned, status, name
    search) and the ordering. Raises InvalidInput naming each bad parameter."""
    errors = []
    if review := params.get("review_status"):
        statuses = review.split(",")
        bad = [s for s in statuses if s not in ReviewStatus.values]
        if bad:
            errors.append(
                FieldError(
                    "review_status",
                    f"Unknown review status {bad[0]!r}; use {', '.join(ReviewStatus.values)}.",
                    "invalid_choice",
                )
            )
        queryset = queryset.filter(review_status__in=statuses)
    if (min_score := params.get("min_score")) not in (None, ""):
        try:
            queryset = queryset.filter(ai_score__gte=float(min_score))
        except ValueError:
            errors.append(FieldError("min_score", "A number from 0 to 1.", "invalid"))
    if (pinned := params.get("pinned")) not in (None, ""):
        if pinned.lower() not in ("true", "false", "1", "0"):
            errors.append(FieldError("pinned", "true or false.", "invalid"))
        queryset = queryset.filter(is_pinned=pinned.lower() in ("true", "1"))
    if status := params.get("status"):
        if status not in ProspectStatus.values:
            errors.append(FieldError("status", "active or withdrawn.", "invalid_choice"))
        queryset = queryset.filter(status=status)
    if search := params.get("search", "").strip():
        queryset = queryset.filter(
            Q(name__icontains=search)
            | Q(company__normalized_name__contains=normalize_company_name(search))
        )
    ordering = params.get("ordering", "rank")
    if ordering not in PROSPECT_ORDERINGS:
        errors.append(
            FieldError(
                "ordering",
                MSG_BAD_ORDERING.format(value=ordering, choices=", ".join(PROSPECT_ORDERINGS)),
                "invalid_choice",
            )
        )
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return queryset, PROSPECT_ORDERINGS[ordering]
