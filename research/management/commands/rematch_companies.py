"""`manage.py rematch_companies [--tenant SLUG] [--dry-run]`: match a tenant's companies
against each other again, with the current normalization (SPEC §3, §7).

Three passes, each batched and resumable:

1. `names`: recompute each company's normalized name (and registrable domain, unless another
   company has that domain: then pass 3 merges the two);
2. `aliases`: recompute normalized aliases (an alias that now equals another of the same
   company is redundant and removed);
3. `merge`: merge what exact matching would merge (same registrable domain, or the same
   normalized name or alias with no conflicting domains) into the oldest company, one
   transaction per merge, and report probable duplicates (same name, different domains)
   without merging them.

A dry run recomputes nothing, so its merge pass sees the names as they are stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

from ats.actors import Actor
from ats.management.backfill import BackfillCommand, BackfillRun, Pass
from ats.models import Company, CompanyAlias, Tenant
from ats.normalize import normalize_company_name, registrable_domain
from research.services.company_merge import (
    Peers,
    RematchPlan,
    as_proposed,
    companies_merge,
    find_peers,
    plan_rematch,
)

ACTOR = Actor.system("rematch_companies")


def _scoped(model: type[models.Model], tenant: Tenant | None) -> models.QuerySet:
    return model.objects.for_tenant(tenant) if tenant else model.objects.all()


class Command(BackfillCommand):
    help = (
        "Re-run company matching for a tenant's companies (every tenant's without --tenant) "
        "with the current normalization: merge exact duplicates into the oldest company and "
        "report probable duplicates without merging them."
    )

    def passes(self, **options: Any) -> Sequence[Pass]:
        # Dry run: companies already planned as merged into another are not planned again.
        self._planned_away: set[int] = set()
        return [
            Pass("names", self._companies, self._renormalize_companies),
            Pass("aliases", self._aliases, self._renormalize_aliases),
            Pass("merge", self._companies, self._merge_batch, atomic=False),
        ]

    @staticmethod
    def _companies(tenant: Tenant | None) -> models.QuerySet:
        return _scoped(Company, tenant).only(
            "pk", "tenant_id", "name", "normalized_name", "domain", "website"
        )

    @staticmethod
    def _aliases(tenant: Tenant | None) -> models.QuerySet:
        return _scoped(CompanyAlias, tenant).only("pk", "company_id", "alias", "normalized_alias")

    # --- pass 1 and 2: normalization ----------------------------------------------------------

    def _renormalize_companies(self, rows: list[Company], run: BackfillRun) -> None:
        renamed = [c for c in rows if normalize_company_name(c.name) != c.normalized_name]
        for company in renamed:
            company.normalized_name = normalize_company_name(company.name)
        redomained = {
            c.pk: registrable_domain(c.domain)
            for c in rows
            if c.domain and registrable_domain(c.domain) != c.domain
        }
        taken = set()
        if redomained:
            taken = set(
                Company.objects.filter(
                    tenant_id__in={c.tenant_id for c in rows}, domain__in=redomained.values()
                ).values_list("tenant_id", "domain")
            )
        moved = []
        for company in rows:
            new_domain = redomained.get(company.pk)
            if new_domain is None or (company.tenant_id, new_domain) in taken:
                continue  # unchanged, or the same domain as another company: pass 3 merges
            taken.add((company.tenant_id, new_domain))
            company.domain = new_domain
            moved.append(company)
        run.count("company names renormalized", len(renamed))
        run.count("company domains renormalized", len(moved))
        if run.dry_run:
            return
        Company.objects.bulk_update(renamed, ["normalized_name"])
        Company.objects.bulk_update(moved, ["domain"])

    def _renormalize_aliases(self, rows: list[CompanyAlias], run: BackfillRun) -> None:
        stale = [a for a in rows if normalize_company_name(a.alias) != a.normalized_alias]
        if not stale:
            return
        for alias in stale:
            alias.normalized_alias = normalize_company_name(alias.alias)
        existing = set(
            CompanyAlias.objects.filter(
                company_id__in={a.company_id for a in stale},
                normalized_alias__in={a.normalized_alias for a in stale},
            )
            .exclude(pk__in=[a.pk for a in stale])
            .values_list("company_id", "normalized_alias")
        )
        update, redundant = [], []
        for alias in stale:
            key = (alias.company_id, alias.normalized_alias)
            (redundant if key in existing else update).append(alias)
            existing.add(key)
        run.count("aliases renormalized", len(update))
        run.count("redundant aliases removed", len(redundant))
        if run.dry_run:
            return
        CompanyAlias.objects.filter(pk__in=[a.pk for a in redundant]).delete()
        CompanyAlias.objects.bulk_update(update, ["normalized_alias"])

    # --- pass 3: merge -------------------------------------------------------------------------

    def _merge_batch(self, rows: list[Company], run: BackfillRun) -> None:
        pending = [
            (c.tenant_id, ref, proposed)
            for c, (ref, proposed) in zip(rows, as_proposed(rows), strict=True)
            if c.pk not in self._planned_away
        ]
        peers: dict[int, Peers] = {}
        gone: set[int] = set()
        for position, (tenant_id, ref, proposed) in enumerate(pending):
            if ref.id in gone:
                continue
            if ref.id not in peers:  # the rest of the batch's peers, in one lookup
                rest = [
                    (r, p) for t, r, p in pending[position:] if t == tenant_id and r.id not in gone
                ]
                peers.update(find_peers(tenant_id=tenant_id, companies=rest))
            plan = plan_rematch(
                tenant_id=tenant_id,
                company=ref,
                domain=proposed.registrable_domain,
                peers=peers[ref.id],
            )
            self._report_probable(plan, run)
            if plan.group and self._merge(plan, run, gone):
                peers.clear()  # a merge changes who is whose peer: look them up again

    def _merge(self, plan: RematchPlan, run: BackfillRun, gone: set[int]) -> bool:
        survivor, *duplicates = plan.group
        duplicate_ids = [c.id for c in duplicates if c.id not in self._planned_away]
        if not duplicate_ids:
            return False
        verb = "Would merge" if run.dry_run else "Merged"
        if run.dry_run:
            self._planned_away.update(duplicate_ids)
        else:
            result = companies_merge(
                survivor_id=survivor.id,
                duplicate_ids=duplicate_ids,
                reason=plan.reason,
                actor=ACTOR,
            )
            if result is None:
                return False
            duplicate_ids = result.merged_ids
            run.count("prospects moved", result.prospects_repointed)
            run.count("prospects combined", result.prospects_merged)
            run.count("evidence moved", result.evidence_moved)
            run.count("metrics moved", result.metrics_moved)
        gone.update(duplicate_ids)
        names = ", ".join(f"{c.name!r} (#{c.id})" for c in duplicates if c.id in gone)
        run.count("companies merged away", len(duplicate_ids))
        run.report(f"{verb} {names} into {survivor.name!r} (#{survivor.id}): {plan.reason}.")
        return True

    @staticmethod
    def _report_probable(plan: RematchPlan, run: BackfillRun) -> None:
        for group, why in plan.probable:
            run.count("probable duplicates reported (not merged)")
            described = ", ".join(f"{c.name!r} (#{c.id}, {c.domain or 'no domain'})" for c in group)
            run.report(f"Probable duplicates: {described}: {why}.")
