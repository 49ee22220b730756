"""Jobs and workers in the admin: read-only, except the actions retry and cancel.

Staff see their tenants' jobs; system jobs (no tenant) and workers only superusers see.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.contrib import admin, messages
from django.db.models import BooleanField, ExpressionWrapper, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from ats.admin import TenantScopedAdmin, ago, has_tenant_role
from ats.errors import ServiceError
from ats.models import MemberRole

from . import services
from .conf import queue_settings
from .models import Job, WorkerProcess, live_condition


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    list_display = [
        "id",
        "job_type",
        "queue",
        "status",
        "attempts_display",
        "tenant",
        "created",
        "finished",
        "last_error_short",
    ]
    list_filter = ["status", "queue", "job_type", "cancel_requested"]
    # A request id (from a log line) finds the jobs that request enqueued.
    search_fields = ["job_type", "unique_key", "=request_id"]
    list_select_related = ["tenant"]
    show_full_result_count = False
    actions = ["retry_jobs", "cancel_jobs"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "job_type",
                    "tenant",
                    "queue",
                    "status",
                    "priority",
                    "attempts_display",
                    "unique_key",
                    "cancel_requested",
                    "request_id",
                ]
            },
        ),
        ("Times", {"fields": ["created_at", "run_after", "started_at", "finished_at"]}),
        ("Lease", {"fields": ["locked_by", "locked_at", "heartbeat_at", "fencing_token"]}),
        ("Data", {"fields": ["payload_display", "result_display"]}),
        ("Errors", {"fields": ["errors_display"]}),
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Job type or unique key contains the term, or the request id is the term; a number
        also finds that job id."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit():
            found |= queryset.filter(pk=int(term))
        return found, may_have_duplicates

    def get_readonly_fields(self, request: HttpRequest, obj: Job | None = None) -> list[str]:
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    @admin.display(description="attempts")
    def attempts_display(self, job: Job) -> str:
        return f"{job.attempts} / {job.max_attempts}"

    @admin.display(description="created", ordering="created_at")
    def created(self, job: Job) -> str:
        return ago(job.created_at)

    @admin.display(description="finished", ordering="finished_at")
    def finished(self, job: Job) -> str:
        return ago(job.finished_at)

    @admin.display(description="last error")
    def last_error_short(self, job: Job) -> str:
        # The exception's class without its module: a dotted path is one unbreakable word
        # that widens the column past the page (the change page has the whole error).
        error = re.sub(r"^(?:\w+\.)+(\w+:)", r"\1", job.last_error)
        return error if len(error) <= 80 else f"{error[:79]}…"

    @admin.display(description="payload")
    def payload_display(self, job: Job) -> str:
        return format_html("<pre>{}</pre>", json.dumps(job.payload, indent=2, sort_keys=True))

    @admin.display(description="result")
    def result_display(self, job: Job) -> str:
        if job.result is None:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(job.result, indent=2, sort_keys=True))

    @admin.display(description="errors (one per failed attempt)")
    def errors_display(self, job: Job) -> str:
        if not job.errors:
            return "—"
        return format_html_join(
            "\n",
            "<div style='margin-bottom:1em'><strong>Attempt {} — {}</strong> at {} on {}{}"
            "<br>{}<details><summary>traceback</summary><pre>{}</pre></details></div>",
            (
                (
                    entry.get("attempt"),
                    entry.get("error_class", ""),
                    entry.get("at", ""),
                    entry.get("worker", ""),
                    f" (in {entry['phase']})" if entry.get("phase", "handler") != "handler" else "",
                    entry.get("message", ""),
                    entry.get("traceback") or "(none)",
                )
                for entry in reversed(job.errors)
            ),
        )

    # Analysts may retry and cancel (SPEC §9); the queryset is already tenant-scoped.
    def has_retry_permission(self, request: HttpRequest) -> bool:
        return has_tenant_role(request, MemberRole.ANALYST)

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return has_tenant_role(request, MemberRole.ANALYST)

    @admin.action(description="Retry selected failed or cancelled jobs", permissions=["retry"])
    def retry_jobs(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, services.retry, "queued again")

    @admin.action(description="Cancel selected jobs", permissions=["cancel"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._apply(request, queryset, services.cancel, "cancelled (or asked to stop)")

    def _apply(self, request: HttpRequest, queryset: QuerySet, service: Any, done: str) -> None:
        count = 0
        for job in queryset:
            try:
                service(job)
            except ServiceError as exc:
                messages.error(request, exc.message)
                continue
            self.log_change(request, job, done)
            count += 1
        if count:
            messages.success(request, f"{count} job(s) {done}.")


@admin.register(WorkerProcess)
class WorkerAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "queues_display",
        "concurrency",
        "live",
        "started",
        "seen",
        "stopped",
        "jobs_display",
        "current_display",
    ]
    list_filter = [("stopped_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "host"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        condition = live_condition(queue_settings().lease_timeout)
        return (
            super()
            .get_queryset(request)
            .annotate(is_live=ExpressionWrapper(condition, output_field=BooleanField()))
        )

    @admin.display(description="queues")
    def queues_display(self, worker: WorkerProcess) -> str:
        return worker.describe_queues()

    @admin.display(description="started", ordering="started_at")
    def started(self, worker: WorkerProcess) -> str:
        return ago(worker.started_at)

    @admin.display(description="last seen", ordering="last_seen_at")
    def seen(self, worker: WorkerProcess) -> str:
        return ago(worker.last_seen_at)

    @admin.display(description="stopped", ordering="stopped_at")
    def stopped(self, worker: WorkerProcess) -> str:
        return ago(worker.stopped_at)

    @admin.display(description="jobs done / failed")
    def jobs_display(self, worker: WorkerProcess) -> str:
        return f"{worker.jobs_succeeded:,} / {worker.jobs_failed:,}"

    @admin.display(description="running now")
    def current_display(self, worker: WorkerProcess) -> int:
        return len(worker.current_jobs)

    @admin.display(boolean=True, ordering="is_live")
    def live(self, worker: WorkerProcess) -> bool:
        return worker.is_live
