"""The source pipeline's steps of a run: one row per stage (fetch, extract, classify,
process) with its status, timing, counts and first error, kept up to date with the run's
sources, and an event when a stage completes."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from ats.actors import Actor
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

WORKER = Actor.system("worker")

# Stage names as runs' steps, events and errors show them, in order.
FETCH, EXTRACT, CLASSIFY, PROCESS = "fetch", "extract", "classify", "process"
STAGES = (FETCH, EXTRACT, CLASSIFY, PROCESS)
STEP_TYPES = {
    FETCH: StepType.FETCH,
    EXTRACT: StepType.EXTRACT,
    CLASSIFY: StepType.CLASSIFY,
    PROCESS: StepType.PROCESS,
}
MSG_SOURCE_FAILED = "Source {source} failed at {stage}: {error}"


def source_label(source: Source) -> str:
    name = source.title or source.url or (source.sha256 or "")[:12]
    return f"#{source.pk} “{name[:120]}”" if name else f"#{source.pk}"


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
        # The run's row first, then its steps: the order every writer of the pipeline follows
        # (run, sources, steps). The events written here check their run at commit (a
        # deferred foreign key), which must not wait for a writer that waits for a step.
        status = (
            ResearchRun.objects.select_for_update(of=("self",))
            .filter(pk=run.pk)
            .values_list("status", flat=True)
            .first()
        )
        steps = {
            s.step_key: s
            # Only the step rows (`of`), in a fixed order: the model's default ordering joins
            # the run, whose row FOR UPDATE would then lock as well.
            for s in RunStep.objects.select_for_update(of=("self",))
            .filter(run=run, bundle__isnull=True)
            .order_by("order", "id")
        }
        if not steps:
            return
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
    source = (
        Source.objects.in_pipeline()
        .filter(runsource__run=run, state=SourceState.FAILED)
        .order_by("id")
        .first()
    )
    return (
        MSG_SOURCE_FAILED.format(source=source_label(source), stage=stage, error=source.error)
        if source
        else ""
    )


def steps_refresh_for(runs: Iterable[ResearchRun]) -> None:
    for run in runs:
        steps_refresh(run)
