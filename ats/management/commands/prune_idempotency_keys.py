"""`manage.py prune_idempotency_keys [--older-than 24h]`: delete expired Idempotency-Key
records (SPEC §9), in batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import models
from django.utils import timezone

from ats.api.idempotency import KEY_LIFETIME
from ats.management.backfill import BackfillCommand, BackfillRun
from ats.management.base import duration
from ats.models import IdempotencyRecord, Tenant

MSG_TOO_YOUNG = (
    "--older-than must be at least {hours}h: for that long a repeated request must get its "
    "first answer again."
)


class Command(BackfillCommand):
    help = (
        "Delete Idempotency-Key records older than --older-than (default: their 24-hour "
        "lifetime), in batches. Requests repeated within the lifetime are still answered from "
        "their record."
    )

    def add_backfill_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=duration,
            default=KEY_LIFETIME,
            metavar="AGE",
            help="Delete records created longer ago than this (e.g. 24h, 7d; at least 24h).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        age: timedelta = options["older_than"]
        if age < KEY_LIFETIME:
            raise CommandError(MSG_TOO_YOUNG.format(hours=KEY_LIFETIME // timedelta(hours=1)))
        self.cutoff = timezone.now() - age
        super().handle(*args, **options)

    def get_queryset(self, tenant: Tenant | None) -> models.QuerySet:
        records = (
            IdempotencyRecord.objects.for_tenant(tenant) if tenant else IdempotencyRecord.objects
        )
        return records.filter(created_at__lt=self.cutoff).only("pk")

    def process_batch(self, rows: list[IdempotencyRecord], run: BackfillRun) -> None:
        deleted = len(rows)
        if not run.dry_run:
            deleted, _ = IdempotencyRecord.objects.filter(pk__in=[row.pk for row in rows]).delete()
        run.count("expired idempotency keys deleted", deleted)
