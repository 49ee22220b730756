"""The API endpoint, /healthz/workers, the admin, the commands and the Django Tasks backend."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.tasks.exceptions import TaskResultDoesNotExist
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

import jobs
from ats.models import MemberRole
from ats.request_context import bind
from ats.tests.factories import MembershipFactory
from jobs.backend import JobsBackend
from jobs.models import Job, WorkerProcess
from jobs.services import attempts
from jobs.tests.testapp.tasks import add

pytestmark = pytest.mark.sqlite


def live_worker(**fields: object) -> WorkerProcess:
    now = timezone.now()
    defaults = {"host": "h", "pid": 1, "last_seen_at": now, "last_loop_at": now}
    return WorkerProcess.objects.create(**{"id": "w1", **defaults, **fields})


# --- API ---------------------------------------------------------------------------------


def test_get_job_shape(analyst_client, tenant_a) -> None:
    job = jobs.enqueue("testapp.flaky", {"fail_times": 0}, tenant=tenant_a)
    Job.objects.filter(pk=job.pk).update(
        errors=[{"attempt": 1, "error_class": "builtins.ValueError", "message": "bad"}]
    )
    response = analyst_client.get(f"/api/v1/jobs/{job.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert {
        "id",
        "job_type",
        "queue",
        "status",
        "attempts",
        "max_attempts",
        "run_after",
        "last_error",
        "created_at",
        "started_at",
        "finished_at",
    } <= set(body)
    assert (body["id"], body["job_type"], body["status"], body["max_attempts"]) == (
        job.pk,
        "testapp.flaky",
        "queued",
        3,
    )
    assert body["last_error"] == "builtins.ValueError: bad"
    assert "errors" not in body  # tracebacks stay in the admin


def test_another_tenants_job_and_system_jobs_are_not_found(analyst_client, tenant_b) -> None:
    theirs = jobs.enqueue("testapp.hold", tenant=tenant_b)
    system = jobs.enqueue("testapp.hold")
    for job in (theirs, system):
        response = analyst_client.get(f"/api/v1/jobs/{job.pk}/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"


def test_jobs_api_needs_authentication(client, tenant_a) -> None:
    job = jobs.enqueue("testapp.hold", tenant=tenant_a)
    assert client.get(f"/api/v1/jobs/{job.pk}/").status_code == 401


# --- /healthz/workers -----------------------------------------------------------------------


@override_settings(JOBS_LEASE_TIMEOUT=60)
def test_healthz_workers_without_waiting_jobs_is_ok(client, db) -> None:
    response = client.get("/healthz/workers")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "live_workers": 0, "queues": {}}


@override_settings(JOBS_LEASE_TIMEOUT=60)
def test_healthz_workers_needs_a_live_worker_for_each_waiting_queue(client, db) -> None:
    jobs.enqueue("testapp.hold", queue="bulk")
    live_worker(queues=["default"])
    response = client.get("/healthz/workers")
    assert response.status_code == 503
    assert response.json()["starved_queues"] == ["bulk"]
    WorkerProcess.objects.update(queues=[])  # every queue
    assert client.get("/healthz/workers").status_code == 200


@override_settings(JOBS_LEASE_TIMEOUT=60)
def test_a_fresh_heartbeat_with_a_stale_loop_is_not_live(client, db) -> None:
    jobs.enqueue("testapp.hold")
    stale = timezone.now() - timedelta(seconds=61)
    live_worker(last_loop_at=stale)
    assert client.get("/healthz/workers").status_code == 503
    WorkerProcess.objects.update(last_loop_at=timezone.now(), last_seen_at=stale)
    assert client.get("/healthz/workers").status_code == 503
    WorkerProcess.objects.update(last_seen_at=timezone.now())
    assert client.get("/healthz/workers").status_code == 200
    WorkerProcess.objects.update(stopped_at=timezone.now())
    assert client.get("/healthz/workers").status_code == 503


# --- commands ------------------------------------------------------------------------------


@override_settings(JOBS_LEASE_TIMEOUT=60)
def test_jobs_status_table_and_json(db) -> None:
    jobs.enqueue("testapp.hold", run_after=timezone.now() - timedelta(minutes=5))
    jobs.enqueue("testapp.hold", run_after=timezone.now() + timedelta(hours=1))
    jobs.enqueue("testapp.hold", queue="bulk")
    attempts.claim_batch(worker_id="w1", queues=["bulk"], limit=1)
    live_worker(queues=["bulk"], current_jobs=[3])

    out = StringIO()
    call_command("jobs_status", stdout=out)
    text = out.getvalue()
    assert "queue" in text and "oldest ready" in text
    assert "Ready jobs with no live worker: default" in text
    assert "w1" in text

    out = StringIO()
    call_command("jobs_status", "--json", stdout=out)
    status = json.loads(out.getvalue())
    default = next(q for q in status["queues"] if q["queue"] == "default")
    assert (default["ready"], default["scheduled"], default["live_workers"]) == (1, 1, 0)
    assert default["oldest_ready_age"] >= 300
    assert [w["id"] for w in status["live_workers"]] == ["w1"]
    assert status["running"][0]["queue"] == "bulk"


# --- admin ---------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_admin_job_pages_are_read_only_with_readable_errors(superuser_client) -> None:
    job = jobs.enqueue("testapp.hold")
    Job.objects.filter(pk=job.pk).update(
        status="failed",
        errors=[
            {
                "attempt": 1,
                "at": "2026-01-01T00:00:00+00:00",
                "worker": "w1",
                "phase": "handler",
                "error_class": "builtins.ValueError",
                "message": "bad <input>",
                "traceback": "Traceback (most recent call last):\n  ValueError: bad",
            }
        ],
    )
    changelist = superuser_client.get(
        reverse("admin:jobs_job_changelist"), {"status__exact": "failed", "q": str(job.pk)}
    )
    assert changelist.status_code == 200
    assert "testapp.hold" in changelist.content.decode()
    detail = superuser_client.get(reverse("admin:jobs_job_change", args=[job.pk]))
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "<pre>Traceback (most recent call last):" in html
    assert "bad &lt;input&gt;" in html
    assert 'name="_save"' not in html  # nothing to save: read-only
    assert superuser_client.get(reverse("admin:jobs_job_add")).status_code == 403


def test_admin_finds_the_jobs_of_a_request_id_from_a_log_line(superuser_client) -> None:
    with bind(request_id="req-7f3a"):
        traced = jobs.enqueue("testapp.hold")
    jobs.enqueue("testapp.hold")
    url = reverse("admin:jobs_job_changelist")
    changelist = superuser_client.get(url, {"q": "req-7f3a"})
    assert [job.pk for job in changelist.context["cl"].result_list] == [traced.pk]
    assert "req-7f3a" in superuser_client.get(f"{url}{traced.pk}/change/").content.decode()


def test_admin_retry_and_cancel_actions(superuser_client) -> None:
    failed = jobs.enqueue("testapp.hold")
    Job.objects.filter(pk=failed.pk).update(status="failed")
    queued = jobs.enqueue("testapp.hold")
    url = reverse("admin:jobs_job_changelist")
    superuser_client.post(url, {"action": "retry_jobs", "_selected_action": [failed.pk]})
    superuser_client.post(url, {"action": "cancel_jobs", "_selected_action": [queued.pk]})
    assert Job.objects.get(pk=failed.pk).status == "queued"
    assert Job.objects.get(pk=queued.pk).status == "cancelled"
    # A second cancel is refused with the service's message, not an error page.
    response = superuser_client.post(
        url, {"action": "cancel_jobs", "_selected_action": [queued.pk]}, follow=True
    )
    assert "only queued or running jobs can be cancelled" in response.content.decode()


def test_staff_see_their_tenants_jobs_only(client, tenant_a, tenant_b) -> None:
    from django.contrib.auth.models import Permission

    user = MembershipFactory(tenant=tenant_a, role=MemberRole.REVIEWER).user
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_job", "change_job"]))
    client.force_login(user)
    mine = jobs.enqueue("testapp.hold", tenant=tenant_a)
    theirs = jobs.enqueue("testapp.hold", tenant=tenant_b)
    system = jobs.enqueue("testapp.hold")
    response = client.get(reverse("admin:jobs_job_changelist"))
    shown = {job.pk for job in response.context["cl"].result_list}
    assert shown == {mine.pk}
    assert client.get(reverse("admin:jobs_job_change", args=[theirs.pk])).status_code == 302
    assert client.get(reverse("admin:jobs_job_change", args=[system.pk])).status_code == 302
    assert client.get(reverse("admin:jobs_workerprocess_changelist")).status_code == 403


def test_admin_worker_list_shows_liveness(superuser_client) -> None:
    live_worker()
    response = superuser_client.get(reverse("admin:jobs_workerprocess_changelist"))
    assert response.status_code == 200
    assert "icon-yes" in response.content.decode()


# --- Django Tasks --------------------------------------------------------------------------


def test_task_enqueue_stores_a_system_job_with_priority_queue_and_defer(db) -> None:
    run_after = timezone.now() + timedelta(minutes=10)
    result = add.using(priority=40, queue_name="reports", run_after=run_after).enqueue(2, 3)
    job = Job.objects.get(pk=int(result.id))
    assert (job.job_type, job.tenant, job.queue, job.priority, job.run_after) == (
        "django.task",
        None,
        "reports",
        40,
        run_after,
    )
    assert job.max_attempts == 1
    assert result.status == TaskResultStatus.READY
    assert (result.args, result.kwargs) == ([2, 3], {})
    assert isinstance(add.get_backend(), JobsBackend)
    # Higher Django priority is claimed first, as in the queue.
    urgent = add.using(priority=90).enqueue(1, 1)
    normal = add.enqueue(1, 2)
    claimed = attempts.claim_batch(worker_id="w", queues=None, limit=5)
    assert [j.pk for j in claimed] == [int(urgent.id), int(normal.id)]


def test_get_result_of_unknown_ids(db) -> None:
    backend = add.get_backend()
    other = jobs.enqueue("testapp.hold")
    for result_id in ["nope", "999999", str(other.pk)]:
        with pytest.raises(TaskResultDoesNotExist):
            backend.get_result(result_id)


def test_member_retries_own_tenants_jobs_without_django_permissions(
    client, tenant_a, tenant_b
) -> None:
    user = MembershipFactory(tenant=tenant_a, role=MemberRole.ANALYST).user
    client.force_login(user)
    mine = jobs.enqueue("testapp.hold", tenant=tenant_a)
    theirs = jobs.enqueue("testapp.hold", tenant=tenant_b)
    Job.objects.filter(pk__in=[mine.pk, theirs.pk]).update(status="failed")
    url = reverse("admin:jobs_job_changelist")
    client.post(url, {"action": "retry_jobs", "_selected_action": [mine.pk, theirs.pk]})
    assert Job.objects.get(pk=mine.pk).status == "queued"
    assert Job.objects.get(pk=theirs.pk).status == "failed"  # not in the analyst's tenant
