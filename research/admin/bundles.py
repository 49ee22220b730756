"""Bundles: read-only, for reference and audit."""

from __future__ import annotations

from django.contrib import admin

from ats.admin import TenantScopedAdmin
from research.models import (
    Bundle,
)


@admin.register(Bundle)
class BundleAdmin(TenantScopedAdmin):
    list_display = [
        "sha256_short",
        "run",
        "status",
        "uploaded_by_actor",
        "created_at",
        "reviewed_by_actor",
        "reviewed_at",
    ]
    list_filter = ["status", "tenant"]
    search_fields = ["sha256", "run__objective", "=run__id"]
    list_select_related = ["run"]
    exclude = ["payload"]
    readonly_fields = [
        "id",
        "run",
        "sha256",
        "status",
        "counts",
        "validation_warnings",
        "uploaded_by",
        "uploaded_by_actor",
        "reviewed_by",
        "reviewed_by_actor",
        "reviewed_at",
        "review_note",
        "ingest_job",
        "created_at",
        "tenant",
    ]
    add_role = change_role = delete_role = None

    @admin.display(description="SHA-256")
    def sha256_short(self, bundle: Bundle) -> str:
        return bundle.sha256[:12]
