"""Reads that more than one caller needs: the review panel of a bundle, a run's jobs."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from ats.errors import FieldError, InvalidInput
from ats.normalize import normalize_company_name
from research.models import (
    Bundle,
    ProspectEvidence,
    ProspectMetric,
    ProspectStatus,
    ReviewStatus,
    RunEvent,
    RunSource,
    RunStatus,
    SourceDecision,
    SourceKind,
    SourceStage,
    SourceState,
)


def run_job_ids(run_id: Any) -> list[int]:
    """Ids of the jobs that worked on a run: from its events and bundles, its pipeline jobs
    (keys `run:<id>:…`) and its sources' fetch and extract jobs (keys `source:<id>:…`)."""
    from jobs.models import Job

    from .services.pipeline import run_job_prefix, source_job_key
    from .services.steps import EXTRACT, FETCH

    source_ids = RunSource.objects.filter(run_id=run_id).values_list("source_id", flat=True)
    keys = [source_job_key(stage, sid) for sid in source_ids for stage in (FETCH, EXTRACT)]
    pipeline = Job.objects.filter(
        Q(unique_key__startswith=run_job_prefix(run_id)) | Q(unique_key__in=keys)
    ).values_list("pk", flat=True)
    ids = (
        set(pipeline)
        | set(
            RunEvent.objects.filter(run_id=run_id, job_id__isnull=False).values_list(
                "job_id", flat=True
            )
        )
        | set(
            Bundle.objects.filter(run_id=run_id, ingest_job_id__isnull=False).values_list(
                "ingest_job_id", flat=True
            )
        )
    )
    return sorted(ids)


RUN_SOURCE_FILTERS = {
    "stage": ("source__stage", SourceStage.values),
    "state": ("source__state", SourceState.values),
    "decision": ("decision", SourceDecision.values),
    "kind": ("source__kind", SourceKind.values),
}


def filter_run_sources(queryset: QuerySet, params: Any) -> QuerySet:
    """`?stage=`, `?state=`, `?decision=` (in the run), `?kind=`, each comma-separated;
    raises InvalidInput naming a bad parameter."""
    errors = []
    for name, (lookup, choices) in RUN_SOURCE_FILTERS.items():
        if not params.get(name):
            continue
        values = params[name].split(",")
        if bad := [v for v in values if v not in choices]:
            errors.append(
                FieldError(
                    name,
                    f"Unknown {name} {bad[0]!r}; use {', '.join(choices)}.",
                    "invalid_choice",
                )
            )
        queryset = queryset.filter(**{f"{lookup}__in": values})
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return queryset


def filter_runs(queryset: QuerySet, params: Any) -> QuerySet:
    """`?status=a,b` and `?role=<id>`; raises InvalidInput naming a bad parameter."""
    errors = []
    if params.get("status"):
        statuses = params["status"].split(",")
        if bad := [s for s in statuses if s not in RunStatus.values]:
            errors.append(
                FieldError(
                    "status",
                    f"Unknown run status {bad[0]!r}; use {', '.join(RunStatus.values)}.",
                    "invalid_choice",
                )
            )
        queryset = queryset.filter(status__in=statuses)
    if params.get("role"):
        if not params["role"].isdigit():
            errors.append(FieldError("role", "A role id (a whole number).", "invalid"))
        else:
            queryset = queryset.filter(role_id=int(params["role"]))
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return queryset


PROSPECT_ORDERINGS = {
    "rank": ("rank_order", "id"),
    "-rank": ("-rank_order", "-id"),
    "score": ("score_order", "id"),
    "-score": ("-score_order", "-id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
}
MSG_BAD_ORDERING = "Unknown ordering {value!r}; use one of: {choices}."


def _count(model: type, field: str = "prospect") -> Coalesce:
    """A correlated count (two joins in one query would multiply each other's rows)."""
    counted = (
        model.objects.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def prospects_with_counts(queryset: QuerySet) -> QuerySet:
    """Prospects with `evidence_count`, `metrics_count` and sortable rank/score (NULLs last:
    cursor pagination needs non-null positions)."""
    return queryset.select_related("company").annotate(
        evidence_count=_count(ProspectEvidence),
        metrics_count=_count(ProspectMetric),
        rank_order=Coalesce(F("ai_rank"), Value(2_147_483_647), output_field=IntegerField()),
        score_order=Coalesce(F("ai_score"), Value(-1.0), output_field=FloatField()),
    )


def filter_prospects(queryset: QuerySet, params: Any) -> tuple[QuerySet, tuple[str, ...]]:
    """The list filters of SPEC §9 (review status, minimum score, pinned, status, name
    search) and the ordering. Raises InvalidInput naming each bad parameter."""
    errors = []
    if review := params.get("review_status"):
        statuses = review.split(",")
        bad = [s for s in statuses if s not in ReviewStatus.values]
        if bad:
            errors.append(
                FieldError(
                    "review_status",
                    f"Unknown review status {bad[0]!r}; use {', '.join(ReviewStatus.values)}.",
                    "invalid_choice",
                )
            )
        queryset = queryset.filter(review_status__in=statuses)
    if (min_score := params.get("min_score")) not in (None, ""):
        try:
            queryset = queryset.filter(ai_score__gte=float(min_score))
        except ValueError:
            errors.append(FieldError("min_score", "A number from 0 to 1.", "invalid"))
    if (pinned := params.get("pinned")) not in (None, ""):
        if pinned.lower() not in ("true", "false", "1", "0"):
            errors.append(FieldError("pinned", "true or false.", "invalid"))
        queryset = queryset.filter(is_pinned=pinned.lower() in ("true", "1"))
    if status := params.get("status"):
        if status not in ProspectStatus.values:
            errors.append(FieldError("status", "active or withdrawn.", "invalid_choice"))
        queryset = queryset.filter(status=status)
    if search := params.get("search", "").strip():
        queryset = queryset.filter(
            Q(name__icontains=search)
            | Q(company__normalized_name__contains=normalize_company_name(search))
        )
    ordering = params.get("ordering", "rank")
    if ordering not in PROSPECT_ORDERINGS:
        errors.append(
            FieldError(
                "ordering",
                MSG_BAD_ORDERING.format(value=ordering, choices=", ".join(PROSPECT_ORDERINGS)),
                "invalid_choice",
            )
        )
    if errors:
        raise InvalidInput("Invalid query parameters.", errors=errors)
    return queryset, PROSPECT_ORDERINGS[ordering]
