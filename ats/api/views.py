from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from ats import services
from ats.models import Company, CompanyAlias, MemberRole
from ats.normalize import normalize_company_name, registrable_domain

from .serializers import CompanyDetailSerializer, CompanySerializer, CompanyUpdateSerializer
from .viewsets import TenantScopedViewSet


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Name or alias contains (normalized)."),
            OpenApiParameter("domain", str, description="Registrable domain or URL."),
        ]
    ),
    partial_update=extend_schema(
        request=CompanyUpdateSerializer, responses=CompanyDetailSerializer
    ),
)
class CompanyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    TenantScopedViewSet,
):
    """The tenant's canonical companies. Admins may correct them (PATCH)."""

    queryset = Company.objects.all()
    http_method_names = ["get", "patch", "head", "options"]
    action_roles = {"partial_update": MemberRole.ADMIN}
    cursor_ordering = ("name", "id")

    def get_serializer_class(self):
        return CompanySerializer if self.action == "list" else CompanyDetailSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.action == "list":
            search = self.request.query_params.get("search", "").strip()
            if search:
                key = normalize_company_name(search)
                queryset = queryset.filter(
                    Q(normalized_name__contains=key)
                    | Q(
                        pk__in=CompanyAlias.objects.for_tenant(self.tenant)
                        .filter(normalized_alias__contains=key)
                        .values("company_id")
                    )
                )
            domain = self.request.query_params.get("domain", "").strip()
            if domain:
                queryset = queryset.filter(domain=registrable_domain(domain) or domain.lower())
        return queryset.prefetch_related(
            Prefetch("aliases", queryset=CompanyAlias.objects.order_by("alias"))
        )

    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        company = self.get_object()
        serializer = CompanyUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.company_update(company=company, **serializer.validated_data)
        return Response(CompanyDetailSerializer(self.get_object()).data)
