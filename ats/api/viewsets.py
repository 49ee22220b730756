"""The one base of every tenant-owned API endpoint.

`TenantScopedViewSet` owns `get_queryset` and the permission check, and refuses subclasses
that override `get_queryset`, so no endpoint can forget the tenant filter: another tenant's
object is simply not found (404).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from ats.models import MemberRole

from . import idempotency
from .tenancy import TenantContext, resolve_tenant_context

MSG_ROLE_REQUIRED = "This action needs the {role} role; your role is {current}."


class TenantRolePermission(permissions.BasePermission):
    """Authenticated, inside a tenant, with at least the role the action requires."""

    def has_permission(self, request: Request, view: Any) -> bool:
        context = resolve_tenant_context(request)
        required = view.required_role(request)
        if not context.has_role(required):
            self.message = MSG_ROLE_REQUIRED.format(role=required, current=context.role)
            return False
        return True


class TenantScopedViewSet(viewsets.GenericViewSet):
    """Base viewset: tenant-filtered queryset and role permissions (SPEC §9).

    Subclasses set `queryset` (the unfiltered base, e.g. `Company.objects.all()`), may
    narrow it in `scope_queryset`, and declare which role each action needs in
    `action_roles`. Reads need `analyst`; a write without a declared role needs `admin`.
    """

    permission_classes = [TenantRolePermission]
    action_roles: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset(); override scope_queryset() instead "
                "so that the tenant filter cannot be lost."
            )

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        key = request.headers.get(idempotency.HEADER, "").strip()
        if request.method == "POST" and key:
            self._idempotency = idempotency.begin(tenant=self.tenant, key=key, request=request)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        try:
            return super().handle_exception(exc)
        except Exception:  # an unexpected error (500): the key may be used again
            if getattr(self, "_idempotency", None) is not None:
                idempotency.abandon(self._idempotency)
            raise

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency", None)
        if record is not None and isinstance(response, Response):
            response.render()
            idempotency.finish(record, response)
        return response

    @property
    def tenant_context(self) -> TenantContext:
        return resolve_tenant_context(self.request)

    @property
    def tenant(self):
        return self.tenant_context.tenant

    def required_role(self, request: Request) -> str:
        if self.action is None:  # a method this endpoint lacks: let DRF answer 405
            return MemberRole.ANALYST
        if self.action in self.action_roles:
            return self.action_roles[self.action]
        if request.method in permissions.SAFE_METHODS:
            return MemberRole.ANALYST
        return MemberRole.ADMIN

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request tenant
            return self.queryset.none()
        return self.scope_queryset(self.queryset.for_tenant(self.tenant))

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        """Narrow or annotate the tenant's rows (select_related, filters from the query)."""
        return queryset
