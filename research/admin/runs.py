"""Research runs: the run list and the run page (editable fields, timeline, current job).
Reviewing a bundle happens on the run's review page (`review.py`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from ats.actors import Actor
from ats.admin import TenantScopedAdmin, TenantScopedInline, ago
from ats.models import MemberRole
from jobs.models import Job
from research.formatting import actor_display, event_phrase, when
from research.inputs import RunUpdate
from research.models import Bundle, Prospect, ResearchRun, RunEvent, RunStatus, RunStep
from research.services.runs import run_update

from .lifecycle import cancel_runs, retry_runs, start_runs
from .review import RunReviewAdminMixin, review_link
from .sources import RunSourceInline

TIMELINE_LENGTH = 200
TOP_PROSPECTS = 10


class RunStepInline(TenantScopedInline, admin.TabularInline):
    model = RunStep
    fields = ["order", "step_key", "step_type", "status", "started_at", "finished_at", "error"]
    readonly_fields = fields
    extra = 0
    show_change_link = False
    classes = ["collapse"]


@admin.register(ResearchRun)
class ResearchRunAdmin(RunReviewAdminMixin, TenantScopedAdmin):
    list_display = [
        "short_objective",
        "status_display",
        "role",
        "companies",
        "prospects",
        "age",
        "review",
        "tenant",
    ]
    list_display_links = ["short_objective"]
    list_filter = ["status", "role", "tenant"]
    search_fields = ["objective", "id", "idempotency_key"]
    list_select_related = ["role", "tenant"]
    readonly_fields = [
        "id",
        "tenant",
        "status",
        "last_error",
        "created_by_display",
        "created_at",
        "updated_at",
        "counts",
    ]
    fieldsets = [
        (None, {"fields": ["objective", "role", "status", "last_error"]}),
        (
            "Details",
            {
                "classes": ["collapse"],
                "fields": [
                    "id",
                    "tenant",
                    "constraints",
                    "rank_spec",
                    "counts",
                    "created_by_display",
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

    def get_actions(
        self,
        request: HttpRequest,
        action_location: admin.ActionLocation = admin.ActionLocation.CHANGE_LIST,
    ) -> dict:
        # A run carries its bundles, prospects and history: delete one at a time, never in bulk.
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="objective", ordering="objective")
    def short_objective(self, run: ResearchRun) -> str:
        return Truncator(run.objective).chars(90)

    @admin.display(description="status", ordering="status")
    def status_display(self, run: ResearchRun) -> str:
        return format_html(
            '<span class="run-status run-status-{}">{}</span>', run.status, run.get_status_display()
        )

    @admin.display(description="companies")
    def companies(self, run: ResearchRun) -> str:
        return _count((run.counts.get("bundle") or {}).get("companies"))

    @admin.display(description="prospects")
    def prospects(self, run: ResearchRun) -> str:
        return _count(run.counts.get("prospects"))

    @admin.display(description="age", ordering="created_at")
    def age(self, run: ResearchRun) -> str:
        return format_html('<span title="{}">{}</span>', when(run.created_at), ago(run.created_at))

    @admin.display(description="")
    def review(self, run: ResearchRun) -> str:
        return review_link(run) if run.status == RunStatus.NEEDS_REVIEW else ""

    @admin.display(description="created by")
    def created_by_display(self, run: ResearchRun) -> str:
        return actor_display(run.created_by_actor)

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list:
        # Steps and sources are read-only here (sources are added over the API): an empty
        # table of headers only says less than no table.
        return [
            inline
            for inline in super().get_inline_instances(request, obj)
            if obj is None
            or inline.has_add_permission(request, obj)
            or inline.get_queryset(request).filter(run=obj).exists()
        ]

    def save_model(self, request: HttpRequest, obj: ResearchRun, form: Any, change: bool) -> None:
        changed = {f: form.cleaned_data[f] for f in form.changed_data if f in ("objective", "role")}
        if "role" in changed:
            changed["role_id"] = changed.pop("role").pk if changed["role"] else None
        run_update(
            run=ResearchRun.objects.get(pk=obj.pk),
            data=RunUpdate(**changed),
            actor=Actor.for_user(request.user),
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
            pending = Bundle.objects.filter(run=run).pending().first()
            latest = Bundle.objects.filter(run=run).order_by("-created_at").first()
            job = None
            if latest is not None and latest.ingest_job_id:
                job = Job.objects.filter(pk=latest.ingest_job_id).first()
            events = RunEvent.objects.filter(run=run).order_by("-created_at", "-id")
            prospects = Prospect.objects.filter(run=run)
            context.update(
                prospect_count=prospects.count(),
                top_prospects=prospects.select_related("company").order_by(
                    F("ai_rank").asc(nulls_last=True), "name"
                )[:TOP_PROSPECTS],
                prospects_url=(
                    reverse("admin:research_prospect_changelist") + f"?run__id__exact={run.pk}"
                ),
                pending_bundle=pending,
                review_url=self.review_url(run),
                has_bundle=latest is not None,
                job=job,
                timeline=[
                    {
                        "event": event,
                        "actor": actor_display(event.actor),
                        "phrase": event_phrase(event.event_type),
                        "at": when(event.created_at),
                    }
                    for event in events[:TIMELINE_LENGTH]
                ],
            )
        return super().change_view(request, object_id, form_url, extra_context=context)


def _count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"
