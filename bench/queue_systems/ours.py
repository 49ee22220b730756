"""Our queue (`jobs`): `enqueue_many` in one transaction, `runworker`."""

from __future__ import annotations

import os
import sys

from .base import System, emit, paced, timed_enqueue

SETTINGS = "bench.queue_app.settings"
JOBS_TABLE_PENDING = "SELECT 1 FROM jobs WHERE status IN ('queued', 'running')"
JOBS_TABLE_RESET = "TRUNCATE jobs, workers"


def system(key: str, label: str, kind: str, options: tuple[str, ...], config: str) -> System:
    return System(
        key=key,
        label=label,
        module=__name__,
        database="ours",
        kind=kind,
        worker_argv=("manage.py", "runworker", *options),
        pending_sql=JOBS_TABLE_PENDING,
        reset_sql=JOBS_TABLE_RESET,
        config=config,
        worker_env={"DJANGO_SETTINGS_MODULE": SETTINGS},
        measures_latency=kind == "noop",
    )


def version() -> str:
    import subprocess

    from .base import BASE_DIR

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True
    ).stdout.strip()
    return f"this repository at {commit or 'unknown'}"


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    import jobs

    command = argv[0]
    if command == "setup":
        call_command("migrate", verbosity=0)
        emit({"ok": True})
    elif command == "enqueue":
        kind = argv[1]

        def enqueue(count: int) -> None:
            with transaction.atomic():
                jobs.enqueue_many(f"bench.{kind}", [{}] * count)

        emit(timed_enqueue(enqueue, int(argv[2])))
    elif command == "latency":
        emit(
            paced(
                lambda seq: jobs.enqueue("bench.stamp", {"seq": seq}), int(argv[1]), float(argv[2])
            )
        )
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
