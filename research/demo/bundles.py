"""The demo's research bundles (`run_bundle_v1`), as an agent would send them: trade-press
articles as sources, and the companies they name, each with evidence quoted from its article
and metrics (headcount, revenue in the company's currency, founding year, ownership...).

Some evidence is deliberately unverified: paraphrases whose closest passage the review page
shows, and claims found in no source. Every figure comes from the seeded cast, so the same
run id always gives the same bundle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .data import DemoCompany, ascii_slug

PER_ARTICLE = 5
PUBLICATIONS = (
    ("Robotics Weekly", "robotics-weekly.example"),
    ("Automation Europe", "automation-europe.example"),
    ("Handelsblatt Tech", "tech.handelsblatt.example"),
    ("Nordic Industry Review", "nordic-industry.example"),
    ("L'Usine Robotique", "usine-robotique.example"),
    ("The Engineer", "the-engineer.example"),
)
# Claims an agent made up or remembered wrongly: found in no source.
UNSUPPORTED_CLAIMS = (
    "is said to be preparing an IPO on the Frankfurt Stock Exchange",
    "has been profitable every year since 2019",
    "won a framework contract with a German carmaker worth 40 million",
    "plans to double its engineering team by 2027",
)


@dataclass(frozen=True)
class Proposal:
    """One company of a bundle and how the research presents it."""

    company: DemoCompany
    unverified: str = ""  # "paraphrase" | "claim" | ""
    cto_search: bool = False
    sites: tuple[str, ...] = ()


def revenue_text(company: DemoCompany) -> str:
    millions = company.revenue / 1_000_000
    return f"{company.currency} {millions:,.1f} million"


def _sentences(company: DemoCompany) -> list[str]:
    return [
        f"{company.name}, based in {company.city}, {company.activity}.",
        f"Founded in {company.founded}, {company.short_name} employs {company.headcount:,} "
        f"people and reported revenue of {revenue_text(company)} last year.",
        f"{company.ownership}, the company sells mostly to customers in Europe.",
    ]


def article(number: int, companies: Sequence[DemoCompany], topic: str) -> dict[str, Any]:
    """One source: a trade-press article about a handful of companies."""
    publication, host = PUBLICATIONS[number % len(PUBLICATIONS)]
    body = [f"{publication}: {topic}, part {number + 1}."]
    for company in companies:
        body.extend(_sentences(company))
    body.append(
        "Analysts expect demand for automation in European manufacturing to keep growing as "
        "labour shortages persist and energy costs push factories to modernise."
    )
    text = "\n\n".join(body)
    slug = "-".join(filter(None, (ascii_slug(word) for word in topic.split())))[:40]
    return {
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "content_text": text,
        "url": f"https://{host}/2026/03/{slug}-{number + 1}",
        "title": f"{topic} ({publication}, part {number + 1})",
        "mime_type": "text/html",
        "retrieved_at": f"2026-03-{1 + number % 27:02d}T09:{number % 60:02d}:00Z",
    }


def _evidence(proposal: Proposal, source_sha: str) -> list[Any]:
    company = proposal.company
    snippets: list[Any] = [
        company.activity,
        {"text": f"employs {company.headcount:,} people", "source_sha256": source_sha},
    ]
    if proposal.unverified == "paraphrase":
        # Close to the article's sentence, not in it: the page shows the closest passage.
        snippets.append(
            f"{company.short_name} has a staff of about {company.headcount:,} and revenue of "
            f"{revenue_text(company)}"
        )
    elif proposal.unverified == "claim":
        claim = UNSUPPORTED_CLAIMS[len(company.name) % len(UNSUPPORTED_CLAIMS)]
        snippets.append({"text": f"{company.short_name} {claim}", "source_sha256": source_sha})
    return snippets


def _metrics(proposal: Proposal, source_sha: str) -> list[dict[str, Any]]:
    company = proposal.company
    as_of = "2025-12-31"
    metrics: list[dict[str, Any]] = [
        {
            "key": "headcount",
            "type": "number",
            "value": company.headcount,
            "as_of_date": as_of,
            "source_sha256": source_sha,
            "confidence": 0.9,
        },
        {
            "key": "revenue",
            "type": "number",
            "value": company.revenue,
            "currency": company.currency,
            "as_of_date": as_of,
            "source_sha256": source_sha,
            "confidence": 0.8,
        },
        # Text: a year reads "2004", not "2,004" as numbers do.
        {"key": "founded", "type": "text", "value": str(company.founded)},
        {"key": "ownership", "type": "text", "value": company.ownership, "confidence": 0.7},
    ]
    if proposal.cto_search:
        metrics.append({"key": "cto_search", "type": "bool", "value": True, "confidence": 0.6})
    if proposal.sites:
        metrics.append({"key": "sites", "type": "json", "value": list(proposal.sites)})
    return metrics


def _company(proposal: Proposal, rank: int, total: int, source_sha: str) -> dict[str, Any]:
    company = proposal.company
    entry: dict[str, Any] = {
        "name": company.name,
        "hq_country": company.country,
        "hq_city": company.city,
        "sector": company.sector,
        "description": f"{company.short_name} {company.activity}.",
        "ai_rank": rank,
        "ai_score": round(0.97 - 0.6 * (rank - 1) / max(1, total - 1), 3),
        "source_sha256s": [source_sha],
        "evidence_snippets": _evidence(proposal, source_sha),
        "metrics": _metrics(proposal, source_sha),
    }
    if company.domain:
        entry["domain"] = company.domain
        entry["website_url"] = f"https://www.{company.domain}/"
    if company.aliases:
        entry["aliases"] = [{"name": alias, "type": "trade"} for alias in company.aliases]
    return entry


def research_bundle(
    *, run_id: str, objective: str, topic: str, proposals: Sequence[Proposal]
) -> dict[str, Any]:
    """A bundle proposing `proposals` in rank order, with one article per few companies."""
    sources, companies = [], []
    for start in range(0, len(proposals), PER_ARTICLE):
        chunk = proposals[start : start + PER_ARTICLE]
        source = article(start // PER_ARTICLE, [p.company for p in chunk], topic)
        sources.append(source)
        for offset, proposal in enumerate(chunk):
            companies.append(
                _company(proposal, start + offset + 1, len(proposals), source["sha256"])
            )
    countries = sorted({p.company.country for p in proposals})
    return {
        "version": "run_bundle_v1",
        "run_id": run_id,
        "plan_json": {
            "objective": objective,
            "regions": countries,
            "sources_searched": ["trade press", "company registers", "company websites"],
        },
        "steps": [
            _step("search-trade-press", "search", 0, 4),
            _step("fetch-articles", "fetch", 4, 11),
            _step("extract-companies", "extract", 11, 19),
            _step("check-figures", "validate", 19, 23),
            _step("rank-shortlist", "compose", 23, 26),
            _step("finalize", "finalize", 26, 27),
        ],
        "sources": sources,
        "proposal_json": {
            "query": objective,
            "generated_at": "2026-03-02T10:00:00Z",
            "model": "demo-researcher-2",
            "companies": companies,
        },
    }


def _step(key: str, step_type: str, start_minute: int, end_minute: int) -> dict[str, Any]:
    return {
        "step_key": key,
        "step_type": step_type,
        "status": "ok",
        "started_at": f"2026-03-02T09:{start_minute:02d}:00Z",
        "finished_at": f"2026-03-02T09:{end_minute:02d}:00Z",
        "provider_meta": {"model": "demo-researcher-2"},
    }
