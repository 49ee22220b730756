"""The source pipeline's orchestration: start, what each source needs next, completion,
failures, and the run's steps (SPEC §4, §8).

Stages: fetch (URL sources) → extract → classify → process, each a job type of its own.
Fetch and extract belong to the source (a source in two runs is fetched once); classify
and process work on one run's sources at a time, because near-duplicates and prospects are
relative to the run. Each stage job enqueues the next one in the transaction that records
its result, and the run's pipeline job (`research.run_pipeline`, what Start answers with)
makes sure every source that needs a job has one, then completes the run when every source
has a final decision.

Lost wake-ups are prevented by locks, not timing. Lock order: the run row, then source rows
(by id), then the run's step rows. Whoever moves a source to its next stage holds the
source's row; whoever decides what a source needs next (the pipeline job, adding a source
to a processing run) holds the run's row and then the source's, and reads the stage only
under that lock. Run-level jobs are atomic: their locks and their own "succeeded" commit
together, so an enqueue that finds one of them active knows it has not read the state yet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

import jobs
from ats.actors import Actor
from ats.errors import Conflict
from jobs.models import Job
from research.models import (
    ResearchRun,
    RunSource,
    RunStatus,
    Source,
    SourceKind,
    SourceStage,
    SourceState,
)

from .events import event_record
from .locks import lock_run
from .status import InvalidTransition, run_transition
from .steps import (
    CLASSIFY,
    EXTRACT,
    FETCH,
    MSG_SOURCE_FAILED,
    PROCESS,
    WORKER,
    source_label,
    steps_ensure,
    steps_refresh,
)

logger = logging.getLogger(__name__)

FETCH_JOB_TYPE = "research.source_fetch"
EXTRACT_JOB_TYPE = "research.source_extract"
CLASSIFY_JOB_TYPE = "research.source_classify"
PROCESS_JOB_TYPE = "research.source_process"
PIPELINE_JOB_TYPE = "research.run_pipeline"

STAGE_OF_JOB_TYPE = {
    FETCH_JOB_TYPE: FETCH,
    EXTRACT_JOB_TYPE: EXTRACT,
    CLASSIFY_JOB_TYPE: CLASSIFY,
    PROCESS_JOB_TYPE: PROCESS,
}

MSG_NO_SOURCES = (
    "This run has no sources to process: add text, URLs or files "
    "(POST /api/v1/runs/{id}/sources/) before starting it."
)


# --- jobs and their keys ----------------------------------------------------------------


def source_job_key(stage: str, source_id: int) -> str:
    return f"source:{source_id}:{stage}"


def run_job_key(kind: str, run_id: Any) -> str:
    return f"run:{run_id}:{kind}"


def run_job_prefix(run_id: Any) -> str:
    return f"run:{run_id}:"


def enqueue_source_job(stage: str, source: Source) -> jobs.Job:
    job_type = FETCH_JOB_TYPE if stage == FETCH else EXTRACT_JOB_TYPE
    return jobs.enqueue(
        job_type,
        {"source_id": source.pk},
        tenant=source.tenant,
        unique_key=source_job_key(stage, source.pk),
    )


def enqueue_run_job(job_type: str, run: ResearchRun) -> jobs.Job:
    kind = job_type.rsplit("_", 1)[-1]
    return jobs.enqueue(
        job_type, {"run_id": str(run.pk)}, tenant=run.tenant, unique_key=run_job_key(kind, run.pk)
    )


def enqueue_pipeline(run: ResearchRun) -> jobs.Job:
    return enqueue_run_job(PIPELINE_JOB_TYPE, run)


def _active_keys(tenant_id: int, keys: Iterable[str]) -> set[str]:
    return set(
        Job.objects.active()
        .filter(tenant_id=tenant_id, unique_key__in=list(keys))
        .values_list("unique_key", flat=True)
    )


# --- locks and look-ups ------------------------------------------------------------------


def lock_sources(queryset: Any) -> list[Source]:
    """Lock source rows in id order (the lock order every writer follows)."""
    return list(queryset.select_for_update(of=("self",)).order_by("id"))


def run_pipeline_sources(run: ResearchRun) -> Any:
    return Source.objects.in_pipeline().filter(runsource__run=run)


def processing_runs_of(source_id: int) -> list[ResearchRun]:
    """The runs that are processing this source now."""
    return list(
        ResearchRun.objects.filter(
            runsource__source_id=source_id, status=RunStatus.PROCESSING
        ).select_related("tenant")
    )


def next_stage(source: Source, link: RunSource | None = None) -> str | None:
    """The stage a source needs next for a run (None: it is done for the run)."""
    if source.stage == SourceStage.QUEUED:
        return FETCH if source.kind == SourceKind.URL else EXTRACT
    if source.stage == SourceStage.FETCHED:
        return EXTRACT
    if source.stage == SourceStage.EXTRACTED or link is None or not link.decision:
        return CLASSIFY
    return PROCESS if link.processed_at is None else None


# --- start and the pipeline job ----------------------------------------------------------


def run_start(*, run: ResearchRun, actor: Actor) -> jobs.Job:
    """Draft → processing, and the pipeline job that advances every source. Starting a run
    that is already processing answers its pipeline job (the active one, or a new one that
    checks every source again)."""
    with transaction.atomic():
        run = lock_run(run.pk)
        if run.status == RunStatus.PROCESSING:
            return enqueue_pipeline(run)
        total = run_pipeline_sources(run).count()
        if run.status == RunStatus.DRAFT and not total:
            raise Conflict(MSG_NO_SOURCES.format(id=run.pk))
        run_transition(run=run, action="start", last_error="")
        sources_reset_failed(run=run)  # failed for another run: this one tries again
        steps_ensure(run)
        job = enqueue_pipeline(run)
        event_record(
            run=run,
            event_type="run_started",
            actor=actor,
            message=f"Started: {total} source(s) to fetch, extract, classify and process.",
            data={"sources": total},
            job_id=job.pk,
        )
    return job


def run_pipeline(*, run_id: Any) -> dict[str, Any]:
    """The pipeline job: every source of the run that needs a job gets one; a run whose
    sources all have a final decision is completed. Runs in the job's transaction."""
    run = lock_run(run_id)
    if run.status != RunStatus.PROCESSING:
        return {"skipped": f"run is {run.status}"}
    steps_ensure(run)
    sources = lock_sources(run_pipeline_sources(run))
    links = {link.source_id: link for link in RunSource.objects.filter(run=run)}
    wanted: dict[str, Any] = {}
    for source in sources:
        if source.state == SourceState.FAILED:
            continue
        stage = next_stage(source, links.get(source.pk))
        if stage in (FETCH, EXTRACT):
            wanted[source_job_key(stage, source.pk)] = (stage, source)
        elif stage in (CLASSIFY, PROCESS):
            job_type = CLASSIFY_JOB_TYPE if stage == CLASSIFY else PROCESS_JOB_TYPE
            wanted[run_job_key(stage, run.pk)] = (job_type, None)
    active = _active_keys(run.tenant_id, wanted)
    enqueued = 0
    for key, (what, source) in wanted.items():
        if key in active:
            continue
        if source is not None:
            enqueue_source_job(what, source)
        else:
            enqueue_run_job(what, run)
        enqueued += 1
    steps_refresh(run)
    outcome = run_complete_if_done(run=run)
    return {"sources": len(sources), "jobs_enqueued": enqueued, "outcome": outcome}


def run_complete_if_done(*, run: ResearchRun) -> str:
    """Under the run's lock: succeed the run when every pipeline source has been processed
    for it, fail it when a source failed. Returns the outcome ("pending" otherwise)."""
    links = RunSource.objects.filter(run=run).exclude(source__stage="")
    totals = links.aggregate(
        total=Count("pk"),
        processed=Count("pk", filter=Q(processed_at__isnull=False)),
        failed=Count("pk", filter=Q(source__state=SourceState.FAILED) | ~Q(error="")),
        accept=Count("pk", filter=Q(decision="accept")),
        flag=Count("pk", filter=Q(decision="flag")),
        reject=Count("pk", filter=Q(decision="reject")),
    )
    if totals["failed"]:
        failed = (
            links.filter(Q(source__state=SourceState.FAILED) | ~Q(error=""))
            .select_related("source")
            .order_by("source_id")
            .first()
        )
        assert failed is not None
        source = failed.source
        stage = next_stage(source, failed) if source.state == SourceState.FAILED else PROCESS
        run_fail(
            run=run,
            error=MSG_SOURCE_FAILED.format(
                source=source_label(source), stage=stage, error=failed.error or source.error
            ),
        )
        return "failed"
    if totals["processed"] < totals["total"]:
        return "pending"
    from research.models import Prospect, ProspectStatus

    counts = {
        **run.counts,
        "sources": totals,
        "prospects": Prospect.objects.filter(run=run, status=ProspectStatus.ACTIVE).count(),
    }
    run_transition(run=run, action="succeed", counts=counts)
    event_record(
        run=run,
        event_type="sources_completed",
        actor=WORKER,
        message=(
            f"All {totals['total']} source(s) processed: {totals['accept']} accepted, "
            f"{totals['flag']} flagged, {totals['reject']} rejected; "
            f"{counts['prospects']} prospect(s) in the run."
        ),
        data=counts,
    )
    return "succeeded"


def run_fail(*, run: ResearchRun, error: str, job_id: int | None = None) -> bool:
    """A processing run fails with `error` (False when it was no longer processing)."""
    try:
        run_transition(run=run, action="fail", last_error=error, failed_from=RunStatus.PROCESSING)
    except InvalidTransition:
        return False
    event_record(run=run, event_type="sources_failed", actor=WORKER, message=error, job_id=job_id)
    return True


def sources_reset_failed(*, run: ResearchRun) -> None:
    """The run's failed sources will try their stage again (on start and retry)."""
    Source.objects.filter(runsource__run=run, state=SourceState.FAILED).update(
        state=SourceState.PENDING, error="", updated_at=timezone.now()
    )
    RunSource.objects.filter(run=run).exclude(error="").update(error="")


def run_pipeline_retry(*, run: ResearchRun) -> int:
    """Resume a run whose processing failed (the caller moved it back to processing): its
    failed sources start their stage again, the others go on from where they are."""
    sources_reset_failed(run=run)
    return enqueue_pipeline(run).pk


def jobs_cancel(queryset: Any) -> list[int]:
    """Cancel each job (queued: at once; running: at its next safe point)."""
    cancelled = []
    for job in queryset:
        try:
            jobs.cancel(job)
        except Conflict:
            continue  # it finished in the meantime
        cancelled.append(job.pk)
    return cancelled


def run_jobs_cancel(*, run: ResearchRun) -> list[int]:
    """Cancel a cancelled run's pipeline jobs, and the queued fetch and extract jobs of its
    sources that no other processing run needs. (A running fetch or extract finishes: the
    result is kept for the source, bounded by the fetch deadline and extraction limits.)"""
    cancelled = jobs_cancel(
        Job.objects.active().filter(
            tenant_id=run.tenant_id, unique_key__startswith=run_job_prefix(run.pk)
        )
    )
    # Locked, so that no other run links one of them while we decide (links lock sources).
    source_ids = [s.pk for s in lock_sources(run_pipeline_sources(run))]
    shared = set(
        RunSource.objects.filter(source_id__in=source_ids, run__status=RunStatus.PROCESSING)
        .exclude(run=run)
        .values_list("source_id", flat=True)
    )
    keys = [
        source_job_key(stage, source_id)
        for source_id in source_ids
        if source_id not in shared
        for stage in (FETCH, EXTRACT)
    ]
    return cancelled + jobs_cancel(
        Job.objects.filter(
            tenant_id=run.tenant_id, unique_key__in=keys, status=jobs.JobStatus.QUEUED
        )
    )
