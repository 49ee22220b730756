"""Request middleware of the ats app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ats.models import Membership
from ats.tenant_scope import ALL_TENANTS, NO_TENANT, enter_scope, system_scope, tenant_scope


class TenantScopeMiddleware:
    """Every request starts seeing no tenant's rows (row-level security, `ats.tenant_scope`).

    A signed-in staff member sees their tenants' rows (a superuser every tenant's); the API
    narrows that to the one tenant of the call once it knows it (API key or `X-Tenant`).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with tenant_scope(NO_TENANT):
            user = request.user
            if user.is_authenticated and user.is_active:
                if user.is_superuser:
                    enter_scope(ALL_TENANTS)
                else:
                    with system_scope():
                        tenant_ids = list(
                            Membership.objects.filter(user=user).values_list("tenant_id", flat=True)
                        )
                    enter_scope(tenant_ids)
            return self.get_response(request)
