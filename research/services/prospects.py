"""Edits of prospects by people: only the manual fields, never what ingestion owns."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ats.actors import Actor
from ats.errors import FieldError, InvalidInput
from research.models import Prospect, ReviewStatus

from .events import event_record

PROSPECT_MANUAL_FIELDS = ("review_status", "manual_priority", "manual_notes", "is_pinned")
MSG_NOT_EDITABLE = "This field is set by research and cannot be edited."


def prospect_update(*, prospect: Prospect, changes: dict[str, Any], actor: Actor) -> Prospect:
    """Change manual fields; anything else is refused naming the field."""
    refused = [f for f in changes if f not in PROSPECT_MANUAL_FIELDS]
    if refused:
        raise InvalidInput(
            "Only manual fields can be edited.",
            errors=[FieldError(f, MSG_NOT_EDITABLE, "read_only") for f in sorted(refused)],
        )
    if "review_status" in changes:
        changes["review_status"] = ReviewStatus(changes["review_status"])
    changed = [f for f, v in changes.items() if getattr(prospect, f) != v]
    if not changed:
        return prospect
    with transaction.atomic():
        for field in changed:
            setattr(prospect, field, changes[field])
        prospect.edited_by = actor.user
        prospect.edited_by_actor = actor.label
        prospect.edited_at = prospect.updated_at = timezone.now()
        prospect.save(
            update_fields=[*changed, "edited_by", "edited_by_actor", "edited_at", "updated_at"]
        )
        event_record(
            run=prospect.run,
            event_type="prospect_edited",
            actor=actor,
            message=f"{prospect.name}: changed {', '.join(changed)}.",
            data={"prospect_id": prospect.pk, "changes": {f: changes[f] for f in changed}},
        )
    return prospect
