"""Enqueue, unique keys, cancel, retry, claim order and pruning, in-process."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

import jobs
from ats.errors import Conflict
from jobs import services
from jobs.errors import MSG_CANNOT_CANCEL, MSG_CANNOT_RETRY, InvalidPayload, UnknownJobType
from jobs.models import Job, JobStatus
from jobs.services import attempts

pytestmark = pytest.mark.sqlite


def claim_one(worker_id: str = "w1", **kwargs: object) -> Job:
    (job,) = attempts.claim_batch(worker_id=worker_id, queues=None, limit=1, **kwargs)
    return job


def test_public_api_is_importable_without_models() -> None:
    assert callable(jobs.enqueue) and callable(jobs.cancel) and callable(jobs.retry)
    assert jobs.Job is Job
    assert issubclass(jobs.PermanentError, Exception)
    with pytest.raises(AttributeError):
        _ = jobs.nothing_here


def test_unknown_job_type_is_refused_at_enqueue(db: None) -> None:
    with pytest.raises(UnknownJobType, match="no handler is registered") as raised:
        jobs.enqueue("research.no_such_thing", {})
    assert isinstance(raised.value, ValueError)
    assert Job.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [{"when": timezone.now()}, {"x": math.nan}, ["not", "a", "dict"], {"obj": object()}],
    ids=["datetime", "nan", "list", "object"],
)
def test_payload_must_be_a_json_dict(db: None, payload: object) -> None:
    with pytest.raises(InvalidPayload):
        jobs.enqueue("testapp.hold", payload)
    assert Job.objects.count() == 0


def test_enqueue_takes_the_handlers_defaults(db: None, tenant_a) -> None:
    job = jobs.enqueue("testapp.flaky", {"fail_times": 0}, tenant=tenant_a)
    assert (job.queue, job.max_attempts, job.status, job.attempts) == ("default", 3, "queued", 0)
    assert job.tenant == tenant_a
    other = jobs.enqueue("testapp.hold", queue="bulk", max_attempts=7, priority=-5)
    assert (other.queue, other.max_attempts, other.priority, other.tenant) == (
        "bulk",
        7,
        -5,
        None,
    )


@pytest.mark.parametrize("priority", [101, -101, 1.5, True])
def test_priority_range(db: None, priority: object) -> None:
    with pytest.raises(ValueError, match="priority"):
        jobs.enqueue("testapp.hold", priority=priority)


def test_enqueue_joins_the_callers_transaction(db: None) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue("testapp.hold")
        raise RuntimeError("the caller rolls back")
    assert not Job.objects.exists()


def test_unique_key_returns_the_active_job(db: None, tenant_a, tenant_b) -> None:
    first = jobs.enqueue("testapp.hold", {}, tenant=tenant_a, unique_key="ingest:1")
    again = jobs.enqueue("testapp.hold", {}, tenant=tenant_a, unique_key="ingest:1")
    assert again.pk == first.pk
    other_tenant = jobs.enqueue("testapp.hold", {}, tenant=tenant_b, unique_key="ingest:1")
    assert other_tenant.pk != first.pk

    # Running still counts as active; a finished job frees the key.
    claim_one()
    assert jobs.enqueue("testapp.hold", tenant=tenant_a, unique_key="ingest:1").pk == first.pk
    Job.objects.filter(pk=first.pk).update(status=JobStatus.SUCCEEDED)
    fresh = jobs.enqueue("testapp.hold", tenant=tenant_a, unique_key="ingest:1")
    assert fresh.pk not in (first.pk, other_tenant.pk)


def test_unique_key_holds_for_system_jobs_without_tenant(db: None) -> None:
    first = jobs.enqueue("testapp.hold", unique_key="nightly")
    assert jobs.enqueue("testapp.hold", unique_key="nightly").pk == first.pk
    assert Job.objects.filter(unique_key="nightly").count() == 1


NEW_JOB_MAKERS = {
    "enqueue": lambda: jobs.enqueue("testapp.record_plain", {}),
    "enqueue_many": lambda: jobs.enqueue_many("testapp.record_plain", [{}])[0],
    "model default": lambda: Job.objects.create(job_type="testapp.record_plain", payload={}),
}


@pytest.mark.parametrize("make", NEW_JOB_MAKERS.values(), ids=NEW_JOB_MAKERS.keys())
def test_a_new_job_is_ready_by_the_database_clock(db: None, make) -> None:
    job = make()
    if connection.vendor == "sqlite":
        # SQLite compares times as text, and the claim's Now() has three decimals: a time
        # written from Python (six) sorts after it within its own millisecond, and a job
        # claimed that quickly stayed hidden (CI caught it once in 2,000).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT CAST(run_after AS TEXT), CAST(created_at AS TEXT) FROM jobs WHERE id = %s",
                [job.pk],
            )
            stored = cursor.fetchone()
        for text in stored:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", text), stored
    assert job.run_after == job.created_at
    assert claim_one().pk == job.pk


def test_claim_order_is_priority_then_run_after_then_id(db: None) -> None:
    now = timezone.now()
    low = jobs.enqueue("testapp.hold", priority=-10)
    later = jobs.enqueue("testapp.hold", run_after=now - timedelta(seconds=1))
    earlier = jobs.enqueue("testapp.hold", run_after=now - timedelta(seconds=2))
    urgent = jobs.enqueue("testapp.hold", priority=50)
    future = jobs.enqueue("testapp.hold", run_after=now + timedelta(hours=1), priority=100)
    other_queue = jobs.enqueue("testapp.hold", queue="other", priority=100)

    claimed = attempts.claim_batch(worker_id="w1", queues=["default"], limit=10)
    assert [job.pk for job in claimed] == [urgent.pk, earlier.pk, later.pk, low.pk]
    assert {job.status for job in claimed} == {"running"}
    assert all(job.attempts == 1 and job.fencing_token == 1 for job in claimed)
    assert all(job.locked_by == "w1" and job.heartbeat_at for job in claimed)
    assert Job.objects.get(pk=future.pk).status == "queued"
    assert [j.pk for j in attempts.claim_batch(worker_id="w2", queues=None, limit=5)] == [
        other_queue.pk
    ]


def test_cancel_queued_is_immediate_and_running_is_requested(db: None) -> None:
    queued = jobs.enqueue("testapp.hold")
    running = jobs.enqueue("testapp.hold")
    assert jobs.cancel(queued).status == "cancelled"
    assert attempts.claim_batch(worker_id="w1", queues=None, limit=5)[0].pk == running.pk

    requested = jobs.cancel(running)
    assert (requested.status, requested.cancel_requested) == ("running", True)
    with pytest.raises(Conflict) as raised:
        jobs.cancel(queued)
    assert raised.value.message == MSG_CANNOT_CANCEL.format(job_id=queued.pk, status="cancelled")


def test_retry_of_failed_job(db: None) -> None:
    job = jobs.enqueue("testapp.hold")
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, attempts=3, errors=[{"attempt": 3, "message": "x"}]
    )
    retried = jobs.retry(job)
    assert (retried.status, retried.attempts, retried.finished_at) == ("queued", 0, None)
    assert retried.errors == [{"attempt": 3, "message": "x"}]  # history is kept
    with pytest.raises(Conflict) as raised:
        jobs.retry(retried)
    assert raised.value.message == MSG_CANNOT_RETRY.format(job_id=job.pk, status="queued")


def test_retry_refuses_a_second_active_job_with_the_same_key(db: None) -> None:
    failed = jobs.enqueue("testapp.hold", unique_key="k")
    Job.objects.filter(pk=failed.pk).update(status=JobStatus.FAILED)
    active = jobs.enqueue("testapp.hold", unique_key="k")
    with pytest.raises(Conflict, match=f"job {active.pk} with the same unique key"):
        jobs.retry(failed)
    assert Job.objects.get(pk=failed.pk).status == "failed"


def test_raise_if_cancelled_outside_a_worker_asks_the_database(db: None) -> None:
    jobs.enqueue("testapp.hold")
    job = claim_one()
    job.raise_if_cancelled()
    jobs.cancel(job)
    with pytest.raises(jobs.JobCancelled):
        job.raise_if_cancelled()


@pytest.mark.parametrize("max_attempts", [0, -1, 1.5, True])
def test_max_attempts_must_be_at_least_one(db: None, max_attempts: object) -> None:
    with pytest.raises(ValueError, match="max_attempts must be a whole number of at least 1"):
        jobs.enqueue("testapp.hold", max_attempts=max_attempts)
    with pytest.raises(ValueError, match="max_attempts"):
        jobs.enqueue_many("testapp.hold", [{}], max_attempts=max_attempts)
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("unique_key", [None, "k"])
def test_a_foreign_key_violation_is_not_taken_for_a_unique_key_race(unique_key) -> None:
    from django.db import IntegrityError

    from ats.models import Tenant

    gone = Tenant(pk=987_654, name="Gone", slug="gone")
    with pytest.raises(IntegrityError) as raised:
        jobs.enqueue("testapp.hold", tenant=gone, unique_key=unique_key)
    assert not services.queueing.is_unique_key_conflict(raised.value)
    assert not Job.objects.exists()


def test_enqueue_many_adds_jobs_in_order_with_one_notify(db: None, tenant_a) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        created = jobs.enqueue_many(
            "testapp.flaky", [{"fail_times": n} for n in range(5)], tenant=tenant_a, priority=3
        )
        jobs.enqueue_many("testapp.flaky", [{"fail_times": 9}], tenant=tenant_a)
    assert [job.payload["fail_times"] for job in created] == [0, 1, 2, 3, 4]
    stored = {job.pk: job for job in Job.objects.filter(pk__in=[j.pk for j in created])}
    for job in created:
        row = stored[job.pk]
        assert (row.payload, row.tenant_id, row.priority, row.max_attempts, row.status) == (
            job.payload,
            tenant_a.pk,
            3,
            3,
            "queued",
        )
        assert (row.run_after, row.created_at) == (job.run_after, job.created_at)
    notifies = [q for q in queries.captured_queries if "pg_notify" in q["sql"]]
    assert len(notifies) == (1 if connection.vendor == "postgresql" else 0)
    assert jobs.enqueue_many("testapp.flaky", []) == []
    with pytest.raises(InvalidPayload):
        jobs.enqueue_many("testapp.flaky", [{"ok": 1}, {"bad": object()}])
