"""Jobs keep the request id they were enqueued in, and every line of their attempts carries
it: the worker's line per attempt (with id, type, queue, attempt, outcome, duration, wait),
the handler's own lines, and the jobs a handler enqueues in turn."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

import jobs
from ats.request_context import bind
from ats.tests.logs import captured_logs
from jobs.models import Job
from jobs.tests.utils import age_jobs

ATTEMPT_FIELDS = {"job_id", "job_type", "queue", "attempt", "outcome", "duration", "wait"}


@pytest.mark.sqlite
def test_jobs_keep_the_request_id_they_were_enqueued_in(db) -> None:
    with bind(request_id="req-enqueue"):
        one = jobs.enqueue("testapp.hold")
        many = jobs.enqueue_many("testapp.hold", [{}, {}])
        unique = jobs.enqueue("testapp.hold", unique_key="k")
    outside = jobs.enqueue("testapp.hold")
    assert [job.request_id for job in (one, *many, unique, outside)] == [
        *["req-enqueue"] * 4,
        "",
    ]
    stored = dict(Job.objects.values_list("pk", "request_id"))
    assert stored == {job.pk: job.request_id for job in (one, *many, unique, outside)}
    assert outside.attempt_request_id == f"job-{outside.pk}"


@pytest.mark.django_db(transaction=True)
def test_every_line_of_a_jobs_attempts_carries_its_request_id() -> None:
    with bind(request_id="req-upload-7"):
        traced = jobs.enqueue("testapp.log_and_follow", {"fail_first": True}, queue="q-logs")
    untraced = jobs.enqueue("testapp.log_and_follow", queue="q-logs")
    with captured_logs("json") as stream:
        call_command("runworker", "--burst", "--queue", "q-logs")
        age_jobs(3600)  # the retry's backoff is over
        call_command("runworker", "--burst", "--queue", "q-logs")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]

    def attempts_of(job: Job) -> list[dict]:
        return [line for line in lines if line.get("job_id") == job.pk]

    first, second = attempts_of(traced)
    assert set(first) >= ATTEMPT_FIELDS
    assert (first["outcome"], first["attempt"], second["outcome"], second["attempt"]) == (
        "retrying",
        1,
        "succeeded",
        2,
    )
    assert {first["job_type"], first["queue"]} == {"testapp.log_and_follow", "q-logs"}
    assert first["duration"] >= 0 and first["wait"] >= 0
    assert first["request_id"] == second["request_id"] == "req-upload-7"
    [untraced_line] = attempts_of(untraced)
    assert untraced_line["request_id"] == f"job-{untraced.pk}"

    handler_lines = {
        line["message"]: line["request_id"]
        for line in lines
        if line["logger"] == "jobs.tests.testapp.handlers"
    }
    assert handler_lines == {
        f"handler line of job #{traced.pk}": "req-upload-7",
        f"handler line of job #{untraced.pk}": f"job-{untraced.pk}",
    }
    # The jobs the handlers enqueued follow the same ids, and logged with them.
    follow_ups = Job.objects.filter(job_type="testapp.hold", queue="q-logs")
    assert sorted(follow_ups.values_list("request_id", flat=True)) == sorted(
        ["req-upload-7", f"job-{untraced.pk}"]
    )
    for job in follow_ups:
        assert [line["request_id"] for line in attempts_of(job)] == [job.request_id]
