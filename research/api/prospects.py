"""Prospects, their evidence and metrics, sources, and the CSV export (SPEC §9)."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import BaseModel, ConfigDict, Field
from rest_framework import mixins, renderers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ats.api.viewsets import TenantScopedViewSet
from ats.errors import FieldError, InvalidInput
from ats.models import MemberRole
from ats.tenant_scope import in_current_scope
from research.models import Prospect, ProspectEvidence, ProspectMetric, ReviewStatus, Source
from research.selectors import prospects_with_counts
from research.services.prospects import MSG_NOT_EDITABLE, PROSPECT_MANUAL_FIELDS, prospect_update

from .serializers import (
    ProspectDetailSerializer,
    ProspectEvidenceSerializer,
    ProspectMetricSerializer,
    SourceDetailSerializer,
)

PROSPECT_LIST_PARAMETERS = [
    OpenApiParameter(
        "review_status", str, description="Comma-separated: new, accepted, hold, rejected."
    ),
    OpenApiParameter("min_score", float, description="Only prospects with ai_score ≥ this."),
    OpenApiParameter("pinned", bool),
    OpenApiParameter("status", str, description="active or withdrawn."),
    OpenApiParameter("search", str, description="Name contains."),
    OpenApiParameter("ordering", str, enum=["rank", "-rank", "score", "-score", "name", "-name"]),
    OpenApiParameter(
        "format",
        str,
        enum=["json", "csv"],
        description="csv: the whole list as CSV (so does `Accept: text/csv`).",
    ),
]
CSV_COLUMNS = [
    "rank",
    "score",
    "name",
    "company",
    "domain",
    "review_status",
    "manual_priority",
    "is_pinned",
    "manual_notes",
    "evidence_count",
    "metrics_count",
    "status",
    "company_id",
    "prospect_id",
]


class ProspectPatch(BaseModel):
    """PATCH /prospects/{id}/: manual fields only."""

    model_config = ConfigDict(extra="forbid")

    review_status: ReviewStatus | None = None
    manual_priority: int | None = Field(default=None, ge=1, le=5, description="1 (highest) to 5.")
    manual_notes: str | None = Field(default=None, max_length=20_000)
    is_pinned: bool | None = None


def parse_prospect_patch(data: Any) -> dict[str, Any]:
    if isinstance(data, dict):
        refused = sorted(set(data) - set(PROSPECT_MANUAL_FIELDS))
        if refused:
            raise InvalidInput(
                "Only manual fields can be edited.",
                errors=[FieldError(f, MSG_NOT_EDITABLE, "read_only") for f in refused],
            )
    patch = ProspectPatch.model_validate(data)
    changes = patch.model_dump(exclude_unset=True)
    for field in ("review_status", "manual_notes", "is_pinned"):
        if field in changes and changes[field] is None:
            raise InvalidInput(
                "May not be null.", errors=[FieldError(field, "May not be null.", "null")]
            )
    return changes


def _safe_cell(value: Any) -> Any:
    """Spreadsheets run cells that start with = + - @ as formulas: neutralize them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


class CSVRenderer(renderers.BaseRenderer):
    """text/csv: rows (lists of cells) as CSV lines, spreadsheet formulas neutralized.

    Declared on the export endpoint so that content negotiation can choose it; the export
    streams its rows through `csv_lines` rather than building one big response.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return "".join(csv_lines(data)).encode(self.charset)


def csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([_safe_cell(value) for value in row])


def prospects_csv(queryset: QuerySet, filename: str) -> StreamingHttpResponse:
    def rows() -> Iterator[list[Any]]:
        yield CSV_COLUMNS
        for p in queryset.iterator(chunk_size=2_000):
            yield [
                p.ai_rank,
                p.ai_score,
                p.name,
                p.company.name,
                p.company.domain,
                p.review_status,
                p.manual_priority,
                p.is_pinned,
                p.manual_notes,
                p.evidence_count,
                p.metrics_count,
                p.status,
                p.company_id,
                p.pk,
            ]

    lines = itertools.chain(["\ufeff"], csv_lines(rows()))  # BOM: Excel then reads UTF-8
    response = StreamingHttpResponse(
        in_current_scope(lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ProspectViewSet(mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = Prospect.objects.all()
    serializer_class = ProspectDetailSerializer
    http_method_names = ["get", "patch", "head", "options"]
    action_roles = {"partial_update": MemberRole.REVIEWER}
    cursor_ordering = ("id",)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action in ("retrieve", "partial_update"):
            return prospects_with_counts(queryset)
        return queryset

    @extend_schema(request=ProspectPatch, responses=ProspectDetailSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        prospect = self.get_object()
        prospect_update(
            prospect=prospect,
            changes=parse_prospect_patch(request.data),
            actor=self.tenant_context.actor,
        )
        return Response(ProspectDetailSerializer(self.get_object()).data)

    @extend_schema(responses=ProspectEvidenceSerializer(many=True))
    @action(detail=True, methods=["get"])
    def evidence(self, request: Request, pk: str) -> Response:
        prospect = self.get_object()
        items = ProspectEvidence.objects.filter(prospect=prospect).select_related("source")
        page = self.paginate_queryset(items)
        return self.get_paginated_response(ProspectEvidenceSerializer(page, many=True).data)

    @extend_schema(responses=ProspectMetricSerializer(many=True))
    @action(detail=True, methods=["get"])
    def metrics(self, request: Request, pk: str) -> Response:
        prospect = self.get_object()
        items = ProspectMetric.objects.filter(prospect=prospect).select_related("source")
        page = self.paginate_queryset(items)
        return self.get_paginated_response(ProspectMetricSerializer(page, many=True).data)


class SourceViewSet(mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = Source.objects.all()
    serializer_class = SourceDetailSerializer
