"""A small hand-written bundle for the review page's browser test: six robotics companies
whose positions the test relies on (the client first, unverified evidence at index 2, a
probable duplicate at index 3, Lumenbot last)."""

from __future__ import annotations

import hashlib
from typing import Any

ARTICLES = {
    "robotics-weekly": (
        "Robotics Weekly, March 2026. Northwind Robotics GmbH of Munich doubled its "
        "headcount to 420 people after winning automotive welding contracts. Kestrel "
        "Automation AG, based in Zurich, ships collaborative arms to 30 countries and reported "
        "revenue of 85 million Swiss francs. Vienna-based Auric Motion GmbH raised a Series B "
        "round led by Alpine Ventures to expand its warehouse robots."
    ),
    "handelsblatt-tech": (
        "Handelsblatt Tech: Graz start-up Feldmann Sensorik builds force-torque sensors used "
        "by most European cobot makers. Its chief technology officer left in January, and the "
        "company is searching for a successor. Linz-based Stahlgrün Robotics employs 180 "
        "engineers and focuses on agricultural harvesting robots."
    ),
    "company-register": (
        "Commercial register extract: Kestrel Automation AG, Zurich, share capital CHF "
        "2,000,000. Auric Motion GmbH, Vienna, registered 2019. Lumenbot Systems GmbH, "
        "Stuttgart, registered 2015, machine vision for robot cells."
    ),
}


def _source(key: str) -> dict[str, Any]:
    text = ARTICLES[key]
    return {
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "content_text": text,
        "url": f"https://news.example.org/{key}",
        "title": key.replace("-", " ").title(),
        "mime_type": "text/html",
    }


def _company(
    name: str,
    domain: str,
    city: str,
    country: str,
    rank: int,
    score: float,
    sources: list[str],
    evidence: list[str],
    metrics: list[dict[str, Any]] | None = None,
    aliases: list[Any] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "domain": domain,
        "hq_city": city,
        "hq_country": country,
        "sector": "Robotics",
        "ai_rank": rank,
        "ai_score": score,
        "source_sha256s": [_source(s)["sha256"] for s in sources],
        "evidence_snippets": evidence,
        "metrics": metrics or [],
        "aliases": aliases or [],
    }


def review_bundle(run_id: str, *, with_lumenbot: bool) -> dict[str, Any]:
    """The reviewer browser test's research: DACH robotics companies, one of them (Lumenbot)
    only when asked."""
    companies = [
        _company(
            "Northwind Robotics GmbH",
            "northwind-robotics.de",
            "Munich",
            "DE",
            1,
            0.93,
            ["robotics-weekly"],
            ["doubled its headcount to 420 people"],
            [
                {
                    "key": "Headcount",
                    "type": "number",
                    "value": 420,
                    "unit": "people",
                    "as_of_date": "2026-03-01",
                    "source_sha256": _source("robotics-weekly")["sha256"],
                }
            ],
        ),
        _company(
            "Kestrel Automation AG",
            "kestrel-automation.ch",
            "Zurich",
            "CH",
            2,
            0.88,
            ["robotics-weekly", "company-register"],
            [
                "ships collaborative arms to 30 countries",
                {
                    "text": "share capital CHF 2,000,000",
                    "source_sha256": _source("company-register")["sha256"],
                },
            ],
            [
                {
                    "key": "revenue",
                    "type": "number",
                    "value": 85_000_000,
                    "currency": "CHF",
                    "confidence": 0.8,
                }
            ],
            [{"name": "Kestrel", "type": "trade"}],
        ),
        _company(
            "Auric Motion GmbH",
            "auricmotion.at",
            "Vienna",
            "AT",
            3,
            0.81,
            ["robotics-weekly", "company-register"],
            [
                "raised a Series B round led by Alpine Ventures",
                "Auric Motion is profitable since 2024",
            ],
        ),  # not in any source: unverified
        _company(
            "Feldmann Sensorik",
            "feldmann-sensorik.at",
            "Graz",
            "AT",
            4,
            0.77,
            ["handelsblatt-tech"],
            ["its chief technology officer left in January"],
            [{"key": "cto_search", "type": "bool", "value": True}],
        ),
        _company(
            "Stahlgrün Robotics",
            "stahlgruen.at",
            "Linz",
            "AT",
            5,
            0.64,
            ["handelsblatt-tech"],
            ["employs 180 engineers"],
        ),
    ]
    used = ["robotics-weekly", "handelsblatt-tech", "company-register"]
    if with_lumenbot:
        companies.append(
            _company(
                "Lumenbot Systems GmbH",
                "lumenbot.de",
                "Stuttgart",
                "DE",
                6,
                0.58,
                ["company-register"],
                ["machine vision for robot cells"],
            )
        )
    return {
        "version": "run_bundle_v1",
        "run_id": run_id,
        "plan_json": {"objective": "Robotics companies in DACH with CTO-level talent"},
        "steps": [
            {"step_key": "search-news", "step_type": "search", "status": "ok"},
            {"step_key": "fetch-articles", "step_type": "fetch", "status": "ok"},
            {"step_key": "compose-shortlist", "step_type": "compose", "status": "ok"},
        ],
        "sources": [_source(key) for key in used],
        "proposal_json": {
            "query": "Robotics companies in Germany, Austria and Switzerland",
            "model": "demo-researcher-1",
            "companies": companies,
        },
    }
