"""Who is calling, for which tenant, with which role.

The tenant comes from the API key, or from the session user's membership; never from the
request body. A user with several memberships chooses one with the `X-Tenant: <slug>` header.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from rest_framework import exceptions
from rest_framework.request import Request

from ats import request_context
from ats.actors import Actor
from ats.models import ApiKey, MemberRole, Membership, Tenant
from ats.tenant_scope import enter_scope

TENANT_HEADER = "X-Tenant"
MSG_NO_MEMBERSHIP = "Your account is not a member of any tenant."
MSG_CHOOSE_TENANT = (
    "Your account is a member of several tenants; choose one with the X-Tenant header (its slug)."
)
MSG_NOT_A_MEMBER = "Your account is not a member of tenant {slug!r}."


@dataclass(frozen=True)
class TenantContext:
    tenant: Tenant
    role: str
    user: AbstractBaseUser | None = None
    api_key: ApiKey | None = None

    @property
    def actor(self) -> Actor:
        """How events name the caller: `user:<username>` or `api_key:<name>`."""
        if self.api_key is not None:
            return Actor(label=f"api_key:{self.api_key.name or self.api_key.prefix}")
        assert self.user is not None
        return Actor.for_user(self.user)

    def has_role(self, required: str) -> bool:
        return MemberRole.at_least(self.role, required)


def resolve_tenant_context(request: Request) -> TenantContext:
    """The caller's tenant context; raises NotAuthenticated / PermissionDenied."""
    cached = getattr(request, "_tenant_context", None)
    if cached is not None:
        return cached
    if isinstance(request.auth, ApiKey):
        context = TenantContext(
            tenant=request.auth.tenant, role=request.auth.role, api_key=request.auth
        )
    elif request.user and request.user.is_authenticated:
        context = _context_for_user(request)
    else:
        raise exceptions.NotAuthenticated()
    enter_scope([context.tenant.pk])  # the rest of the request sees this tenant only
    request._tenant_context = context
    request_context.note_caller(tenant=context.tenant.slug, actor=context.actor.label)
    return context


def _context_for_user(request: Request) -> TenantContext:
    user = request.user
    slug = request.headers.get(TENANT_HEADER, "").strip()
    memberships = Membership.objects.filter(user=user).select_related("tenant")
    if slug:
        membership = memberships.filter(tenant__slug=slug).first()
        if membership is not None:
            return TenantContext(tenant=membership.tenant, role=membership.role, user=user)
        tenant = Tenant.objects.filter(slug=slug).first() if user.is_superuser else None
        if tenant is not None:
            return TenantContext(tenant=tenant, role=MemberRole.ADMIN, user=user)
        raise exceptions.PermissionDenied(MSG_NOT_A_MEMBER.format(slug=slug))
    found = list(memberships[:2])
    if not found:
        raise exceptions.PermissionDenied(MSG_NO_MEMBERSHIP)
    if len(found) > 1:
        raise exceptions.PermissionDenied(MSG_CHOOSE_TENANT)
    return TenantContext(tenant=found[0].tenant, role=found[0].role, user=user)
