"""Job handlers of the research app (autodiscovered by the jobs app). Thin wrappers around
services."""

from __future__ import annotations

import logging

import jobs
from ats.errors import ServiceError
from research.models import Bundle, ResearchRun, Source
from research.services.bundles import INGEST_JOB_TYPE, bundle_mark_failed
from research.services.ingest import bundle_ingest
from research.services.lists import LIST_JOB_TYPE, list_ingest

logger = logging.getLogger(__name__)


def _ingest_failed(job: jobs.Job, exc: BaseException) -> None:
    """After the last attempt: the bundle and its run are marked failed, with the reason."""
    bundle_mark_failed(
        bundle_id=job.payload["bundle_id"], error=f"{type(exc).__name__}: {exc}", job_id=job.pk
    )


@jobs.handler(INGEST_JOB_TYPE, atomic=True, max_attempts=3, on_failure=_ingest_failed)
def ingest_bundle(job: jobs.Job, *, bundle_id: str) -> dict:
    bundle = Bundle.objects.filter(pk=bundle_id, tenant_id=job.tenant_id).first()
    if bundle is None:
        raise jobs.PermanentError(f"Bundle {bundle_id} does not exist in the job's tenant.")
    try:
        counts = bundle_ingest(bundle=bundle, checkpoint=job.raise_if_cancelled)
    except ServiceError as exc:  # invalid bundle, run no longer ingesting: retrying won't help
        raise jobs.PermanentError(exc.message) from exc
    return {k: v for k, v in counts.as_dict().items() if k != "merged_proposals"}


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
