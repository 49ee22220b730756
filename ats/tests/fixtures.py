"""Shared fixtures: two tenants, API clients per role, staff sessions.

Every tenant-isolation test has the same shape: make data in `tenant_b`, ask as `tenant_a`.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
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


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, once per test session."""
    from playwright.sync_api import sync_playwright

    from .browser import CHROMIUM_ARGS, chromium_path

    # Playwright's sync API keeps an event loop in this thread; the ORM calls that tests make
    # beside it are still synchronous. (Child processes drop it: subprocess_env.)
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page_for(
    chromium: Any,
    live_server: Any,
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., Any]]:
    """`browser_page_for(user)`: a watched page logged in as `user` (None: logged out), at
    1366x768. At teardown the test fails if any page logged a console error, a failed
    request, an unannounced HTTP error or a request to another host."""
    from .browser import ARTIFACTS, VIEWPORTS, WatchedPage, session_cookie_for

    pages: list[WatchedPage] = []
    contexts = []
    artifacts = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    shutil.rmtree(artifacts, ignore_errors=True)
    shot_numbers = itertools.count(1)  # shared by the test's pages: one sequence of steps

    def make(user: Any = None) -> WatchedPage:
        width, height = VIEWPORTS["laptop"]
        context = chromium.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        if user is not None:
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": session_cookie_for(user),
                        "url": live_server.url,
                    }
                ]
            )
        page = WatchedPage(
            context.new_page(),
            base_url=live_server.url,
            artifacts=artifacts,
            shot_numbers=shot_numbers,
        )
        pages.append(page)
        return page

    yield make
    for context in contexts:
        context.close()
    for page in pages:
        page.assert_clean()


@pytest.fixture
def metrics_token(settings: object) -> str:
    """/metrics opens with this token (it is closed without one when DEBUG is off)."""
    settings.METRICS_TOKEN = "test-metrics-token"
    return settings.METRICS_TOKEN
