"""One structured log line per request, request ids, JSON and console formats."""

from __future__ import annotations

import json
import logging
import re

import pytest
from django.test import Client

from ats import request_context
from ats.tests.factories import CompanyFactory
from ats.tests.logs import captured_logs

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def json_lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def request_lines(stream) -> list[dict]:
    return [line for line in json_lines(stream) if line["logger"] == "ats.request"]


@pytest.mark.sqlite
def test_an_incoming_request_id_is_kept_and_echoed(client, db) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="upload-42.retry:1")
    assert response["X-Request-ID"] == "upload-42.retry:1"


@pytest.mark.parametrize(
    "incoming", ["", "x" * 129, "has space", "new\nline", 'quote"d', "ünïcode", "<script>"]
)
def test_an_unsafe_request_id_is_replaced(client, db, incoming: str) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert GENERATED_ID.match(response["X-Request-ID"])
    assert response["X-Request-ID"] != incoming


def test_a_request_id_is_made_when_none_is_sent(client, db) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert GENERATED_ID.match(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_one_json_line_per_request_with_route_tenant_and_actor(analyst_client, tenant_a) -> None:
    company = CompanyFactory(tenant=tenant_a)
    with captured_logs("json") as stream:
        response = analyst_client.get(
            f"/api/v1/companies/{company.pk}/?secret=not-logged", HTTP_X_REQUEST_ID="req-1"
        )
    assert response.status_code == 200
    [line] = request_lines(stream)
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/companies/<pk>/"
    assert line["path"] == f"/api/v1/companies/{company.pk}/"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] == "req-1"
    assert line["tenant"] == "alpha"
    assert line["actor"] == f"api_key:{analyst_client.api_key.name}"
    assert line["level"] == "INFO"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", line["time"])
    assert "not-logged" not in stream.getvalue()


def test_lines_logged_after_the_response_carry_the_request_id(client, db) -> None:
    with captured_logs("json") as stream:
        client.get("/no/such/page", HTTP_X_REQUEST_ID="req-404")
    lines = json_lines(stream)
    loggers = {line["logger"] for line in lines}
    assert {"ats.request", "django.request"} <= loggers  # django.request: "Not Found: ..."
    assert all(line["request_id"] == "req-404" for line in lines)


def test_staff_session_requests_name_the_user(staff_member_for, tenant_a) -> None:
    user = staff_member_for(tenant_a)
    client = Client()
    client.force_login(user)
    with captured_logs("json") as stream:
        assert client.get("/admin/").status_code == 200
    [line] = request_lines(stream)
    assert line["actor"] == f"user:{user.get_username()}"
    assert line["route"] == "/admin/"


def test_console_lines_show_the_request_id(client, db) -> None:
    with captured_logs("console") as stream:
        client.get("/api/v1/companies/", HTTP_X_REQUEST_ID="req-console")
    [line] = [line for line in stream.getvalue().splitlines() if " ats.request " in line]
    assert "[req-console]" in line
    assert "GET /api/v1/companies/ 401" in line


def test_health_probes_and_static_files_log_at_debug_only(client, db) -> None:
    with captured_logs("json") as stream:
        assert client.get("/healthz").status_code == 200
        assert client.get("/static/admin/css/base.css").status_code == 200
    assert request_lines(stream) == []
    with captured_logs("json", level=logging.DEBUG) as stream:
        client.get("/healthz")
        client.get("/static/admin/css/base.css")
    lines = request_lines(stream)
    assert [(line["level"], line["route"]) for line in lines] == [
        ("DEBUG", "/healthz"),
        ("DEBUG", "/static/<path>"),
    ]


def test_log_lines_outside_requests_have_no_request_id() -> None:
    with captured_logs("json") as stream:
        logging.getLogger("ats.test").info("outside")
        with request_context.bind(request_id="job-7"):
            logging.getLogger("ats.test").info("inside", extra={"job_id": 7})
    outside, inside = json_lines(stream)
    assert outside["request_id"] == "-"
    assert inside["request_id"] == "job-7"
    assert inside["job_id"] == 7
    assert request_context.current_request_id() is None


def test_trafilaturas_routine_warnings_stay_out_of_the_log() -> None:
    # "discarding data: None" for every page part it drops: extraction working, not news.
    with captured_logs("console") as stream:
        logging.getLogger("trafilatura.core").warning("discarding data: None")
        logging.getLogger("trafilatura.core").error("real trouble")
    assert "discarding data" not in stream.getvalue()
    assert "real trouble" in stream.getvalue()
