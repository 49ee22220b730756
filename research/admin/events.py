"""Run events: the append-only history, read-only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.text import Truncator

from ats.admin import TenantScopedAdmin
from research.formatting import actor_display, event_phrase
from research.models import (
    RunEvent,
)


@admin.register(RunEvent)
class RunEventAdmin(TenantScopedAdmin):
    list_display = ["created_at", "run_short", "what_happened", "status"]
    list_filter = ["event_type", "status", "tenant"]
    search_fields = ["message", "=run__id", "actor"]
    list_select_related = ["run"]
    readonly_fields = [
        "run",
        "event_type",
        "status",
        "message",
        "data",
        "actor",
        "job",
        "created_at",
        "tenant",
    ]
    add_role = change_role = delete_role = None  # append-only

    @admin.display(description="run", ordering="run__objective")
    def run_short(self, event: RunEvent) -> str:
        return Truncator(event.run.objective).chars(40)

    @admin.display(description="what happened")
    def what_happened(self, event: RunEvent) -> str:
        message = event.message if len(event.message) <= 120 else f"{event.message[:119]}…"
        return format_html(
            "<strong>{}</strong> {}<br><small>{}</small>",
            actor_display(event.actor),
            event_phrase(event.event_type),
            message,
        )
