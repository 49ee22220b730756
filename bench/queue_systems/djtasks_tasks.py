"""The django-tasks-db benchmark's tasks."""

from django.tasks import task

from .stamps import stamp


@task
def noop() -> None:
    pass


@task
def stamp_start(seq: int) -> None:
    stamp(seq)
