"""`manage.py seed_demo`: a demo tenant that shows the whole product (`research.demo`).
Idempotent: run it as often as you like; it makes only what is missing and says so."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from research.demo import demo_seed


class Command(BaseCommand):
    help = (
        "Create the demo tenant: companies, a role, a reviewer, and research runs awaiting "
        "review, succeeded, failed and with classified sources (idempotent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--admin",
            action="store_true",
            help="Also create a superuser admin/admin (local use only) and print how to log in.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        demo_seed(stdout=self.stdout, admin=options["admin"])
