"""`manage.py jobs_status`: queue depths, oldest ready job, running jobs, live workers."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from jobs.models import Job
from jobs.selectors import db_now, live_workers, queue_depths, starved_queues

RUNNING_SHOWN = 20


class Command(BaseCommand):
    help = "Show queue depths, the oldest ready job's age, running jobs and live workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="One JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = db_now()
        workers = live_workers(now)
        depths = queue_depths(now, workers)
        running = list(
            Job.objects.running()
            .order_by("started_at")
            .values("id", "job_type", "queue", "attempts", "locked_by", "started_at")[
                :RUNNING_SHOWN
            ]
        )
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "queues": [depth.as_dict() for depth in depths],
                        "starved_queues": starved_queues(depths),
                        "running": running,
                        "live_workers": [worker.as_status() for worker in workers],
                    },
                    default=str,
                    indent=2,
                )
            )
            return
        self._table(
            ["queue", "ready", "scheduled", "running", "failed", "oldest ready", "workers"],
            [
                [
                    d.queue,
                    d.ready,
                    d.scheduled,
                    d.running,
                    d.failed,
                    _age(d.oldest_ready_age),
                    d.live_workers,
                ]
                for d in depths
            ],
            empty="No queued, running or failed jobs.",
        )
        self.stdout.write("")
        self._table(
            ["running job", "type", "queue", "attempt", "worker", "for"],
            [
                [
                    f"#{r['id']}",
                    r["job_type"],
                    r["queue"],
                    r["attempts"],
                    r["locked_by"],
                    _age((now - r["started_at"]).total_seconds() if r["started_at"] else None),
                ]
                for r in running
            ],
            empty="No running jobs.",
        )
        self.stdout.write("")
        self._table(
            ["live worker", "queues", "threads", "busy", "succeeded", "failed", "up"],
            [
                [
                    w.id,
                    w.describe_queues(),
                    w.concurrency,
                    len(w.current_jobs),
                    w.jobs_succeeded,
                    w.jobs_failed,
                    _age((now - w.started_at).total_seconds()),
                ]
                for w in workers
            ],
            empty="No live workers.",
        )
        starved = starved_queues(depths)
        if starved:
            self.stdout.write(
                self.style.ERROR(f"Ready jobs with no live worker: {', '.join(starved)}")
            )

    def _table(self, header: list[str], rows: list[list[Any]], *, empty: str) -> None:
        if not rows:
            self.stdout.write(empty)
            return
        cells = [header, *[[str(cell) for cell in row] for row in rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        for index, row in enumerate(cells):
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write(self.style.MIGRATE_HEADING(line) if index == 0 else line)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
