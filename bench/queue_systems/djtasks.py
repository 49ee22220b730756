"""django-tasks' database backend (the `django-tasks-db` package, where django-tasks moved
its DatabaseBackend), on Django's own `django.tasks`: `db_worker` with its defaults.
It has no bulk enqueue: `Task.enqueue()` per job, in one transaction."""

from __future__ import annotations

import os
import sys

from .base import System, emit, paced, timed_enqueue, version_of

SETTINGS = "bench.queue_systems.djtasks_settings"


def system() -> System:
    return System(
        key="django-tasks-db",
        label="django-tasks DatabaseBackend",
        module=__name__,
        database="djtasks",
        kind="noop",
        worker_argv=("manage.py", "db_worker"),
        pending_sql=(
            "SELECT 1 FROM django_tasks_database_dbtaskresult WHERE status IN ('READY', 'RUNNING')"
        ),
        reset_sql="TRUNCATE django_tasks_database_dbtaskresult",
        config=(
            f"django-tasks-db {version_of('django-tasks-db')} on Django "
            f"{version_of('django')}: `manage.py db_worker` defaults (one task at a time, "
            "polls every 1 s, no LISTEN/NOTIFY); enqueue() per job (no bulk API) in one "
            "transaction"
        ),
        worker_env={"DJANGO_SETTINGS_MODULE": SETTINGS},
    )


def version() -> str:
    return f"django-tasks-db {version_of('django-tasks-db')}"


def main(argv: list[str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from .djtasks_tasks import noop, stamp_start

    command = argv[0]
    if command == "setup":
        call_command("migrate", verbosity=0)
        emit({"ok": True})
    elif command == "enqueue":

        def enqueue(count: int) -> None:
            with transaction.atomic():
                for _ in range(count):
                    noop.enqueue()

        emit(timed_enqueue(enqueue, int(argv[2])))
    elif command == "latency":
        emit(paced(lambda seq: stamp_start.enqueue(seq=seq), int(argv[1]), float(argv[2])))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
