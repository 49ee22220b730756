"""Research runs: create, edit, cancel, retry."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from ats.actors import Actor
from ats.errors import Conflict, FieldError, InvalidInput, ServiceError
from ats.models import Role, Tenant
from jobs.models import Job
from research.inputs import RunCreate, RunUpdate
from research.models import Bundle, BundleStatus, ResearchRun, RunStatus

from . import pipeline
from .events import event_record
from .status import run_transition
from .steps import steps_refresh

MSG_UNKNOWN_ROLE = "No role with id {role_id} in this tenant."
MSG_IDEMPOTENCY_MISMATCH = (
    "Idempotency key {key!r} was used before with a different request; use a new key for a "
    "different run."
)

MSG_NOTHING_TO_RETRY = (
    "Only a failed run can be retried (it goes back to the step that failed); this run is {status}."
)


class IdempotencyMismatch(ServiceError):
    status_code = 422
    code = "idempotency_key_reused"
    title = "Idempotency key reused"


def _role(tenant: Tenant, role_id: int | None) -> Role | None:
    if role_id is None:
        return None
    role = Role.objects.for_tenant(tenant).filter(pk=role_id).first()
    if role is None:
        message = MSG_UNKNOWN_ROLE.format(role_id=role_id)
        raise InvalidInput(message, errors=[FieldError("role_id", message, "not_found")])
    return role


def _same_request(run: ResearchRun, data: RunCreate) -> bool:
    return {
        "objective": run.objective,
        "constraints": run.constraints,
        "rank_spec": run.rank_spec,
        "role_id": run.role_id,
    } == data.fingerprint()


def run_create(*, tenant: Tenant, data: RunCreate, actor: Actor) -> tuple[ResearchRun, bool]:
    """Create a draft run. With an idempotency key, a repeat of the same request returns the
    run created the first time (`created` False); a different request with it is refused."""
    role = _role(tenant, data.role_id)
    if data.idempotency_key:
        existing = (
            ResearchRun.objects.for_tenant(tenant)
            .filter(idempotency_key=data.idempotency_key)
            .first()
        )
        if existing is not None:
            return _repeat(existing, data)
    run = ResearchRun(
        tenant=tenant,
        role=role,
        objective=data.objective,
        constraints=data.constraints,
        rank_spec=data.rank_spec,
        idempotency_key=data.idempotency_key,
        created_by=actor.user,
        created_by_actor=actor.label,
    )
    try:
        with transaction.atomic():
            run.save(force_insert=True)
            event_record(run=run, event_type="run_created", actor=actor, message="Run created.")
    except IntegrityError:
        # A concurrent request with the same key won the race; answer like a repeat.
        existing = ResearchRun.objects.for_tenant(tenant).get(idempotency_key=data.idempotency_key)
        return _repeat(existing, data)
    return run, True


def _repeat(existing: ResearchRun, data: RunCreate) -> tuple[ResearchRun, bool]:
    if not _same_request(existing, data):
        raise IdempotencyMismatch(MSG_IDEMPOTENCY_MISMATCH.format(key=data.idempotency_key))
    return existing, False


def run_update(*, run: ResearchRun, data: RunUpdate, actor: Actor) -> ResearchRun:
    changes = data.model_dump(exclude_unset=True)
    if "role_id" in changes:
        run.role = _role(run.tenant, changes.pop("role_id"))
        changes["role"] = run.role
    if not changes:
        return run
    with transaction.atomic():
        for field, value in changes.items():
            setattr(run, field, value)
        run.save(update_fields=[*changes, "updated_at"])
        event_record(
            run=run,
            event_type="run_updated",
            actor=actor,
            message=f"Changed {', '.join(sorted(changes))}.",
            data={"fields": sorted(changes)},
        )
    return run


def run_cancel(*, run: ResearchRun, actor: Actor, reason: str = "") -> ResearchRun:
    """Cancel an active run at once. Its queued jobs are cancelled; a running one is asked
    to stop at its next safe point, where its transaction rolls back (ingestion) or it finds
    the run no longer processing (the source pipeline). Nothing here waits for a job."""
    with transaction.atomic():
        # FOR NO KEY UPDATE: orders this with other writers of the run's status, but not
        # with an ingestion (which holds the run FOR KEY SHARE).
        previous = (
            ResearchRun.objects.select_for_update(no_key=True)
            .filter(pk=run.pk)
            .values_list("status", flat=True)
            .get()
        )
        run_transition(run=run, action="cancel")
        job_ids = []
        if previous == RunStatus.INGESTING:
            bundle = Bundle.objects.filter(run=run, status=BundleStatus.APPROVED).first()
            if bundle is not None and bundle.ingest_job_id is not None:
                job_ids += pipeline.jobs_cancel(
                    Job.objects.filter(pk=bundle.ingest_job_id).active()
                )
        elif previous == RunStatus.PROCESSING:
            job_ids += pipeline.run_jobs_cancel(run=run)
        event_record(
            run=run,
            event_type="run_cancelled",
            actor=actor,
            message=reason or f"Cancelled while {previous.replace('_', ' ')}.",
            data={"previous_status": previous, "jobs_cancelled": job_ids},
            job_id=job_ids[0] if job_ids else None,
        )
    if previous == RunStatus.PROCESSING:
        steps_refresh(run)
    return run


def run_retry(*, run: ResearchRun, actor: Actor) -> tuple[ResearchRun, int | None]:
    """Send a failed run back to the step that failed: ingestion requeues its bundle's
    ingest job; processing resumes every unfinished source from the stage it is in (failed
    sources start that stage again). Returns the run and the job now working on it."""
    from .bundles import bundle_retry_ingest

    if run.failed_from not in (RunStatus.INGESTING, RunStatus.PROCESSING):
        raise Conflict(MSG_NOTHING_TO_RETRY.format(status=run.status.replace("_", " ")))
    with transaction.atomic():
        target = run.failed_from
        run_transition(run=run, action="retry", target=target, last_error="", failed_from="")
        if target == RunStatus.INGESTING:
            job_id = bundle_retry_ingest(run=run, actor=actor)
        else:
            job_id = pipeline.run_pipeline_retry(run=run)
        event_record(
            run=run,
            event_type="run_retried",
            actor=actor,
            message=f"Retried: back to {target.replace('_', ' ')}.",
            job_id=job_id,
        )
    if target == RunStatus.PROCESSING:
        steps_refresh(run)
    return run, job_id
