"""The queue's metrics: the scrape-time collector and the attempt/enqueue instruments."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from prometheus_client import REGISTRY

import jobs
from ats.tests.prometheus import scrape, value
from jobs import metrics
from jobs.models import WorkerProcess


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_queue_depths_ages_and_workers(client, tenant_a, metrics_token) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        jobs.enqueue("testapp.hold", tenant=tenant_a, queue="reports")
        jobs.enqueue("testapp.hold", tenant=tenant_a, queue="reports")
        jobs.enqueue(
            "testapp.hold", tenant=tenant_a, queue="reports", run_after=start + timedelta(hours=1)
        )
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        now = timezone.now()
        WorkerProcess.objects.create(
            id="w1", host="h", pid=1, queues=["mail"], last_seen_at=now, last_loop_at=now
        )
        WorkerProcess.objects.create(id="w2", host="h", pid=2, last_seen_at=now, last_loop_at=now)
        samples = scrape(client)
    assert value(samples, "ats_queue_ready_jobs", queue="reports") == 2
    assert value(samples, "ats_queue_scheduled_jobs", queue="reports") == 1
    assert value(samples, "ats_queue_running_jobs", queue="reports") == 0
    assert value(samples, "ats_queue_oldest_ready_age_seconds", queue="reports") == 90
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
