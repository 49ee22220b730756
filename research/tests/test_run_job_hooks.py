"""Cancelling or retrying a job from the jobs admin or API goes through the owning run
(`on_cancel` / `on_retry`), and cancelling a run never waits for its ingestion."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import override_settings

import jobs
from ats.actors import Actor
from ats.errors import Conflict
from ats.models import Company
from jobs.models import Job, JobStatus
from jobs.worker import Worker
from research.models import (
    Bundle,
    BundleStatus,
    Prospect,
    ResearchRun,
    RunEvent,
    RunStatus,
    Source,
    SourceState,
)
from research.services import bundles as bundle_services
from research.services import ingest, pipeline, pipeline_hooks
from research.services.runs import run_cancel
from research.services.sources import SourceNew, sources_add

from . import builders

SYSTEM = Actor.system("test")


def approved(run: ResearchRun, companies: int = 3) -> Job:
    payload = builders.generated_bundle(run.pk, companies=companies)
    bundle = bundle_services.bundle_upload(run=run, payload=payload, actor=SYSTEM).bundle
    bundle_services.bundle_approve(bundle=bundle, actor=SYSTEM)
    return Job.objects.get(pk=bundle.ingest_job_id)


def started_with_url(run: ResearchRun) -> Source:
    new = SourceNew(kind="url", title="", url="https://news.example.org/acme")
    source = sources_add(run=run, sources=[new], actor=SYSTEM)[0].source
    pipeline.run_start(run=run, actor=SYSTEM)
    Job.objects.filter(job_type=pipeline.PIPELINE_JOB_TYPE).update(status=JobStatus.SUCCEEDED)
    with transaction.atomic():
        pipeline.run_pipeline(run_id=run.pk)  # what the pipeline job does: queue the fetch
    return source


def fetch_job(source: Source) -> Job:
    return Job.objects.get(job_type=pipeline.FETCH_JOB_TYPE, payload__source_id=source.pk)


def status(run: ResearchRun) -> str:
    return ResearchRun.objects.get(pk=run.pk).status


def test_cancelling_the_ingest_job_cancels_the_run(run_a) -> None:
    job = approved(run_a)
    jobs.cancel(job)
    assert status(run_a) == RunStatus.CANCELLED
    event = RunEvent.objects.filter(run=run_a, event_type="run_cancelled").get()
    assert f"job #{job.pk}" in event.message and event.actor == "system:jobs"


def test_retrying_a_failed_ingest_job_goes_through_the_run_retry(run_a) -> None:
    job = approved(run_a)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    bundle_services.bundle_mark_failed(bundle_id=job.payload["bundle_id"], error="x", job_id=job.pk)
    assert status(run_a) == RunStatus.FAILED

    jobs.retry(job)
    assert status(run_a) == RunStatus.INGESTING
    assert Bundle.objects.get(run=run_a).status == BundleStatus.APPROVED
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert Job.objects.count() == 1  # the run's retry reused the job being retried
    assert RunEvent.objects.filter(run=run_a, event_type="run_retried").exists()


def test_retrying_the_ingest_job_of_a_cancelled_run_is_refused(run_a) -> None:
    job = approved(run_a)
    run_cancel(run=run_a, actor=SYSTEM)
    with pytest.raises(Conflict, match="cancelled"):
        jobs.retry(Job.objects.get(pk=job.pk))
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED


def test_cancelling_a_stage_job_cancels_the_processing_run(run_a) -> None:
    source = started_with_url(run_a)
    job = fetch_job(source)
    jobs.cancel(job)
    assert status(run_a) == RunStatus.CANCELLED


def test_cancelling_the_run_cancels_its_queued_jobs(run_a) -> None:
    source = started_with_url(run_a)
    run_cancel(run=run_a, actor=SYSTEM)
    assert fetch_job(source).status == JobStatus.CANCELLED
    assert not Job.objects.active().exists()


def test_retrying_a_failed_stage_job_resumes_the_failed_run(run_a) -> None:
    source = started_with_url(run_a)
    job = fetch_job(source)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
    with transaction.atomic():
        pipeline_hooks.source_stage_failed(
            source_id=source.pk, stage="fetch", error="RuntimeError: boom", job_id=job.pk
        )
    run = ResearchRun.objects.get(pk=run_a.pk)
    assert run.status == RunStatus.FAILED
    label = f"Source #{source.pk} “https://news.example.org/acme”"
    assert run.last_error == f"{label} failed at fetch: RuntimeError: boom"

    jobs.retry(job)
    assert status(run_a) == RunStatus.PROCESSING
    assert Source.objects.get(pk=source.pk).state == SourceState.PENDING
    assert Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    # The run's pipeline job is queued too; it finds the fetch job active and adds nothing.
    assert Job.objects.active().count() == 2


def test_retrying_a_stage_job_of_a_cancelled_run_is_refused(run_a) -> None:
    source = started_with_url(run_a)
    job = fetch_job(source)
    run_cancel(run=run_a, actor=SYSTEM)
    with pytest.raises(Conflict, match="cancelled"):
        jobs.retry(Job.objects.get(pk=job.pk))


@pytest.mark.django_db(transaction=True)
@override_settings(JOBS_HEARTBEAT_INTERVAL=0.2, JOBS_POLL_INTERVAL=0.05)
def test_cancel_during_ingestion_answers_at_once_and_rolls_back(
    analyst_client, run_a, tenant_a, monkeypatch
) -> None:
    job = approved(run_a, companies=5)
    reached, release = threading.Event(), threading.Event()
    add_aliases = ingest._add_aliases

    def held_after_companies(**kwargs):  # between two phases, the transaction still open
        reached.set()
        assert release.wait(30)
        return add_aliases(**kwargs)

    monkeypatch.setattr(ingest, "_add_aliases", held_after_companies)

    def work() -> None:
        try:
            Worker(burst=True, poll_interval=0.05).run()
        finally:
            connections.close_all()  # this thread's connection

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert reached.wait(30), "the ingestion did not start"
        if connection.vendor == "postgresql":
            # A cancel that waited for the ingestion's locks would fail here, not hang.
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '5s'")
        response = analyst_client.post(f"/api/v1/runs/{run_a.pk}/cancel/")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "cancelled"
        running = Job.objects.get(pk=job.pk)
        assert (running.status, running.cancel_requested) == (JobStatus.RUNNING, True)
    finally:
        release.set()
        worker.join(60)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    assert status(run_a) == RunStatus.CANCELLED
    assert not Prospect.objects.exists()
    assert not Company.objects.filter(tenant=tenant_a).exists()  # created, then rolled back
    assert RunEvent.objects.filter(run=run_a, event_type="ingest_cancelled").exists()
