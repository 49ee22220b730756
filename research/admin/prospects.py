"""Prospects (manual fields editable) and the company page's prospects."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from ats.actors import Actor
from ats.admin import CompanyAdmin, TenantScopedAdmin, TenantScopedInline
from ats.models import Company, MemberRole
from research.formatting import metric_value
from research.models import (
    Prospect,
    ProspectEvidence,
    ProspectMetric,
)
from research.services.prospects import PROSPECT_MANUAL_FIELDS, prospect_update


class ProspectEvidenceInline(TenantScopedInline, admin.TabularInline):
    model = ProspectEvidence
    fields = ["text", "verification", "source", "evidence_type", "created_at"]
    readonly_fields = fields
    extra = 0


class ProspectMetricInline(TenantScopedInline, admin.TabularInline):
    model = ProspectMetric
    fields = ["key", "value_display", "as_of_date", "confidence", "source"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="value")
    def value_display(self, metric: ProspectMetric) -> str:
        return metric_value(
            key=metric.key,
            value_type=metric.value_type,
            value=metric.value,
            unit=metric.unit,
            currency=metric.currency,
        )


@admin.register(Prospect)
class ProspectAdmin(TenantScopedAdmin):
    # Few, narrow columns: the list fits 1366 px beside the navigation and the filters.
    list_display = [
        "name",
        "run_short",
        "ai_rank",
        "score",
        "review_status",
        "manual_priority",
        "is_pinned",
    ]
    list_filter = ["review_status", "status", "is_pinned", "run", "tenant"]
    list_editable = ["review_status", "manual_priority", "is_pinned"]
    search_fields = ["name", "company__name", "company__domain"]
    list_select_related = ["company", "run"]
    ordering = ["run", "ai_rank", "id"]
    fields = [
        "name",
        "company_link",
        "run",
        "ai_rank",
        "ai_score",
        "status",
        "origin",
        "proposal",
        *PROSPECT_MANUAL_FIELDS,
        "edited_by_actor",
        "edited_at",
    ]
    readonly_fields = [f for f in fields if f not in PROSPECT_MANUAL_FIELDS]
    inlines = [ProspectEvidenceInline, ProspectMetricInline]
    add_role = delete_role = None
    change_role = MemberRole.REVIEWER
    show_full_result_count = False

    @admin.display(description="run", ordering="run__objective")
    def run_short(self, prospect: Prospect) -> str:
        return Truncator(prospect.run.objective).chars(40)

    @admin.display(description="AI score", ordering="ai_score")
    def score(self, prospect: Prospect) -> str:
        return "—" if prospect.ai_score is None else f"{prospect.ai_score:.2f}"

    @admin.display(description="company", ordering="company__name")
    def company_link(self, prospect: Prospect) -> str:
        url = reverse("admin:ats_company_change", args=[prospect.company_id])
        return format_html('<a href="{}">{}</a>', url, prospect.company.name)

    def save_model(self, request: HttpRequest, obj: Prospect, form: Any, change: bool) -> None:
        changes = {
            f: form.cleaned_data[f] for f in form.changed_data if f in PROSPECT_MANUAL_FIELDS
        }
        if changes:
            prospect_update(
                prospect=Prospect.objects.get(pk=obj.pk),
                changes=changes,
                actor=Actor.for_user(request.user),
            )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("company", "run")


class CompanyProspectInline(TenantScopedInline, admin.TabularInline):
    """A company's prospects across runs, on the company page."""

    model = Prospect
    fk_name = "company"
    fields = ["run", "name", "ai_rank", "ai_score", "review_status", "is_pinned", "status"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name_plural = "prospects in research runs"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("run")


# The ats app knows nothing of research; research adds its prospects to the company page.
admin.site.unregister(Company)


@admin.register(Company)
class CompanyWithProspectsAdmin(CompanyAdmin):
    inlines = [*CompanyAdmin.inlines, CompanyProspectInline]
