"""Matching proposed companies to the tenant's canonical companies (SPEC §7).

1. registrable domain (from `domain` or `website_url`);
2. exact normalized name or alias — not taken when both sides have different registrable
   domains (then they are different companies, and the review panel shows the possible
   duplicate);
3. otherwise a new company.

Fuzzy similarity only produces review hints; it never merges. Ingestion, lists and the
admin review panel all call `match_companies`, so the panel shows exactly what ingestion
will do. Reads are bulk: a constant number of queries for any number of proposals.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ats.bulk import bulk_insert_with_ids
from ats.models import Company, CompanyAlias, Tenant
from ats.normalize import normalize_company_name, registrable_domain

HINT_THRESHOLD = 85.0  # similarity (0-100) from which a review hint is shown


class MatchKind(StrEnum):
    NEW = "new"
    DOMAIN = "domain"  # same registrable domain
    NAME = "name"  # same normalized name or alias
    CHOSEN = "chosen"  # the reviewer's "same as" decision, which overrides matching


@dataclass(frozen=True)
class Proposed:
    """What matching needs of a proposed company."""

    name: str
    domain: str = ""  # a domain or URL; reduced to the registrable domain
    aliases: Sequence[str] = ()

    # Cached: matching and grouping read them several times per proposal.
    @functools.cached_property
    def registrable_domain(self) -> str:
        return registrable_domain(self.domain)

    @functools.cached_property
    def name_keys(self) -> list[str]:
        keys = [normalize_company_name(self.name)]
        keys += [normalize_company_name(alias) for alias in self.aliases]
        return list(dict.fromkeys(key for key in keys if key))


@dataclass(frozen=True)
class CompanyRef:
    id: int
    name: str
    domain: str


@dataclass(frozen=True)
class Hint:
    """A company that is probably, or possibly, the same: for reviewers, never applied."""

    company: CompanyRef
    similarity: float  # 0-100
    reason: str  # "similar name" | "same name, different domain"


@dataclass(frozen=True)
class Match:
    kind: MatchKind
    company: CompanyRef | None = None
    # Other companies with the same name or alias (the lowest id was taken).
    ambiguous_with: tuple[CompanyRef, ...] = ()
    hints: tuple[Hint, ...] = field(default=())
    domain: str = ""
    name_key: str = ""
    # For new companies: proposals with the same group create one company.
    new_group: int | None = None


def match_companies(
    *, tenant: Tenant, proposals: Sequence[Proposed], with_hints: bool = False
) -> list[Match]:
    """Match each proposal; the result is in the order of `proposals`."""
    domains = {p.registrable_domain for p in proposals} - {""}
    keys = {key for p in proposals for key in p.name_keys}
    companies = Company.objects.for_tenant(tenant)

    by_domain: dict[str, CompanyRef] = {
        row["domain"]: CompanyRef(row["id"], row["name"], row["domain"])
        for row in companies.filter(domain__any=list(domains)).values("id", "name", "domain")
    }
    by_key: dict[str, dict[int, CompanyRef]] = defaultdict(dict)
    for row in companies.filter(normalized_name__any=list(keys)).values(
        "id", "name", "domain", "normalized_name"
    ):
        by_key[row["normalized_name"]][row["id"]] = CompanyRef(
            row["id"], row["name"], row["domain"]
        )
    for row in (
        CompanyAlias.objects.for_tenant(tenant)
        .filter(normalized_alias__any=list(keys))
        .values("normalized_alias", "company_id", "company__name", "company__domain")
    ):
        by_key[row["normalized_alias"]][row["company_id"]] = CompanyRef(
            row["company_id"], row["company__name"], row["company__domain"]
        )

    matches = _group_new_companies(proposals, [_match_one(p, by_domain, by_key) for p in proposals])
    if with_hints:
        matches = add_similarity_hints(tenant=tenant, proposals=proposals, matches=matches)
    return matches


def _match_one(
    proposal: Proposed,
    by_domain: dict[str, CompanyRef],
    by_key: dict[str, dict[int, CompanyRef]],
) -> Match:
    domain = proposal.registrable_domain
    keys = proposal.name_keys
    name_key = keys[0] if keys else ""
    if domain and domain in by_domain:
        return Match(MatchKind.DOMAIN, by_domain[domain], domain=domain, name_key=name_key)
    candidates: dict[int, CompanyRef] = {}
    for key in keys:
        candidates.update(by_key.get(key, {}))
    # Same name but another registrable domain: a different company with the same name.
    conflicting = [c for c in candidates.values() if domain and c.domain and c.domain != domain]
    usable = sorted((c for c in candidates.values() if c not in conflicting), key=lambda c: c.id)
    if usable:
        return Match(
            MatchKind.NAME,
            usable[0],
            ambiguous_with=tuple(usable[1:]),
            domain=domain,
            name_key=name_key,
        )
    hints = tuple(Hint(c, 100.0, "same name, different domain") for c in conflicting)
    return Match(MatchKind.NEW, hints=hints, domain=domain, name_key=name_key)


def _group_new_companies(proposals: Sequence[Proposed], matches: list[Match]) -> list[Match]:
    """Proposals of one batch that would create the same company, by the same rules as
    matching against existing companies: same domain, or same name or alias unless both
    have different domains."""
    groups_by_domain: dict[str, int] = {}
    groups_by_key: dict[str, list[int]] = defaultdict(list)
    group_domains: dict[int, str] = {}
    result = []
    for proposal, match in zip(proposals, matches, strict=True):
        if match.kind != MatchKind.NEW:
            result.append(match)
            continue
        domain, keys = match.domain, proposal.name_keys
        group = groups_by_domain.get(domain) if domain else None
        if group is None:
            group = next(
                (
                    g
                    for key in keys
                    for g in groups_by_key[key]
                    if not (domain and group_domains[g] and group_domains[g] != domain)
                ),
                None,
            )
        if group is None:
            group = len(group_domains)
            group_domains[group] = domain
        elif domain and not group_domains[group]:
            group_domains[group] = domain  # the group learns its domain
        if domain:
            groups_by_domain.setdefault(domain, group)
        for key in keys:
            if group not in groups_by_key[key]:
                groups_by_key[key].append(group)
        result.append(replace(match, new_group=group))
    return result


def add_similarity_hints(
    *, tenant: Tenant, proposals: Sequence[Proposed], matches: Sequence[Match]
) -> list[Match]:
    """For new companies, the most similar existing names (token-sort ratio)."""
    from rapidfuzz import fuzz, process

    todo = [i for i, m in enumerate(matches) if m.kind == MatchKind.NEW]
    if not todo:
        return matches
    rows = list(
        Company.objects.for_tenant(tenant).values_list("id", "name", "domain", "normalized_name")
    )
    if not rows:
        return matches
    # Token-sort ratio, with each name's tokens sorted once rather than on every comparison
    # (the review page hints every proposal of a bundle of thousands).
    choices = [hint_key(row[1], normalized=row[3]) for row in rows]
    result = list(matches)
    for i in todo:
        found = process.extract(
            hint_key(proposals[i].name, normalized=matches[i].name_key),
            choices,
            scorer=fuzz.ratio,
            score_cutoff=HINT_THRESHOLD,
            limit=3,
        )
        known = {hint.company.id for hint in matches[i].hints}
        extra = tuple(
            Hint(
                CompanyRef(rows[index][0], rows[index][1], rows[index][2]),
                round(score, 1),
                "similar name",
            )
            for _, score, index in found
            if rows[index][0] not in known
        )
        if extra:
            result[i] = replace(matches[i], hints=matches[i].hints + extra)
    return result


def hint_key(name: str, *, normalized: str | None = None) -> str:
    """A company name as similarity hints compare it (`fuzz.ratio` of two keys): normalized,
    its words sorted. `normalized`: the name's normalized form when it is known already."""
    return " ".join(sorted((normalized or normalize_company_name(name)).split()))


def create_new_companies(
    *, tenant: Tenant, matches: Sequence[Match], fields_of: Callable[[int], dict[str, str]]
) -> list[int]:
    """Create one company per group of new proposals and return each match's company id.

    `fields_of(index)` gives the new company's fields (name, website...) from the group's
    first proposal; name normalization and the registrable domain are set here.
    """
    first_of_group: dict[int | None, int] = {}
    for index, match in enumerate(matches):
        if match.kind == MatchKind.NEW and match.new_group not in first_of_group:
            first_of_group[match.new_group] = index
    companies = []
    for index in first_of_group.values():
        fields = fields_of(index)
        companies.append(
            {
                "tenant_id": tenant.pk,
                "normalized_name": normalize_company_name(fields["name"]),
                "domain": matches[index].domain,
                **fields,
            }
        )
    created = bulk_insert_with_ids(Company, companies)
    new_ids = dict(zip(first_of_group, created, strict=True))
    return [new_ids[m.new_group] if m.company is None else m.company.id for m in matches]


def summarize(matches: Iterable[Match]) -> dict[str, int]:
    """Counts for reviewers: how many proposals match by domain, by name, or are new
    (proposals that share a new company count once)."""
    counts = {
        "matched_domain": 0,
        "matched_name": 0,
        "matched_chosen": 0,
        "new_companies": 0,
        "ambiguous": 0,
    }
    new_groups: set[int | None] = set()
    for m in matches:
        if m.kind == MatchKind.DOMAIN:
            counts["matched_domain"] += 1
        elif m.kind == MatchKind.CHOSEN:
            counts["matched_chosen"] += 1
        elif m.kind == MatchKind.NAME:
            counts["matched_name"] += 1
            counts["ambiguous"] += bool(m.ambiguous_with)
        else:
            new_groups.add(m.new_group)
    counts["new_companies"] = len(new_groups)
    return counts
