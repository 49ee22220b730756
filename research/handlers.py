"""Job handlers of the research app (autodiscovered by the jobs app). Thin wrappers around
services."""

from __future__ import annotations

import logging
from typing import Any

import jobs
from ats.errors import ServiceError
from research.models import Bundle, ResearchRun, Source
from research.services import pipeline, pipeline_hooks, stages
from research.services.bundles import (
    INGEST_JOB_TYPE,
    bundle_ingest_cancelled,
    bundle_ingest_retried,
    bundle_mark_failed,
)
from research.services.ingest import bundle_ingest
from research.services.lists import LIST_JOB_TYPE, list_ingest

logger = logging.getLogger(__name__)


def _ingest_failed(job: jobs.Job, exc: BaseException) -> None:
    """After the last attempt: the bundle and its run are marked failed, with the reason."""
    bundle_mark_failed(
        bundle_id=job.payload["bundle_id"], error=f"{type(exc).__name__}: {exc}", job_id=job.pk
    )


def _ingest_cancelled(job: jobs.Job) -> None:
    bundle_ingest_cancelled(bundle_id=job.payload["bundle_id"], job_id=job.pk)


def _ingest_retried(job: jobs.Job) -> None:
    bundle_ingest_retried(bundle_id=job.payload["bundle_id"], job_id=job.pk)


@jobs.handler(
    INGEST_JOB_TYPE,
    atomic=True,
    max_attempts=3,
    on_failure=_ingest_failed,
    on_cancel=_ingest_cancelled,
    on_retry=_ingest_retried,
)
def ingest_bundle(job: jobs.Job, *, bundle_id: str) -> dict:
    # bundle_ingest reads the payload (megabytes of JSON) itself, in its transaction.
    bundle = Bundle.objects.filter(pk=bundle_id, tenant_id=job.tenant_id).defer("payload").first()
    if bundle is None:
        raise jobs.PermanentError(f"Bundle {bundle_id} does not exist in the job's tenant.")
    try:
        counts = bundle_ingest(bundle=bundle, checkpoint=job.raise_if_cancelled)
    except ServiceError as exc:  # invalid bundle, run no longer ingesting: retrying won't help
        raise jobs.PermanentError(exc.message) from exc
    result = {k: v for k, v in counts.as_dict().items() if k != "merged_proposals"}
    # Logged with the request id of the approval that enqueued the job (jobs binds it).
    logger.info(
        "Bundle %s ingested: %s companies new, %s matched, %s prospects created, %s updated.",
        bundle_id,
        counts.companies_new,
        counts.companies_matched,
        counts.prospects_created,
        counts.prospects_updated,
        extra={"bundle_id": bundle_id},
    )
    return result


@jobs.handler(LIST_JOB_TYPE, atomic=True, max_attempts=3)
def ingest_list(job: jobs.Job, *, run_id: str, source_id: int, format: str) -> dict:
    run = ResearchRun.objects.filter(pk=run_id, tenant_id=job.tenant_id).first()
    source = Source.objects.filter(pk=source_id, tenant_id=job.tenant_id).first()
    if run is None or source is None:
        raise jobs.PermanentError(f"Run {run_id} or source {source_id} is not in the job's tenant.")
    try:
        return list_ingest(run=run, source=source, fmt=format, job_id=job.pk)
    except ServiceError as exc:
        raise jobs.PermanentError(exc.message) from exc


# --- the source pipeline (research.services.pipeline) ------------------------------------


def _error_text(exc: BaseException) -> str:
    cause = exc.__cause__ if isinstance(exc, stages.SourceStageError) else exc
    return f"{type(cause).__name__}: {cause}"


def _stage_failed(job: jobs.Job, exc: BaseException) -> None:
    """After the last attempt: the source (or the run's stage) is failed, and so is the run,
    with `last_error` naming the source and the stage."""
    stage = pipeline.STAGE_OF_JOB_TYPE.get(job.job_type, "pipeline")
    if "source_id" in job.payload:
        pipeline_hooks.source_stage_failed(
            source_id=job.payload["source_id"], stage=stage, error=_error_text(exc), job_id=job.pk
        )
    else:
        pipeline_hooks.run_stage_failed(
            run_id=job.payload["run_id"],
            stage=stage,
            error=_error_text(exc),
            source_id=exc.source_id if isinstance(exc, stages.SourceStageError) else None,
            job_id=job.pk,
        )


def _stage_cancelled(job: jobs.Job) -> None:
    pipeline_hooks.pipeline_job_cancelled(job=job)


def _stage_retried(job: jobs.Job) -> None:
    pipeline_hooks.pipeline_job_retried(job=job)


PIPELINE_HOOKS: dict[str, Any] = {
    "on_failure": _stage_failed,
    "on_cancel": _stage_cancelled,
    "on_retry": _stage_retried,
}


def _source(job: jobs.Job, source_id: int) -> Source:
    source = Source.objects.filter(pk=source_id, tenant_id=job.tenant_id).first()
    if source is None:
        raise jobs.PermanentError(f"Source {source_id} does not exist in the job's tenant.")
    return source


# Fetch and extract are long (network, parsing): not atomic, they record their result in a
# short transaction of their own. Timeouts are above the fetcher's deadline and the PDF
# subprocess's limit, enforced at the stage's safe points.
@jobs.handler(pipeline.FETCH_JOB_TYPE, max_attempts=3, timeout=120, **PIPELINE_HOOKS)
def source_fetch(job: jobs.Job, *, source_id: int) -> dict:
    return stages.source_fetch(
        source=_source(job, source_id),
        final_attempt=job.attempts >= job.max_attempts,
        checkpoint=job.raise_if_cancelled,
    )


@jobs.handler(pipeline.EXTRACT_JOB_TYPE, max_attempts=3, timeout=300, **PIPELINE_HOOKS)
def source_extract(job: jobs.Job, *, source_id: int) -> dict:
    return stages.source_extract(source=_source(job, source_id))


# The run-level jobs are atomic: they hold the run's row until their own success commits,
# which is what makes "enqueue the run's job" safe against lost wake-ups.
@jobs.handler(pipeline.CLASSIFY_JOB_TYPE, atomic=True, max_attempts=3, **PIPELINE_HOOKS)
def source_classify(job: jobs.Job, *, run_id: str) -> dict:
    return stages.run_sources_classify(run_id=_run_id(job, run_id), job_id=job.pk)


@jobs.handler(pipeline.PROCESS_JOB_TYPE, atomic=True, max_attempts=3, **PIPELINE_HOOKS)
def source_process(job: jobs.Job, *, run_id: str) -> dict:
    return stages.run_sources_process(run_id=_run_id(job, run_id), job_id=job.pk)


@jobs.handler(pipeline.PIPELINE_JOB_TYPE, atomic=True, max_attempts=3, **PIPELINE_HOOKS)
def run_pipeline(job: jobs.Job, *, run_id: str) -> dict:
    return pipeline.run_pipeline(run_id=_run_id(job, run_id))


def _run_id(job: jobs.Job, run_id: str) -> str:
    if not ResearchRun.objects.filter(pk=run_id, tenant_id=job.tenant_id).exists():
        raise jobs.PermanentError(f"Run {run_id} does not exist in the job's tenant.")
    return run_id
