from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from ats import services
from ats.errors import ServiceError


class Command(BaseCommand):
    help = "Create a tenant (a search firm)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Display name, e.g. 'Northwind Search'.")
        parser.add_argument("--slug", help="URL-safe identifier; default: from the name.")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["slug"] or slugify(options["name"])
        if not slug:
            raise CommandError("Give the tenant a slug with --slug (letters, digits, hyphens).")
        try:
            tenant = services.tenant_create(name=options["name"], slug=slug)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.name!r} (slug {slug})."))
