"""Run list actions: start, cancel and retry, through the same services as the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from ats.actors import Actor
from ats.admin import has_tenant_role
from ats.errors import ServiceError
from ats.models import MemberRole
from research.models import ResearchRun
from research.services.pipeline import run_start
from research.services.runs import run_cancel, run_retry

MAX_RUNS = 100


def _each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    verb: str,
    call: Callable[[ResearchRun, Actor], Any],
) -> None:
    actor = Actor.for_user(request.user)
    done, refused = 0, []
    for run in queryset.select_related("tenant")[:MAX_RUNS]:
        if not has_tenant_role(request, MemberRole.ANALYST, run.tenant_id):
            refused.append(f"{run}: {verb} needs the analyst role.")
            continue
        try:
            call(run, actor)
        except ServiceError as exc:
            refused.append(f"“{str(run)[:60]}”: {exc.message}")
            continue
        modeladmin.log_change(request, run, f"{verb.capitalize()} from the run list")
        done += 1
    if done:
        messages.success(request, f"{verb.capitalize()}: {done} run(s).")
    for message in refused:
        messages.error(request, message)


@admin.action(description="Start processing the selected runs' sources")
def start_runs(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    _each(
        modeladmin, request, queryset, "start", lambda run, actor: run_start(run=run, actor=actor)
    )


@admin.action(description="Cancel the selected runs")
def cancel_runs(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    _each(
        modeladmin, request, queryset, "cancel", lambda run, actor: run_cancel(run=run, actor=actor)
    )


@admin.action(description="Retry the selected failed runs from the step that failed")
def retry_runs(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    _each(
        modeladmin, request, queryset, "retry", lambda run, actor: run_retry(run=run, actor=actor)
    )
