"""`manage.py seed_demo`: idempotent demo data (a tenant, companies, a role and research runs);
run it as often as you like, it creates only what is missing."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from ats import services
from ats.models import AliasType, Company, MemberRole, Membership, Role, Tenant
from ats.normalize import normalize_company_name
from research.demo import seed_demo_runs

DEMO_TENANT = {"name": "Demo Search Partners", "slug": "demo"}
DEMO_COMPANIES = [
    {
        "name": "Northwind Robotics GmbH",
        "domain": "northwind-robotics.de",
        "hq_country": "DE",
        "hq_city": "Munich",
        "sector": "Industrial automation",
        "aliases": [("Northwind", AliasType.TRADE)],
    },
    {
        "name": "Bluefin Payments Ltd",
        "domain": "bluefinpay.co.uk",
        "hq_country": "GB",
        "hq_city": "London",
        "sector": "Fintech",
        "aliases": [("Bluefin", AliasType.TRADE)],
    },
    {
        "name": "Helios Grid Systems Inc.",
        "domain": "heliosgrid.com",
        "hq_country": "US",
        "hq_city": "Austin",
        "sector": "Energy storage",
        "aliases": [],
    },
    {
        "name": "Société Lumière S.A.",
        "domain": "lumiere.fr",
        "hq_country": "FR",
        "hq_city": "Lyon",
        "sector": "Photonics",
        "aliases": [("Lumiere", AliasType.LOCAL)],
    },
]
DEMO_ROLE = "Chief Technology Officer"
DEMO_ADMIN = {"username": "admin", "email": "admin@example.com", "password": "admin"}


class Command(BaseCommand):
    help = "Create the demo tenant, companies and role (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin",
            action="store_true",
            help="Also create a superuser admin/admin (local use only) and print how to log in.",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        tenant, created = Tenant.objects.get_or_create(
            slug=DEMO_TENANT["slug"], defaults={"name": DEMO_TENANT["name"]}
        )
        self.stdout.write(f"Tenant {tenant.slug}: {'created' if created else 'exists'}")
        made = 0
        for demo_company in DEMO_COMPANIES:
            fields = {k: v for k, v in demo_company.items() if k != "aliases"}
            aliases = demo_company["aliases"]
            company = Company.objects.for_tenant(tenant).filter(domain=fields["domain"]).first()
            if company is None:
                company = services.company_create(tenant=tenant, **fields)
                made += 1
            for alias, alias_type in aliases:
                services.company_alias_add(company=company, alias=alias, alias_type=alias_type)
        self.stdout.write(f"Companies: {made} created, {len(DEMO_COMPANIES) - made} existed")
        client = Company.objects.for_tenant(tenant).get(
            normalized_name=normalize_company_name(DEMO_COMPANIES[0]["name"])
        )
        Role.objects.get_or_create(
            tenant=tenant, title=DEMO_ROLE, defaults={"client_company": client}
        )
        if options["admin"]:
            self._ensure_admin(tenant)
        seed_demo_runs(tenant=tenant, stdout=self.stdout)

    def _ensure_admin(self, tenant: Tenant) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(username=DEMO_ADMIN["username"]).first()
        if user is None:
            user = user_model.objects.create_superuser(**DEMO_ADMIN)
            password_note = f"password {DEMO_ADMIN['password']}"
        else:
            password_note = "password unchanged (set with `manage.py changepassword admin`)"
        Membership.objects.get_or_create(
            tenant=tenant, user=user, defaults={"role": MemberRole.ADMIN}
        )
        self.stdout.write(
            self.style.SUCCESS(f"Admin user: {DEMO_ADMIN['username']}, {password_note}")
        )
