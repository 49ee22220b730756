"""Reads of the review page (SPEC §10): what a bundle proposes and what approving it will do,
the probable duplicates a reviewer must see, and, once decided, what actually happened.

Constant query count for any bundle size: matching and hints are bulk, and only one page of
companies is turned into views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from rapidfuzz import fuzz

from jobs.models import Job
from research.bundle import issues
from research.formatting import metric_label, metric_value
from research.models import (
    Bundle,
    BundleStatus,
    CompanyDecision,
    Prospect,
    ResearchRun,
    RunEvent,
)

from .services.matching import (
    Match,
    MatchKind,
    Proposed,
    add_similarity_hints,
    match_companies,
    summarize,
)

# Bundle warnings about a company's name, shown beside it on the review page.
NAME_WARNINGS = (issues.DUPLICATE_COMPANY, issues.MIXED_SCRIPT)
PANEL_PAGE_SIZE = 50
PASSAGE_CONTEXT = 160  # characters shown around a snippet in its source
CLOSEST_MIN_SCORE = 60.0  # an unverified snippet's closest passage is shown from this score


@dataclass
class EvidenceView:
    text: str
    source_title: str
    source_url: str
    verified: bool
    passage: tuple[str, str, str] | None  # before, the snippet as found, after
    # For unverified evidence: the closest passage of the cited source and its similarity.
    closest: tuple[str, str, str] | None = None
    closest_score: float | None = None


@dataclass
class MetricView:
    label: str
    value: str
    as_of: str
    source_title: str


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
    metrics: list[MetricView]
    evidence: list[EvidenceView]
    is_client: bool = False
    decision: CompanyDecision | None = None
    name_warnings: list[str] = field(default_factory=list)  # duplicate or look-alike names

    @property
    def probable_duplicate(self) -> bool:
        return is_probable_duplicate(self.match)


@dataclass
class ReviewPanel:
    bundle: Bundle
    totals: dict[str, int]
    page: Page
    companies: list[CompanyView] = field(default_factory=list)
    # Every probable duplicate of the bundle, whatever the page: the reviewer decides these.
    duplicates: list[CompanyView] = field(default_factory=list)
    client_name: str = ""


def is_probable_duplicate(match: Match) -> bool:
    """A proposal that matching would create as new although an existing company looks the
    same (same name with another domain, or a similar name)."""
    return match.kind == MatchKind.NEW and bool(match.hints)


def _passage(snippet: str, text: str) -> tuple[str, str, str] | None:
    """Where the snippet stands in the source: whitespace- and case-insensitive."""
    words = snippet.split()
    if not words or not text:
        return None
    pattern = r"\s+".join(re.escape(word) for word in words)
    found = re.search(pattern, text, flags=re.IGNORECASE)
    if found is None:
        return None
    return _around(text, *found.span())


def _around(text: str, start: int, end: int) -> tuple[str, str, str]:
    before = text[max(0, start - PASSAGE_CONTEXT) : start]
    after = text[end : end + PASSAGE_CONTEXT]
    return (
        ("…" if start > PASSAGE_CONTEXT else "") + before,
        text[start:end],
        after + ("…" if end + PASSAGE_CONTEXT < len(text) else ""),
    )


def _closest(snippet: str, text: str) -> tuple[tuple[str, str, str] | None, float | None]:
    """The passage of `text` most like `snippet` (rapidfuzz partial alignment)."""
    if not snippet or not text:
        return None, None
    found = fuzz.partial_ratio_alignment(snippet.lower(), text.lower())
    if found is None or found.score < CLOSEST_MIN_SCORE:
        return None, None
    return _around(text, found.dest_start, found.dest_end), round(found.score)


def _proposed(company: dict[str, Any]) -> Proposed:
    aliases = [a if isinstance(a, str) else a.get("name", "") for a in company.get("aliases") or []]
    return Proposed(
        name=company["name"],
        domain=company.get("domain") or company.get("website_url") or "",
        aliases=aliases,
    )


def bundle_matches(*, bundle: Bundle) -> list[Match]:
    """Every proposal's match with its review hints, in bundle order."""
    proposals = [_proposed(c) for c in bundle.payload["proposal_json"]["companies"]]
    matches = match_companies(tenant=bundle.run.tenant, proposals=proposals)
    return add_similarity_hints(tenant=bundle.run.tenant, proposals=proposals, matches=matches)


def probable_duplicates(*, bundle: Bundle) -> list[tuple[int, str]]:
    """(index, name) of the bundle's probable duplicates."""
    companies = bundle.payload["proposal_json"]["companies"]
    return [
        (i, companies[i]["name"])
        for i, match in enumerate(bundle_matches(bundle=bundle))
        if is_probable_duplicate(match)
    ]


def _evidence(
    index: int, company: dict[str, Any], sources: dict[str, dict], unverified: set[str]
) -> list[EvidenceView]:
    views = []
    for j, snippet in enumerate(company["evidence_snippets"]):
        text = snippet if isinstance(snippet, str) else snippet["text"]
        cited = None if isinstance(snippet, str) else snippet.get("source_sha256")
        candidates = [cited] if cited else company["source_sha256s"]
        verified = f"proposal_json.companies.{index}.evidence_snippets.{j}" not in unverified
        sha, passage = (cited or company["source_sha256s"][0]).lower(), None
        for candidate in candidates:
            source = sources.get(candidate.lower())
            passage = _passage(text, source["content_text"]) if source else None
            if passage is not None:
                sha = candidate.lower()
                break
        closest, score = None, None
        if passage is None:
            best = (None, None)
            for candidate in candidates:
                source = sources.get(candidate.lower())
                found = _closest(text, source["content_text"]) if source else (None, None)
                if found[1] is not None and (best[1] is None or found[1] > best[1]):
                    best, sha = found, candidate.lower()
            closest, score = best
        source = sources.get(sha, {})
        views.append(
            EvidenceView(
                text=text,
                source_title=source.get("title") or source.get("url") or f"source {sha[:12]}",
                source_url=source.get("url") or "",
                verified=verified,
                passage=passage,
                closest=closest,
                closest_score=score,
            )
        )
    return views


def _metrics(company: dict[str, Any], sources: dict[str, dict]) -> list[MetricView]:
    views = []
    for metric in company.get("metrics") or []:
        source = sources.get((metric.get("source_sha256") or "").lower(), {})
        views.append(
            MetricView(
                label=metric_label(metric["key"]),
                value=metric_value(
                    key=metric["key"].lower(),
                    value_type=metric["type"],
                    value=metric.get("value"),
                    unit=metric.get("unit") or "",
                    currency=metric.get("currency") or "",
                ),
                as_of=metric.get("as_of_date") or "",
                source_title=source.get("title") or "",
            )
        )
    return views


def _company_view(
    index: int,
    company: dict[str, Any],
    match: Match,
    sources: dict[str, dict],
    unverified: set[str],
    client_id: int | None,
    decisions: dict[int, CompanyDecision],
) -> CompanyView:
    decision = decisions.get(index)
    # The company it will be: the reviewer's choice, else the automatic match.
    becomes = decision.company_id if decision is not None and decision.company_id else None
    becomes = becomes or (match.company.id if match.company is not None else None)
    return CompanyView(
        index=index,
        name=company["name"],
        domain=match.domain,
        website_url=company.get("website_url") or "",
        ai_rank=company.get("ai_rank"),
        ai_score=company.get("ai_score"),
        hq=", ".join(filter(None, [company.get("hq_city"), company.get("hq_country")])),
        sector=company.get("sector") or "",
        match=match,
        metrics=_metrics(company, sources),
        evidence=_evidence(index, company, sources, unverified),
        is_client=client_id is not None and becomes == client_id,
        decision=decision,
    )


def review_panel(*, bundle: Bundle, page_number: int | str = 1) -> ReviewPanel:
    """What approving `bundle` will do, every probable duplicate, and one page of its
    companies with their matches, metrics and evidence."""
    run: ResearchRun = bundle.run
    payload = bundle.payload
    companies = payload["proposal_json"]["companies"]
    sources = {s["sha256"].lower(): s for s in payload["sources"]}
    matches = bundle_matches(bundle=bundle)
    existing_prospects = set(
        Prospect.objects.filter(run_id=bundle.run_id).values_list("company_id", flat=True)
    )
    totals = summarize(matches)
    matched_ids = {m.company.id for m in matches if m.company is not None}
    totals.update(
        companies=len(companies),
        probable_duplicates=sum(is_probable_duplicate(m) for m in matches),
        prospects_to_create=len(matched_ids - existing_prospects) + totals["new_companies"],
        prospects_to_update=len(matched_ids & existing_prospects),
        evidence=bundle.counts.get("evidence", 0),
        unverified_evidence=bundle.counts.get("unverified_evidence", 0),
        metrics=bundle.counts.get("metrics", 0),
        sources=len(sources),
    )
    client = run.role.client_company if run.role_id and run.role else None
    unverified = {
        w["loc"] for w in bundle.validation_warnings if w.get("type") == "unverified_evidence"
    }
    name_warnings: dict[str, list[str]] = {}
    for warning in bundle.validation_warnings:
        if warning.get("type") in NAME_WARNINGS:
            name_warnings.setdefault(warning["loc"], []).append(warning["msg"])
    decisions = {d.company_index: d for d in CompanyDecision.objects.filter(bundle=bundle)}

    def view(i: int) -> CompanyView:
        company_view = _company_view(
            i,
            companies[i],
            matches[i],
            sources,
            unverified,
            client.pk if client else None,
            decisions,
        )
        company_view.name_warnings = name_warnings.get(f"proposal_json.companies.{i}.name", [])
        return company_view

    page = Paginator(range(len(companies)), PANEL_PAGE_SIZE).get_page(page_number)
    return ReviewPanel(
        bundle=bundle,
        totals=totals,
        page=page,
        companies=[view(i) for i in page.object_list],
        duplicates=[view(i) for i, m in enumerate(matches) if is_probable_duplicate(m)],
        client_name=client.name if client else "",
    )


@dataclass
class ReviewOutcome:
    """What a decided bundle led to, from stored records (never recomputed)."""

    bundle: Bundle
    decisions: list[CompanyDecision]
    job: Job | None
    ingested: dict[str, Any] | None  # the ingestion's stored counts
    failure: str


def review_outcome(*, bundle: Bundle) -> ReviewOutcome:
    decisions = list(CompanyDecision.objects.filter(bundle=bundle).select_related("company"))
    job = Job.objects.filter(pk=bundle.ingest_job_id).first() if bundle.ingest_job_id else None
    events = RunEvent.objects.filter(
        run_id=bundle.run_id,
        event_type__in=["ingest_succeeded", "ingest_failed"],
        data__bundle_id=str(bundle.pk),
    ).order_by("-created_at", "-id")
    ingested, failure = None, ""
    for event in events[:1]:
        if event.event_type == "ingest_succeeded":
            ingested = event.data
        else:
            failure = event.data.get("error", "")
    if ingested is None and job is not None and isinstance(job.result, dict):
        ingested = job.result
    if bundle.status == BundleStatus.FAILED and not failure:
        failure = bundle.run.last_error
    return ReviewOutcome(
        bundle=bundle, decisions=decisions, job=job, ingested=ingested, failure=failure
    )
