"""Running attempts in-process: retries and leases on the database's clock (tests move the
jobs' timestamps back to let time pass), permanent failures, on_failure,
missing handlers, timeouts, cancellation, leases and the fence against zombies."""

from __future__ import annotations

from datetime import timedelta

import pydantic
import pytest
from django.core.exceptions import ValidationError as DjangoValidationError

import jobs
from ats.errors import Conflict
from jobs.errors import MSG_HANDLER_MISSING, LeaseExpired
from jobs.execution import run_attempt, start_attempt
from jobs.models import Job
from jobs.selectors import db_now
from jobs.services import attempts
from jobs.tests.testapp.models import Effect, FailureMark, HookCall
from jobs.tests.utils import age_jobs

pytestmark = pytest.mark.sqlite


def claim_one(worker_id: str = "w1") -> Job:
    (job,) = attempts.claim_batch(worker_id=worker_id, queues=None, limit=1)
    return job


def run(job: Job) -> str:
    return run_attempt(start_attempt(job))


def test_retry_schedule_backoff_then_failure_and_on_failure(db: None, settings) -> None:
    settings.JOBS_RETRY_BASE, settings.JOBS_RETRY_MAX = 30, 45
    job = jobs.enqueue("testapp.flaky", {"fail_times": 99})

    before = db_now()
    assert run(claim_one()) == "retrying"
    job.refresh_from_db()
    # run_after is on the database's clock: 30 s ± 25 % after the failure.
    assert before + timedelta(seconds=30 * 0.75) <= job.run_after
    assert job.run_after <= db_now() + timedelta(seconds=30 * 1.25)
    assert (job.status, job.attempts) == ("queued", 1)
    assert attempts.claim_batch(worker_id="w1", queues=None, limit=1) == []  # not yet

    age_jobs(30 * 1.25)
    before = db_now()
    assert run(claim_one()) == "retrying"
    job.refresh_from_db()
    # 30·2 = 60 ± 25 %, capped at 45 after the jitter: never beyond JOBS_RETRY_MAX.
    assert before + timedelta(seconds=45 * 0.75) <= job.run_after
    assert job.run_after <= db_now() + timedelta(seconds=45)

    age_jobs(45)
    assert not FailureMark.objects.exists()
    assert run(claim_one()) == "failed"
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("failed", 3)
    assert job.finished_at is not None
    assert [entry["attempt"] for entry in job.errors] == [1, 2, 3]
    assert {entry["error_class"] for entry in job.errors} == {"builtins.ConnectionError"}
    assert job.errors[0]["worker"] == "w1"
    assert "attempt 1 failed" in job.errors[0]["traceback"]
    assert job.last_error == "builtins.ConnectionError: attempt 3 failed"
    assert FailureMark.objects.get(job_id=job.pk).error == "ConnectionError: attempt 3 failed"


@pytest.mark.parametrize("attempt", [1, 5, 12, 40])
def test_retry_delay_never_exceeds_the_maximum(settings, attempt: int) -> None:
    settings.JOBS_RETRY_BASE, settings.JOBS_RETRY_MAX = 30, 3600
    delays = [attempts.retry_delay(attempt) for _ in range(200)]
    expected = min(3600, 30 * 2 ** (attempt - 1))
    assert all(min(3600, expected * 0.75) <= delay <= 3600 for delay in delays)
    assert all(delay <= expected * 1.25 for delay in delays)


def test_success_after_a_retry_keeps_the_error_history(db: None, settings) -> None:
    settings.JOBS_RETRY_BASE = 10
    job = jobs.enqueue("testapp.flaky", {"fail_times": 1})
    assert run(claim_one()) == "retrying"
    age_jobs(13)
    assert run(claim_one()) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.result, job.attempts, len(job.errors)) == ("succeeded", "ok", 2, 1)


def test_permanent_error_fails_at_once_and_runs_on_failure(db: None) -> None:
    job = jobs.enqueue("testapp.permanent")
    assert run(claim_one()) == "failed"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.max_attempts) == ("failed", 1, 3)
    assert job.errors[0]["error_class"] == "jobs.errors.PermanentError"
    assert FailureMark.objects.get(job_id=job.pk).error == "PermanentError: the bundle is invalid"


def test_validation_errors_are_permanent() -> None:
    class Model(pydantic.BaseModel):
        x: int

    with pytest.raises(pydantic.ValidationError) as raised:
        Model(x="nope")
    assert attempts.is_permanent(raised.value)
    assert attempts.is_permanent(DjangoValidationError("bad"))
    assert attempts.is_permanent(jobs.PermanentError("bad"))
    assert not attempts.is_permanent(ConnectionError("flaky"))


def test_a_failing_on_failure_hook_is_recorded_not_lost(db: None) -> None:
    job = jobs.enqueue("testapp.broken_hook")
    assert run(claim_one()) == "failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert [(e["phase"], e["error_class"]) for e in job.errors] == [
        ("handler", "builtins.ValueError"),
        ("on_failure", "builtins.RuntimeError"),
    ]
    assert not FailureMark.objects.exists()  # the hook's own writes were rolled back


def test_handler_missing_at_run_time_fails_permanently(db: None) -> None:
    # Enqueued by code that had the handler; this worker runs code without it.
    job = Job.objects.create(job_type="gone.away", payload={"x": 1})
    assert run(claim_one("w9")) == "failed"
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("failed", 1)
    assert job.errors[0]["message"] == MSG_HANDLER_MISSING.format(job_type="gone.away", worker="w9")


def test_non_json_result_fails_and_rolls_back_an_atomic_handler(db: None) -> None:
    job = jobs.enqueue("testapp.bad_result")
    assert run(claim_one()) == "failed"
    job.refresh_from_db()
    assert "not JSON-serializable" in job.last_error
    assert not Effect.objects.exists()


def test_timeout_is_a_retryable_error_at_the_next_safe_point(db: None) -> None:
    job = jobs.enqueue("testapp.slow")
    assert run(claim_one()) == "retrying"
    job.refresh_from_db()
    assert job.errors[0]["error_class"] == "jobs.errors.JobTimeout"


@pytest.mark.parametrize("job_type", ["testapp.hold", "testapp.hold_atomic"])
def test_cancelled_while_running_stops_at_the_safe_point(db: None, tmp_path, job_type) -> None:
    job = jobs.enqueue(job_type, {"until": str(tmp_path / "never")})
    attempt = start_attempt(claim_one())
    attempt.cancel_requested = True  # as the heartbeat thread sets it
    assert run_attempt(attempt) == "cancelled"
    job.refresh_from_db()
    assert (job.status, job.errors) == ("cancelled", [])
    assert not Effect.objects.exists()  # the atomic handler's write was rolled back


def test_heartbeat_extends_owned_leases_and_reports_cancel_requests(db: None) -> None:
    first, second = jobs.enqueue("testapp.hold"), jobs.enqueue("testapp.hold")
    claimed = attempts.claim_batch(worker_id="w1", queues=None, limit=2)
    jobs.cancel(second)
    age_jobs(5)
    before = db_now()
    owned, cancel = attempts.heartbeat(
        worker_id="w1", attempts={job.pk: job.fencing_token for job in claimed}
    )
    assert (owned, cancel) == ({first.pk, second.pk}, {second.pk})
    assert Job.objects.get(pk=first.pk).heartbeat_at >= before  # the database's now
    # Another worker, or a stale fencing token, owns nothing.
    assert attempts.heartbeat(worker_id="w2", attempts={first.pk: 1}) == (set(), set())
    assert attempts.heartbeat(worker_id="w1", attempts={first.pk: 2}) == (set(), set())


@pytest.mark.parametrize("job_type", ["testapp.record", "testapp.record_plain"])
def test_a_zombie_cannot_finish_after_its_lease_was_taken_over(
    db: None, settings, job_type
) -> None:
    settings.JOBS_LEASE_TIMEOUT = 60
    job = jobs.enqueue(job_type)
    zombie = claim_one("old-worker")
    age_jobs(59)
    assert attempts.reclaim_expired() == 0
    age_jobs(2)
    assert attempts.reclaim_expired() == 1
    fresh = claim_one("new-worker")
    assert (fresh.attempts, fresh.fencing_token) == (2, 2)

    # The old attempt wakes up and tries to finish: nothing it does is recorded.
    assert run(zombie) == "lost"
    assert attempts.complete(job=zombie, result="late") is False
    assert attempts.fail_attempt(job=zombie, exc=ValueError("late"), handler=None) == "lost"
    assert attempts.cancel_attempt(job=zombie) == "lost"
    assert attempts.release(job=zombie) is False
    job.refresh_from_db()
    assert (job.status, job.locked_by, job.fencing_token) == ("running", "new-worker", 2)
    assert job.errors[0]["error_class"] == f"{LeaseExpired.__module__}.LeaseExpired"
    # An atomic zombie's write was rolled back; a plain one's was not (at least once).
    assert Effect.objects.count() == (0 if job_type == "testapp.record" else 1)

    assert run(fresh) == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 2)


def test_an_expired_lease_on_the_last_attempt_fails_the_job(db: None, settings) -> None:
    settings.JOBS_LEASE_TIMEOUT = 10
    job = jobs.enqueue("testapp.flaky", max_attempts=1)
    claim_one()
    age_jobs(11)
    assert attempts.reclaim_expired() == 1
    job.refresh_from_db()
    assert job.status == "failed"
    assert FailureMark.objects.get(job_id=job.pk).error.startswith("LeaseExpired: Lease expired")


def test_release_gives_the_attempt_back_and_keeps_the_fence(db: None) -> None:
    job = jobs.enqueue("testapp.record")
    released = claim_one()
    assert attempts.release(job=released) is True
    job.refresh_from_db()
    assert (job.status, job.attempts, job.fencing_token) == ("queued", 0, 1)
    again = claim_one("w1")  # the same worker id claims it again
    assert (again.attempts, again.fencing_token) == (1, 2)
    assert attempts.complete(job=released, result=None) is False
    assert run(again) == "succeeded"


def hook_calls(job: Job) -> list[str]:
    return list(
        HookCall.objects.filter(job_id=job.pk).order_by("id").values_list("hook", flat=True)
    )


def test_cancelling_a_queued_job_runs_on_cancel_in_the_same_transaction(db: None) -> None:
    job = jobs.enqueue("testapp.followed")
    jobs.cancel(job)
    assert (job.status, hook_calls(job)) == ("cancelled", ["on_cancel"])


def test_a_running_job_runs_on_cancel_when_it_stops_not_when_asked(db: None, tmp_path) -> None:
    job = jobs.enqueue("testapp.followed", {"until": str(tmp_path / "never")})
    attempt = start_attempt(claim_one())
    jobs.cancel(job)
    assert (job.status, hook_calls(job)) == ("running", [])
    attempt.cancel_requested = True  # as the heartbeat thread sets it
    assert run_attempt(attempt) == "cancelled"
    assert hook_calls(job) == ["on_cancel"]


def test_a_cancel_requested_job_whose_lease_expired_runs_on_cancel(db: None, settings) -> None:
    job = jobs.enqueue("testapp.followed")
    claim_one()
    jobs.cancel(job)
    age_jobs(settings.JOBS_LEASE_TIMEOUT + 1)
    assert attempts.reclaim_expired() == 1
    job.refresh_from_db()
    assert (job.status, hook_calls(job)) == ("cancelled", ["on_cancel"])


def test_a_failure_after_a_cancel_request_ends_cancelled_with_on_cancel(db: None) -> None:
    job = jobs.enqueue("testapp.followed")
    claimed = claim_one()
    jobs.cancel(job)
    assert run(claimed) == "cancelled"  # the handler raised, but a cancel was asked
    assert hook_calls(job) == ["on_cancel"]
    assert not FailureMark.objects.filter(job_id=job.pk).exists()


def test_retry_goes_through_on_retry(db: None) -> None:
    job = jobs.enqueue("testapp.followed")
    assert run(claim_one()) == "failed"
    jobs.retry(job)
    assert (job.status, hook_calls(job)) == ("queued", ["on_retry"])


def test_on_retry_can_refuse_and_nothing_changes(db: None) -> None:
    job = jobs.enqueue("testapp.followed", {"refuse_retry": True})
    assert run(claim_one()) == "failed"
    with pytest.raises(Conflict, match="refuses this retry"):
        jobs.retry(job)
    job.refresh_from_db()
    assert (job.status, job.attempts, hook_calls(job)) == ("failed", 1, [])
