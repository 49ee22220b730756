"""`manage.py prune_jobs --older-than 7d [--include-failed]`: delete finished jobs, and forget
workers not seen since the cutoff, with the backfill conventions (`ats.management.backfill`:
`--dry-run`, `--tenant`, batches, a checkpoint to resume from, progress, a summary)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.management.base import CommandParser
from django.db import models
from django.utils import timezone

from ats.management.backfill import BackfillCommand, BackfillRun, Pass
from ats.management.base import duration
from ats.models import Tenant
from jobs.models import Job, WorkerProcess
from jobs.services import delete_finished_jobs, forget_workers, prunable_jobs


class Command(BackfillCommand):
    help = (
        "Delete succeeded and cancelled jobs (and failed ones with --include-failed) that "
        "finished longer ago than --older-than, in batches; never a queued or running job. "
        "Without --tenant, also system jobs and the rows of workers not seen since then."
    )

    scope_options = ("older_than", "include_failed")

    def add_backfill_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=duration,
            required=True,
            metavar="AGE",
            help="Delete jobs that finished longer ago than this (e.g. 7d, 12h, 2w).",
        )
        parser.add_argument(
            "--include-failed",
            action="store_true",
            help="Delete failed jobs too (kept by default: their errors explain what went wrong).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.cutoff: datetime = timezone.now() - options["older_than"]
        self.include_failed: bool = options["include_failed"]
        super().handle(*args, **options)

    def passes(self, **options: Any) -> Sequence[Pass]:
        return [
            Pass("jobs", self.finished_jobs, self.delete_jobs),
            Pass("workers", self.stale_workers, self.forget_workers),
        ]

    def finished_jobs(self, tenant: Tenant | None) -> models.QuerySet:
        return prunable_jobs(
            cutoff=self.cutoff, include_failed=self.include_failed, tenant=tenant
        ).only("pk")

    def delete_jobs(self, rows: list[Job], run: BackfillRun) -> None:
        deleted = len(rows)
        if not run.dry_run:
            deleted = delete_finished_jobs(
                ids=[row.pk for row in rows], cutoff=self.cutoff, include_failed=self.include_failed
            )
        run.count("finished jobs deleted", deleted)

    def stale_workers(self, tenant: Tenant | None) -> models.QuerySet:
        # Workers belong to no tenant: a tenant's prune leaves them alone.
        workers = WorkerProcess.objects.filter(last_seen_at__lt=self.cutoff)
        return workers.none() if tenant is not None else workers.only("pk")

    def forget_workers(self, rows: list[WorkerProcess], run: BackfillRun) -> None:
        forgotten = len(rows)
        if not run.dry_run:
            forgotten = forget_workers(cutoff=self.cutoff, ids=[row.pk for row in rows])
        run.count("workers forgotten", forgotten)
