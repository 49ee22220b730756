"""Another tenant's object answers 404 whatever the caller's role (SPEC §9, issue 11 §3).

Every operation of the schema that is about one object is called by tenant B's analyst key (the
lowest role) on tenant A's object: never 403, which would confirm that the id exists; and by
A's analyst on A's own object, where a reviewer-or-admin operation is a 403 as before.
"""

from __future__ import annotations

import pytest

from ats.models import MemberRole

from .world import World, api_operations, build_world

DETAIL_OPERATIONS = [(method, path) for method, path, _ in api_operations() if "{id}" in path]


@pytest.fixture
def world(tenant_a) -> World:
    return build_world(tenant_a)


@pytest.mark.parametrize(
    ("method", "path"), DETAIL_OPERATIONS, ids=[f"{m} {p}" for m, p in DETAIL_OPERATIONS]
)
def test_a_foreign_id_is_404_before_any_role_check(
    world, tenant_b, api_client_for, method, path
) -> None:
    url = world.fill(path)
    own = api_client_for(world.tenant, MemberRole.ANALYST).generic(
        method, url, "{}", "application/json"
    )
    foreign = api_client_for(tenant_b, MemberRole.ANALYST).generic(
        method, url, "{}", "application/json"
    )

    assert own.status_code != 404, "the route must exist for its own tenant"
    assert foreign.status_code == 404, foreign.content[:300]
    assert foreign["Content-Type"] == "application/problem+json"


def test_own_run_with_too_low_a_role_is_still_403(world, api_client_for) -> None:
    analyst = api_client_for(world.tenant, MemberRole.ANALYST)
    response = analyst.post(f"/api/v1/runs/{world.run.pk}/approve/", {}, format="json")
    assert response.status_code == 403
    assert "reviewer" in response.json()["detail"]
