"""Research runs: the run list and page, with the bundle review panel, approve and reject."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from ats.actors import Actor
from ats.admin import TenantScopedAdmin, TenantScopedInline, has_tenant_role
from ats.errors import ServiceError
from ats.models import MemberRole
from jobs.models import Job
from research.inputs import RejectDecision
from research.models import (
    Bundle,
    BundleStatus,
    ResearchRun,
    RunEvent,
    RunStep,
)
from research.selectors import review_panel
from research.services import bundles as bundle_services

from .lifecycle import cancel_runs, retry_runs, start_runs
from .sources import RunSourceInline


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
    inlines = [RunStepInline, RunSourceInline]
    actions = [start_runs, cancel_runs, retry_runs]
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
