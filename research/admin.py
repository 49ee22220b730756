"""The reviewers' workplace (SPEC §10): runs with the bundle review panel, approve and
reject, the events timeline and the current job; prospects with their manual fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from ats.actors import Actor
from ats.admin import CompanyAdmin, TenantScopedAdmin, TenantScopedInline, has_tenant_role
from ats.errors import ServiceError
from ats.models import Company, MemberRole
from jobs.models import Job
from research.inputs import RejectDecision
from research.models import (
    Bundle,
    BundleStatus,
    Prospect,
    ProspectEvidence,
    ProspectMetric,
    ResearchRun,
    RunEvent,
    RunStep,
    Source,
)
from research.selectors import review_panel
from research.services import bundles as bundle_services
from research.services.prospects import PROSPECT_MANUAL_FIELDS, prospect_update


class RunStepInline(TenantScopedInline, admin.TabularInline):
    model = RunStep
    fields = ["order", "step_key", "step_type", "status", "started_at", "finished_at", "error"]
    readonly_fields = fields
    extra = 0
    show_change_link = False
    classes = ["collapse"]


class RejectForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required: tell the researcher what to fix.",
    )


@admin.register(ResearchRun)
class ResearchRunAdmin(TenantScopedAdmin):
    list_display = [
        "short_objective",
        "status",
        "role",
        "companies",
        "prospects",
        "created_at",
        "tenant",
    ]
    list_filter = ["status", "tenant", "role"]
    search_fields = ["objective", "id", "idempotency_key"]
    list_select_related = ["role", "tenant"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "tenant",
        "status",
        "last_error",
        "created_by_actor",
        "created_at",
        "updated_at",
        "counts",
    ]
    fieldsets = [
        (None, {"fields": ["id", "tenant", "status", "objective", "role", "last_error"]}),
        (
            "Details",
            {
                "classes": ["collapse"],
                "fields": [
                    "constraints",
                    "rank_spec",
                    "counts",
                    "created_by_actor",
                    "created_at",
                    "updated_at",
                ],
            },
        ),
    ]
    inlines = [RunStepInline]
    change_form_template = "admin/research/researchrun/change_form.html"
    add_role = None  # runs are created by research agents over the API
    change_role = MemberRole.ANALYST
    delete_role = MemberRole.ADMIN

    @admin.display(description="objective", ordering="objective")
    def short_objective(self, run: ResearchRun) -> str:
        return run.objective[:90] + ("…" if len(run.objective) > 90 else "")

    @admin.display(description="companies")
    def companies(self, run: ResearchRun) -> int | None:
        return (run.counts.get("bundle") or {}).get("companies")

    @admin.display(description="prospects")
    def prospects(self, run: ResearchRun) -> int | None:
        return run.counts.get("prospects")

    def save_model(self, request: HttpRequest, obj: ResearchRun, form: Any, change: bool) -> None:
        from research.inputs import RunUpdate
        from research.services.runs import run_update

        changed = {f: form.cleaned_data[f] for f in form.changed_data if f in ("objective", "role")}
        if "role" in changed:
            changed["role_id"] = changed.pop("role").pk if changed["role"] else None
        run_update(
            run=ResearchRun.objects.get(pk=obj.pk),
            data=RunUpdate(**changed),
            actor=Actor.for_user(request.user),
        )

    def get_urls(self) -> list:
        urls = [
            path(
                "<uuid:run_id>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="research_researchrun_approve",
            ),
            path(
                "<uuid:run_id>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="research_researchrun_reject",
            ),
        ]
        return urls + super().get_urls()

    def _current_bundle(self, run: ResearchRun) -> Bundle | None:
        return (
            Bundle.objects.filter(run=run)
            .exclude(status=BundleStatus.SUPERSEDED)
            .order_by("-created_at")
            .first()
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        run = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if run is not None:
            bundle = self._current_bundle(run)
            if bundle is not None:
                bundle.run = run
            job = None
            if bundle is not None and bundle.ingest_job_id:
                job = Job.objects.filter(pk=bundle.ingest_job_id).first()
            context.update(
                panel=review_panel(bundle=bundle, page_number=request.GET.get("panel_page", 1))
                if bundle is not None
                else None,
                bundle=bundle,
                can_review=bundle is not None
                and bundle.status == BundleStatus.PENDING_REVIEW
                and has_tenant_role(request, MemberRole.REVIEWER, run.tenant_id),
                reject_form=RejectForm(),
                events=list(RunEvent.objects.filter(run=run).order_by("-created_at", "-id")[:200]),
                job=job,
            )
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _reviewable_run(self, request: HttpRequest, run_id: Any) -> ResearchRun:
        run = get_object_or_404(self.get_queryset(request), pk=run_id)
        if not has_tenant_role(request, MemberRole.REVIEWER, run.tenant_id):
            raise PermissionDenied("Approving and rejecting needs the reviewer role.")
        return run

    def _back(self, run: ResearchRun) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:research_researchrun_change", args=[run.pk]))

    def approve_view(self, request: HttpRequest, run_id: Any) -> HttpResponse:
        return require_POST(self._approve)(request, run_id)

    def _approve(self, request: HttpRequest, run_id: Any) -> HttpResponse:
        run = self._reviewable_run(request, run_id)
        try:
            bundle = bundle_services.bundle_approve(
                bundle=bundle_services.pending_bundle(run), actor=Actor.for_user(request.user)
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            return self._back(run)
        self.log_change(request, run, f"Approved bundle {bundle.sha256[:12]}")
        messages.success(request, f"Bundle approved; ingestion job {bundle.ingest_job_id} queued.")
        return self._back(run)

    def reject_view(self, request: HttpRequest, run_id: Any) -> HttpResponse:
        return require_POST(self._reject)(request, run_id)

    def _reject(self, request: HttpRequest, run_id: Any) -> HttpResponse:
        run = self._reviewable_run(request, run_id)
        form = RejectForm(request.POST)
        if not form.is_valid() or not form.cleaned_data["note"].strip():
            messages.error(request, "Rejecting needs a note: tell the researcher what to fix.")
            return self._back(run)
        try:
            bundle = bundle_services.bundle_reject(
                bundle=bundle_services.pending_bundle(run),
                actor=Actor.for_user(request.user),
                decision=RejectDecision(note=form.cleaned_data["note"]),
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            return self._back(run)
        self.log_change(request, run, f"Rejected bundle {bundle.sha256[:12]}")
        messages.success(request, "Bundle rejected.")
        return self._back(run)


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


class ProspectEvidenceInline(TenantScopedInline, admin.TabularInline):
    model = ProspectEvidence
    fields = ["text", "verification", "source", "evidence_type", "created_at"]
    readonly_fields = fields
    extra = 0


class ProspectMetricInline(TenantScopedInline, admin.TabularInline):
    model = ProspectMetric
    fields = ["key", "value_display", "unit", "currency", "as_of_date", "confidence", "source"]
    readonly_fields = fields
    extra = 0

    @admin.display(description="value")
    def value_display(self, metric: ProspectMetric) -> str:
        return str(metric.value)


@admin.register(Prospect)
class ProspectAdmin(TenantScopedAdmin):
    list_display = [
        "name",
        "company_link",
        "run",
        "ai_rank",
        "ai_score",
        "review_status",
        "manual_priority",
        "is_pinned",
        "status",
    ]
    list_filter = ["review_status", "status", "is_pinned", "run", "tenant"]
    list_editable = ["review_status", "manual_priority", "is_pinned"]
    search_fields = ["name", "company__name", "company__domain"]
    list_select_related = ["company", "run"]
    ordering = ["run", "ai_rank", "id"]
    fields = [
        "name",
        "company",
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
