"""The status machines of runs and bundles (SPEC §4), in one place.

Every transition is a conditional UPDATE (`WHERE status IN (allowed)`): of two concurrent
callers one wins and the other gets `InvalidTransition` (HTTP 409), never a silent overwrite.
Callers run these inside their own transaction together with the rest of their work.

Run:    draft → needs_review (upload; also from rejected, succeeded, failed) → ingesting
        (approve) → succeeded | failed;  needs_review → rejected;  draft → processing (start)
        → succeeded | failed;  failed → (retry) the status it failed in;
        any non-final → cancelled.
Bundle: pending_review → approved → ingested | failed;  pending_review → rejected;
        pending_review → superseded (a newer upload);  failed → approved (retry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from ats.errors import Conflict
from research.models import Bundle, BundleStatus, ResearchRun, RunStatus

S = RunStatus
B = BundleStatus

FINAL_RUN_STATUSES = frozenset({S.SUCCEEDED, S.FAILED, S.REJECTED, S.CANCELLED})
ACTIVE_RUN_STATUSES = frozenset(set(S) - FINAL_RUN_STATUSES)


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str | None  # None: decided by the caller (retry goes back to `failed_from`)


RUN_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "upload",
            frozenset({S.DRAFT, S.NEEDS_REVIEW, S.REJECTED, S.SUCCEEDED, S.FAILED}),
            S.NEEDS_REVIEW,
        ),
        Transition("approve", frozenset({S.NEEDS_REVIEW}), S.INGESTING),
        Transition("reject", frozenset({S.NEEDS_REVIEW}), S.REJECTED),
        Transition("start", frozenset({S.DRAFT}), S.PROCESSING),
        Transition("succeed", frozenset({S.INGESTING, S.PROCESSING}), S.SUCCEEDED),
        Transition("fail", frozenset({S.INGESTING, S.PROCESSING}), S.FAILED),
        Transition("retry", frozenset({S.FAILED}), None),
        Transition("cancel", ACTIVE_RUN_STATUSES, S.CANCELLED),
    ]
}

BUNDLE_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition("approve", frozenset({B.PENDING_REVIEW}), B.APPROVED),
        Transition("reject", frozenset({B.PENDING_REVIEW}), B.REJECTED),
        Transition("supersede", frozenset({B.PENDING_REVIEW}), B.SUPERSEDED),
        Transition("ingested", frozenset({B.APPROVED}), B.INGESTED),
        Transition("fail", frozenset({B.APPROVED}), B.FAILED),
        Transition("retry", frozenset({B.FAILED}), B.APPROVED),
    ]
}

MSG_INVALID_RUN_TRANSITION = (
    "Cannot {action} a run that is {status}; {action} is allowed from: {allowed}."
)
MSG_INVALID_BUNDLE_TRANSITION = (
    "Cannot {action} a bundle that is {status}; {action} is allowed from: {allowed}."
)


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "Invalid status transition"


def _refuse(template: str, action: str, status: str, allowed: frozenset[str]) -> InvalidTransition:
    return InvalidTransition(
        template.format(
            action=action,
            status=status.replace("_", " "),
            allowed=", ".join(sorted(s.replace("_", " ") for s in allowed)),
        )
    )


def run_transition(
    *, run: ResearchRun, action: str, target: str | None = None, **fields: Any
) -> ResearchRun:
    """Move the run by `action` if its current status allows it; update `run` in place.

    `fields` are stored in the same UPDATE (e.g. `last_error`, `failed_from`, `counts`).
    """
    transition = RUN_TRANSITIONS[action]
    target = target or transition.target
    assert target is not None, f"{action} needs an explicit target"
    now = timezone.now()
    updated = ResearchRun.objects.filter(pk=run.pk, status__in=transition.sources).update(
        status=target, updated_at=now, **fields
    )
    if not updated:
        current = ResearchRun.objects.filter(pk=run.pk).values_list("status", flat=True).first()
        raise _refuse(MSG_INVALID_RUN_TRANSITION, action, current or "deleted", transition.sources)
    run.status, run.updated_at = target, now
    for name, value in fields.items():
        setattr(run, name, value)
    return run


def bundle_transition(*, bundle: Bundle, action: str, **fields: Any) -> Bundle:
    """Move the bundle by `action` if its current status allows it; update it in place."""
    transition = BUNDLE_TRANSITIONS[action]
    updated = Bundle.objects.filter(pk=bundle.pk, status__in=transition.sources).update(
        status=transition.target, **fields
    )
    if not updated:
        current = Bundle.objects.filter(pk=bundle.pk).values_list("status", flat=True).first()
        raise _refuse(
            MSG_INVALID_BUNDLE_TRANSITION, action, current or "deleted", transition.sources
        )
    bundle.status = transition.target
    for name, value in fields.items():
        setattr(bundle, name, value)
    return bundle
