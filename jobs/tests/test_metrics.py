"""The queue's metrics: the scrape-time collector and the attempt/enqueue instruments."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from prometheus_client import REGISTRY

import jobs
from ats.tests.prometheus import scrape, value
from jobs import metrics
from jobs.conf import queue_settings
from jobs.models import FINISHED_STATUSES, Job, WorkerProcess
from jobs.selectors import db_now
from jobs.services import attempts
from jobs.signals import AttemptRecord
from jobs.tests.utils import age_jobs

HOUR = timedelta(hours=1)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_queue_depths_ages_and_workers(client, tenant_a, metrics_token) -> None:
    # The collector reads the queue on the database's clock (a host whose clock is off must
    # not see other ages): time passes by moving the jobs' timestamps back.
    jobs.enqueue("testapp.hold", tenant=tenant_a, queue="reports")
    jobs.enqueue("testapp.hold", tenant=tenant_a, queue="reports")
    jobs.enqueue("testapp.hold", tenant=tenant_a, queue="reports", run_after=db_now() + HOUR)
    age_jobs(90)
    now = db_now()
    WorkerProcess.objects.create(
        id="w1", host="h", pid=1, queues=["mail"], last_seen_at=now, last_loop_at=now
    )
    WorkerProcess.objects.create(id="w2", host="h", pid=2, last_seen_at=now, last_loop_at=now)
    # This host's clock ten minutes ahead changes nothing.
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=False):
        samples = scrape(client)
    assert value(samples, "ats_queue_ready_jobs", queue="reports") == 2
    assert value(samples, "ats_queue_scheduled_jobs", queue="reports") == 1
    assert value(samples, "ats_queue_running_jobs", queue="reports") == 0
    assert 90 <= value(samples, "ats_queue_oldest_ready_age_seconds", queue="reports") < 120
    assert value(samples, "ats_queue_live_workers", queue="reports") == 1  # w2 serves all
    # A queue a live worker names shows up at zero instead of being absent.
    assert ("ats_queue_ready_jobs", frozenset({("queue", "mail")})) in samples
    assert value(samples, "ats_queue_live_workers", queue="mail") == 2
    assert value(samples, "ats_workers_live") == 2
    assert value(samples, "ats_metrics_collector_success", collector="jobs") == 1


def test_observe_attempt_counts_outcomes_and_times() -> None:
    labels = {"job_type": "testapp.metrics", "queue": "q-observe"}
    before_count = sample("ats_job_duration_seconds_count", **labels)
    before_wait = sample("ats_job_queue_wait_seconds_bucket", **labels, le="1.0")
    metrics.observe_attempt(**labels, outcome=metrics.SUCCEEDED, duration_s=0.2, wait_s=0.5)
    metrics.observe_attempt(**labels, outcome=metrics.RETRIED, duration_s=3.0, wait_s=None)
    metrics.observe_attempt(**labels, outcome=metrics.SUCCEEDED, duration_s=-0.001, wait_s=7200)
    assert sample("ats_job_attempts_total", **labels, outcome="succeeded") == 2
    assert sample("ats_job_attempts_total", **labels, outcome="retried") == 1
    assert sample("ats_job_duration_seconds_count", **labels) == before_count + 3
    assert sample("ats_job_duration_seconds_sum", **labels) == pytest.approx(3.2)
    assert sample("ats_job_duration_seconds_bucket", **labels, le="0.25") == 2
    assert sample("ats_job_queue_wait_seconds_count", **labels) == 2
    assert sample("ats_job_queue_wait_seconds_bucket", **labels, le="1.0") == before_wait + 1


def test_observe_attempt_refuses_an_unknown_outcome() -> None:
    with pytest.raises(ValueError, match="retrying"):
        metrics.observe_attempt(job_type="t", queue="q", outcome="retrying", duration_s=1, wait_s=1)


def test_count_enqueued_counts_committed_jobs_only(db, django_capture_on_commit_callbacks) -> None:
    labels = {"job_type": "testapp.metrics", "queue": "q-enqueue"}
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                metrics.count_enqueued(**labels, n=5)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        metrics.count_enqueued(**labels, n=3)
        metrics.count_enqueued(**labels)
    assert sample("ats_jobs_enqueued_total", **labels) == 4


def test_job_metrics_are_exposed(client, metrics_token, db) -> None:
    metrics.observe_attempt(
        job_type="testapp.exposed",
        queue="q-exposed",
        outcome=metrics.FAILED,
        duration_s=1,
        wait_s=1,
    )
    samples = scrape(client)
    labels = {"job_type": "testapp.exposed", "queue": "q-exposed"}
    assert value(samples, "ats_job_attempts_total", **labels, outcome="failed") == 1
    assert value(samples, "ats_job_duration_seconds_count", **labels) == 1


# --- where the queue counts -------------------------------------------------------------


def counts(job_type: str, queue: str) -> dict[str, float]:
    """The attempt metrics of one job type and queue, as a flat dict."""
    labels = {"job_type": job_type, "queue": queue}
    return {
        "enqueued": sample("ats_jobs_enqueued_total", **labels),
        **{
            outcome: sample("ats_job_attempts_total", **labels, outcome=outcome)
            for outcome in sorted(metrics.OUTCOMES)
        },
        "durations": sample("ats_job_duration_seconds_count", **labels),
        "waits": sample("ats_job_queue_wait_seconds_count", **labels),
    }


def changed(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before[key] for key in after if after[key] != before[key]}


def test_enqueue_counts_new_jobs_once_their_transaction_commits(
    db, django_capture_on_commit_callbacks
) -> None:
    before = counts("testapp.hold", "q-enqueued")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        jobs.enqueue_many("testapp.hold", [{}] * 5, queue="q-enqueued")
    # One count per call, not one per job (beside notify's marker).
    assert sum(isinstance(callback, partial) for callback in callbacks) == 1
    with django_capture_on_commit_callbacks(execute=True):
        first = jobs.enqueue("testapp.hold", queue="q-enqueued", unique_key="k")
        again = jobs.enqueue("testapp.hold", queue="q-enqueued", unique_key="k")
        assert again.pk == first.pk  # the same job: not counted twice
        try:
            with transaction.atomic():
                jobs.enqueue("testapp.hold", queue="q-enqueued")
                jobs.enqueue_many("testapp.hold", [{}] * 3, queue="q-enqueued")
                raise RuntimeError("rolled back: no job was created")
        except RuntimeError:
            pass
    assert changed(before, counts("testapp.hold", "q-enqueued")) == {"enqueued": 6}


def test_every_outcome_of_the_worker_has_its_metric() -> None:
    worker_outcomes = {*FINISHED_STATUSES, attempts.RETRYING, attempts.LOST}
    assert set(metrics.WORKER_OUTCOMES) == worker_outcomes
    assert {name for name in metrics.WORKER_OUTCOMES.values() if name} <= metrics.OUTCOMES
    assert metrics.WORKER_OUTCOMES["retrying"] == metrics.RETRIED


def test_an_unknown_worker_outcome_is_logged_not_raised(caplog) -> None:
    record = AttemptRecord(
        job_id=7, job_type="t", queue="q", tenant_id=None, attempt=1, outcome="vanished",
        duration=0.1, wait=0.1, worker_id="w",
    )  # fmt: skip
    metrics.record_attempts(None, records=[record])
    assert "no metric for the worker's outcome 'vanished'" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_workers_attempts_are_counted_by_outcome_with_durations_and_waits() -> None:
    kinds = ("testapp.flaky", "testapp.permanent", "testapp.record")
    before = {kind: counts(kind, "q-worker") for kind in kinds}
    jobs.enqueue("testapp.flaky", {"fail_times": 1}, queue="q-worker")
    jobs.enqueue("testapp.permanent", queue="q-worker")
    jobs.enqueue("testapp.record", queue="q-worker")
    call_command("runworker", "--burst", "--queue", "q-worker")
    age_jobs(3600)  # the retry's backoff is over on the database's clock
    call_command("runworker", "--burst", "--queue", "q-worker")
    assert {kind: changed(before[kind], counts(kind, "q-worker")) for kind in kinds} == {
        "testapp.flaky": {
            "enqueued": 1,
            "retried": 1,
            "succeeded": 1,
            "durations": 2,
            "waits": 2,
        },
        "testapp.permanent": {"enqueued": 1, "failed": 1, "durations": 1, "waits": 1},
        "testapp.record": {"enqueued": 1, "succeeded": 1, "durations": 1, "waits": 1},
    }


def test_a_queued_job_cancelled_counts_once_the_cancel_commits(
    db, django_capture_on_commit_callbacks
) -> None:
    kept = jobs.enqueue("testapp.hold", queue="q-cancel")
    rolled_back = jobs.enqueue("testapp.hold", queue="q-cancel")
    before = counts("testapp.hold", "q-cancel")
    with django_capture_on_commit_callbacks(execute=True):
        jobs.cancel(kept)
        try:
            with transaction.atomic():
                jobs.cancel(rolled_back)
                raise RuntimeError("the cancel is rolled back")
        except RuntimeError:
            pass
    # No attempt ran: no duration, no wait.
    assert changed(before, counts("testapp.hold", "q-cancel")) == {"cancelled": 1}
    assert Job.objects.get(pk=rolled_back.pk).status == "queued"


def test_expired_leases_and_releases_are_counted_where_they_happen(
    db, django_capture_on_commit_callbacks
) -> None:
    jobs.enqueue("testapp.hold", queue="q-reclaim")  # queued again: lost
    jobs.enqueue("testapp.hold", queue="q-reclaim", max_attempts=1)  # its last attempt: failed
    jobs.enqueue("testapp.hold", queue="q-reclaim")  # given back by a stopping worker
    before = counts("testapp.hold", "q-reclaim")
    claimed = attempts.claim_batch(worker_id="dead", queues=["q-reclaim"], limit=3)
    with django_capture_on_commit_callbacks(execute=True):
        attempts.release(job=claimed[2])
    age_jobs(queue_settings().lease_timeout + 60)
    with django_capture_on_commit_callbacks(execute=True):
        assert attempts.reclaim_expired() == 2
    assert changed(before, counts("testapp.hold", "q-reclaim")) == {
        "lost": 1,
        "failed": 1,
        "released": 1,
        "waits": 2,  # how long the reclaimed jobs ran is unknown; their wait is not
    }
