"""The one base of every tenant-owned API endpoint.

`TenantScopedViewSet` owns `get_queryset` and the permission check, and refuses subclasses
that override `get_queryset`, so no endpoint can forget the tenant filter: another tenant's
object is simply not found (404), also for a caller whose role would not allow the action.

It also owns what every endpoint gets without asking (`SafeInputMixin`): every parser it uses
(JSON, forms, files) is wrapped in the check that refuses values the database cannot store,
a body is parsed before any work, and rate limits apply before permissions, so that
anonymous and badly authenticated callers are limited too.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework import permissions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from ats.models import MemberRole

from . import idempotency
from .parsers import CheckedParser
from .tenancy import TenantContext, resolve_tenant_context

MSG_ROLE_REQUIRED = "This action needs the {role} role; your role is {current}."


class TenantRolePermission(permissions.BasePermission):
    """Authenticated, inside a tenant, with at least the role the action requires.

    On a route about one object, the object is looked up (tenant-scoped) before a role is
    refused: another tenant's id answers 404 whatever the caller's role, as SPEC §9 says.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        context = resolve_tenant_context(request)
        required = view.required_role(request)
        if context.has_role(required):
            return True
        self.message = MSG_ROLE_REQUIRED.format(role=required, current=context.role)
        if (view.lookup_url_kwarg or view.lookup_field) in view.kwargs:
            view.get_object()  # raises Http404 for an id that is not the tenant's
        return False


class SafeInputMixin:
    """Input checks and rate limits every API view gets (see the module docstring)."""

    def get_parsers(self) -> list[Any]:
        return [
            parser if getattr(parser, "checks_storable", False) else CheckedParser(parser)
            for parser in super().get_parsers()
        ]

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        self.check_throttles(request)  # before permissions refuse the anonymous

    def check_throttles(self, request: Request) -> None:
        if not getattr(request, "_throttles_checked", False):  # DRF calls it again later
            request._throttles_checked = True
            super().check_throttles(request)

    def parse_body(self, request: Request) -> None:
        """Parse (and check) a body now, so bad input is refused before any work is done.

        Not for a method the endpoint lacks: that is a 405, whatever the body."""
        if request.method not in permissions.SAFE_METHODS and getattr(self, "action", True):
            request.data  # noqa: B018 - parsing is the point


class TenantScopedViewSet(SafeInputMixin, viewsets.GenericViewSet):
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
        self.parse_body(request)  # after the idempotency key has read the raw body

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
