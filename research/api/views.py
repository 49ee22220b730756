"""Research runs and bundles over HTTP (SPEC §9). Thin: parse, call a service, render."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from ats.api.negotiation import FormatParameterNegotiation
from ats.api.parsers import LimitedJSONParser
from ats.api.viewsets import TenantScopedViewSet
from ats.errors import FieldError, InvalidInput
from ats.models import MemberRole
from jobs.api.serializers import JobSerializer
from jobs.models import Job
from research.inputs import ListSubmit, RejectDecision, ReviewDecision, RunCreate, RunUpdate
from research.models import Bundle, Prospect, ResearchRun, RunEvent, RunSource, RunStep
from research.schemas import (
    MAX_SOURCES_PER_REQUEST,
    RunBundleV1,
    SourceTextInput,
    SourceUrlInput,
)
from research.selectors import (
    filter_prospects,
    filter_run_sources,
    filter_runs,
    prospects_with_counts,
    run_job_ids,
)
from research.services import bundles as bundle_services
from research.services import runs as run_services
from research.services.lists import list_submit
from research.services.pipeline import run_start
from research.services.sources import source_file_parse, source_inputs_parse, sources_add

from .prospects import PROSPECT_LIST_PARAMETERS, CSVRenderer, prospects_csv
from .serializers import (
    BundleSerializer,
    ProspectSerializer,
    RunEventSerializer,
    RunSerializer,
    RunSourceSerializer,
    RunStepSerializer,
    RunWithJobSerializer,
    ValidationAnswerSerializer,
)
from .uploads import RUN_SOURCE_LIST_PARAMETERS, uploaded_file

MSG_NO_BUNDLE = "This run has no bundle yet."
APPROVE_DESCRIPTION = """Approve the bundle awaiting review and queue its ingestion.

Recommended: send the `bundle_sha256` of the bundle you reviewed (from `GET
/runs/{id}/bundle/`). If a newer upload superseded it, or someone already approved or
rejected it, the answer is 409 and nothing changes. Without `bundle_sha256` the run's
current pending bundle is approved, whatever it is.

`decisions` (optional), per proposed company by its index in `proposal_json.companies`:
`include` (the default), `exclude` (not ingested, nor its evidence and metrics), or `same_as`
with `company_id`, an existing company of your tenant, which overrides automatic matching.
An unknown index or company answers 400 naming `decisions.N.company` or
`decisions.N.company_id`."""
SOURCE_INPUT_SCHEMAS = [SourceTextInput.model_json_schema(), SourceUrlInput.model_json_schema()]
MSG_BODY_REQUIRED = "Send the bundle to validate as the JSON body."


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Research runs of the caller's tenant."""

    queryset = ResearchRun.objects.all()
    serializer_class = RunSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_roles = {
        "create": MemberRole.ANALYST,
        "partial_update": MemberRole.ANALYST,
        "bundle": MemberRole.ANALYST,
        "validate_bundle": MemberRole.ANALYST,
        "cancel": MemberRole.ANALYST,
        "retry": MemberRole.ANALYST,
        "lists": MemberRole.ANALYST,
        "sources": MemberRole.ANALYST,
        "start": MemberRole.ANALYST,
        "approve": MemberRole.REVIEWER,
        "reject": MemberRole.REVIEWER,
    }

    @property
    def cursor_ordering(self) -> tuple[str, ...]:
        if self.action in ("events", "steps", "sources"):
            return ("id",)
        if self.action == "prospects":
            return self._prospect_ordering
        if self.action == "jobs":
            return ("-id",)
        return ("-created_at",)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.select_related("role")
        if self.action == "list":
            queryset = filter_runs(queryset, self.request.query_params)
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="Comma-separated statuses."),
            OpenApiParameter("role", int, description="Role (mandate) id."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=RunCreate,
        responses={201: RunSerializer, 200: RunSerializer},
        description="Create a draft run. A repeat with the same `idempotency_key` (in the "
        "body) answers 200 with the run created the first time.",
    )
    def create(self, request: Request) -> Response:
        run, created = run_services.run_create(
            tenant=self.tenant,
            data=RunCreate.model_validate(request.data),
            actor=self.tenant_context.actor,
        )
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED if created else 200)

    @extend_schema(request=RunUpdate, responses=RunSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        run = run_services.run_update(
            run=self.get_object(),
            data=RunUpdate.model_validate(request.data),
            actor=self.tenant_context.actor,
        )
        return Response(RunSerializer(run).data)

    @extend_schema(
        methods=["GET"], responses=BundleSerializer, description="The run's newest bundle."
    )
    @extend_schema(
        methods=["POST"],
        request=RunBundleV1,
        responses={201: BundleSerializer, 200: BundleSerializer},
        description="Upload a bundle: 201 when new, 200 (already_accepted) for the same content.",
    )
    @action(detail=True, methods=["get", "post"])
    def bundle(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        if request.method == "GET":
            bundle = Bundle.objects.filter(run=run).order_by("-created_at").first()
            if bundle is None:
                raise NotFound(MSG_NO_BUNDLE)
            return Response(BundleSerializer(bundle).data)
        result = bundle_services.bundle_upload(
            run=run, payload=request.data, actor=self.tenant_context.actor
        )
        return Response(
            BundleSerializer(
                result.bundle, context={"already_accepted": result.already_accepted}
            ).data,
            status=status.HTTP_200_OK if result.already_accepted else status.HTTP_201_CREATED,
        )

    @extend_schema(
        request=RunBundleV1,
        responses=ValidationAnswerSerializer,
        description="Validate a bundle without storing anything: the answer lists every "
        "error and warning, each with its `loc`.",
    )
    @action(detail=True, methods=["post"], url_path="bundle/validate")
    def validate_bundle(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        if request.stream is None:  # no body at all: not a bundle to answer about
            raise InvalidInput(
                MSG_BODY_REQUIRED, errors=[FieldError("", MSG_BODY_REQUIRED, "missing")]
            )
        validation = bundle_services.bundle_validate(run=run, payload=request.data)
        return Response(validation.as_dict())

    @extend_schema(
        request=ReviewDecision,
        responses={200: RunWithJobSerializer},
        description=APPROVE_DESCRIPTION,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        decision = ReviewDecision.model_validate(request.data)
        bundle = bundle_services.bundle_for_review(run=run, bundle_sha256=decision.bundle_sha256)
        bundle_services.bundle_approve(
            bundle=bundle,
            actor=self.tenant_context.actor,
            note=decision.note,
            decisions=decision.decisions,
        )
        return Response(RunWithJobSerializer(run, context={"job_id": bundle.ingest_job_id}).data)

    @extend_schema(
        request=RejectDecision,
        responses={200: RunSerializer},
        description="Reject the bundle the reviewer saw (`bundle_sha256`), with a required "
        "note for the researcher. 409 when that bundle no longer awaits review.",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        decision = RejectDecision.model_validate(request.data)
        bundle = bundle_services.bundle_for_review(run=run, bundle_sha256=decision.bundle_sha256)
        bundle_services.bundle_reject(
            bundle=bundle, actor=self.tenant_context.actor, decision=decision
        )
        return Response(RunSerializer(run).data)

    @extend_schema(request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = run_services.run_cancel(run=self.get_object(), actor=self.tenant_context.actor)
        return Response(RunSerializer(run).data)

    @extend_schema(request=None, responses=RunWithJobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        run, job_id = run_services.run_retry(run=self.get_object(), actor=self.tenant_context.actor)
        return Response(RunWithJobSerializer(run, context={"job_id": job_id}).data)

    @extend_schema(responses=RunEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        return self._paginated(RunEvent.objects.filter(run=run), RunEventSerializer)

    @extend_schema(responses=RunStepSerializer(many=True))
    @action(detail=True, methods=["get"])
    def steps(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        latest = Bundle.objects.filter(run=run).order_by("-created_at").values("pk")[:1]
        steps = RunStep.objects.filter(run=run).filter(
            bundle__isnull=True
        ) | RunStep.objects.filter(run=run, bundle__in=latest)
        return self._paginated(steps, RunStepSerializer)

    def _paginated(self, queryset: QuerySet, serializer_class: type) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    @extend_schema(
        parameters=PROSPECT_LIST_PARAMETERS,
        responses={
            (200, "application/json"): ProspectSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.STR,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, CSVRenderer],
        content_negotiation_class=FormatParameterNegotiation,
    )
    def prospects(self, request: Request, pk: str) -> Any:
        run = self.get_object()
        queryset, self._prospect_ordering = filter_prospects(
            prospects_with_counts(Prospect.objects.filter(run=run)), request.query_params
        )
        if request.accepted_renderer.format == CSVRenderer.format:
            return prospects_csv(
                queryset.order_by(*self._prospect_ordering), f"run-{run.pk}-prospects.csv"
            )
        return self._paginated(queryset, ProspectSerializer)

    @extend_schema(
        methods=["GET"],
        parameters=RUN_SOURCE_LIST_PARAMETERS,
        responses=RunSourceSerializer(many=True),
        description="The run's sources with their stage, state, and decision in the run.",
    )
    @extend_schema(
        methods=["POST"],
        request={
            "application/json": {
                "oneOf": [
                    *SOURCE_INPUT_SCHEMAS,
                    {
                        "type": "array",
                        "items": {"oneOf": SOURCE_INPUT_SCHEMAS},
                        "minItems": 1,
                        "maxItems": MAX_SOURCES_PER_REQUEST,
                    },
                ]
            },
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "title": {"type": "string"},
                },
                "required": ["file"],
            },
        },
        responses={201: RunSourceSerializer, 200: RunSourceSerializer},
        description=(
            "Add sources: `{kind: text, title, content_text}`, `{kind: url, url, title}`, a "
            "list of those, or a multipart `file` (HTML, XHTML, PDF or plain text by content; "
            "at most 10 MB; else 415). A source the tenant already has is linked, not copied. "
            "201 when a source was added to the run, 200 when all were there already; a list "
            "answers `{results: [...]}`."
        ),
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[LimitedJSONParser, MultiPartParser],
    )
    def sources(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        if request.method == "GET":
            links = filter_run_sources(
                RunSource.objects.filter(run=run).select_related("source").defer("source__text"),
                request.query_params,
            )
            return self._paginated(links, RunSourceSerializer)
        single = not isinstance(request.data, list)
        if request.content_type.startswith("multipart/"):
            news = [source_file_parse(uploaded_file(request))]
        else:
            news = source_inputs_parse(request.data)
        added = sources_add(run=run, sources=news, actor=self.tenant_context.actor)
        links = {
            link.source_id: link
            for link in RunSource.objects.filter(
                run=run, source_id__in=[a.source.pk for a in added]
            ).select_related("source")
        }
        context = {
            "created": {a.source.pk: a.created for a in added},
            "linked": {a.source.pk: a.linked for a in added},
        }
        items = RunSourceSerializer([links[a.source.pk] for a in added], many=True, context=context)
        status_code = 201 if any(a.linked for a in added) else 200
        return Response(items.data[0] if single else {"results": items.data}, status=status_code)

    @extend_schema(request=None, responses=RunWithJobSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        job = run_start(run=run, actor=self.tenant_context.actor)
        run.refresh_from_db()
        return Response(RunWithJobSerializer(run, context={"job_id": job.pk}).data)

    @extend_schema(responses=JobSerializer(many=True))
    @action(detail=True, methods=["get"])
    def jobs(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        queryset = Job.objects.for_tenant(self.tenant).filter(pk__in=run_job_ids(run.pk))
        return self._paginated(queryset, JobSerializer)

    @extend_schema(request=ListSubmit, responses={202: JobSerializer})
    @action(detail=True, methods=["post"])
    def lists(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        data = ListSubmit.model_validate(request.data)
        job = list_submit(run=run, text=data.text, fmt=data.format, actor=self.tenant_context.actor)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
