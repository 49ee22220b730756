"""Data for the backfill tests: the same duplicates in any tenant, and a tenant-independent
picture of a tenant's companies, prospects, evidence and metrics to compare runs by."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from django.core.management import call_command

from ats.models import AliasType, Company, CompanyAlias, Role, Tenant
from ats.normalize import normalize_company_name
from research.bundle.normalize import evidence_text_sha256
from research.models import (
    Prospect,
    ProspectEvidence,
    ProspectMetric,
    ResearchRun,
    ReviewStatus,
    Source,
    Verification,
)


def company(
    tenant: Tenant, name: str, domain: str = "", *aliases: str, stale_key: str = ""
) -> Company:
    created = Company.objects.create(
        tenant=tenant,
        name=name,
        normalized_name=stale_key or normalize_company_name(name),
        domain=domain,
    )
    for alias in aliases:
        CompanyAlias.objects.create(
            tenant=tenant,
            company=created,
            alias=alias,
            normalized_alias=normalize_company_name(alias),
            alias_type=AliasType.TRADE,
        )
    return created


def prospect(
    run: ResearchRun, of: Company, source: Source, *snippets: str, **fields: Any
) -> Prospect:
    made = Prospect.objects.create(tenant=run.tenant, run=run, company=of, name=of.name, **fields)
    for text in snippets:
        ProspectEvidence.objects.create(
            tenant=run.tenant,
            prospect=made,
            source=source,
            text=text,
            text_sha256=evidence_text_sha256(text),
            verification=Verification.VERIFIED,
        )
        ProspectMetric.objects.create(
            tenant=run.tenant,
            prospect=made,
            key="note",
            value_type="text",
            value_text=text,
            identity_sha256=hashlib.sha256(text.encode()).hexdigest(),
        )
    return made


def build_duplicates(tenant: Tenant) -> None:
    """Exact duplicates to merge, probable ones to report, in every shape of SPEC §7."""
    acme = company(tenant, "Acme GmbH", "acme.de")
    acme_again = company(tenant, "ACME")  # same name, no domain: merged into Acme GmbH
    company(tenant, "Beta Ltd", "beta.com")
    company(tenant, "Beta Limited", "beta.co.uk")  # same name, other domain: reported only
    company(tenant, "Gamma")  # ambiguous between two domains: reported only
    company(tenant, "Gamma Inc", "gamma.io")
    company(tenant, "gamma", "gamma.net")
    delta = company(tenant, "Delta Robotics", "delta-robotics.com", "DR")
    dr = company(tenant, "DR.")  # the alias of Delta Robotics: merged
    # Stored under an older normalization; the current one makes it "epsilon".
    company(tenant, "Epsilon AG", "epsilon.ch", stale_key="epsilon ag")
    company(tenant, "Epsilon", "", "Eps")
    for n in range(5):  # unrelated companies, so that batches hold more than duplicates
        company(tenant, f"Unique {n} Systems", f"unique{n}.example")
    source = Source.objects.create(tenant=tenant, sha256="5" * 64, text="Acme and DR. news")
    first = ResearchRun.objects.create(tenant=tenant, objective="first run")
    second = ResearchRun.objects.create(tenant=tenant, objective="second run")
    prospect(first, acme, source, "Acme news", review_status=ReviewStatus.ACCEPTED, ai_rank=3)
    prospect(
        first,
        acme_again,
        source,
        "ACME  NEWS",
        "Acme hires",
        manual_notes="Call the CEO",
        is_pinned=True,
        ai_rank=1,
    )
    prospect(second, acme_again, source, "Acme hires")
    prospect(second, dr, source, "DR. news")
    prospect(first, delta, source, "Delta news")
    Role.objects.create(tenant=tenant, title="CTO", client_company=acme_again)


def picture(tenant: Tenant) -> dict[str, Any]:
    """The tenant's companies and what hangs off them, without ids."""
    companies = sorted(
        (
            c.name,
            c.domain,
            c.normalized_name,
            tuple(sorted(c.aliases.values_list("alias", "normalized_alias"))),
        )
        for c in Company.objects.for_tenant(tenant).prefetch_related("aliases")
    )
    prospects = sorted(
        (
            p.run.objective,
            p.company.name,
            p.review_status,
            p.manual_notes,
            p.is_pinned,
            p.ai_rank,
            tuple(sorted(p.evidence.values_list("text_sha256", flat=True))),
            tuple(sorted(p.metrics.values_list("identity_sha256", flat=True))),
        )
        for p in Prospect.objects.for_tenant(tenant).select_related("run", "company")
    )
    roles = sorted(Role.objects.for_tenant(tenant).values_list("title", "client_company__name"))
    return {"companies": companies, "prospects": prospects, "roles": roles}


def run_command(*command: str) -> tuple[str, str]:
    """(stdout, stderr) of a management command run here, in this process."""
    out, err = io.StringIO(), io.StringIO()
    call_command(*command, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()
