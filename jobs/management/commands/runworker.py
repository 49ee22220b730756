"""`manage.py runworker`: run jobs (SPEC §3). The work is done by `jobs.worker.Worker`."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs.errors import WorkerStartupError
from jobs.worker import Worker


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def positive_float(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError(value)
    return number


def non_negative_float(value: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Run jobs from the queue until stopped. SIGTERM/SIGINT stops gracefully (running "
        "jobs get the grace period, then go back to the queue); a second signal exits at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            metavar="Q",
            help="Take jobs from this queue (repeatable). Default: every queue.",
        )
        parser.add_argument(
            "--concurrency",
            type=positive_int,
            metavar="N",
            help="Jobs run at once, each in its own thread with its own database connection "
            "(default 8 on PostgreSQL, 1 on SQLite).",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--burst", action="store_true", help="Exit (0) as soon as no job is ready."
        )
        mode.add_argument(
            "--once", action="store_true", help="Process at most one claimed batch, then exit."
        )
        parser.add_argument(
            "--max-jobs",
            type=positive_int,
            metavar="N",
            help="Exit after this many jobs.",
        )
        parser.add_argument(
            "--poll-interval",
            type=positive_float,
            metavar="S",
            help="Seconds between polls when idle (default JOBS_POLL_INTERVAL); on "
            "PostgreSQL a NOTIFY wakes the worker sooner.",
        )
        parser.add_argument(
            "--worker-id", metavar="ID", help="Name of this worker (default host:pid:random)."
        )
        parser.add_argument(
            "--grace-period",
            type=non_negative_float,
            metavar="S",
            help="Seconds running jobs get to finish after SIGTERM (default JOBS_SHUTDOWN_GRACE).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker = Worker(
            queues=options["queues"],
            concurrency=options["concurrency"],
            burst=options["burst"],
            once=options["once"],
            max_jobs=options["max_jobs"],
            poll_interval=options["poll_interval"],
            worker_id=options["worker_id"],
            grace_period=options["grace_period"],
        )
        try:
            code = worker.run()
        except WorkerStartupError as exc:
            raise CommandError(str(exc)) from exc
        if worker.abandoned_threads:
            if not self._owns_the_process:
                # Called in-process (call_command: tests, other commands): ending the whole
                # process would look like a clean exit of whatever called us.
                raise CommandError(
                    f"{worker.abandoned_threads} job thread(s) still inside a handler after "
                    "the worker stopped; their jobs were released."
                )
            # A handler that ignored the stop is still running in a thread, perhaps inside
            # a C call (a query). Finalizing the interpreter under it would abort the process
            # ("FATAL: exception not rethrown"); its job was already released, so end here.
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    _owns_the_process = False

    def run_from_argv(self, argv: list[str]) -> None:
        # `manage.py runworker`: this command is the process, and may end it.
        self._owns_the_process = True
        super().run_from_argv(argv)
