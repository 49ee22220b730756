"""Run events: the append-only history, read-only."""

from __future__ import annotations

from django.contrib import admin

from ats.admin import TenantScopedAdmin
from research.models import (
    RunEvent,
)


@admin.register(RunEvent)
class RunEventAdmin(TenantScopedAdmin):
    list_display = ["created_at", "run", "event_type", "status", "actor", "message"]
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
