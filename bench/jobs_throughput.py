#!/usr/bin/env python
"""Job queue benchmark (not a test): W `runworker --burst` processes drain N atomic jobs.

Each job is the tests' `testapp.record` handler: it inserts one row in the job's
transaction. Prints enqueue rate, drain time and jobs per second, and checks that every
job ran exactly once.

Run: `bin/with-test-postgres .venv/bin/python bench/jobs_throughput.py [--jobs N]
[--workers W] [--concurrency C]`. It works in a throwaway database `test_<name>_jobsbench`,
created and dropped here.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ats.settings_test")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("The benchmark runs on PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2

    import jobs
    from jobs.models import Job
    from jobs.tests.testapp.models import Effect
    from jobs.tests.utils import subprocess_env

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict["TEST"]["NAME"] = f"test_{old_name}_jobsbench"
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    print(f"database {test_name}: {args.jobs} jobs, {args.workers} workers x {args.concurrency}")
    try:
        started = time.perf_counter()
        with transaction.atomic():
            for _ in range(args.jobs):
                jobs.enqueue("testapp.record")
        enqueue_seconds = time.perf_counter() - started
        print(f"enqueue: {args.jobs / enqueue_seconds:,.0f} jobs/s (one transaction)")

        env = subprocess_env(LOG_LEVEL="WARNING")
        started = time.perf_counter()
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "runworker",
                    "--burst",
                    "--concurrency",
                    str(args.concurrency),
                ],
                cwd=BASE_DIR,
                env=env,
            )
            for _ in range(args.workers)
        ]
        codes = [worker.wait() for worker in workers]
        drain_seconds = time.perf_counter() - started
        succeeded = Job.objects.filter(status="succeeded").count()
        duplicates = Effect.objects.values("job_id").annotate(n=Count("id")).filter(n__gt=1).count()
        print(
            f"drain: {drain_seconds:.1f}s including worker start-up, "
            f"{args.jobs / drain_seconds:,.0f} jobs/s; exit codes {codes}; "
            f"{succeeded} succeeded, {Effect.objects.count()} effects, "
            f"{duplicates} duplicated"
        )
        return 0 if succeeded == args.jobs and not duplicates else 1
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    sys.exit(main())
