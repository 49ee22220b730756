"""Sources: read-only."""

from __future__ import annotations

from django.contrib import admin

from ats.admin import TenantScopedAdmin
from research.models import (
    Source,
)


@admin.register(Source)
class SourceAdmin(TenantScopedAdmin):
    list_display = ["__str__", "url", "mime_type", "retrieved_at", "created_at", "tenant"]
    list_filter = ["tenant", "mime_type"]
    search_fields = ["sha256", "title", "url"]
    readonly_fields = [
        "sha256",
        "title",
        "url",
        "mime_type",
        "text",
        "retrieved_at",
        "meta",
        "created_at",
        "tenant",
    ]
    exclude = ["runs"]
    show_full_result_count = False
    add_role = change_role = delete_role = None
