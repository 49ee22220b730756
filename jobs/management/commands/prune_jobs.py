"""`manage.py prune_jobs --older-than 7d [--include-failed]`: delete finished jobs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jobs import services

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration(value: str) -> timedelta:
    """`90s`, `30m`, `12h`, `7d`, `2w`."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", value)
    if not match:
        raise ValueError(value)
    return timedelta(**{UNITS[match[2]]: int(match[1])})


duration.__name__ = "duration (e.g. 7d, 12h, 30m)"


class Command(BaseCommand):
    help = (
        "Delete succeeded and cancelled jobs (and failed ones with --include-failed) that "
        "finished longer ago than --older-than, in batches. Never touches queued or running "
        "jobs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=duration, required=True, metavar="AGE")
        parser.add_argument("--include-failed", action="store_true")
        parser.add_argument("--batch-size", type=int, default=1_000)

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for deleted in services.prune(
            older_than=options["older_than"],
            include_failed=options["include_failed"],
            batch_size=options["batch_size"],
        ):
            total += deleted
            self.stdout.write(f"deleted {deleted} (total {total})")
        self.stdout.write(self.style.SUCCESS(f"Pruned {total} finished job(s)."))
