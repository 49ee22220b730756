"""Shared pieces of management commands."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ats.errors import ServiceError
from ats.models import MemberRole, Tenant


def get_tenant(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is None:
        known = ", ".join(Tenant.objects.values_list("slug", flat=True)[:10]) or "none yet"
        raise CommandError(
            f"No tenant with slug {slug!r} (known: {known}). "
            f"Create it with: manage.py create_tenant NAME --slug {slug}"
        )
    return tenant


class TenantCommand(BaseCommand):
    """A command that acts inside one tenant, chosen with `--tenant SLUG`.

    Subclasses implement `handle_tenant`; service errors become CommandError (exit 1 with
    the message, no traceback).
    """

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, metavar="SLUG", help="Tenant slug.")

    def handle(self, *args: Any, **options: Any) -> Any:
        tenant = get_tenant(options.pop("tenant"))
        try:
            return self.handle_tenant(tenant, **options)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc

    def handle_tenant(self, tenant: Tenant, **options: Any) -> Any:
        raise NotImplementedError


def add_role_argument(parser: CommandParser) -> None:
    parser.add_argument("--role", required=True, choices=MemberRole.values)


DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration(value: str) -> timedelta:
    """An age option: `90s`, `30m`, `12h`, `7d`, `2w`."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", value)
    if not match:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a duration; write a number and a unit, e.g. 90s, 30m, 12h, 7d, 2w."
        )
    return timedelta(**{DURATION_UNITS[match[2]]: int(match[1])})
