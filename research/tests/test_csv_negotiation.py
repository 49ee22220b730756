"""The prospects export: `?format=csv` and `Accept: text/csv` (issue 11 §8)."""

from __future__ import annotations

import pytest

from .world import build_world

PROBLEM = "application/problem+json"


@pytest.fixture
def prospects_url(tenant_a) -> str:
    return f"/api/v1/runs/{build_world(tenant_a).run.pk}/prospects/"


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("?format=csv", None),
        ("?format=csv", "*/*"),
        ("?format=csv", "text/csv"),
        ("?format=csv", "text/*"),
        ("?format=csv", "application/json, text/csv"),
        ("?format=csv", "text/html, text/csv;q=0.5"),
        ("", "text/csv"),
        ("?ordering=-rank", "text/csv; charset=utf-8"),
    ],
)
def test_csv_whenever_asked_and_acceptable(analyst_client, prospects_url, query, accept) -> None:
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = analyst_client.get(prospects_url + query, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("rank,score,name")
    assert len(lines) == 4  # header and three prospects


@pytest.mark.parametrize(("query", "accept"), [("", None), ("", "*/*"), ("?format=json", None)])
def test_json_otherwise(analyst_client, prospects_url, query, accept) -> None:
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = analyst_client.get(prospects_url + query, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize(
    ("query", "accept", "status"),
    [
        ("?format=csv", "application/json", 406),
        ("?format=json", "text/csv", 406),
        ("", "application/xml", 406),
        ("?format=xlsx", None, 400),
    ],
)
def test_refusals_are_problem_json(analyst_client, prospects_url, query, accept, status) -> None:
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = analyst_client.get(prospects_url + query, **headers)
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    if status == 400:
        assert response.json()["errors"][0]["loc"] == "format"


def test_a_bad_filter_with_csv_accepted_is_still_problem_json(analyst_client, prospects_url):
    response = analyst_client.get(prospects_url + "?min_score=high", HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == "min_score"
