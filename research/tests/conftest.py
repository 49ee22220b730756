from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from ats.actors import Actor
from ats.models import MemberRole, Tenant
from research.inputs import RunCreate
from research.models import ResearchRun
from research.services.runs import run_create

from . import builders


@pytest.fixture
def make_run(db: None) -> Callable[..., ResearchRun]:
    def make(tenant: Tenant, objective: str = "Find CTO candidates' companies") -> ResearchRun:
        run, _ = run_create(
            tenant=tenant, data=RunCreate(objective=objective), actor=Actor.system("test")
        )
        return run

    return make


@pytest.fixture
def run_a(tenant_a: Tenant, make_run: Callable[..., ResearchRun]) -> ResearchRun:
    return make_run(tenant_a)


@pytest.fixture
def small_bundle() -> Callable[..., dict[str, Any]]:
    """`small_bundle(run, companies=3)`: a valid bundle for the run."""

    def make(run: ResearchRun, companies: int = 3, **kwargs: Any) -> dict[str, Any]:
        return builders.generated_bundle(run.pk, companies=companies, **kwargs)

    return make


def post_json(client: APIClient, url: str, body: Any) -> Any:
    return client.post(url, body, format="json")


@pytest.fixture
def reviewer_of(api_client_for: Callable[..., APIClient]) -> Callable[[Tenant], APIClient]:
    return lambda tenant: api_client_for(tenant, MemberRole.REVIEWER)


# Real worker processes on the test database (from the jobs tests).
from jobs.tests.conftest import start_worker  # noqa: E402,F401
