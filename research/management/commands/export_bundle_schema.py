"""``manage.py export_bundle_schema``: print the JSON Schema of the bundle format (SPEC §3)."""

import json
from typing import Any

from django.core.management.base import BaseCommand

from research.schemas import BUNDLE_JSON_SCHEMA


class Command(BaseCommand):
    help = "Print the JSON Schema (draft 2020-12) of the research bundle format run_bundle_v1."
    # Printing a constant needs neither the database nor the URL configuration.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        # Written to stdout, not logged: the output is the product (... > schema.json).
        self.stdout.write(json.dumps(BUNDLE_JSON_SCHEMA, indent=2, ensure_ascii=False))
