"""The demo's research runs: what each is for and which companies its research proposes.

- awaiting review: 150 companies with every kind of match the review page shows (same
  domain, same name, same alias, an ambiguous name, the client of the search, a probable
  duplicate by name and one by similarity, look-alike and repeated names) and unverified
  evidence;
- succeeded: approved with decisions (the client excluded, a duplicate taken as the existing
  company) and ingested by the ingest job;
- failed: its ingestion failed for good, with the reason on the run;
- sources: text notes and files classified by the sources pipeline (`documents`);
- a draft with no research yet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .bundles import Proposal
from .cast import (
    BRENNER_PROPOSED,
    CLIENT,
    FELDMANN,
    FELDMANN_ELSEWHERE,
    HARVEST_BY_ALIAS,
    KESTREL_LOOKALIKE,
    KNOWN_WITH_DOMAIN,
    cast,
)
from .data import COUNTRY, DemoCompany, ascii_slug

ROLE_TITLE = "Chief Technology Officer"
REVIEW_SIZE = 150
DOMAIN_MATCHES = 12
NAME_MATCHES = 5


@dataclass(frozen=True)
class DemoRun:
    key: str  # the run's idempotency key: how a second seed_demo finds it
    objective: str
    topic: str = ""


AWAITING_REVIEW = DemoRun(
    "demo:awaiting-review",
    "CTO search for Northwind Robotics: robotics and automation companies in Europe with "
    "strong engineering teams",
    "European robotics and automation makers",
)
SUCCEEDED = DemoRun(
    "demo:succeeded",
    "Warehouse automation and motion control suppliers with 50 to 1,500 people",
    "Automation suppliers to watch",
)
FAILED = DemoRun(
    "demo:failed",
    "Machine vision companies in Central Europe",
    "Machine vision in Central Europe",
)
SOURCES = DemoRun(
    "demo:sources",
    "Press clippings and interview notes on cobot suppliers, classified by the pipeline",
)
DRAFT = DemoRun("demo:draft", "Fintech scale-ups in the Nordics (no research yet)")


def _with_own_domain(company: DemoCompany) -> DemoCompany:
    """A company the firm knows without a domain, found by the research with one."""
    stem = ascii_slug(company.name.split()[0])
    return replace(company, domain=f"{stem}.{COUNTRY[company.country].tld}")


def _look_alike(company: DemoCompany) -> DemoCompany:
    """Its name with a Cyrillic letter that looks Latin: the page warns about it."""
    index = next(i for i, letter in enumerate(company.name) if letter in "oae")
    cyrillic = {"o": "\u043e", "a": "\u0430", "e": "\u0435"}[company.name[index]]
    return replace(company, name=company.name[:index] + cyrillic + company.name[index + 1 :])


def _varied(index: int, company: DemoCompany) -> Proposal:
    """Every company's extras, spread evenly: CTO searches, sites, unverified evidence."""
    unverified = "paraphrase" if index % 15 == 7 else "claim" if index % 23 == 11 else ""
    sites = (company.city, COUNTRY[company.country].cities[-1]) if index % 11 == 5 else ()
    return Proposal(company, unverified=unverified, cto_search=index % 7 == 3, sites=sites)


def review_proposals() -> list[Proposal]:
    """The 150 companies awaiting review; the instructive ones on the first page."""
    world = cast()
    known = world.generated_known
    domain_matches = [
        replace(c, name=c.short_name) if i % 2 else c for i, c in enumerate(known[:DOMAIN_MATCHES])
    ]
    name_matches = [_with_own_domain(c) for c in known[KNOWN_WITH_DOMAIN:][:NAME_MATCHES]]
    repeated = world.review_new[1]
    special = [
        CLIENT,
        KESTREL_LOOKALIKE,
        FELDMANN_ELSEWHERE,
        BRENNER_PROPOSED,
        HARVEST_BY_ALIAS,
        _look_alike(world.review_new[0]),
        repeated,
        # The same name at another domain: two companies, or one listed twice?
        replace(repeated, domain=repeated.domain.rsplit(".", 1)[0] + ".eu", city="Brussels"),
    ]
    instructive = [*special, *domain_matches, *name_matches]
    plain = list(world.review_new[2 : 2 + REVIEW_SIZE - len(instructive)])
    head = [c for pair in zip(instructive, plain, strict=False) for c in pair]
    companies = [*head, *plain[len(instructive) :]]
    assert len(companies) == REVIEW_SIZE, len(companies)
    return [_varied(i, c) for i, c in enumerate(companies)]


def succeeded_proposals() -> list[Proposal]:
    """The client (which the reviewer excludes), a duplicate of Feldmann (which the reviewer
    takes as the firm's record), four known companies and new ones."""
    world = cast()
    companies = [
        *world.succeeded_new[:6],
        CLIENT,
        FELDMANN_ELSEWHERE,
        *world.generated_known[DOMAIN_MATCHES : DOMAIN_MATCHES + 4],
        *world.succeeded_new[6:],
    ]
    return [_varied(i, c) for i, c in enumerate(companies)]


def failed_proposals() -> list[Proposal]:
    world = cast()
    companies = [*world.failed_new, *world.generated_known[DOMAIN_MATCHES + 4 : DOMAIN_MATCHES + 6]]
    return [_varied(i, c) for i, c in enumerate(companies)]


EXCLUDED = CLIENT  # "usually not a target company"
SAME_AS = (FELDMANN_ELSEWHERE, FELDMANN)  # (the proposal, the firm's record it is)
