import pytest

from research.models import ResearchRun, RunEvent, RunStatus

PROBLEM = "application/problem+json"


@pytest.mark.sqlite
def test_create_run(analyst_client, tenant_a) -> None:
    response = analyst_client.post(
        "/api/v1/runs/",
        {"objective": "Robotics CTOs", "constraints": {"region": "EU"}, "rank_spec": {"by": "fit"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["objective"] == "Robotics CTOs"
    assert {
        "id",
        "status",
        "objective",
        "role",
        "last_error",
        "created_at",
        "updated_at",
        "counts",
    } <= body.keys()
    run = ResearchRun.objects.get(pk=body["id"])
    assert run.tenant == tenant_a
    event = RunEvent.objects.get(run=run)
    assert event.event_type == "run_created"
    assert event.actor == "api_key:analyst key"


def test_same_idempotency_key_returns_existing_run(analyst_client) -> None:
    body = {"objective": "Robotics CTOs", "idempotency_key": "agent-42"}
    first = analyst_client.post("/api/v1/runs/", body, format="json")
    second = analyst_client.post("/api/v1/runs/", body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert ResearchRun.objects.count() == 1


def test_idempotency_key_in_body_with_another_request_is_422(analyst_client) -> None:
    first = analyst_client.post(
        "/api/v1/runs/", {"objective": "A", "idempotency_key": "k1"}, format="json"
    )
    other = analyst_client.post(
        "/api/v1/runs/", {"objective": "B", "idempotency_key": "k1"}, format="json"
    )
    assert (first.status_code, other.status_code) == (201, 422)
    assert other["Content-Type"] == PROBLEM
    assert ResearchRun.objects.count() == 1


def test_same_key_in_two_tenants_is_two_runs(api_client_for, tenant_a, tenant_b) -> None:
    for tenant in (tenant_a, tenant_b):
        response = api_client_for(tenant).post(
            "/api/v1/runs/", {"objective": "A", "idempotency_key": "k"}, format="json"
        )
        assert response.status_code == 201
    assert ResearchRun.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, "objective"),
        ({"objective": "   "}, "objective"),
        ({"objective": "x", "tenant": 1}, "tenant"),
        ({"objective": "x", "constraints": []}, "constraints"),
        ({"objective": "x", "role_id": 999999}, "role_id"),
    ],
)
def test_create_run_invalid_names_the_field(analyst_client, body, loc) -> None:
    response = analyst_client.post("/api/v1/runs/", body, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    assert loc in [error["loc"] for error in response.json()["errors"]]
    assert not ResearchRun.objects.exists()


def test_role_of_another_tenant_is_unknown(analyst_client, tenant_b) -> None:
    from ats.tests.factories import RoleFactory

    foreign = RoleFactory(tenant=tenant_b)
    response = analyst_client.post(
        "/api/v1/runs/", {"objective": "x", "role_id": foreign.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == "role_id"


def test_list_filter_and_patch(analyst_client, run_a, make_run, tenant_a) -> None:
    other = make_run(tenant_a, "Second")
    ResearchRun.objects.filter(pk=other.pk).update(status=RunStatus.FAILED)
    rows = analyst_client.get("/api/v1/runs/", {"status": "draft"}).json()["results"]
    assert [row["id"] for row in rows] == [str(run_a.pk)]
    response = analyst_client.patch(
        f"/api/v1/runs/{run_a.pk}/", {"objective": "Sharper objective"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["objective"] == "Sharper objective"
    response = analyst_client.patch(
        f"/api/v1/runs/{run_a.pk}/", {"status": "succeeded"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == "status"
    run_a.refresh_from_db()
    assert run_a.status == RunStatus.DRAFT


# Tenant isolation of every endpoint: research/tests/test_isolation_matrix.py.


@pytest.mark.parametrize(
    ("path", "loc"),
    [("/api/v1/runs/?role=abc", "role"), ("/api/v1/runs/?status=done", "status")],
)
def test_bad_list_parameters_are_400(analyst_client, path, loc) -> None:
    response = analyst_client.get(path)
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == loc


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/runs/not-a-uuid/",
        "/api/v1/runs/not-a-uuid/events/",
        "/api/v1/companies/abc/",
        "/api/v1/prospects/x/",
        "/api/v1/sources/1.5/",
        "/api/v1/jobs/zz/",
        "/api/v1/runs/?cursor=garbage",
    ],
)
def test_malformed_ids_and_cursors_are_404_not_500(analyst_client, path) -> None:
    response = analyst_client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
