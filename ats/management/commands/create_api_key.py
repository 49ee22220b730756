from typing import Any

from django.core.management.base import CommandParser

from ats import services
from ats.management.base import TenantCommand, add_role_argument
from ats.models import Tenant


class Command(TenantCommand):
    help = (
        "Create an API key for a tenant. The key is printed once, alone on the last line, "
        "so scripts can capture it: KEY=$(manage.py create_api_key ... | tail -n 1)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        add_role_argument(parser)
        parser.add_argument("--name", default="", help="What the key is for.")

    def handle_tenant(self, tenant: Tenant, **options: Any) -> None:
        api_key, raw_key = services.api_key_create(
            tenant=tenant, role=options["role"], name=options["name"]
        )
        self.stderr.write(
            f"Created {options['role']} API key {api_key.prefix} for tenant {tenant.slug}. "
            "Store it now; it cannot be shown again."
        )
        self.stdout.write(raw_key)
