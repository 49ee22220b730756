"""What the pipeline's stage jobs do when they fail for good, are cancelled or are
retried (their `on_failure`, `on_cancel` and `on_retry` hooks): the owning runs follow, so
that none stays `processing` without a job working for it."""

from __future__ import annotations

import contextlib
from typing import Any

from django.utils import timezone

import jobs
from ats.actors import Actor
from ats.errors import Conflict
from research.models import ResearchRun, RunSource, RunStatus, Source, SourceStage, SourceState

from .locks import lock_run
from .pipeline import STAGE_OF_JOB_TYPE, next_stage, processing_runs_of, run_fail
from .status import InvalidTransition
from .steps import CLASSIFY, MSG_SOURCE_FAILED, source_label, steps_refresh

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
