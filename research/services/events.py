from __future__ import annotations

from typing import Any

from ats.actors import Actor
from research.models import ResearchRun, RunEvent


def event_record(
    *,
    run: ResearchRun,
    event_type: str,
    actor: Actor,
    message: str = "",
    data: dict[str, Any] | None = None,
    job_id: int | None = None,
) -> RunEvent:
    """Append an event to the run's history, with the run's current status."""
    return RunEvent.objects.create(
        tenant_id=run.tenant_id,
        run=run,
        event_type=event_type,
        status=run.status,
        message=message,
        data=data or {},
        actor=actor.label,
        job_id=job_id,
    )
