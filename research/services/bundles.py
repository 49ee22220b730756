"""Bundles: upload, review (approve / reject), and the ingest job's bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

import jobs
from ats.actors import Actor
from ats.errors import Conflict, FieldError, InvalidInput
from research.inputs import RejectDecision
from research.models import Bundle, BundleStatus, ResearchRun, RunStatus, RunStep
from research.schemas import BundleValidation, validate_bundle

from .events import event_record
from .status import bundle_transition, run_transition

INGEST_JOB_TYPE = "research.ingest_bundle"
MSG_INVALID_BUNDLE = "The bundle is invalid: {count} error(s); see errors."
MSG_NO_PENDING_BUNDLE = "No bundle of this run awaits review."
MSG_NO_FAILED_BUNDLE = "This run has no bundle whose ingestion failed."
# The upload answer and the event keep this many warnings; the bundle keeps all.
WARNINGS_SHOWN = 200


@dataclass(frozen=True)
class UploadResult:
    bundle: Bundle
    already_accepted: bool
    superseded: Bundle | None = None


def bundle_validate(*, run: ResearchRun, payload: object) -> BundleValidation:
    """Validate without storing anything (the `validate` endpoint and the upload itself)."""
    return validate_bundle(payload, expected_run_id=run.id, max_issues=None)


def ingest_unique_key(bundle: Bundle) -> str:
    return f"ingest-bundle:{bundle.pk}"


def bundle_upload(*, run: ResearchRun, payload: object, actor: Actor) -> UploadResult:
    """Store a valid bundle for review; the run goes to `needs_review`.

    The same content again returns the stored bundle and changes nothing. A different
    bundle supersedes the one awaiting review. An invalid bundle stores nothing.
    """
    validation = bundle_validate(run=run, payload=payload)
    if not validation.ok:
        raise InvalidInput(
            MSG_INVALID_BUNDLE.format(count=len(validation.errors)),
            errors=[FieldError(i.loc, i.msg, i.type) for i in validation.errors],
        )
    assert validation.bundle is not None and validation.counts is not None
    with transaction.atomic():
        # Uploads to one run are serialized by the run's row lock.
        run = ResearchRun.objects.select_for_update().get(pk=run.pk)
        existing = Bundle.objects.filter(run=run, sha256=validation.sha256).first()
        if existing is not None:
            return UploadResult(bundle=existing, already_accepted=True)
        superseded = Bundle.objects.filter(run=run).pending().first()
        if superseded is not None:
            bundle_transition(bundle=superseded, action="supersede")
        warnings = [issue.as_dict() for issue in validation.warnings]
        counts = validation.counts.as_dict()
        bundle = Bundle.objects.create(
            tenant_id=run.tenant_id,
            run=run,
            sha256=validation.sha256,
            payload=payload,
            counts=counts,
            validation_warnings=warnings,
            uploaded_by=actor.user,
            uploaded_by_actor=actor.label,
        )
        RunStep.objects.bulk_create(
            RunStep(
                tenant_id=run.tenant_id,
                run=run,
                bundle=bundle,
                step_key=step.step_key,
                step_type=step.step_type,
                order=order,
                status=step.status,
                inputs=step.inputs_json,
                outputs=step.outputs_json,
                provider_meta=step.provider_meta,
                started_at=step.started_at,
                finished_at=step.finished_at,
                output_sha256=step.output_sha256 or "",
                error=step.error or "",
            )
            for order, step in enumerate(validation.bundle.steps)
        )
        run_transition(run=run, action="upload", counts={"bundle": counts}, last_error="")
        if superseded is not None:
            event_record(
                run=run,
                event_type="bundle_superseded",
                actor=actor,
                message=f"Bundle {superseded.sha256[:12]} superseded by a newer upload.",
                data={"bundle_id": str(superseded.pk), "superseded_by": str(bundle.pk)},
            )
        event_record(
            run=run,
            event_type="bundle_uploaded",
            actor=actor,
            message=(
                f"Bundle {bundle.sha256[:12]} uploaded: {counts['companies']} companies, "
                f"{counts['sources']} sources, {len(warnings)} warning(s)."
            ),
            data={
                "bundle_id": str(bundle.pk),
                "sha256": bundle.sha256,
                "counts": counts,
                "warnings": len(warnings),
            },
        )
    return UploadResult(bundle=bundle, already_accepted=False, superseded=superseded)


def pending_bundle(run: ResearchRun) -> Bundle:
    """The run's bundle awaiting review (with `run` attached), or Conflict (409)."""
    bundle = Bundle.objects.filter(run=run).pending().first()
    if bundle is None:
        raise Conflict(MSG_NO_PENDING_BUNDLE)
    bundle.run = run
    return bundle


def _review(actor: Actor, note: str) -> dict[str, Any]:
    """The bundle's review fields, as one approval or rejection sets them."""
    return {
        "reviewed_by": actor.user,
        "reviewed_by_actor": actor.label,
        "reviewed_at": timezone.now(),
        "review_note": note,
    }


def bundle_approve(*, bundle: Bundle, actor: Actor, note: str = "") -> Bundle:
    """Approve the bundle and enqueue its ingestion, in one transaction.

    Of two reviewers approving at once, one wins; the other gets InvalidTransition (409).
    """
    with transaction.atomic():
        bundle_transition(bundle=bundle, action="approve", **_review(actor, note))
        run = bundle.run
        run_transition(run=run, action="approve", last_error="")
        job = _enqueue_ingest(bundle)
        event_record(
            run=run,
            event_type="bundle_approved",
            actor=actor,
            message=f"Bundle {bundle.sha256[:12]} approved; ingestion queued."
            + (f" Note: {note}" if note else ""),
            data={"bundle_id": str(bundle.pk), "note": note},
            job_id=job.pk,
        )
    return bundle


def _enqueue_ingest(bundle: Bundle) -> jobs.Job:
    job = jobs.enqueue(
        INGEST_JOB_TYPE,
        {"bundle_id": str(bundle.pk)},
        tenant=bundle.run.tenant,
        unique_key=ingest_unique_key(bundle),
    )
    Bundle.objects.filter(pk=bundle.pk).update(ingest_job=job)
    bundle.ingest_job = job
    return job


def bundle_reject(*, bundle: Bundle, actor: Actor, decision: RejectDecision) -> Bundle:
    with transaction.atomic():
        bundle_transition(bundle=bundle, action="reject", **_review(actor, decision.note))
        run_transition(run=bundle.run, action="reject")
        event_record(
            run=bundle.run,
            event_type="bundle_rejected",
            actor=actor,
            message=f"Bundle {bundle.sha256[:12]} rejected: {decision.note}",
            data={"bundle_id": str(bundle.pk), "note": decision.note},
        )
    return bundle


def bundle_mark_failed(*, bundle_id: str, error: str, job_id: int | None) -> None:
    """The ingest job failed for good: the bundle and its run are `failed`, with the reason."""
    with transaction.atomic():
        bundle = Bundle.objects.select_related("run").filter(pk=bundle_id).first()
        if bundle is None or bundle.status != BundleStatus.APPROVED:
            return
        bundle_transition(bundle=bundle, action="fail")
        run = bundle.run
        if run.status == RunStatus.INGESTING:
            run_transition(
                run=run, action="fail", last_error=error, failed_from=RunStatus.INGESTING
            )
        event_record(
            run=run,
            event_type="ingest_failed",
            actor=Actor.system("worker"),
            message=f"Ingestion of bundle {bundle.sha256[:12]} failed: {error}",
            data={"bundle_id": str(bundle.pk), "error": error},
            job_id=job_id,
        )


def bundle_retry_ingest(*, run: ResearchRun, actor: Actor) -> int:
    """Requeue the ingestion of the run's failed bundle. Returns the new job's id."""
    bundle = (
        Bundle.objects.filter(run=run, status=BundleStatus.FAILED).order_by("-created_at").first()
    )
    if bundle is None:
        raise Conflict(MSG_NO_FAILED_BUNDLE)
    bundle.run = run
    bundle_transition(bundle=bundle, action="retry")
    return _enqueue_ingest(bundle).pk


MSG_INGEST_RETRY_REFUSED = (
    "Retrying this ingestion job cannot help: its run is {status} and its bundle {bundle}. "
    "Retry the run when it failed, or upload and approve the bundle again."
)


def bundle_ingest_cancelled(*, bundle_id: str, job_id: int) -> None:
    """The ingest job was cancelled and has stopped (its transaction rolled back): a run
    still ingesting is cancelled too, so that it never stays `ingesting` without a job."""
    from .runs import run_cancel

    bundle = Bundle.objects.select_related("run__tenant").filter(pk=bundle_id).first()
    if bundle is None:
        return
    run = bundle.run
    if run.status == RunStatus.INGESTING:
        run_cancel(
            run=run,
            actor=Actor.system("jobs"),
            reason=f"Cancelled because ingestion job #{job_id} was cancelled.",
        )
        return
    event_record(
        run=run,
        event_type="ingest_cancelled",
        actor=Actor.system("worker"),
        message=f"Ingestion job #{job_id} stopped; nothing it wrote was kept.",
        data={"bundle_id": str(bundle.pk)},
        job_id=job_id,
    )


def bundle_ingest_retried(*, bundle_id: str, job_id: int) -> None:
    """The ingest job is queued again from the jobs admin or API: a failed run goes through
    its own retry (back to `ingesting`); a run that cannot use the job refuses (409)."""
    from .runs import run_retry

    bundle = Bundle.objects.select_related("run__tenant").filter(pk=bundle_id).first()
    if bundle is None:
        raise Conflict("The bundle of this ingestion job no longer exists.")
    run = bundle.run
    if run.status == RunStatus.FAILED and run.failed_from == RunStatus.INGESTING:
        run_retry(run=run, actor=Actor.system("jobs"))
    elif not (run.status == RunStatus.INGESTING and bundle.status == BundleStatus.APPROVED):
        raise Conflict(
            MSG_INGEST_RETRY_REFUSED.format(
                status=run.status.replace("_", " "), bundle=f"is {bundle.status}"
            )
        )
