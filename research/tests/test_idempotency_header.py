"""`Idempotency-Key` on POST (SPEC §9), through real endpoints."""

import threading

import pytest
from django.db import connection

from ats.models import IdempotencyRecord
from research.models import ResearchRun, RunEvent

PROBLEM = "application/problem+json"


def post(client, url, body, key="key-1"):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_and_body_replays_the_first_answer(analyst_client) -> None:
    first = post(analyst_client, "/api/v1/runs/", {"objective": "A"})
    again = post(analyst_client, "/api/v1/runs/", {"objective": "A"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert ResearchRun.objects.count() == 1


def test_same_key_other_body_is_422(analyst_client) -> None:
    post(analyst_client, "/api/v1/runs/", {"objective": "A"})
    response = post(analyst_client, "/api/v1/runs/", {"objective": "B"})
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "idempotency_key_reused"
    assert ResearchRun.objects.count() == 1


def test_same_key_other_endpoint_is_422(analyst_client, run_a) -> None:
    post(analyst_client, f"/api/v1/runs/{run_a.pk}/cancel/", {})
    response = post(analyst_client, "/api/v1/runs/", {})
    assert response.status_code == 422


def test_a_replayed_error_is_the_same_error(analyst_client, run_a) -> None:
    first = post(analyst_client, f"/api/v1/runs/{run_a.pk}/approve/", {})
    again = post(analyst_client, f"/api/v1/runs/{run_a.pk}/approve/", {})
    assert first.status_code == 403  # analysts cannot approve: refused before any claim
    assert again.status_code == 403
    assert not IdempotencyRecord.objects.exists()
    first = post(analyst_client, f"/api/v1/runs/{run_a.pk}/retry/", {})
    again = post(analyst_client, f"/api/v1/runs/{run_a.pk}/retry/", {})
    assert first.status_code == again.status_code == 409
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"


def test_keys_are_per_tenant(api_client_for, tenant_a, tenant_b) -> None:
    for tenant in (tenant_a, tenant_b):
        assert post(api_client_for(tenant), "/api/v1/runs/", {"objective": "A"}).status_code == 201
    assert ResearchRun.objects.count() == 2


def test_cancel_twice_with_a_key_gives_the_first_answer(analyst_client, run_a) -> None:
    first = post(analyst_client, f"/api/v1/runs/{run_a.pk}/cancel/", {})
    again = post(analyst_client, f"/api/v1/runs/{run_a.pk}/cancel/", {})
    assert first.status_code == again.status_code == 200
    assert RunEvent.objects.filter(run=run_a, event_type="run_cancelled").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_do_the_work_once(tenant_a, api_client_for) -> None:
    client = api_client_for(tenant_a)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def create() -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(post(client, "/api/v1/runs/", {"objective": "A"}).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert ResearchRun.objects.count() == 1
    # One created it; the others saw it in progress (409) or replayed it (201).
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409} and len(statuses) == 4
