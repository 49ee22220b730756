"""`JobsBackend`: Django 6's `django.tasks` backend on the job queue.

    TASKS = {"default": {"BACKEND": "jobs.backend.JobsBackend", "QUEUES": []}}

A `@task` function enqueued with `.enqueue()` becomes a job of type `django.task` (a system
job: no tenant) in the task's queue, run by the same `manage.py runworker`. Priorities map
one to one: both use -100..100 with higher running first. A task runs once: an exception
fails it (Django Tasks have no retries), and `get_result()` reports the error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.tasks import TaskContext, TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import Task, TaskError
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils.json import normalize_json
from django.utils.module_loading import import_string

from .conf import DJANGO_TASK_JOB_TYPE

if TYPE_CHECKING:
    from .models import Job

# Job status → task status. This module is imported when TASKS is first used, possibly
# before the app registry is ready, so it imports models only inside functions.
STATUS_MAP = {
    "queued": TaskResultStatus.READY,
    "running": TaskResultStatus.RUNNING,
    "succeeded": TaskResultStatus.SUCCESSFUL,
    "failed": TaskResultStatus.FAILED,
    "cancelled": TaskResultStatus.FAILED,
}


class JobsBackend(BaseTaskBackend):
    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        from . import services

        self.validate_task(task)
        job = services.enqueue(
            DJANGO_TASK_JOB_TYPE,
            {
                "task_path": task.module_path,
                "backend": self.alias,
                "args": normalize_json(args),
                "kwargs": normalize_json(kwargs),
            },
            queue=task.queue_name,
            priority=task.priority,
            run_after=task.run_after,
        )
        result = task_result(job, task=task)
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult:
        from .models import Job

        try:
            job = Job.objects.get(pk=int(result_id), job_type=DJANGO_TASK_JOB_TYPE)
        except (ValueError, TypeError, Job.DoesNotExist) as exc:
            raise TaskResultDoesNotExist(result_id) from exc
        return task_result(job)


def _load_task(job: Job) -> Task:
    """The `@task` the job runs, with the job's queue, priority and run_after."""
    task_path = job.payload["task_path"]
    task = import_string(task_path)
    if not isinstance(task, Task):
        raise TypeError(f"{task_path} is not a Django Task.")
    return task.using(
        priority=job.priority,
        queue_name=job.queue,
        run_after=job.run_after,
        backend=job.payload.get("backend"),
    )


def task_result(job: Job, *, task: Task | None = None) -> TaskResult:
    """The job as Django's `TaskResult` (status, times, errors, return value)."""
    worker_ids = [
        entry.get("worker", "")
        for entry in job.errors
        if entry.get("phase") not in ("on_failure", "on_cancel")
    ]
    if job.status in ("running", "succeeded") and job.locked_by:
        worker_ids.append(job.locked_by)
    result = TaskResult(
        task=task or _load_task(job),
        id=str(job.pk),
        status=STATUS_MAP[job.status],
        enqueued_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        last_attempted_at=job.started_at,
        args=job.payload.get("args", []),
        kwargs=job.payload.get("kwargs", {}),
        backend=job.payload.get("backend", "default"),
        errors=[
            TaskError(exception_class_path=entry["error_class"], traceback=entry["traceback"])
            for entry in job.errors
        ],
        worker_ids=worker_ids,
    )
    object.__setattr__(result, "_return_value", job.result)
    return result


def run_django_task(job: Job, *, task_path: str, backend: str, args: list, kwargs: dict) -> Any:
    """The `django.task` job handler (registered in jobs/handlers.py)."""
    task = _load_task(job)
    result = task_result(job, task=task)
    object.__setattr__(result, "status", TaskResultStatus.RUNNING)
    task_started.send(JobsBackend, task_result=result)
    try:
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
    except Exception:
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        task_finished.send(JobsBackend, task_result=result)
        raise
    value = normalize_json(value)
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    object.__setattr__(result, "_return_value", value)
    task_finished.send(JobsBackend, task_result=result)
    return value
