"""`manage.py reprocess_sources [--run ID] [--tenant SLUG] [--dry-run]`."""

from __future__ import annotations

import sys
import uuid
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ats.management.base import get_tenant
from research.models import ResearchRun
from research.services.reprocess import (
    UPDATED,
    WOULD_UPDATE,
    source_reprocess,
    sources_for_reprocessing,
)


class Command(BaseCommand):
    help = (
        "Extract and classify sources again from their stored material (never fetching), "
        "after an extractor upgrade. Up-to-date sources are skipped without work, so the "
        "command can be stopped and run again: it goes on where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant's sources.")
        parser.add_argument("--run", metavar="ID", help="Only this run's sources (a run id).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be reprocessed; change nothing.",
        )
        parser.add_argument(
            "--batch-size", type=int, default=200, help="Source ids read per query (default 200)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = get_tenant(options["tenant"]) if options["tenant"] else None
        run = self._run(options["run"], tenant)
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        queryset = sources_for_reprocessing(
            tenant_id=tenant.pk if tenant else None, run=run
        ).order_by("pk")
        total = queryset.count()
        outcomes: Counter[str] = Counter()
        interactive = self.stdout.isatty() if hasattr(self.stdout, "isatty") else False
        with tqdm(
            total=total,
            unit="source",
            desc="Reprocessing",
            disable=not interactive,
            file=sys.stderr,
        ) as bar:
            last_id = 0
            while ids := list(
                queryset.filter(pk__gt=last_id).values_list("pk", flat=True)[
                    : options["batch_size"]
                ]
            ):
                for source_id in ids:
                    outcomes[source_reprocess(source_id=source_id, dry_run=options["dry_run"])] += 1
                    bar.update(1)
                last_id = ids[-1]
                if not interactive:
                    self.stdout.write(f"{sum(outcomes.values())}/{total} sources checked.")
        changed = outcomes[WOULD_UPDATE if options["dry_run"] else UPDATED]
        verb = "would be reprocessed" if options["dry_run"] else "reprocessed"
        self.stdout.write(
            f"{total} source(s) out of date: {changed} {verb}, {outcomes['unchanged']} "
            f"unchanged, {outcomes['skipped']} skipped."
        )

    def _run(self, value: str | None, tenant: Any) -> ResearchRun | None:
        if value is None:
            return None
        try:
            run_id = uuid.UUID(value)
        except ValueError:
            raise CommandError(f"--run takes a run id (a UUID), not {value!r}.") from None
        runs = ResearchRun.objects.filter(pk=run_id)
        if tenant is not None:
            runs = runs.filter(tenant=tenant)
        run = runs.first()
        if run is None:
            raise CommandError(
                f"No run {run_id}" + (f" in tenant {tenant.slug}." if tenant else ".")
            )
        return run
