"""`manage.py prune_jobs` with the backfill conventions: a dry run changes nothing, only old
finished jobs go (failed ones on request), a tenant's prune leaves other tenants, system jobs
and workers alone, a second run does nothing, and a run killed halfway (a real process,
SIGKILL) and run again ends as an uninterrupted run does."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

import jobs
from ats.models import BackfillCheckpoint, Tenant
from jobs.models import Job, WorkerProcess
from jobs.tests.utils import run_killed

COMMAND = "prune_jobs"
OLD, RECENT = timedelta(days=8), timedelta(days=1)


def make_jobs(tenant: Tenant | None, *shapes: tuple[str, timedelta | None]) -> list[int]:
    """One job per (status, finished how long ago), in this order of ids; payload `n` is the
    job's place, so that two tenants' jobs can be compared without ids."""
    made = jobs.enqueue_many("testapp.hold", [{"n": n} for n in range(len(shapes))], tenant=tenant)
    now = timezone.now()
    for job, (status, age) in zip(made, shapes, strict=True):
        Job.objects.filter(pk=job.pk).update(
            status=status, finished_at=None if age is None else now - age
        )
    return [job.pk for job in made]


def worker(worker_id: str, seen_ago: timedelta) -> None:
    seen = timezone.now() - seen_ago
    WorkerProcess.objects.create(id=worker_id, host="h", pid=1, last_seen_at=seen)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(COMMAND, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def left(tenant: Tenant | None) -> list[tuple[str, int]]:
    """(status, place) of the tenant's remaining jobs (the system's for None)."""
    remaining = Job.objects.filter(tenant=tenant).values_list("status", "payload")
    return sorted((status, payload["n"]) for status, payload in remaining)


EVERY_SHAPE = (
    ("succeeded", OLD),
    ("cancelled", OLD),
    ("failed", OLD),
    ("succeeded", RECENT),
    ("queued", None),
    ("running", None),
)


@pytest.mark.sqlite
def test_dry_run_changes_nothing_and_keeps_no_checkpoint(tenant_a) -> None:
    make_jobs(tenant_a, *EVERY_SHAPE)
    worker("gone", OLD)
    out, err = run("--older-than", "7d", "--dry-run")
    assert "prune_jobs: Dry run, nothing changed" in out
    assert "finished jobs deleted: 2" in out and "workers forgotten: 1" in out
    assert "prune_jobs jobs: 2 rows to examine" in err  # plain progress: not a terminal
    assert len(left(tenant_a)) == len(EVERY_SHAPE)
    assert WorkerProcess.objects.filter(pk="gone").exists()
    assert not BackfillCheckpoint.objects.exists()


@pytest.mark.sqlite
def test_deletes_old_finished_jobs_and_stale_workers_and_a_second_run_does_nothing(
    tenant_a,
) -> None:
    make_jobs(tenant_a, *EVERY_SHAPE)
    make_jobs(None, ("succeeded", OLD), ("failed", OLD))  # system jobs
    worker("gone", OLD)
    worker("alive", timedelta(seconds=1))

    out, _ = run("--older-than", "7d")
    assert "finished jobs deleted: 3" in out and "workers forgotten: 1" in out
    assert left(tenant_a) == [("failed", 2), ("queued", 4), ("running", 5), ("succeeded", 3)]
    assert left(None) == [("failed", 1)]
    assert list(WorkerProcess.objects.values_list("pk", flat=True)) == ["alive"]

    out, _ = run("--older-than", "7d")
    assert "deleted" not in out and "forgotten" not in out and "no rows to examine" in out
    assert len(left(tenant_a)) == 4

    out, _ = run("--older-than", "7d", "--include-failed")
    assert "finished jobs deleted: 2" in out
    assert left(tenant_a) == [("queued", 4), ("running", 5), ("succeeded", 3)]
    assert left(None) == []


@pytest.mark.sqlite
def test_a_tenant_prune_leaves_other_tenants_system_jobs_and_workers_alone(
    tenant_a, tenant_b
) -> None:
    make_jobs(tenant_a, ("succeeded", OLD), ("cancelled", OLD))
    make_jobs(tenant_b, ("succeeded", OLD))
    make_jobs(None, ("succeeded", OLD))
    worker("gone", OLD)
    out, _ = run("--older-than", "7d", "--tenant", "alpha")
    assert "finished jobs deleted: 2" in out and "forgotten" not in out
    assert left(tenant_a) == []
    assert left(tenant_b) == [("succeeded", 0)] and left(None) == [("succeeded", 0)]
    assert WorkerProcess.objects.filter(pk="gone").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "7d", "--tenant", "nope"], "No tenant with slug 'nope'"),
        (["--older-than", "seven days"], "'seven days' is not a duration; write a number"),
        ([], "the following arguments are required: --older-than"),
        (["--older-than", "7d", "--batch-size", "0"], "--batch-size must be a whole number"),
    ],
)
def test_wrong_options_say_what_to_do(db, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)


# Old finished jobs among jobs to keep, so that batches hold both.
INTERLEAVED = (
    *(("succeeded", OLD), ("queued", None), ("cancelled", OLD)) * 4,
    ("failed", OLD),
    ("succeeded", RECENT),
)


@pytest.mark.django_db(transaction=True)
def test_killed_halfway_then_run_again_ends_like_an_uninterrupted_run(tenant_a, tenant_b) -> None:
    make_jobs(tenant_a, *INTERLEAVED)
    make_jobs(tenant_b, *INTERLEAVED)
    command = (COMMAND, "--older-than", "7d", "--batch-size", "3")
    to_delete = sum(status != "failed" and age == OLD for status, age in INTERLEAVED)  # 8

    # Killed (-9) right after its second batch committed: 6 of alpha's 8 jobs are gone.
    run_killed("jobs", 2, *command, "--tenant", "alpha")
    assert len(left(tenant_a)) == len(INTERLEAVED) - 6
    checkpoint = BackfillCheckpoint.objects.get(command=COMMAND)  # the options in its scope
    assert checkpoint.finished_at is None
    assert checkpoint.counts["finished jobs deleted"] == 6

    out, err = run(*command[1:], "--tenant", "alpha")
    assert "Resuming the run interrupted" in err
    assert f"finished jobs deleted: {to_delete}" in out  # both parts, as one run reports it

    uninterrupted, _ = run(*command[1:], "--tenant", "beta")
    assert f"finished jobs deleted: {to_delete}" in uninterrupted
    assert left(tenant_a) == left(tenant_b)
    assert {status for status, _ in left(tenant_a)} == {"queued", "failed", "succeeded"}

    again, _ = run(*command[1:], "--tenant", "alpha")
    assert "deleted" not in again
    assert len(left(tenant_a)) == len(INTERLEAVED) - to_delete


def test_a_run_with_other_options_does_not_resume_an_interrupted_one(tenant_a) -> None:
    made = make_jobs(tenant_a, ("succeeded", OLD), ("succeeded", RECENT), ("failed", OLD))
    run("--older-than", "7d", "--tenant", "alpha")
    # As if killed after its last batch: unfinished, past every job's key.
    BackfillCheckpoint.objects.filter(command=COMMAND).update(
        finished_at=None, last_key=str(max(made))
    )

    out, err = run("--older-than", "12h", "--include-failed", "--tenant", "alpha")

    assert "Resuming" not in err
    assert "finished jobs deleted: 2" in out
    assert left(tenant_a) == []
