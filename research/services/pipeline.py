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

import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
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
    RunStep,
    Source,
    SourceKind,
    SourceStage,
    SourceState,
    StepStatus,
    StepType,
)

from .events import event_record
from .status import InvalidTransition, run_transition

logger = logging.getLogger(__name__)

WORKER = Actor.system("worker")

FETCH_JOB_TYPE = "research.source_fetch"
EXTRACT_JOB_TYPE = "research.source_extract"
CLASSIFY_JOB_TYPE = "research.source_classify"
PROCESS_JOB_TYPE = "research.source_process"
PIPELINE_JOB_TYPE = "research.run_pipeline"

# Stage names as runs' steps, events and errors show them, in order.
FETCH, EXTRACT, CLASSIFY, PROCESS = "fetch", "extract", "classify", "process"
STAGES = (FETCH, EXTRACT, CLASSIFY, PROCESS)
STAGE_OF_JOB_TYPE = {
    FETCH_JOB_TYPE: FETCH,
    EXTRACT_JOB_TYPE: EXTRACT,
    CLASSIFY_JOB_TYPE: CLASSIFY,
    PROCESS_JOB_TYPE: PROCESS,
}
STEP_TYPES = {
    FETCH: StepType.FETCH,
    EXTRACT: StepType.EXTRACT,
    CLASSIFY: StepType.CLASSIFY,
    PROCESS: StepType.PROCESS,
}

MSG_NO_SOURCES = (
    "This run has no sources to process: add text, URLs or files "
    "(POST /api/v1/runs/{id}/sources/) before starting it."
)
MSG_SOURCE_FAILED = "Source {source} failed at {stage}: {error}"
MSG_RUN_STAGE_FAILED = "The {stage} stage of the run's sources failed: {error}"
MSG_JOB_CANCELLED = "Cancelled because job #{job_id} ({job_type}) was cancelled."
MSG_RETRY_NOT_WAITED_FOR = (
    "No run is waiting for this job: its run(s) are {statuses}. Start a new run to process "
    "the source again."
)
MSG_RETRY_RUN_FINAL = (
    "This job belongs to a run that is {status}; retrying the job cannot change that. "
    "Retry the run instead when it failed, or start a new run."
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


def lock_run(run_id: Any) -> ResearchRun:
    return ResearchRun.objects.select_for_update().select_related("tenant").get(pk=run_id)


def lock_sources(queryset: Any) -> list[Source]:
    """Lock source rows in id order (the lock order every writer follows)."""
    if connection.features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    else:
        queryset = queryset.select_for_update()
    return list(queryset.order_by("id"))


def run_pipeline_sources(run: ResearchRun) -> Any:
    return Source.objects.in_pipeline().filter(runsource__run=run)


def processing_runs_of(source_id: int) -> list[ResearchRun]:
    """The runs that are processing this source now."""
    return list(
        ResearchRun.objects.filter(
            runsource__source_id=source_id, status=RunStatus.PROCESSING
        ).select_related("tenant")
    )


def source_label(source: Source) -> str:
    name = source.title or source.url or (source.sha256 or "")[:12]
    return f"#{source.pk} “{name[:120]}”" if name else f"#{source.pk}"


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


def run_pipeline_retry(*, run: ResearchRun) -> int:
    """Resume a run whose processing failed (the caller moved it back to processing): its
    failed sources start their stage again, the others go on from where they are."""
    Source.objects.filter(runsource__run=run, state=SourceState.FAILED).update(
        state=SourceState.PENDING, error="", updated_at=timezone.now()
    )
    RunSource.objects.filter(run=run).exclude(error="").update(error="")
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


# --- steps -------------------------------------------------------------------------------


def steps_ensure(run: ResearchRun) -> None:
    """The run's four pipeline steps exist (created queued on first start)."""
    existing = set(
        RunStep.objects.filter(run=run, bundle__isnull=True).values_list("step_key", flat=True)
    )
    RunStep.objects.bulk_create(
        RunStep(
            tenant_id=run.tenant_id,
            run=run,
            step_key=stage,
            step_type=STEP_TYPES[stage],
            order=order,
            status=StepStatus.QUEUED,
        )
        for order, stage in enumerate(STAGES, 1)
        if stage not in existing
    )


def _stage_counts(run: ResearchRun) -> dict[str, dict[str, int]]:
    """Per stage: sources that need it, that passed it, are in it, and failed in it."""
    at = "source__stage"
    url = Q(source__kind=SourceKind.URL)
    running, failed = Q(source__state=SourceState.RUNNING), Q(source__state=SourceState.FAILED)
    before_extract = Q(**{f"{at}": SourceStage.FETCHED}) | (Q(**{at: SourceStage.QUEUED}) & ~url)
    extracted_or_later = Q(**{f"{at}__in": [SourceStage.EXTRACTED, SourceStage.CLASSIFIED]})
    decided = ~Q(decision="")

    def count(condition: Q) -> Count:
        return Count("pk", filter=condition)

    totals = (
        RunSource.objects.filter(run=run)
        .exclude(source__stage="")
        .aggregate(
            total=count(Q()),
            fetch_total=count(url),
            fetch_done=count(url & ~Q(**{at: SourceStage.QUEUED})),
            fetch_running=count(url & Q(**{at: SourceStage.QUEUED}) & running),
            fetch_failed=count(url & Q(**{at: SourceStage.QUEUED}) & failed),
            extract_done=count(extracted_or_later),
            extract_running=count(before_extract & running),
            extract_failed=count(before_extract & failed),
            classify_done=count(decided),
            classify_failed=count(Q(**{at: SourceStage.EXTRACTED}) & failed),
            process_done=count(Q(processed_at__isnull=False)),
            process_failed=count(~Q(error="")),
        )
    )
    return {
        stage: {
            "total": totals["fetch_total"] if stage == FETCH else totals["total"],
            "done": totals[f"{stage}_done"],
            "running": totals.get(f"{stage}_running", 0),
            "failed": totals[f"{stage}_failed"],
        }
        for stage in STAGES
    }


def steps_refresh(run: ResearchRun) -> None:
    """Bring the run's pipeline steps up to date with its sources: status, timing, counts,
    and an event when a stage completes. Serialized by the step rows' locks, so the last
    refresh to write has read everything committed before it."""
    with transaction.atomic():
        steps = {
            s.step_key: s
            for s in RunStep.objects.select_for_update().filter(run=run, bundle__isnull=True)
        }
        if not steps:
            return
        status = ResearchRun.objects.filter(pk=run.pk).values_list("status", flat=True).first()
        counts = _stage_counts(run)
        now = timezone.now()
        for stage, step in steps.items():
            c = counts.get(stage)
            if c is None:
                continue
            if c["total"] == 0 and stage == FETCH:
                new_status = StepStatus.SKIPPED
            elif c["failed"]:
                new_status = StepStatus.FAILED
            elif c["done"] >= c["total"]:
                new_status = StepStatus.OK
            elif status == RunStatus.PROCESSING:
                new_status = StepStatus.RUNNING
            elif status == RunStatus.CANCELLED:
                new_status = StepStatus.SKIPPED
            else:
                new_status = StepStatus.QUEUED
            finished = new_status in (StepStatus.OK, StepStatus.FAILED, StepStatus.SKIPPED)
            error = _stage_error(run, stage) if new_status == StepStatus.FAILED else ""
            changes = {
                "status": new_status,
                "outputs": c,
                "error": error,
                "started_at": step.started_at
                or (now if new_status != StepStatus.QUEUED and c["total"] else None),
                "finished_at": (step.finished_at or now) if finished else None,
            }
            if all(getattr(step, k) == v for k, v in changes.items()):
                continue
            became_ok = new_status == StepStatus.OK and step.status != StepStatus.OK
            for name, value in changes.items():
                setattr(step, name, value)
            step.save(update_fields=list(changes))
            if became_ok and c["total"]:
                run.status = status or run.status
                event_record(
                    run=run,
                    event_type="stage_completed",
                    actor=WORKER,
                    message=f"Stage {stage}: {c['done']} of {c['total']} source(s) done.",
                    data={"stage": stage, **c},
                )


def _stage_error(run: ResearchRun, stage: str) -> str:
    if stage == PROCESS:
        link = RunSource.objects.filter(run=run).exclude(error="").order_by("source_id").first()
        return link.error if link else ""
    source = run_pipeline_sources(run).filter(state=SourceState.FAILED).order_by("id").first()
    return (
        MSG_SOURCE_FAILED.format(source=source_label(source), stage=stage, error=source.error)
        if source
        else ""
    )


def steps_refresh_for(runs: Iterable[ResearchRun]) -> None:
    for run in runs:
        steps_refresh(run)


# --- failures, cancellations and retries of stage jobs (the jobs' hooks) ----------------


def source_stage_failed(*, source_id: int, stage: str, error: str, job_id: int | None) -> None:
    """A fetch or extract job failed for good: the source is failed in that stage and the
    runs processing it fail, naming the source and the stage."""
    runs = processing_runs_of(source_id)
    for run in sorted(runs, key=lambda r: str(r.pk)):
        lock_run(run.pk)
    source = Source.objects.select_for_update().filter(pk=source_id).first()
    if source is None or next_stage(source) != stage:
        return  # the stage was completed after all (the failure came later)
    source.state, source.error, source.updated_at = SourceState.FAILED, error, timezone.now()
    source.save(update_fields=["state", "error", "updated_at"])
    message = MSG_SOURCE_FAILED.format(source=source_label(source), stage=stage, error=error)
    for run in runs:
        run_fail(run=run, error=message, job_id=job_id)
        steps_refresh(run)


def run_stage_failed(
    *, run_id: Any, stage: str, error: str, source_id: int | None, job_id: int | None
) -> None:
    """A classify, process or pipeline job of a run failed for good: the run fails, naming
    the source when one was at fault."""
    run = lock_run(run_id)
    if source_id is not None:
        source = Source.objects.select_for_update().filter(pk=source_id).first()
        if source is not None:
            if stage == CLASSIFY and source.stage == SourceStage.EXTRACTED:
                source.state, source.error = SourceState.FAILED, error
                source.save(update_fields=["state", "error"])
            else:
                RunSource.objects.filter(run=run, source=source).update(error=error)
            message = MSG_SOURCE_FAILED.format(
                source=source_label(source), stage=stage, error=error
            )
        else:
            message = MSG_RUN_STAGE_FAILED.format(stage=stage, error=error)
    else:
        message = MSG_RUN_STAGE_FAILED.format(stage=stage, error=error)
    run_fail(run=run, error=message, job_id=job_id)
    steps_refresh(run)


def runs_waiting_for_job(job: jobs.Job) -> list[ResearchRun]:
    """The runs a pipeline job works for: its run, or the processing runs that still need
    the job's stage of its source."""
    if "run_id" in job.payload:
        return list(ResearchRun.objects.filter(pk=job.payload["run_id"], tenant_id=job.tenant_id))
    stage = STAGE_OF_JOB_TYPE[job.job_type]
    source = Source.objects.filter(pk=job.payload["source_id"], tenant_id=job.tenant_id).first()
    if source is None or next_stage(source) != stage:
        return []
    return list(ResearchRun.objects.filter(runsource__source=source).select_related("tenant"))


def pipeline_job_cancelled(*, job: jobs.Job) -> None:
    """A pipeline job was cancelled (from the jobs admin or API): the processing runs that
    waited for it are cancelled, so none stays `processing` without work."""
    from .runs import run_cancel

    for run in runs_waiting_for_job(job):
        if run.status != RunStatus.PROCESSING:
            continue
        with contextlib.suppress(InvalidTransition):  # it finished meanwhile
            run_cancel(
                run=run,
                actor=Actor.system("jobs"),
                reason=MSG_JOB_CANCELLED.format(job_id=job.pk, job_type=job.job_type),
            )


def pipeline_job_retried(*, job: jobs.Job) -> None:
    """A failed or cancelled pipeline job is queued again (jobs admin or API): its failed
    runs are retried through the run's retry; runs that can no longer use it refuse."""
    from .runs import run_retry

    runs = runs_waiting_for_job(job)
    if not runs:
        raise Conflict(MSG_RETRY_NOT_WAITED_FOR.format(statuses="none"))
    waiting = [r for r in runs if r.status in (RunStatus.PROCESSING, RunStatus.FAILED)]
    if not waiting:
        statuses = ", ".join(sorted({r.status for r in runs}))
        if "run_id" in job.payload:
            raise Conflict(MSG_RETRY_RUN_FINAL.format(status=statuses))
        raise Conflict(MSG_RETRY_NOT_WAITED_FOR.format(statuses=statuses))
    if "source_id" in job.payload:
        Source.objects.filter(pk=job.payload["source_id"], state=SourceState.FAILED).update(
            state=SourceState.PENDING, error=""
        )
    for run in waiting:
        if run.status == RunStatus.FAILED and run.failed_from == RunStatus.PROCESSING:
            run_retry(run=run, actor=Actor.system("jobs"))
