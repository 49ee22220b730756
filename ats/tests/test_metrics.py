"""GET /metrics and the HTTP metrics of the request middleware."""

from __future__ import annotations

import pytest
from prometheus_client.metrics_core import GaugeMetricFamily

from ats import metrics
from ats.middleware import UNMATCHED_ROUTE, _readable_route
from ats.tests.factories import CompanyFactory
from ats.tests.prometheus import assert_aggregates_only, label_values, scrape, value


def test_api_requests_are_counted_by_route_template(
    client, analyst_client, tenant_a, metrics_token
) -> None:
    company = CompanyFactory(tenant=tenant_a)
    labels = {"route": "/api/v1/companies/<pk>/", "method": "GET"}
    before = scrape(client)
    assert analyst_client.get(f"/api/v1/companies/{company.pk}/").status_code == 200
    assert analyst_client.get("/api/v1/companies/999999999/").status_code == 404
    after = scrape(client)

    def delta(name: str, **extra: str) -> float:
        return value(after, name, **labels, **extra) - value(before, name, **labels, **extra)

    assert delta("ats_http_requests_total", status="200") == 1
    assert delta("ats_http_requests_total", status="404") == 1
    assert delta("ats_http_request_duration_seconds_count") == 2
    assert delta("ats_http_request_duration_seconds_bucket", le="+Inf") == 2
    # Ids, tenants and raw paths never become labels.
    assert_aggregates_only(after, tenants=[tenant_a])


def test_unmatched_paths_share_one_label_and_methods_are_bounded(client, metrics_token, db) -> None:
    before = scrape(client)
    client.get("/no/such/page/123")
    client.generic("BREW", "/healthz")
    after = scrape(client)
    unmatched = {"route": UNMATCHED_ROUTE, "method": "GET", "status": "404"}
    assert value(after, "ats_http_requests_total", **unmatched) == (
        value(before, "ats_http_requests_total", **unmatched) + 1
    )
    brewed = {"route": "/healthz", "method": "other", "status": "405"}
    assert value(after, "ats_http_requests_total", **brewed) == 1 + value(
        before, "ats_http_requests_total", **brewed
    )
    assert not any("/no/such" in label for label in label_values(after))


@pytest.mark.parametrize(
    ("route", "template"),
    [
        ("api/v1/^runs/(?P<pk>[^/.]+)/approve/$", "api/v1/runs/<pk>/approve/"),
        ("api/v1/^runs/$", "api/v1/runs/"),
        (
            "admin/research/researchrun/<path:object_id>/change/",
            "admin/research/researchrun/<object_id>/change/",
        ),
        ("admin/(?P<url>.*)$", "admin/<url>"),
        (r"^files/(?P<name>[a-z(]+\))\.txt$", "files/<name>.txt"),
        ("healthz", "healthz"),
    ],
)
def test_route_templates_name_parameters(route: str, template: str) -> None:
    assert _readable_route(route) == template


def test_metrics_require_the_token(client, settings, db) -> None:
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


@pytest.mark.sqlite
def test_metrics_are_closed_without_a_token_unless_debug(client, settings, db) -> None:
    settings.METRICS_TOKEN = ""
    settings.DEBUG = False
    response = client.get("/metrics")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "METRICS_TOKEN" in response.json()["detail"]
    settings.DEBUG = True
    assert client.get("/metrics").status_code == 200


def test_exposition_formats(client, metrics_token, db) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {metrics_token}"}
    text = client.get("/metrics", **auth)
    assert text["Content-Type"].startswith("text/plain; version=")
    assert "# TYPE ats_http_requests_total counter" in text.content.decode()
    openmetrics = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text", **auth)
    assert openmetrics["Content-Type"].startswith("application/openmetrics-text")
    assert openmetrics.content.decode().endswith("# EOF\n")


class _Broken:
    def collect(self) -> list[GaugeMetricFamily]:
        from django.db import OperationalError

        raise OperationalError("database gone")


class _Fine:
    def collect(self) -> list[GaugeMetricFamily]:
        return [GaugeMetricFamily("ats_test_fine", "A test gauge.", value=7)]


def test_a_failing_collector_does_not_fail_the_scrape(
    client, metrics_token, monkeypatch, db
) -> None:
    monkeypatch.setattr(metrics, "_scrape_collectors", {"broken": _Broken(), "fine": _Fine()})
    samples = scrape(client)
    assert value(samples, "ats_metrics_collector_success", collector="broken") == 0
    assert value(samples, "ats_metrics_collector_success", collector="fine") == 1
    assert value(samples, "ats_test_fine") == 7


def test_each_app_registers_its_collector() -> None:
    assert {"jobs", "research"} <= set(metrics._scrape_collectors)
