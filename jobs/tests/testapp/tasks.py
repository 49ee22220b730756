"""Django Tasks run through jobs.backend.JobsBackend."""

from django.tasks import TaskContext, task


@task
def add(a: int, b: int) -> int:
    return a + b


@task(takes_context=True)
def which_attempt(context: TaskContext, label: str) -> dict:
    return {"label": label, "attempt": context.attempt}


@task
def explode() -> None:
    raise ValueError("boom")
