"""Bundles: upload, review (approve / reject), and the ingest job's bookkeeping."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

import jobs
from ats.actors import Actor
from ats.errors import Conflict, FieldError, InvalidInput
from ats.request_context import current_request_id
from research.formatting import actor_display, plural, when
from research.inputs import CompanyDecisionInput, RejectDecision
from research.models import Bundle, BundleStatus, ResearchRun, RunStatus, RunStep
from research.review import probable_duplicates
from research.schemas import BundleValidation, validate_bundle

from .decisions import DecisionCounts, decisions_record, decisions_validate
from .events import event_record
from .locks import lock_run
from .status import InvalidTransition, bundle_transition, run_transition

logger = logging.getLogger(__name__)

INGEST_JOB_TYPE = "research.ingest_bundle"
MSG_INVALID_BUNDLE = "The bundle is invalid: {count} error(s); see errors."
MSG_NO_PENDING_BUNDLE = "No bundle of this run awaits review."
MSG_NO_FAILED_BUNDLE = "This run has no bundle whose ingestion failed."
MSG_UNKNOWN_SHA = "No bundle with SHA-256 {sha}… was uploaded to this run."
MSG_SUPERSEDED = (
    "Bundle {sha} ({uploaded}) was superseded by a newer upload{newer}; nothing was "
    "approved or rejected. Review the newer bundle."
)
MSG_ALREADY_DECIDED = "Bundle {sha} was already {verb} by {who} on {at}; nothing was changed."
MSG_DUPLICATES_UNDECIDED = (
    "{count} without a decision ({names}): the page you approved from did not show them. "
    "Reload the review page and decide them; nothing was approved."
)
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
        run = lock_run(run.pk)
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
            request_id=current_request_id() or "",
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
                f"Bundle {bundle.sha256[:12]} uploaded: "
                f"{plural(counts['companies'], 'company', 'companies')}, "
                f"{plural(counts['sources'], 'source')}, {plural(len(warnings), 'warning')}."
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


class BundleNotPending(InvalidTransition):
    """The reviewer decided on a bundle that no longer awaits review: a newer upload
    superseded it, or someone already approved or rejected it."""

    code = "bundle_not_pending"
    title = "This bundle no longer awaits review"


def _not_pending(bundle: Bundle) -> BundleNotPending:
    uploaded = f"uploaded {when(bundle.created_at)} by {actor_display(bundle.uploaded_by_actor)}"
    if bundle.status == BundleStatus.SUPERSEDED:
        newer = (
            Bundle.objects.filter(run_id=bundle.run_id, created_at__gt=bundle.created_at)
            .order_by("created_at")
            .first()
        )
        by = (
            f" ({when(newer.created_at)} by {actor_display(newer.uploaded_by_actor)})"
            if newer
            else ""
        )
        return BundleNotPending(
            MSG_SUPERSEDED.format(sha=bundle.sha256[:12], uploaded=uploaded, newer=by)
        )
    verb = "rejected" if bundle.status == BundleStatus.REJECTED else "approved"
    return BundleNotPending(
        MSG_ALREADY_DECIDED.format(
            sha=bundle.sha256[:12],
            verb=verb,
            who=actor_display(bundle.reviewed_by_actor),
            at=when(bundle.reviewed_at),
        )
    )


def bundle_for_review(*, run: ResearchRun, bundle_sha256: str | None) -> Bundle:
    """The bundle a reviewer's decision is about (with `run` attached).

    With `bundle_sha256` (the one the reviewer saw): that bundle of the run, which must
    still await review, else BundleNotPending (409) saying what happened to it. Without it:
    the run's current pending bundle.
    """
    if bundle_sha256 is None:
        return pending_bundle(run)
    bundle = Bundle.objects.filter(run=run, sha256=bundle_sha256.lower()).first()
    if bundle is None:
        raise Conflict(MSG_UNKNOWN_SHA.format(sha=bundle_sha256[:12]))
    if bundle.status != BundleStatus.PENDING_REVIEW:
        raise _not_pending(bundle)
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


def _decide(bundle: Bundle, action: str, actor: Actor, note: str) -> None:
    """The bundle's conditional status change; a reviewer who lost a race learns who won."""
    try:
        bundle_transition(bundle=bundle, action=action, **_review(actor, note))
    except InvalidTransition:
        raise _not_pending(Bundle.objects.get(pk=bundle.pk)) from None


def bundle_approve(
    *,
    bundle: Bundle,
    actor: Actor,
    note: str = "",
    decisions: Sequence[CompanyDecisionInput] = (),
    require_duplicate_decisions: bool = False,
) -> Bundle:
    """Approve the bundle with the reviewer's per-company decisions and enqueue its
    ingestion, in one transaction.

    `require_duplicate_decisions` (the review page): every probable duplicate must carry
    an explicit decision, proof that the reviewer saw it highlighted; else Conflict (409).
    Of two reviewers approving at once, one wins; the other gets BundleNotPending (409).
    """
    decisions_validate(bundle=bundle, decisions=decisions)
    if require_duplicate_decisions:
        decided = {d.company for d in decisions}
        unseen = [
            name for index, name in probable_duplicates(bundle=bundle) if index not in decided
        ]
        if unseen:
            raise Conflict(
                MSG_DUPLICATES_UNDECIDED.format(
                    count=plural(len(unseen), "probable duplicate"), names=", ".join(unseen[:5])
                )
            )
    with transaction.atomic():
        _decide(bundle, "approve", actor, note)
        counts = decisions_record(bundle=bundle, decisions=decisions, actor=actor)
        run = bundle.run
        run_transition(run=run, action="approve", last_error="")
        job = _enqueue_ingest(bundle)
        event_record(
            run=run,
            event_type="bundle_approved",
            actor=actor,
            message=_approval_summary(bundle, counts, note),
            data={"bundle_id": str(bundle.pk), "note": note, "decisions": counts.as_dict()},
            job_id=job.pk,
        )
    return bundle


def _approval_summary(bundle: Bundle, counts: DecisionCounts, note: str) -> str:
    parts = []
    if counts.excluded:
        parts.append(f"{plural(counts.excluded, 'company', 'companies')} excluded")
    if counts.same_as:
        parts.append(
            f"{plural(counts.same_as, 'company', 'companies')} taken as an existing company"
        )
    if counts.included:
        parts.append(f"{plural(counts.included, 'probable duplicate')} confirmed as new")
    text = f"Bundle {bundle.sha256[:12]} approved"
    text += f" ({'; '.join(parts)})" if parts else ""
    text += "; ingestion queued."
    return text + (f" Note: {note}" if note else "")


def _enqueue_ingest(bundle: Bundle) -> jobs.Job:
    # The ingestion carries the upload's request id, so that the id a research agent logged
    # for its upload finds the ingestion's lines; this line ties the approving request to it.
    job = jobs.enqueue(
        INGEST_JOB_TYPE,
        {"bundle_id": str(bundle.pk)},
        tenant=bundle.run.tenant,
        unique_key=ingest_unique_key(bundle),
        request_id=bundle.request_id or None,
    )
    logger.info(
        "Bundle %s: ingestion job %s queued under the upload's request id %s",
        bundle.pk,
        job.pk,
        job.request_id or "-",
    )
    Bundle.objects.filter(pk=bundle.pk).update(ingest_job=job)
    bundle.ingest_job = job
    return job


def bundle_reject(*, bundle: Bundle, actor: Actor, decision: RejectDecision) -> Bundle:
    with transaction.atomic():
        _decide(bundle, "reject", actor, decision.note)
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
