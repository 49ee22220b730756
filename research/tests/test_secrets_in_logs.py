"""No secret in any log line: a whole flow (API keys made with the command, a run, a bundle
upload, approval, ingestion by `runworker --burst`, admin logins) with logging at DEBUG
(`LOG_LEVEL=DEBUG`) and Django's SQL logging switched on, in both formats; then every line is
searched for the secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from ats.tests.logs import captured_logs
from research.tests import builders

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Correct-Horse-Battery-9317"
WRONG_PASSWORD = "Wrong-Horse-Staple-4420"


def create_key(role: str) -> str:
    out = io.StringIO()
    call_command(
        "create_api_key",
        "--tenant",
        "sec",
        "--role",
        role,
        "--name",
        role,
        stdout=out,
        stderr=io.StringIO(),
    )
    return out.getvalue().strip().splitlines()[-1]


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_no_secret_reaches_the_logs(django_user_model) -> None:
    call_command("create_tenant", "Secret Search", "--slug", "sec", stdout=io.StringIO())
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    with (
        captured_logs("json", level=logging.DEBUG) as json_stream,
        captured_logs("console", level=logging.DEBUG) as console_stream,
    ):
        # SQL with its parameters (session keys...) would be logged now, were it not refused.
        connection.force_debug_cursor = True
        try:
            analyst_key, reviewer_key = create_key("analyst"), create_key("reviewer")
            analyst, reviewer = api(analyst_key), api(reviewer_key)
            run = analyst.post("/api/v1/runs/", {"objective": "Secrets audit"}, format="json")
            assert run.status_code == 201, run.content
            run_id = run.json()["id"]
            payload = builders.generated_bundle(run_id, companies=3)
            upload = analyst.post(f"/api/v1/runs/{run_id}/bundle/", payload, format="json")
            assert upload.status_code == 201
            approval = reviewer.post(f"/api/v1/runs/{run_id}/approve/", {}, format="json")
            assert approval.status_code == 200
            forged_key = analyst_key[:-6] + "AAAAAA"
            assert api(forged_key).get("/api/v1/runs/").status_code == 401
            call_command("runworker", "--burst")
            assert analyst.get(f"/api/v1/runs/{run_id}/").json()["status"] == "succeeded"
            browser = Client()
            login = {"username": "root", "password": WRONG_PASSWORD, "next": "/admin/"}
            assert browser.post("/admin/login/", login).status_code == 200  # the form again
            assert browser.post("/admin/login/", {**login, "password": PASSWORD}).status_code == 302
            session_cookie = browser.cookies["sessionid"].value
            assert browser.get("/admin/").status_code == 200
        finally:
            connection.force_debug_cursor = False

    secrets = {
        "analyst key": analyst_key,
        "analyst key's secret part": analyst_key.split("_", 2)[2],
        "reviewer key": reviewer_key,
        "forged key": forged_key,
        "password": PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "session cookie": session_cookie,
    }
    json_lines = [json.loads(line) for line in json_stream.getvalue().splitlines()]
    console_lines = console_stream.getvalue().splitlines()
    # The capture saw the whole flow, so that searching it means something.
    loggers = {line["logger"] for line in json_lines}
    assert {"ats.request", "django.request", "jobs.worker"} <= loggers, loggers
    assert not any(name.startswith("django.db") for name in loggers)
    assert sum(line["logger"] == "ats.request" for line in json_lines) == 8  # every request
    for line in [*console_lines, *(json.dumps(line) for line in json_lines)]:
        for name, secret in secrets.items():
            assert secret not in line, f"the {name} is in a log line: {line[:300]}"
        assert "Authorization" not in line and "Bearer" not in line
