"""Bundles: read-only, for reference and audit."""

from __future__ import annotations

from django.contrib import admin

from ats.admin import TenantScopedAdmin, ago
from research.formatting import actor_display, when
from research.models import (
    Bundle,
)


@admin.register(Bundle)
class BundleAdmin(TenantScopedAdmin):
    # Named by upload time and uploader (SPEC §10), the hash secondary.
    list_display = ["uploaded", "run", "status", "reviewed", "sha256_short"]
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

    @admin.display(description="bundle", ordering="created_at")
    def uploaded(self, bundle: Bundle) -> str:
        return f"{when(bundle.created_at)} by {actor_display(bundle.uploaded_by_actor)}"

    @admin.display(description="reviewed", ordering="reviewed_at")
    def reviewed(self, bundle: Bundle) -> str:
        if bundle.reviewed_at is None:
            return "-"
        return f"{actor_display(bundle.reviewed_by_actor)}, {ago(bundle.reviewed_at)}"
