"""Every (run status, action) pair over the API: the documented transition (SPEC §4) or a
409 with a clear message, and never a stuck run: a run left `ingesting` or `processing`
always has an active job that will move it on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from ats.actors import Actor
from jobs.models import Job
from research.models import Bundle, BundleStatus, ResearchRun, RunStatus
from research.services import bundles as bundle_services
from research.services.ingest import bundle_ingest
from research.services.pipeline import run_start
from research.services.pipeline_hooks import runs_waiting_for_job
from research.services.runs import run_cancel
from research.services.sources import SourceNew, sources_add

from . import builders

SYSTEM = Actor.system("test")
S = RunStatus


def _with_source(run: ResearchRun) -> ResearchRun:
    text = f"Notes for run {run.pk}: " + "robots and warehouses " * 100
    sources_add(
        run=run,
        sources=[
            SourceNew(kind="text", title="notes", body=text.encode(), content_type="text/plain")
        ],
        actor=SYSTEM,
    )
    return run


def _uploaded(run: ResearchRun) -> Bundle:
    payload = builders.generated_bundle(run.pk, companies=2)
    return bundle_services.bundle_upload(run=run, payload=payload, actor=SYSTEM).bundle


def _approved(run: ResearchRun) -> Bundle:
    bundle = bundle_services.bundle_approve(bundle=_uploaded(run), actor=SYSTEM)
    bundle.run = run
    return bundle


def make_draft(run: ResearchRun) -> None:
    _with_source(run)


def make_processing(run: ResearchRun) -> None:
    run_start(run=_with_source(run), actor=SYSTEM)


def make_needs_review(run: ResearchRun) -> None:
    _uploaded(run)


def make_ingesting(run: ResearchRun) -> None:
    _approved(run)


def make_succeeded(run: ResearchRun) -> None:
    bundle = _approved(run)
    with transaction.atomic():
        bundle_ingest(bundle=bundle)
    Job.objects.filter(pk=bundle.ingest_job_id).update(status="succeeded")


def make_failed(run: ResearchRun) -> None:
    bundle = _approved(run)
    Job.objects.filter(pk=bundle.ingest_job_id).update(status="failed")
    bundle_services.bundle_mark_failed(bundle_id=bundle.pk, error="boom", job_id=None)


def make_failed_processing(run: ResearchRun) -> None:
    from research.services.pipeline import run_fail

    make_processing(run)
    Job.objects.active().update(status="failed")
    run_fail(run=ResearchRun.objects.get(pk=run.pk), error="Source #1 failed at fetch: boom")


def make_cancelled(run: ResearchRun) -> None:
    make_processing(run)
    run_cancel(run=ResearchRun.objects.get(pk=run.pk), actor=SYSTEM)


def make_rejected(run: ResearchRun) -> None:
    from research.inputs import RejectDecision

    bundle = _uploaded(run)
    bundle.run = run
    bundle_services.bundle_reject(bundle=bundle, actor=SYSTEM, decision=RejectDecision(note="no"))


MAKERS: dict[str, Callable[[ResearchRun], None]] = {
    "draft": make_draft,
    "processing": make_processing,
    "needs_review": make_needs_review,
    "ingesting": make_ingesting,
    "succeeded": make_succeeded,
    "failed": make_failed,
    "failed_processing": make_failed_processing,
    "cancelled": make_cancelled,
    "rejected": make_rejected,
}

# status → action → the status it moves to (None: 409).
OK = {
    "draft": {"start": S.PROCESSING, "cancel": S.CANCELLED, "upload": S.NEEDS_REVIEW},
    "processing": {"start": S.PROCESSING, "cancel": S.CANCELLED},
    "needs_review": {
        "cancel": S.CANCELLED,
        "approve": S.INGESTING,
        "reject": S.REJECTED,
        "upload": S.NEEDS_REVIEW,
    },
    "ingesting": {"cancel": S.CANCELLED},
    "succeeded": {"upload": S.NEEDS_REVIEW},
    "failed": {"retry": S.INGESTING, "upload": S.NEEDS_REVIEW},
    "failed_processing": {"retry": S.PROCESSING, "upload": S.NEEDS_REVIEW},
    "cancelled": {},
    "rejected": {"upload": S.NEEDS_REVIEW},
}
ACTIONS = ["start", "cancel", "retry", "approve", "reject", "upload"]


def act(client: Any, run: ResearchRun, action: str) -> Any:
    base = f"/api/v1/runs/{run.pk}/"
    if action == "upload":
        payload = builders.generated_bundle(run.pk, companies=3, prefix="Next")
        return client.post(f"{base}bundle/", payload, format="json")
    body = {"note": "Not good enough."} if action == "reject" else {}
    return client.post(f"{base}{action}/", body, format="json")


def assert_not_stuck(run: ResearchRun) -> None:
    """A run that waits for a worker has an active job that works for it."""
    if run.status == S.INGESTING:
        bundle = Bundle.objects.get(run=run, status=BundleStatus.APPROVED)
        assert Job.objects.active().filter(pk=bundle.ingest_job_id).exists()
    elif run.status == S.PROCESSING:
        waiting = [job for job in Job.objects.active() if run in runs_waiting_for_job(job)]
        assert waiting, "a processing run without an active job"


@pytest.mark.sqlite
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", list(MAKERS))
def test_status_action_matrix(status, action, reviewer_client, run_a) -> None:
    MAKERS[status](run_a)
    run_a.refresh_from_db()
    expected_before = "failed" if status == "failed_processing" else status
    assert run_a.status == expected_before
    target = OK[status].get(action)

    response = act(reviewer_client, run_a, action)

    run_a.refresh_from_db()
    if target is None:
        assert response.status_code == 409, (response.status_code, response.content)
        assert response["Content-Type"] == "application/problem+json"
        detail = response.json()["detail"]
        assert detail and len(detail) > 20, detail
        assert run_a.status == expected_before  # nothing changed
    else:
        assert response.status_code in (200, 201), response.content
        assert run_a.status == target
    assert_not_stuck(run_a)


def test_start_without_sources_is_a_clear_conflict(analyst_client, run_a) -> None:
    response = analyst_client.post(f"/api/v1/runs/{run_a.pk}/start/")
    assert response.status_code == 409
    assert "add text, URLs or files" in response.json()["detail"]
    run_a.refresh_from_db()
    assert run_a.status == S.DRAFT
