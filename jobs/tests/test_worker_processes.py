"""Real `manage.py runworker` processes on PostgreSQL: exactly-once under concurrency, crash
recovery, graceful and forced stops, cancellation, NOTIFY wake-up, liveness, unique keys
across processes. Every wait is bounded (`wait_until`, `wait(timeout=...)`)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

import jobs
from jobs.models import Job, WorkerProcess
from jobs.selectors import live_workers
from jobs.tests.testapp.models import Effect

from .utils import BASE_DIR, subprocess_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

EXACTLY_ONCE_JOBS = 2_000


def statuses(ids: list[int]) -> dict[str, int]:
    rows = Job.objects.filter(pk__in=ids).values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


def test_three_workers_run_2000_atomic_jobs_exactly_once(start_worker) -> None:
    with transaction.atomic():
        ids = [jobs.enqueue("testapp.record").pk for _ in range(EXACTLY_ONCE_JOBS)]
    workers = [start_worker("--burst", "--concurrency", "2") for _ in range(3)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0, worker.output()

    assert statuses(ids) == {"succeeded": EXACTLY_ONCE_JOBS}
    per_job = Effect.objects.values("job_id").annotate(n=Count("id"))
    assert len(per_job) == EXACTLY_ONCE_JOBS
    assert {row["n"] for row in per_job} == {1}
    assert set(Job.objects.values_list("attempts", flat=True)) == {1}
    assert Job.objects.values("locked_by").distinct().count() >= 2  # they shared the work


@pytest.mark.parametrize(
    ("job_type", "effects_per_job"),
    [("testapp.record", 1), ("testapp.record_plain", 2)],
    ids=["atomic", "non-atomic"],
)
def test_jobs_of_a_killed_worker_are_reclaimed_after_the_lease(
    start_worker, tmp_path, job_type: str, effects_per_job: int
) -> None:
    never = str(tmp_path / "never")
    with transaction.atomic():
        ids = [jobs.enqueue(job_type, {"hold_first_attempt": never}).pk for _ in range(2)]
    doomed = start_worker("--concurrency", "2", "--worker-id", "doomed")
    wait_until(
        lambda: Job.objects.filter(pk__in=ids, status="running", locked_by="doomed").count() == 2,
        message="the doomed worker to run both jobs",
    )
    if effects_per_job == 2:  # the plain handler's write commits before it blocks
        wait_until(lambda: Effect.objects.count() == 2, message="the first writes")
    doomed.send(signal.SIGKILL)
    assert doomed.wait(timeout=10) == -signal.SIGKILL

    rescuer = start_worker("--concurrency", "2", "--worker-id", "rescuer")
    wait_until(
        lambda: statuses(ids) == {"succeeded": 2},
        timeout=30,
        message="the rescuer to finish both jobs",
    )
    for job in Job.objects.filter(pk__in=ids):
        assert (job.attempts, job.locked_by) == (2, "rescuer")
        assert job.errors[0]["error_class"] == "jobs.errors.LeaseExpired"
        assert job.errors[0]["worker"] == "doomed"
        assert Effect.objects.filter(job_id=job.pk).count() == effects_per_job
    rescuer.send(signal.SIGTERM)
    assert rescuer.wait(timeout=30) == 0, rescuer.output()


def test_sigterm_lets_running_jobs_finish_releases_the_rest_and_exits_0(
    start_worker, tmp_path
) -> None:
    finish, never = tmp_path / "finish", tmp_path / "never"
    with transaction.atomic():
        finishing = jobs.enqueue("testapp.hold", {"until": str(finish)}, priority=2)
        stuck = jobs.enqueue("testapp.hold", {"until": str(never)}, priority=1)
        waiting = jobs.enqueue("testapp.hold")
    worker = start_worker("--concurrency", "2", "--grace-period", "1")
    wait_until(
        lambda: statuses([finishing.pk, stuck.pk]) == {"running": 2},
        message="both slots to be busy",
    )
    worker.send(signal.SIGTERM)
    wait_until(lambda: "stopping" in worker.output(), message="the worker to start stopping")
    finish.touch()
    assert worker.wait(timeout=30) == 0, worker.output()

    finishing.refresh_from_db()
    stuck.refresh_from_db()
    waiting.refresh_from_db()
    assert finishing.status == "succeeded"
    # Released without using up an attempt; its fence moved on for good.
    assert (stuck.status, stuck.attempts, stuck.fencing_token) == ("queued", 0, 1)
    assert (waiting.status, waiting.attempts) == ("queued", 0)
    assert WorkerProcess.objects.get().stopped_at is not None


def test_a_second_signal_exits_at_once(start_worker, tmp_path) -> None:
    job = jobs.enqueue("testapp.hold", {"until": str(tmp_path / "never")})
    worker = start_worker("--grace-period", "60")
    wait_until(lambda: statuses([job.pk]) == {"running": 1}, message="the job to run")
    worker.send(signal.SIGTERM)
    wait_until(lambda: "stopping" in worker.output(), message="the worker to start stopping")
    worker.send(signal.SIGTERM)
    assert worker.wait(timeout=10) == 128 + signal.SIGTERM
    # Still running: its lease expires and another worker takes it.
    assert statuses([job.pk]) == {"running": 1}


@pytest.mark.parametrize("job_type", ["testapp.hold", "testapp.hold_atomic"])
def test_cancelling_a_running_job_stops_it_within_a_heartbeat(
    start_worker, tmp_path, job_type: str
) -> None:
    job = jobs.enqueue(job_type, {"until": str(tmp_path / "never")})
    worker = start_worker()
    wait_until(lambda: statuses([job.pk]) == {"running": 1}, message="the job to run")
    started = time.monotonic()
    jobs.cancel(job)
    # Not blocked by the atomic handler's row lock (FOR KEY SHARE).
    assert time.monotonic() - started < 2
    wait_until(lambda: statuses([job.pk]) == {"cancelled": 1}, timeout=10, message="cancel")
    assert not Effect.objects.exists()
    worker.send(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0


def test_notify_wakes_an_idle_worker_long_before_its_poll(start_worker) -> None:
    poll_interval = 30
    worker = start_worker("--poll-interval", str(poll_interval))
    first = jobs.enqueue("testapp.hold")
    wait_until(lambda: statuses([first.pk]) == {"succeeded": 1}, message="the first job")
    # Once its heartbeat has counted the first job, the worker has gone idle.
    wait_until(
        lambda: WorkerProcess.objects.filter(jobs_succeeded=1).exists(),
        message="the worker to report the first job",
    )

    enqueued_at = timezone.now()
    second = jobs.enqueue("testapp.hold")
    wait_until(
        lambda: statuses([second.pk]) == {"succeeded": 1},
        timeout=poll_interval / 2,
        message="the NOTIFY to wake the worker",
    )
    second.refresh_from_db()
    delay = (second.started_at - enqueued_at).total_seconds()
    assert delay < 2, f"started {delay:.2f}s after enqueue"
    worker.send(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0


@override_settings(JOBS_LEASE_TIMEOUT=2)
def test_healthz_workers_follows_live_workers(start_worker, client, tmp_path) -> None:
    with transaction.atomic():
        jobs.enqueue("testapp.hold", {"until": str(tmp_path / "never")}, priority=1)
        waiting = jobs.enqueue("testapp.hold")
    response = client.get("/healthz/workers")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["starved_queues"] == ["default"]

    worker = start_worker("--concurrency", "1")
    wait_until(lambda: client.get("/healthz/workers").status_code == 200, message="a live worker")
    body = client.get("/healthz/workers").json()
    assert body["live_workers"] == 1
    assert statuses([waiting.pk]) == {"queued": 1}  # it waits, and a live worker serves it

    worker.send(signal.SIGKILL)
    worker.wait(timeout=10)
    wait_until(
        lambda: client.get("/healthz/workers").status_code == 503,
        timeout=10,
        message="the dead worker to stop counting",
    )


@override_settings(JOBS_LEASE_TIMEOUT=2)
def test_a_worker_whose_loop_is_stuck_is_not_live(start_worker) -> None:
    """The heartbeat thread alone must not make a worker look healthy."""
    worker = start_worker()
    wait_until(lambda: live_workers(timezone.now()), message="the worker to be live")
    with transaction.atomic():
        # The worker's loop blocks on its next query of the jobs table; its heartbeat
        # thread, which touches only the workers table when idle, goes on.
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
        wait_until(
            lambda: not live_workers(timezone.now()),
            timeout=10,
            message="the stuck worker to stop counting as live",
        )
        row = WorkerProcess.objects.get()
        now = timezone.now()
        assert (now - row.last_seen_at).total_seconds() < 1.5  # the heartbeat is fresh
        assert (now - row.last_loop_at).total_seconds() > 2  # the loop is not
    wait_until(lambda: live_workers(timezone.now()), message="the loop to run again")
    worker.send(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0


UNIQUE_ENQUEUER = """
import json, os, time
from pathlib import Path
import django
django.setup()
from django.db import transaction
import jobs
from ats.models import Tenant
tenant = Tenant.objects.get(slug="alpha")
Path(os.environ["READY_FILE"]).touch()
while not Path(os.environ["GO_FILE"]).exists():
    time.sleep(0.005)
seen = {"tenant": set(), "system": set()}
for _ in range(30):
    with transaction.atomic():
        seen["tenant"].add(jobs.enqueue("testapp.hold", tenant=tenant, unique_key="k").pk)
    seen["system"].add(jobs.enqueue("testapp.hold", unique_key="k").pk)
print(json.dumps({key: sorted(ids) for key, ids in seen.items()}))
"""


def test_concurrent_enqueues_of_one_unique_key_make_one_active_job(tenant_a, tmp_path) -> None:
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", UNIQUE_ENQUEUER],
            cwd=BASE_DIR,
            env=subprocess_env(READY_FILE=str(tmp_path / f"ready-{n}"), GO_FILE=str(go)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    wait_until(
        lambda: all((tmp_path / f"ready-{n}").exists() for n in range(4)),
        message="the enqueuers to be ready",
    )
    go.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    tenant_job = Job.objects.get(tenant=tenant_a, unique_key="k")
    system_job = Job.objects.get(tenant=None, unique_key="k")
    assert all(result["tenant"] == [tenant_job.pk] for result in results)
    assert all(result["system"] == [system_job.pk] for result in results)


def test_a_worker_that_cannot_reach_the_database_fails_clearly() -> None:
    env = subprocess_env(DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing?connect_timeout=2")
    result = subprocess.run(
        [sys.executable, "manage.py", "runworker", "--burst"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "The worker cannot reach the database (nothing)" in result.stderr


@pytest.mark.parametrize("attempt", range(4))
def test_sigterm_with_grace_period_0_during_native_work_exits_0(
    start_worker, tmp_path, attempt: int
) -> None:
    """The job thread is inside native code (as an ingest in rapidfuzz) when the worker
    stops: the job is released, the thread ends at its next safe point, the process exits 0.
    It used to die (SIGABRT "FATAL: exception not rethrown", or SIGSEGV): the interpreter
    was finalized under a thread that came back from C++ and wanted the GIL."""
    job = jobs.enqueue("testapp.busy_native", {"until": str(tmp_path / "never")})
    worker = start_worker("--grace-period", "0")
    wait_until(lambda: statuses([job.pk]) == {"running": 1}, message="the job to run")
    time.sleep(0.1 + 0.2 * attempt)  # land the signal at different points of the work
    worker.send(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, worker.output()
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("queued", 0)
    assert not Effect.objects.filter(job_id=job.pk).exists()  # rolled back


def test_a_handler_that_ignores_the_stop_does_not_keep_the_worker_alive(
    start_worker, tmp_path
) -> None:
    job = jobs.enqueue("testapp.busy_native", {"until": str(tmp_path / "never"), "stretch": 0})
    worker = start_worker("--grace-period", "0")
    wait_until(lambda: statuses([job.pk]) == {"running": 1}, message="the job to run")
    time.sleep(0.2)
    worker.send(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0, worker.output()
    assert "still inside a handler" in worker.output()
    assert statuses([job.pk]) == {"queued": 1}


def test_exactly_once_with_batches_and_group_commit_when_workers_are_killed(
    start_worker,
) -> None:
    """Atomic jobs claimed in batches (prefetch) and committed in groups, workers killed
    (-9) in the middle, a rescuer finishing: every job's effect exists exactly once."""
    count = 1_500
    with transaction.atomic():
        ids = [job.pk for job in jobs.enqueue_many("testapp.record", [{}] * count)]
    doomed = [start_worker("--concurrency", "4", "--worker-id", f"doomed-{n}") for n in range(2)]
    for worker, progress in zip(doomed, (count // 5, count // 2), strict=True):
        wait_until(
            lambda progress=progress: Effect.objects.count() >= progress,
            timeout=120,
            message=f"{progress} jobs to be done",
        )
        worker.send(signal.SIGKILL)
        assert worker.wait(timeout=10) == -signal.SIGKILL
    # Not --burst: the killed workers' jobs are not ready until their leases expire.
    rescuer = start_worker("--concurrency", "4", "--worker-id", "rescuer")
    wait_until(lambda: statuses(ids) == {"succeeded": count}, timeout=120, message="the rescue")
    rescuer.send(signal.SIGTERM)
    assert rescuer.wait(timeout=30) == 0, rescuer.output()

    per_job = Effect.objects.values("job_id").annotate(n=Count("id"))
    assert len(per_job) == count
    assert {row["n"] for row in per_job} == {1}
    with connection.cursor() as cursor:  # jobs marked succeeded by one transaction
        cursor.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM jobs WHERE id = ANY(%s) "
            "GROUP BY xmin::text) AS groups",
            [ids],
        )
        largest_group = cursor.fetchone()[0]
    assert largest_group > 1, "no group commit happened"
    # Some jobs were taken back from the killed workers, and ran once all the same.
    assert Job.objects.filter(pk__in=ids, attempts__gt=1).exists()


def test_workers_with_wrong_clocks_neither_steal_live_jobs_nor_lose_their_own(
    start_worker, tmp_path
) -> None:
    """Leases, heartbeats and run_after are on the database's clock: a worker whose clock
    is 10 minutes ahead does not see the others' heartbeats as expired (and steal their
    jobs), and one 10 minutes behind does not write heartbeats that look expired."""
    done = tmp_path / "done"
    with transaction.atomic():
        held = {
            queue: jobs.enqueue("testapp.hold", {"until": str(done)}, queue=queue)
            for queue in ("right", "ahead", "behind")
        }
    workers = [
        start_worker("--queue", "right", "--worker-id", "right"),
        start_worker("--queue", "ahead", "--worker-id", "ahead", clock_offset=600),
        start_worker("--queue", "behind", "--worker-id", "behind", clock_offset=-600),
    ]
    ids = [job.pk for job in held.values()]
    wait_until(lambda: statuses(ids) == {"running": 3}, message="all three jobs to run")
    # The lease (2 s here) runs out twice over while each worker heartbeats (every 0.2 s)
    # and looks for expired leases to reclaim: a skewed clock would show by now.
    time.sleep(4.5)
    for queue, job in held.items():
        job.refresh_from_db()
        assert (job.status, job.locked_by, job.attempts, job.errors) == ("running", queue, 1, [])
    assert {w.id for w in live_workers()} == {"right", "ahead", "behind"}
    done.touch()
    wait_until(lambda: statuses(ids) == {"succeeded": 3}, message="all three jobs to finish")
    assert set(Job.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
    for worker in workers:
        worker.send(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, worker.output()


def test_worker_sessions_end_when_idle_in_a_transaction(start_worker) -> None:
    job = jobs.enqueue("testapp.session_settings")
    worker = start_worker("--burst")
    assert worker.wait(timeout=60) == 0, worker.output()
    job.refresh_from_db()
    # JOBS_LEASE_TIMEOUT is 2 s in these tests; job threads commit synchronously.
    assert job.result == {"idle_in_transaction_session_timeout": "2s", "synchronous_commit": "on"}


def test_a_worker_claims_no_more_jobs_than_it_has_connections_for(start_worker, tmp_path) -> None:
    """Concurrency 4, but the database lets the worker open only 4 connections: main loop,
    heartbeat, listener and one job thread. It runs one job at a time; nothing claimed sits
    waiting for a thread that has no connection."""
    role = f"jobs_limited_{connection.settings_dict['NAME']}"[:60]
    done = tmp_path / "done"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
        # ROLE current_user: the tests' role becomes a member, so that it may clean up.
        cursor.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 4 ROLE current_user')
        cursor.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        cursor.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    try:
        with transaction.atomic():
            ids = [jobs.enqueue("testapp.hold", {"until": str(done)}).pk for _ in range(5)]
        settings = connection.settings_dict
        url = f"postgres://{role}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/"
        worker = start_worker(
            "--concurrency",
            "4",
            "--burst",
            # As the limited role itself (not switching to the tests' role on connect).
            env={"DATABASE_URL": url + settings["NAME"], "TEST_DATABASE_ROLE": ""},
        )
        try:
            wait_until(lambda: statuses(ids).get("running") == 1, message="a job to run")
            wait_until(lambda: "cannot connect" in worker.output(), message="refused threads")
        except AssertionError as exc:
            raise AssertionError(worker.output()) from exc
        assert statuses(ids) == {"running": 1, "queued": 4}
        done.touch()
        assert worker.wait(timeout=60) == 0, worker.output()
        assert statuses(ids) == {"succeeded": 5}
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                [role],
            )
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
