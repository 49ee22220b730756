"""/metrics after a real flow: upload, approve, ingest with `runworker --burst`; in one
process, and with the requests served by two processes (prometheus-client multiprocess mode)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from ats.tests.prometheus import assert_aggregates_only, parse, scrape, value
from ats.tests.subprocess_env import run_manage, run_python
from jobs import metrics as job_metrics
from jobs.models import Job
from jobs.tests.utils import BASE_DIR, age_jobs, subprocess_env
from research import metrics as research_metrics
from research.metrics import COUNTS, CountBy
from research.models import Bundle, Source

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = "/api/v1/runs/"
BUNDLE = "/api/v1/runs/<pk>/bundle/"
APPROVE = "/api/v1/runs/<pk>/approve/"


def http(samples, route: str, method: str, status: int) -> float:
    return value(samples, "ats_http_requests_total", route=route, method=method, status=str(status))


def job_counts(samples, job_type: str, queue: str = "default") -> dict[str, float]:
    """The queue's counters and histogram counts of one job type, without the zeros."""
    labels = {"job_type": job_type, "queue": queue}
    counts = {
        "enqueued": value(samples, "ats_jobs_enqueued_total", **labels),
        "durations": value(samples, "ats_job_duration_seconds_count", **labels),
        "waits": value(samples, "ats_job_queue_wait_seconds_count", **labels),
    }
    for outcome in sorted(job_metrics.OUTCOMES):
        counts[outcome] = value(samples, "ats_job_attempts_total", **labels, outcome=outcome)
    return {name: n for name, n in counts.items() if n}


def job_deltas(before, after, job_type: str) -> dict[str, float]:
    old = job_counts(before, job_type)
    # The registry lives as long as the process: earlier tests' series show here with 0.
    deltas = {name: n - old.get(name, 0) for name, n in job_counts(after, job_type).items()}
    return {name: delta for name, delta in deltas.items() if delta}


def test_metrics_after_upload_approve_and_ingest(
    client, analyst_client, reviewer_client, run_a, small_bundle, tenant_a, metrics_token
) -> None:
    before = scrape(client)
    response = analyst_client.post(
        f"/api/v1/runs/{run_a.pk}/bundle/", small_bundle(run_a, 3), format="json"
    )
    assert response.status_code == 201
    assert (
        analyst_client.post(
            f"/api/v1/runs/{run_a.pk}/bundle/", {"version": "x"}, format="json"
        ).status_code
        == 400
    )
    assert (
        reviewer_client.post(f"/api/v1/runs/{run_a.pk}/approve/", {}, format="json").status_code
        == 200
    )
    assert analyst_client.get(RUNS).status_code == 200
    call_command("runworker", "--burst")
    after = scrape(client)

    for route, method, status in [
        (BUNDLE, "POST", 201),
        (BUNDLE, "POST", 400),
        (APPROVE, "POST", 200),
        (RUNS, "GET", 200),
    ]:
        assert http(after, route, method, status) - http(before, route, method, status) == 1
    latency = {"route": BUNDLE, "method": "POST"}
    assert (
        value(after, "ats_http_request_duration_seconds_count", **latency)
        - value(before, "ats_http_request_duration_seconds_count", **latency)
        == 2
    )
    assert value(after, "ats_bundles", status="ingested") == 1
    assert value(after, "ats_bundles", status="pending_review") == 0  # known statuses show 0
    assert job_deltas(before, after, "research.ingest_bundle") == {
        "enqueued": 1,
        "succeeded": 1,
        "durations": 1,
        "waits": 1,
    }
    assert value(after, "ats_research_runs", status="succeeded") == 1
    assert value(after, "ats_queue_ready_jobs", queue="default") == 0
    assert value(after, "ats_metrics_collector_success", collector="research") == 1
    assert_aggregates_only(after, tenants=[tenant_a])


def test_sources_by_decision_once_sources_have_one(
    client, metrics_token, tenant_a, monkeypatch
) -> None:
    Source.objects.create(tenant=tenant_a, sha256="a" * 64, text="x", mime_type="text/html")
    Source.objects.create(tenant=tenant_a, sha256="b" * 64, text="y", mime_type="")
    has_decision = any(f.name == "decision" for f in Source._meta.get_fields())
    samples = scrape(client)
    assert any(name == "ats_sources" for name, _ in samples) == has_decision
    # The same table row counts by any field; an empty value is labelled "none".
    monkeypatch.setattr(
        research_metrics,
        "COUNTS",
        (*COUNTS, CountBy("ats_test_sources", "test", Source, "mime_type")),
    )
    samples = scrape(client)
    assert value(samples, "ats_test_sources", mime_type="text/html") == 1
    assert value(samples, "ats_test_sources", mime_type="none") == 1


# A client in a child process: requests given as JSON, answers printed as JSON.
CHILD = """
import json, sys
import django
django.setup()
from django.test import Client
answers = []
for method, path, auth, body in json.loads(sys.argv[1]):
    client = Client(HTTP_AUTHORIZATION=auth)
    data = json.dumps(body) if body is not None else ""
    response = client.generic(method, path, data, content_type="application/json")
    answers.append([response.status_code, response.content.decode()])
print(json.dumps(answers))
"""


def in_child(requests: list, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(requests)],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def answers(process: subprocess.Popen) -> list:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return json.loads(out)


def test_requests_served_by_two_processes_add_up(
    tmp_path: Path, analyst_client, reviewer_client, run_a, small_bundle, tenant_a
) -> None:
    env = subprocess_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"), METRICS_TOKEN="tok")
    analyst = analyst_client._credentials["HTTP_AUTHORIZATION"]
    reviewer = reviewer_client._credentials["HTTP_AUTHORIZATION"]
    run_url = f"/api/v1/runs/{run_a.pk}/"
    first = in_child(
        [
            ["POST", f"{run_url}bundle/", analyst, small_bundle(run_a, 3)],
            ["GET", RUNS, analyst, None],
        ],
        env,
    )
    assert [status for status, _ in answers(first)] == [201, 200]
    second = in_child(
        [["POST", f"{run_url}approve/", reviewer, {}], ["GET", RUNS, analyst, None]], env
    )
    assert [status for status, _ in answers(second)] == [200, 200]
    call_command("runworker", "--burst")
    [(status, text)] = answers(in_child([["GET", "/metrics", "Bearer tok", None]], env))
    assert status == 200
    samples = parse(text)
    assert http(samples, RUNS, "GET", 200) == 2  # one request in each process
    assert http(samples, BUNDLE, "POST", 201) == 1
    assert http(samples, APPROVE, "POST", 200) == 1
    assert value(samples, "ats_http_request_duration_seconds_count", route=RUNS, method="GET") == 2
    assert value(samples, "ats_bundles", status="ingested") == 1
    # Multiprocess mode: the files of every process, not one process's own registry.
    assert not any(name.startswith("process_") for name, _ in samples)
    assert len(list((tmp_path / "metrics").glob("counter_*.db"))) == 3
    assert_aggregates_only(samples, tenants=[tenant_a])


# Jobs enqueued by a process that is not the web's: one that will fail once then succeed,
# one that fails for good, and one rolled back (never created, never counted).
ENQUEUE_FAILING_JOBS = """
import django
django.setup()
from django.db import transaction
import jobs
jobs.enqueue("testapp.flaky", {"fail_times": 1})
jobs.enqueue("testapp.permanent")
try:
    with transaction.atomic():
        jobs.enqueue("testapp.flaky")
        raise RuntimeError("rolled back")
except RuntimeError:
    pass
"""
# Every label name of the exposition: aggregates, never a tenant or an object.
AGGREGATE_LABELS = {"route", "method", "status", "queue", "job_type", "outcome", "le"} | {
    "collector",
    "decision",
}
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")


def test_job_metrics_add_up_across_web_and_worker_processes(
    tmp_path: Path, analyst_client, reviewer_client, run_a, small_bundle, tenant_a
) -> None:
    """Upload and approval served by two processes, failing jobs enqueued by a third, two
    real `runworker` processes (a retry between them); a fifth process answers /metrics."""
    env = subprocess_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"), METRICS_TOKEN="tok")
    analyst = analyst_client._credentials["HTTP_AUTHORIZATION"]
    reviewer = reviewer_client._credentials["HTTP_AUTHORIZATION"]
    run_url = f"/api/v1/runs/{run_a.pk}/"
    upload = in_child([["POST", f"{run_url}bundle/", analyst, small_bundle(run_a, 3)]], env)
    assert [status for status, _ in answers(upload)] == [201]
    approve = in_child([["POST", f"{run_url}approve/", reviewer, {}]], env)
    assert [status for status, _ in answers(approve)] == [200]
    enqueued = run_python(ENQUEUE_FAILING_JOBS, env)
    assert enqueued.returncode == 0, enqueued.stderr
    worker_lines = []
    for _ in range(2):  # the second worker runs the retry, once its backoff is over
        worker = run_manage("runworker", "--burst", env={**env, "LOG_FORMAT": "json"})
        assert worker.returncode == 0, worker.stderr
        worker_lines += [json.loads(line) for line in (worker.stdout + worker.stderr).splitlines()]
        age_jobs(60)
    # The workers' lines are JSON; the ingestion's carries the id of the request that queued it
    # (the upload's: research/tests/test_request_id_to_ingestion.py checks which).
    ingest = Job.objects.get(job_type="research.ingest_bundle")
    assert ingest.request_id and not ingest.request_id.startswith("job-")
    [attempt] = [line for line in worker_lines if line.get("job_id") == ingest.pk]
    assert attempt["request_id"] == ingest.request_id

    [(status, text)] = answers(in_child([["GET", "/metrics", "Bearer tok", None]], env))
    assert status == 200
    samples = parse(text)
    assert job_counts(samples, "research.ingest_bundle") == {
        "enqueued": 1,  # by the approving process
        "succeeded": 1,  # by the worker
        "durations": 1,
        "waits": 1,
    }
    assert job_counts(samples, "testapp.flaky") == {
        "enqueued": 1,
        "retried": 1,
        "succeeded": 1,
        "durations": 2,
        "waits": 2,
    }
    assert job_counts(samples, "testapp.permanent") == {
        "enqueued": 1,
        "failed": 1,
        "durations": 1,
        "waits": 1,
    }
    assert value(samples, "ats_bundles", status="ingested") == 1
    # No tenant data anywhere in the exposition: not in labels, not in any other text.
    assert_aggregates_only(samples, tenants=[tenant_a])
    assert {name for _, labels in samples for name, _ in labels} <= AGGREGATE_LABELS
    bundle = Bundle.objects.get(run=run_a)
    for tenant_data in (tenant_a.slug, tenant_a.name, str(run_a.pk), str(bundle.pk)):
        assert tenant_data not in text
    assert not UUID.search(text)
