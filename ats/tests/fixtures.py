"""Shared fixtures: two tenants, API clients per role, staff sessions.

Every tenant-isolation test has the same shape: make data in `tenant_b`, ask as `tenant_a`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from ats import services
from ats.models import MemberRole, Tenant

from .factories import MembershipFactory, TenantFactory


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return TenantFactory(name="Alpha Search", slug="alpha")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return TenantFactory(name="Beta Partners", slug="beta")


@pytest.fixture
def api_client_for(db: None) -> Callable[..., APIClient]:
    """`api_client_for(tenant, role)`: a client that sends a fresh API key of that role."""

    def make(tenant: Tenant, role: str = MemberRole.ANALYST) -> APIClient:
        api_key, raw_key = services.api_key_create(tenant=tenant, role=role, name=f"{role} key")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        client.api_key = api_key
        return client

    return make


@pytest.fixture
def analyst_client(tenant_a: Tenant, api_client_for: Callable[..., APIClient]) -> APIClient:
    return api_client_for(tenant_a, MemberRole.ANALYST)


@pytest.fixture
def reviewer_client(tenant_a: Tenant, api_client_for: Callable[..., APIClient]) -> APIClient:
    return api_client_for(tenant_a, MemberRole.REVIEWER)


@pytest.fixture
def admin_client_a(tenant_a: Tenant, api_client_for: Callable[..., APIClient]) -> APIClient:
    return api_client_for(tenant_a, MemberRole.ADMIN)


@pytest.fixture
def staff_member_for(db: None) -> Callable[..., object]:
    """`staff_member_for(tenant, role)`: a staff user who is a member of the tenant."""

    def make(tenant: Tenant, role: str = MemberRole.REVIEWER) -> object:
        return MembershipFactory(tenant=tenant, role=role).user

    return make


@pytest.fixture
def metrics_token(settings: object) -> str:
    """/metrics opens with this token (it is closed without one when DEBUG is off)."""
    settings.METRICS_TOKEN = "test-metrics-token"
    return settings.METRICS_TOKEN
