"""Sources: read-only pages with their pipeline stage, state, decision and reason codes, a
text preview and the fetch record; a reprocess action; and the run page's sources inline."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from ats.admin import TenantScopedAdmin, TenantScopedInline, ago, has_tenant_role
from ats.models import MemberRole
from research.models import RunSource, Source
from research.services.reprocess import UPDATED, source_reprocess

PREVIEW_CHARS = 3_000
REPROCESS_LIMIT = 500
EMPTY = "\N{EN DASH}"  # what the admin shows for an empty value


def _pretty(value: Any) -> str:
    if not value:
        return EMPTY
    return format_html("<pre class='source-json'>{}</pre>", json.dumps(value, indent=2))


def _codes(codes: list[str]) -> str:
    return ", ".join(codes) or EMPTY


@admin.register(Source)
class SourceAdmin(TenantScopedAdmin):
    class Media:
        css = {"all": ["research/sources.css"]}  # a stylesheet: the CSP allows no inline style

    list_display = [
        "__str__",
        "kind",
        "stage_display",
        "decision_display",
        "word_count",
        "added",
        "tenant",
    ]
    list_filter = ["kind", "stage", "state", "decision", "tenant"]
    search_fields = ["sha256", "title", "url", "text_hash", "material_hash"]
    list_select_related = ["tenant"]
    fieldsets = [
        (None, {"fields": ["title", "kind", "url", "mime_type", "tenant", "created_at"]}),
        (
            "Pipeline",
            {
                "fields": [
                    "stage",
                    "state",
                    "decision",
                    "reason_codes_display",
                    "word_count",
                    "error",
                    "runs_display",
                ]
            },
        ),
        ("Text", {"fields": ["text_preview"]}),
        ("Fetch record", {"fields": ["fetch_display", "retrieved_at"]}),
        (
            "Extraction and classification",
            {
                "classes": ["collapse"],
                "fields": [
                    "sha256",
                    "material_hash",
                    "text_hash",
                    "extractor_version",
                    "extraction_display",
                    "classification_display",
                    "meta",
                ],
            },
        ),
    ]
    readonly_fields = [
        field
        for _, options in fieldsets
        for field in options["fields"]  # type: ignore[index]
    ]
    actions = ["reprocess"]
    show_full_result_count = False
    add_role = change_role = delete_role = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("text", "fetch", "extraction", "classification", "meta")
        return queryset

    @admin.display(description="stage", ordering="stage")
    def stage_display(self, source: Source) -> str:
        if not source.stage:
            return "-"
        return f"{source.get_stage_display()} ({source.get_state_display().lower()})"

    @admin.display(description="decision", ordering="decision")
    def decision_display(self, source: Source) -> str:
        if not source.decision:
            return "-"
        codes = _codes(source.reason_codes)
        return (
            format_html("{}<br>{}", source.get_decision_display(), codes)
            if source.reason_codes
            else source.get_decision_display()
        )

    @admin.display(description="added", ordering="created_at")
    def added(self, source: Source) -> str:
        return ago(source.created_at)

    @admin.display(description="reason codes")
    def reason_codes_display(self, source: Source) -> str:
        return _codes(source.reason_codes)

    @admin.display(description="text")
    def text_preview(self, source: Source) -> str:
        text = source.text or ""
        more = (
            f"\n… ({len(text) - PREVIEW_CHARS:,} more characters)"
            if len(text) > PREVIEW_CHARS
            else ""
        )
        return format_html(
            "<pre class='source-text'>{}{}</pre>",
            text[:PREVIEW_CHARS] or "(no text)",
            more,
        )

    @admin.display(description="fetch record")
    def fetch_display(self, source: Source) -> str:
        return _pretty(source.fetch)

    @admin.display(description="extraction")
    def extraction_display(self, source: Source) -> str:
        return _pretty(source.extraction)

    @admin.display(description="classification details")
    def classification_display(self, source: Source) -> str:
        return _pretty(source.classification)

    @admin.display(description="runs")
    def runs_display(self, source: Source) -> str:
        links = RunSource.objects.filter(source=source).select_related("run")[:50]
        if not links:
            return EMPTY
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li><a href='{}'>{}</a>: {} {}</li>",
                (
                    (
                        reverse("admin:research_researchrun_change", args=[link.run_id]),
                        str(link.run)[:80],
                        link.decision or "not decided yet",
                        f"({_codes(link.reason_codes)})" if link.reason_codes else "",
                    )
                    for link in links
                ),
            ),
        )

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return has_tenant_role(request, MemberRole.ANALYST)

    @admin.action(
        description="Reprocess selected sources (extract and classify again, no fetch)",
        permissions=["reprocess"],
    )
    def reprocess(self, request: HttpRequest, queryset: QuerySet) -> None:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: REPROCESS_LIMIT + 1])
        if len(ids) > REPROCESS_LIMIT:
            messages.error(
                request,
                f"Select at most {REPROCESS_LIMIT} sources, or run "
                "`manage.py reprocess_sources --tenant SLUG` for more.",
            )
            return
        outcomes = [source_reprocess(source_id=source_id) for source_id in ids]
        updated = outcomes.count(UPDATED)
        messages.success(
            request,
            f"Reprocessed {updated} source(s); {len(ids) - updated} were up to date or not "
            "extracted yet (nothing to do).",
        )


class RunSourceInline(TenantScopedInline, admin.TabularInline):
    """The run page's sources (pipeline sources: a bundle's sources are in its panel)."""

    model = RunSource
    fk_name = "run"
    verbose_name = "source"
    verbose_name_plural = "sources"
    fields = [
        "source_link",
        "kind",
        "stage",
        "state",
        "decision",
        "reason_codes_display",
        "word_count",
        "processed_at",
        "error_display",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .exclude(source__stage="")
            .select_related("source")
            .defer("source__text", "source__extraction", "source__classification")
            .order_by("source_id")
        )

    @admin.display(description="source")
    def source_link(self, link: RunSource) -> str:
        url = reverse("admin:research_source_change", args=[link.source_id])
        return format_html("<a href='{}'>{}</a>", url, str(link.source)[:100])

    @admin.display(description="kind")
    def kind(self, link: RunSource) -> str:
        return link.source.get_kind_display()

    @admin.display(description="stage")
    def stage(self, link: RunSource) -> str:
        return link.source.get_stage_display()

    @admin.display(description="state")
    def state(self, link: RunSource) -> str:
        return link.source.get_state_display()

    @admin.display(description="reason codes")
    def reason_codes_display(self, link: RunSource) -> str:
        return _codes(link.reason_codes)

    @admin.display(description="words")
    def word_count(self, link: RunSource) -> int | None:
        return link.source.word_count

    @admin.display(description="error")
    def error_display(self, link: RunSource) -> str:
        return (link.error or link.source.error)[:300] or EMPTY
