"""Builders of valid research bundles for tests and benchmarks."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

FILLER = (
    "The sector has seen steady consolidation as buyers look for automation know-how, "
    "software talent and service networks across Europe and North America. "
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source(text: str, **extra: Any) -> dict[str, Any]:
    return {"sha256": sha(text), "content_text": text, **extra}


def company(
    name: str, *, sources: list[dict[str, Any]], evidence: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "source_sha256s": [s["sha256"] for s in sources],
        "evidence_snippets": evidence or [sources[0]["content_text"][:60]],
        **extra,
    }


def bundle(
    run_id: uuid.UUID | str,
    companies: list[dict[str, Any]],
    sources: list[dict[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "version": "run_bundle_v1",
        "run_id": str(run_id),
        "plan_json": {"objective": "Find robotics companies"},
        "steps": [],
        "sources": sources,
        "proposal_json": {"query": "robotics companies in Europe", "companies": companies},
        **extra,
    }


def generated_bundle(
    run_id: uuid.UUID | str,
    *,
    companies: int,
    sources: int | None = None,
    evidence_per_company: int = 3,
    metrics_per_company: int = 3,
    prefix: str = "Gen",
    domain_suffix: str = "com",
    source_padding: int = 0,
) -> dict[str, Any]:
    """A realistic bundle: each company cites two sources, quotes them, and has metrics."""
    source_count = sources or max(1, companies // 5)
    texts = [
        f"Source {i}. "
        + " ".join(
            f"{prefix} Company {c} builds industrial robots in city {c % 50} and employs "
            f"{100 + c} people."
            for c in range(i, companies, source_count)
        )
        for i in range(source_count)
    ]
    all_sources = [
        source(text, url=f"https://news.example.org/{prefix.lower()}/{i}", title=f"Article {i}")
        for i, text in enumerate(texts)
    ]
    items = []
    for c in range(companies):
        home = all_sources[c % source_count]
        other = all_sources[(c + 1) % source_count]
        sentence = f"{prefix} Company {c} builds industrial robots"
        evidence: list[Any] = [sentence]
        evidence += [
            {"text": f"employs {100 + c} people", "source_sha256": home["sha256"]}
            for _ in range(min(1, evidence_per_company - 1))
        ]
        evidence += [
            f"unverifiable claim {k} about {prefix} {c}" for k in range(evidence_per_company - 2)
        ]
        metrics = [
            {
                "key": "Headcount",
                "type": "number",
                "value": 100 + c,
                "unit": "people",
                "source_sha256": home["sha256"],
            },
            {
                "key": "revenue",
                "type": "number",
                "value": 1_000_000.0 * (c + 1),
                "currency": "EUR",
                "as_of_date": "2025-12-31",
            },
            {"key": "public", "type": "bool", "value": c % 2 == 0},
        ][:metrics_per_company]
        items.append(
            company(
                f"{prefix} Company {c} GmbH",
                sources=[home, other],
                evidence=evidence,
                domain=f"{prefix.lower()}-company-{c}.{domain_suffix}",
                ai_rank=c + 1,
                ai_score=round(1 - c / (companies + 1), 4),
                hq_country="DE",
                sector="Robotics",
                metrics=metrics,
            )
        )
    return bundle(run_id, items, all_sources)
