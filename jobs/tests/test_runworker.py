"""`runworker` modes in-process and as processes on SQLite too (`make test` runs these on
both databases)."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

import jobs
from jobs.models import Job, WorkerProcess
from jobs.pool import JobThreads
from jobs.tests.testapp.models import Effect
from jobs.worker import Worker

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db(transaction=True)]


def enqueue_records(count: int) -> list[int]:
    with transaction.atomic():
        return [jobs.enqueue("testapp.record").pk for _ in range(count)]


def assert_each_ran_once(ids: list[int]) -> None:
    assert set(Job.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"succeeded"}
    per_job = Effect.objects.values("job_id").annotate(n=Count("id"))
    assert {row["job_id"] for row in per_job} == set(ids)
    assert {row["n"] for row in per_job} == {1}


def test_burst_drains_the_queue_and_exits(settings) -> None:
    ids = enqueue_records(12)
    call_command("runworker", "--burst", "--concurrency", "3")
    assert_each_ran_once(ids)
    worker = WorkerProcess.objects.get()
    assert (worker.jobs_succeeded, worker.concurrency) == (12, 3)
    assert worker.stopped_at is not None


def test_once_processes_one_batch(settings) -> None:
    enqueue_records(5)
    call_command("runworker", "--once", "--concurrency", "2")
    assert Job.objects.filter(status="succeeded").count() == 2
    assert Job.objects.filter(status="queued").count() == 3


def test_the_first_claim_waits_for_every_thread_to_connect(monkeypatch) -> None:
    # Force the interleaving that a loaded machine produces now and then: one job thread
    # connects well after the other. The first (and, with --once, only) claim must still be
    # sized for both.
    connect = JobThreads._connect
    first = threading.Event()

    def connect_one_late(self: JobThreads) -> bool:
        if first.is_set():
            time.sleep(0.3)
        first.set()
        return connect(self)

    monkeypatch.setattr(JobThreads, "_connect", connect_one_late)
    enqueue_records(5)
    call_command("runworker", "--once", "--concurrency", "2")
    assert Job.objects.filter(status="succeeded").count() == 2


def test_abandoned_threads_in_process_raise_instead_of_ending_the_process(monkeypatch) -> None:
    # `manage.py runworker` ends its process with os._exit when a handler ignored the stop;
    # called in-process (a test's drain, another command) that would end the caller with
    # exit code 0, as if all were well.
    def run_and_leave_a_thread(self: Worker) -> int:
        self.abandoned_threads = 1
        return 0

    monkeypatch.setattr(Worker, "run", run_and_leave_a_thread)
    with pytest.raises(CommandError, match="1 job thread\\(s\\) still inside a handler"):
        call_command("runworker", "--burst")


def test_max_jobs_stops_after_that_many(settings) -> None:
    enqueue_records(5)
    call_command("runworker", "--max-jobs", "3", "--concurrency", "2")
    assert Job.objects.filter(status="succeeded").count() == 3


def test_queue_option_limits_the_queues(settings) -> None:
    default = jobs.enqueue("testapp.hold")
    other = jobs.enqueue("testapp.hold", queue="other")
    call_command("runworker", "--burst", "--queue", "other")
    assert Job.objects.get(pk=other.pk).status == "succeeded"
    assert Job.objects.get(pk=default.pk).status == "queued"
    assert WorkerProcess.objects.get().queues == ["other"]


def test_burst_with_nothing_ready_exits_at_once() -> None:
    call_command("runworker", "--burst")
    assert WorkerProcess.objects.get().jobs_succeeded == 0


def test_a_worker_id_in_use_by_a_live_worker_is_refused() -> None:
    now = timezone.now()
    WorkerProcess.objects.create(
        id="busy", host="other-host", pid=7, last_seen_at=now, last_loop_at=now
    )
    with pytest.raises(CommandError, match="'busy' is in use by a live worker"):
        call_command("runworker", "--burst", "--worker-id", "busy")
    WorkerProcess.objects.filter(pk="busy").update(stopped_at=now)  # a stopped one is reused
    call_command("runworker", "--burst", "--worker-id", "busy")
    assert WorkerProcess.objects.get(pk="busy").pid != 7


def test_burst_and_once_exclude_each_other() -> None:
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("runworker", "--burst", "--once")


@pytest.mark.parametrize("workers", [1, 2], ids=["one-worker", "two-workers"])
def test_worker_processes_run_every_job_exactly_once(start_worker, workers: int) -> None:
    ids = enqueue_records(150)
    runs = [start_worker("--burst", "--concurrency", "2") for _ in range(workers)]
    for run in runs:
        assert run.wait(timeout=90) == 0, run.output()
    assert_each_ran_once(ids)
    # One log line per job, from whichever worker ran it (a worker that starts a little
    # later may find the queue drained by the other).
    output = "".join(run.output() for run in runs)
    assert output.count("Job testapp.record #") == len(ids)


def test_django_tasks_run_on_runworker_and_their_results_are_readable(start_worker) -> None:
    from django.tasks import TaskResultStatus

    from jobs.tests.testapp.tasks import add, explode, which_attempt

    ok = add.enqueue(2, 3)
    with_context = which_attempt.using(priority=10).enqueue("x")
    failing = explode.enqueue()
    run = start_worker("--burst")
    assert run.wait(timeout=60) == 0, run.output()

    ok.refresh()
    assert (ok.status, ok.return_value, ok.attempts) == (TaskResultStatus.SUCCESSFUL, 5, 1)
    assert ok.finished_at is not None
    assert add.get_result(ok.id).return_value == 5
    with_context.refresh()
    assert with_context.return_value == {"label": "x", "attempt": 1}
    failing.refresh()
    assert failing.status == TaskResultStatus.FAILED
    assert failing.errors[0].exception_class is ValueError
    assert "boom" in failing.errors[0].traceback
    with pytest.raises(ValueError, match="Task failed"):
        _ = failing.return_value


def test_jobs_failed_counts_failures_not_retries(settings) -> None:
    settings.JOBS_RETRY_BASE = 0.001
    jobs.enqueue("testapp.flaky", {"fail_times": 1})  # fails once, then succeeds
    jobs.enqueue("testapp.permanent")  # fails for good
    call_command("runworker", "--burst", "--concurrency", "1")
    worker = WorkerProcess.objects.get()
    assert (worker.jobs_succeeded, worker.jobs_failed) == (1, 1)


def test_an_unexpected_error_in_the_loop_still_releases_claimed_jobs(monkeypatch, tmp_path) -> None:
    job = jobs.enqueue("testapp.hold", {"until": str(tmp_path / "never")})
    original = Worker._claim_size

    def broken(self: Worker) -> int:
        if Job.objects.filter(pk=job.pk, status="running").exists():
            raise RuntimeError("the loop broke")
        return original(self)

    monkeypatch.setattr(Worker, "_claim_size", broken)
    with pytest.raises(RuntimeError, match="the loop broke"):
        Worker(concurrency=1, grace_period=0, poll_interval=0.05).run()
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("queued", 0)
    assert WorkerProcess.objects.get().stopped_at is not None
