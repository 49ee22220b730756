"""`manage.py seed_demo`, step by step: the demo tenant, its companies, the search (a role for
a client), a reviewer, and the research runs, all made through the services that the API and
the admin use. Jobs (ingestion, the sources pipeline) run in this process through the real
handlers, and only the demo tenant's (`jobs.inline`).

Each step finds what an earlier seeding made (by slug, domain, name, idempotency key, run
status) and makes only what is missing: a second run creates nothing and says so, and a run
that was interrupted is finished by the next one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.text import Truncator

from ats import services as ats_services
from ats.actors import Actor
from ats.models import Company, CompanyAlias, MemberRole, Membership, Role, Tenant
from ats.normalize import normalize_company_name
from jobs.inline import run_tenant_jobs
from research.formatting import plural
from research.inputs import CompanyDecisionInput, RunCreate
from research.models import (
    Bundle,
    Prospect,
    ProspectStatus,
    ResearchRun,
    RunSource,
    RunStatus,
)
from research.review import bundle_matches, is_probable_duplicate
from research.services.bundles import bundle_approve, bundle_upload
from research.services.matching import MatchKind, summarize
from research.services.pipeline import run_start
from research.services.runs import run_create
from research.services.sources import (
    SourceNew,
    UploadedFile,
    source_file_parse,
    source_inputs_parse,
    sources_add,
)

from . import runs
from .bundles import research_bundle
from .cast import CLIENT, cast
from .data import DemoCompany
from .documents import documents

if TYPE_CHECKING:
    from django.contrib.auth.models import User

TENANT_SLUG = "demo"
TENANT_NAME = "Demo Search Partners"
ADMIN = {"username": "admin", "email": "admin@example.com", "password": "admin"}
REVIEWER_EMAIL = "rhea.keller@demo-search.example"
AGENT = Actor(label="api_key:research-agent")
ANALYST = Actor.system("seed_demo")
# The failed run's story: its approved bundle reads, in storage, as a format this server no
# longer accepts (as after an upgrade), so the ingest job fails for good and says why.
RETIRED_FORMAT = "run_bundle_v0"


@dataclass
class Seeded:
    """What one step found or made, for its line of output."""

    subject: str
    created: bool
    detail: str = ""

    def line(self) -> str:
        state = "created" if self.created else "already present"
        return f"{self.subject}: {state}" + (f" — {self.detail}" if self.detail else "")


def demo_seed(*, stdout: TextIO, admin: bool) -> None:
    started = time.monotonic()

    def say(seeded: Seeded) -> None:
        stdout.write(seeded.line())

    with transaction.atomic():
        tenant, seeded = _tenant()
        say(seeded)
        say(_companies(tenant))
        role, seeded = _role(tenant)
        say(seeded)
        reviewer, seeded = _reviewer(tenant)
        say(seeded)
        if admin:
            say(_admin(tenant))
    made = {
        runs.AWAITING_REVIEW: _awaiting_review(tenant, role),
        runs.SUCCEEDED: _succeeded(tenant, role, reviewer),
        runs.FAILED: _failed(tenant, reviewer),
        runs.SOURCES: _sources(tenant, role),
        runs.DRAFT: _run(tenant, runs.DRAFT)[1],
    }
    done = run_tenant_jobs(tenant_id=tenant.pk, label="seed_demo")
    if done.attempts:
        outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(done.outcomes.items()))
        stdout.write(f"Jobs of the demo tenant run in this process: {done.attempts} ({outcomes})")
    if done.still_running:
        stdout.write(f"Jobs still running in a worker: {done.still_running}")
    for demo_run, created in made.items():
        run = ResearchRun.objects.for_tenant(tenant).get(idempotency_key=demo_run.key)
        say(Seeded(f"Run “{Truncator(run.objective).chars(48)}”", created, describe(run)))
    stdout.write(f"Demo data ready in {time.monotonic() - started:.1f} s.")


# --- the firm --------------------------------------------------------------------------


def _tenant() -> tuple[Tenant, Seeded]:
    tenant = Tenant.objects.filter(slug=TENANT_SLUG).first()
    created = tenant is None
    if tenant is None:
        tenant = ats_services.tenant_create(name=TENANT_NAME, slug=TENANT_SLUG)
    return tenant, Seeded(f"Tenant {tenant.slug} ({tenant.name})", created)


def _existing(tenant: Tenant, company: DemoCompany) -> Company | None:
    companies = Company.objects.for_tenant(tenant)
    if company.domain:
        return companies.filter(domain=company.domain).first()
    key = normalize_company_name(company.name)
    return companies.filter(normalized_name=key, hq_city=company.city, domain="").first()


def _companies(tenant: Tenant) -> Seeded:
    """The firm's own company records, with their trade names."""
    known = cast().known
    made = 0
    aliases_before = CompanyAlias.objects.for_tenant(tenant).count()
    for company in known:
        record = _existing(tenant, company)
        if record is None:
            record = ats_services.company_create(
                tenant=tenant,
                name=company.name,
                domain=company.domain,
                website=f"https://www.{company.domain}/" if company.domain else "",
                hq_country=company.country,
                hq_city=company.city,
                sector=company.sector,
                description=f"{company.short_name} {company.activity}.",
            )
            made += 1
        for alias in company.aliases:
            ats_services.company_alias_add(company=record, alias=alias, alias_type="trade")
    aliases = CompanyAlias.objects.for_tenant(tenant).count() - aliases_before
    total = Company.objects.for_tenant(tenant).count()
    detail = f"the firm's {len(known)} records"
    if made:
        detail += f", {made} new, {plural(aliases, 'alias', 'aliases')} added"
    elif total > len(known):
        detail += f" and {total - len(known)} other companies (from research)"
    return Seeded("Companies", made > 0, detail)


def _role(tenant: Tenant) -> tuple[Role, Seeded]:
    client = _existing(tenant, CLIENT)
    role, created = Role.objects.get_or_create(
        tenant=tenant, title=runs.ROLE_TITLE, defaults={"client_company": client}
    )
    client_name = role.client_company.name if role.client_company else "no client"
    return role, Seeded(f"Role {role.title} (client: {client_name})", created)


def _reviewer(tenant: Tenant) -> tuple[User, Seeded]:
    membership, user_created = ats_services.member_add(
        tenant=tenant, email=REVIEWER_EMAIL, role=MemberRole.REVIEWER
    )
    return membership.user, Seeded(f"Reviewer {REVIEWER_EMAIL}", user_created)


def _admin(tenant: Tenant) -> Seeded:
    user_model = get_user_model()
    user = user_model.objects.filter(username=ADMIN["username"]).first()
    created = user is None
    if user is None:
        user = user_model.objects.create_superuser(**ADMIN)
        note = f"log in as {ADMIN['username']} / {ADMIN['password']}"
    else:
        note = "password unchanged (set it with `manage.py changepassword admin`)"
    Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": MemberRole.ADMIN})
    return Seeded(f"Admin user {ADMIN['username']}", created, note)


# --- the runs --------------------------------------------------------------------------


def _run(
    tenant: Tenant, demo_run: runs.DemoRun, role: Role | None = None
) -> tuple[ResearchRun, bool]:
    data = RunCreate(
        objective=demo_run.objective,
        idempotency_key=demo_run.key,
        role_id=role.pk if role else None,
    )
    return run_create(tenant=tenant, data=data, actor=AGENT)


def _upload(run: ResearchRun, demo_run: runs.DemoRun, proposals: list) -> Bundle:
    payload = research_bundle(
        run_id=str(run.pk), objective=demo_run.objective, topic=demo_run.topic, proposals=proposals
    )
    return bundle_upload(run=run, payload=payload, actor=AGENT).bundle


def _researched(
    tenant: Tenant, demo_run: runs.DemoRun, proposals: list, role: Role | None = None
) -> tuple[ResearchRun, bool]:
    """The run with its research uploaded (True: uploaded now)."""
    run, _ = _run(tenant, demo_run, role)
    if run.status != RunStatus.DRAFT:
        return run, False
    _upload(run, demo_run, proposals)
    run.refresh_from_db()
    return run, True


def _awaiting_review(tenant: Tenant, role: Role) -> bool:
    return _researched(tenant, runs.AWAITING_REVIEW, runs.review_proposals(), role)[1]


def _index_of(bundle: Bundle, company: DemoCompany) -> int:
    proposed = bundle.payload["proposal_json"]["companies"]
    return next(
        i
        for i, c in enumerate(proposed)
        if (c["name"], c.get("domain", "")) == (company.name, company.domain)
    )


def _succeeded(tenant: Tenant, role: Role, reviewer: User) -> bool:
    """Approved with decisions and ingested by the ingest job (run later with the others)."""
    run, created = _researched(tenant, runs.SUCCEEDED, runs.succeeded_proposals(), role)
    if run.status == RunStatus.NEEDS_REVIEW:
        bundle = Bundle.objects.filter(run=run).pending().get()
        proposal, record = runs.SAME_AS
        existing = _existing(tenant, record)
        if existing is None:  # seeded by _companies before any run
            raise RuntimeError(f"The demo's company {record.name} is missing.")
        bundle_approve(
            bundle=bundle,
            actor=Actor.for_user(reviewer),
            note="The client is not a target; Feldmann is our existing record.",
            decisions=[
                CompanyDecisionInput(company=_index_of(bundle, runs.EXCLUDED), action="exclude"),
                CompanyDecisionInput(
                    company=_index_of(bundle, proposal), action="same_as", company_id=existing.pk
                ),
            ],
        )
    return created


def _failed(tenant: Tenant, reviewer: User) -> bool:
    run, created = _researched(tenant, runs.FAILED, runs.failed_proposals())
    if run.status == RunStatus.NEEDS_REVIEW:
        bundle = Bundle.objects.filter(run=run).pending().get()
        # One transaction: the ingest job exists only once the stored bundle reads as the
        # retired format, so no worker can ingest it first.
        with transaction.atomic():
            bundle_approve(bundle=bundle, actor=Actor.for_user(reviewer))
            Bundle.objects.filter(pk=bundle.pk).update(
                payload={**bundle.payload, "version": RETIRED_FORMAT}
            )
    return created


def _sources(tenant: Tenant, role: Role) -> bool:
    """Pasted notes and saved pages, classified by the sources pipeline."""
    run, _ = _run(tenant, runs.SOURCES, role)
    if run.status != RunStatus.DRAFT:
        return False
    news: list[SourceNew] = []
    for document in documents():
        if document.filename:
            upload = UploadedFile(
                body=document.body.encode(),
                filename=document.filename,
                declared_type=document.content_type,
                title=document.title,
            )
            news.append(source_file_parse(upload))
        else:
            data = {"kind": "text", "title": document.title, "content_text": document.body}
            news.extend(source_inputs_parse(data))
    sources_add(run=run, sources=news, actor=ANALYST)
    run_start(run=run, actor=ANALYST)
    return True


# --- what each run shows ---------------------------------------------------------------


def describe(run: ResearchRun) -> str:
    """The run's state in a few words, read from the database."""
    if run.status == RunStatus.NEEDS_REVIEW:
        bundle = Bundle.objects.filter(run=run).pending().first()
        if bundle is None:
            return "awaiting review"
        page = reverse("admin:research_researchrun_review", args=[run.pk])
        return f"awaiting review at {page}: {_review_summary(bundle)}"
    if run.status == RunStatus.FAILED:
        return f"failed: {run.last_error}"
    prospects = Prospect.objects.filter(run=run, status=ProspectStatus.ACTIVE)
    classified = RunSource.objects.filter(run=run).exclude(decision="")
    if classified.exists():
        decisions = classified.aggregate(
            accept=Count("pk", filter=Q(decision="accept")),
            flag=Count("pk", filter=Q(decision="flag")),
            reject=Count("pk", filter=Q(decision="reject")),
        )
        total = sum(decisions.values())
        return (
            f"{run.status.replace('_', ' ')}: {plural(total, 'source')} ({decisions['accept']} "
            f"accepted, {decisions['flag']} flagged, {decisions['reject']} rejected), "
            f"{plural(prospects.count(), 'prospect')} from their mentions"
        )
    if run.status == RunStatus.SUCCEEDED:
        return f"succeeded: {plural(prospects.count(), 'prospect')}"
    return run.status.replace("_", " ")


def _review_summary(bundle: Bundle) -> str:
    matches = bundle_matches(bundle=bundle)
    totals = summarize(matches)
    duplicates = sum(is_probable_duplicate(m) for m in matches)
    new = sum(1 for m in matches if m.kind == MatchKind.NEW and not is_probable_duplicate(m))
    return (
        f"{plural(len(matches), 'company', 'companies')}: {totals['matched_domain']} same "
        f"domain, {totals['matched_name']} same name or alias ({totals['ambiguous']} "
        f"ambiguous), {plural(duplicates, 'probable duplicate')}, {new} new; "
        f"{plural(bundle.counts.get('unverified_evidence', 0), 'unverified evidence passage')}"
    )
