"""Finding and merging duplicate companies of a tenant (the `rematch_companies` backfill).

Two companies are the same when exact matching (SPEC §7) would match one to the other: the
same registrable domain, or the same normalized name or alias while their registrable domains
do not differ. `plan_rematch` applies that rule to one company and its peers; the result is
either a group to merge, or probable duplicates to report (same name but different domains,
or a name shared with companies of several domains): those are for a person to decide.

`companies_merge` merges a group into its oldest company in one transaction: prospects,
their evidence and metrics, aliases, roles and any other row pointing at a duplicate move to
the survivor; the duplicates' names become aliases of the survivor, so that future research
matches it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import models, transaction
from django.utils import timezone

from ats.actors import Actor
from ats.models import AliasType, Company, CompanyAlias
from ats.normalize import normalize_company_name
from research.models import Prospect, ProspectEvidence, ProspectMetric, ResearchRun, ReviewStatus
from research.services.events import event_record
from research.services.matching import CompanyRef, Proposed

SAME_DOMAIN = "same domain"
SAME_NAME = "same name or alias"
CONFLICTING_DOMAINS = "same name, different domain"
AMBIGUOUS = "a name shared by companies of different domains"
TOO_MANY = "a name shared by too many companies to merge without a person"
MAX_GROUP = 50
FILLED_FIELDS = ("website", "hq_country", "hq_city", "sector", "description")


@dataclass(frozen=True)
class Peers:
    """Other companies of the tenant that share a registrable domain or a name key."""

    by_domain: tuple[CompanyRef, ...] = ()
    by_name: tuple[CompanyRef, ...] = ()


@dataclass(frozen=True)
class RematchPlan:
    # The companies to merge, survivor (lowest id) first; empty when there is nothing to merge.
    group: tuple[CompanyRef, ...] = ()
    reason: str = ""
    # Groups of companies that may be the same, with why: reported, never merged.
    probable: tuple[tuple[tuple[CompanyRef, ...], str], ...] = ()


@dataclass
class MergeResult:
    survivor_id: int
    merged_ids: list[int]
    prospects_repointed: int = 0
    prospects_merged: int = 0
    evidence_moved: int = 0
    metrics_moved: int = 0
    aliases_moved: int = 0
    aliases_added: int = 0
    runs: set[uuid.UUID] = field(default_factory=set)  # whose prospects changed


def find_peers(
    *, tenant_id: int, companies: Sequence[tuple[CompanyRef, Proposed]]
) -> dict[int, Peers]:
    """Each company's peers, in three queries for the whole batch. The keys of `companies`
    are computed with the current normalization; the peers' are as stored."""
    domains = {p.registrable_domain for _, p in companies} - {""}
    keys = {key for _, p in companies for key in p.name_keys}
    in_tenant = Company.objects.filter(tenant_id=tenant_id)
    by_domain: dict[str, list[CompanyRef]] = defaultdict(list)
    for row in in_tenant.filter(domain__any=list(domains)).values("id", "name", "domain"):
        by_domain[row["domain"]].append(CompanyRef(row["id"], row["name"], row["domain"]))
    by_key: dict[str, dict[int, CompanyRef]] = defaultdict(dict)
    for row in in_tenant.filter(normalized_name__any=list(keys)).values(
        "id", "name", "domain", "normalized_name"
    ):
        by_key[row["normalized_name"]][row["id"]] = CompanyRef(
            row["id"], row["name"], row["domain"]
        )
    for row in (
        CompanyAlias.objects.filter(tenant_id=tenant_id, normalized_alias__any=list(keys))
        .values("company_id", "company__name", "company__domain", "normalized_alias")
        .order_by()
    ):
        by_key[row["normalized_alias"]][row["company_id"]] = CompanyRef(
            row["company_id"], row["company__name"], row["company__domain"]
        )
    peers = {}
    for company, proposed in companies:
        domain = proposed.registrable_domain
        same_domain = [c for c in by_domain.get(domain, []) if c.id != company.id]
        same_name = {c.id: c for key in proposed.name_keys for c in by_key.get(key, {}).values()}
        same_name.pop(company.id, None)
        peers[company.id] = Peers(
            by_domain=tuple(same_domain),
            by_name=tuple(sorted(same_name.values(), key=lambda c: c.id)),
        )
    return peers


def plan_rematch(*, tenant_id: int, company: CompanyRef, domain: str, peers: Peers) -> RematchPlan:
    """What exact matching says of `company` (whose registrable domain is `domain`).

    The companies it would match, and those they would match in turn, form a group. The
    group merges when it spans at most one registrable domain; otherwise a company without
    a domain shares a name with companies of different domains and nobody can tell which it
    is: the group is reported instead (once, by its oldest company).
    """
    linked, conflicting = _linked(company, domain, peers)
    if not linked:
        # Reported once, by the older of the two.
        pairs = tuple(((company, c), CONFLICTING_DOMAINS) for c in conflicting if c.id > company.id)
        return RematchPlan(probable=pairs)
    group = _group(tenant_id, company, linked)
    if group is None:
        return RematchPlan(probable=(((company, *linked), TOO_MANY),))
    if len({c.domain for c in group} - {""}) > 1:
        oldest = min(c.id for c in group)
        return RematchPlan(probable=((group, AMBIGUOUS),) if company.id == oldest else ())
    reason = SAME_DOMAIN if any(c.domain and c.domain == domain for c in linked) else SAME_NAME
    return RematchPlan(group=group, reason=reason)


def _linked(
    company: CompanyRef, domain: str, peers: Peers
) -> tuple[list[CompanyRef], list[CompanyRef]]:
    """(peers exact matching would take, same-name peers of another domain)."""
    domain_ids = {c.id for c in peers.by_domain}
    conflicting = [
        c
        for c in peers.by_name
        if domain and c.domain and c.domain != domain and c.id not in domain_ids
    ]
    usable = [c for c in peers.by_name if c not in conflicting and c.id not in domain_ids]
    return [*peers.by_domain, *usable], conflicting


def _group(
    tenant_id: int, company: CompanyRef, linked: list[CompanyRef]
) -> tuple[CompanyRef, ...] | None:
    """Everything reachable from `company` by exact matching, oldest first; None past
    MAX_GROUP companies (a name so common that it needs a person anyway)."""
    group = {company.id: company, **{c.id: c for c in linked}}
    frontier = [c.id for c in linked]
    while frontier:
        if len(group) > MAX_GROUP:
            return None
        proposed = as_proposed(
            Company.objects.filter(pk__in=frontier).only("pk", "name", "domain", "website")
        )
        peers = find_peers(tenant_id=tenant_id, companies=proposed)
        frontier = []
        for ref, member in proposed:
            reached, _ = _linked(ref, member.registrable_domain, peers[ref.id])
            for other in reached:
                if other.id not in group:
                    group[other.id] = other
                    frontier.append(other.id)
    return tuple(sorted(group.values(), key=lambda c: c.id))


def as_proposed(companies: Sequence[Company]) -> list[tuple[CompanyRef, Proposed]]:
    """Companies as matching sees a proposal (name, aliases, domain), in one query."""
    aliases: dict[int, list[str]] = defaultdict(list)
    for company_id, alias in CompanyAlias.objects.filter(
        company_id__in=[c.pk for c in companies]
    ).values_list("company_id", "alias"):
        aliases[company_id].append(alias)
    return [
        (
            CompanyRef(c.pk, c.name, c.domain),
            Proposed(name=c.name, domain=c.domain or c.website, aliases=aliases[c.pk]),
        )
        for c in companies
    ]


def companies_merge(
    *, survivor_id: int, duplicate_ids: Sequence[int], reason: str, actor: Actor
) -> MergeResult | None:
    """Merge the duplicates into the survivor, in one transaction. Companies that no longer
    exist are left out; None when nothing is left to merge."""
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Company.objects.select_for_update()
            .filter(pk__in=[survivor_id, *duplicate_ids])
            .order_by("pk")
        }
        survivor = locked.get(survivor_id)
        duplicates = [locked[i] for i in duplicate_ids if i in locked and i != survivor_id]
        if survivor is None or not duplicates:
            return None
        if any(d.tenant_id != survivor.tenant_id for d in duplicates):
            raise ValueError("Companies of different tenants are never merged.")
        result = MergeResult(survivor_id=survivor.pk, merged_ids=[d.pk for d in duplicates])
        _move_prospects(survivor, result)
        _move_aliases(survivor, duplicates, result)
        _move_other_references(survivor, result.merged_ids)
        fills = _fills(survivor, duplicates)
        Company.objects.filter(pk__in=result.merged_ids).delete()
        for name, value in fills.items():
            setattr(survivor, name, value)
        survivor.normalized_name = normalize_company_name(survivor.name)
        survivor.updated_at = timezone.now()
        survivor.save(update_fields=[*fills, "normalized_name", "updated_at"])
        _record_events(survivor, duplicates, reason=reason, actor=actor, runs=result.runs)
    return result


def _move_prospects(survivor: Company, result: MergeResult) -> None:
    """A run's prospect of a duplicate moves to the survivor; when the run has one for the
    survivor already, the two prospects become one (evidence and metrics added, not doubled)."""
    losers = list(
        Prospect.objects.filter(company_id__in=result.merged_ids).order_by("run_id", "pk")
    )
    targets = {
        p.run_id: p
        for p in Prospect.objects.filter(company=survivor, run_id__in={p.run_id for p in losers})
    }
    now = timezone.now()
    for loser in losers:
        result.runs.add(loser.run_id)
        target = targets.get(loser.run_id)
        if target is None:
            loser.company_id, loser.updated_at = survivor.pk, now
            loser.save(update_fields=["company", "updated_at"])
            targets[loser.run_id] = loser
            result.prospects_repointed += 1
            continue
        result.evidence_moved += _move_children(
            ProspectEvidence, loser, target, ("source_id", "text_sha256")
        )
        result.metrics_moved += _move_children(ProspectMetric, loser, target, ("identity_sha256",))
        _merge_prospect_fields(target, loser, now)
        loser.delete()
        result.prospects_merged += 1


def _move_children(
    model: type[models.Model], loser: Prospect, target: Prospect, identity: tuple[str, ...]
) -> int:
    have = set(model.objects.filter(prospect=target).values_list(*identity))
    move = [
        row[0]
        for row in model.objects.filter(prospect=loser).values_list("pk", *identity)
        if tuple(row[1:]) not in have
    ]
    return model.objects.filter(pk__in=move).update(prospect=target)


def _merge_prospect_fields(target: Prospect, loser: Prospect, now: datetime) -> None:
    """People's fields: the target's win; what only the duplicate had is kept."""
    if target.review_status == ReviewStatus.NEW:
        target.review_status = loser.review_status
    if target.manual_priority is None:
        target.manual_priority = loser.manual_priority
    notes = [n for n in (target.manual_notes, loser.manual_notes) if n.strip()]
    target.manual_notes = "\n\n".join(dict.fromkeys(notes))
    target.is_pinned = target.is_pinned or loser.is_pinned
    ranks = [r for r in (target.ai_rank, loser.ai_rank) if r is not None]
    scores = [s for s in (target.ai_score, loser.ai_score) if s is not None]
    target.ai_rank = min(ranks) if ranks else None
    target.ai_score = max(scores) if scores else None
    target.updated_at = now
    target.save(
        update_fields=[
            "review_status",
            "manual_priority",
            "manual_notes",
            "is_pinned",
            "ai_rank",
            "ai_score",
            "updated_at",
        ]
    )


def _move_aliases(survivor: Company, duplicates: Sequence[Company], result: MergeResult) -> None:
    have = {survivor.normalized_name, *survivor.aliases.values_list("normalized_alias", flat=True)}
    for alias in CompanyAlias.objects.filter(company__in=duplicates).order_by("pk"):
        if alias.normalized_alias in have:
            continue  # deleted with its company
        alias.company = survivor
        alias.save(update_fields=["company"])
        have.add(alias.normalized_alias)
        result.aliases_moved += 1
    for duplicate in duplicates:
        key = normalize_company_name(duplicate.name)
        if key not in have:
            CompanyAlias.objects.create(
                tenant_id=survivor.tenant_id,
                company=survivor,
                alias=duplicate.name,
                normalized_alias=key,
                alias_type=AliasType.OTHER,
            )
            have.add(key)
            result.aliases_added += 1


def _move_other_references(survivor: Company, merged_ids: list[int]) -> None:
    """Roles' client company, and any reference another app adds later."""
    handled = {Prospect, CompanyAlias}
    for relation in Company._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete):
            continue
        if not (relation.one_to_many or relation.one_to_one):
            continue
        if relation.related_model in handled:
            continue
        name = relation.field.name
        relation.related_model._base_manager.filter(**{f"{name}__in": merged_ids}).update(
            **{name: survivor}
        )


def _fills(survivor: Company, duplicates: Iterable[Company]) -> dict[str, str]:
    """The survivor's blank fields, from the first duplicate that has them."""
    fills: dict[str, str] = {}
    for name in ("domain", *FILLED_FIELDS):
        if getattr(survivor, name):
            continue
        value = next((getattr(d, name) for d in duplicates if getattr(d, name)), "")
        if value:
            fills[name] = value
    return fills


def _record_events(
    survivor: Company,
    duplicates: Sequence[Company],
    *,
    reason: str,
    actor: Actor,
    runs: set[uuid.UUID],
) -> None:
    names = ", ".join(f"{d.name!r} (#{d.pk})" for d in duplicates)
    message = f"Merged {names} into {survivor.name!r} (#{survivor.pk}): {reason}."
    for run in ResearchRun.objects.filter(pk__in=runs).order_by("created_at"):
        event_record(
            run=run,
            event_type="companies_merged",
            actor=actor,
            message=message,
            data={"survivor_id": survivor.pk, "merged_ids": [d.pk for d in duplicates]},
        )
