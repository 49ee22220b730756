from typing import Any

from django.core.management.base import CommandParser

from ats import services
from ats.management.base import TenantCommand, add_role_argument
from ats.models import Tenant


class Command(TenantCommand):
    help = "Give a user (created if new, by email) a role in a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--user", required=True, metavar="EMAIL")
        add_role_argument(parser)

    def handle_tenant(self, tenant: Tenant, **options: Any) -> None:
        membership, created = services.member_add(
            tenant=tenant, email=options["user"], role=options["role"]
        )
        user = membership.user
        self.stdout.write(
            self.style.SUCCESS(f"{user.email} is now {membership.role} in {tenant.slug}.")
        )
        if created:
            self.stdout.write(
                f"The user is new and has no password yet: set one with "
                f"`manage.py changepassword {user.get_username()}`."
            )
