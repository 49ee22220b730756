"""One request id from a bundle's upload to its ingestion: with `LOG_FORMAT=json` every line
of an upload, an approval and the ingestion by `runworker` is JSON, and the ingestion's lines
(the worker's attempt line and the handler's own) carry the X-Request-ID that the uploading
client sent; the approving request's line names the job and that id."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from ats.tests.logs import captured_logs
from jobs.models import Job
from research.services.bundles import INGEST_JOB_TYPE

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_uploads_request_id_is_on_the_ingestions_lines(
    analyst_client, reviewer_client, run_a, small_bundle
) -> None:
    run_url = f"/api/v1/runs/{run_a.pk}/"
    with captured_logs("json") as stream:
        upload = analyst_client.post(
            f"{run_url}bundle/",
            small_bundle(run_a, 3),
            format="json",
            HTTP_X_REQUEST_ID="agent-upload-0042",
        )
        assert upload.status_code == 201
        approval = reviewer_client.post(
            f"{run_url}approve/", {}, format="json", HTTP_X_REQUEST_ID="review-approve-0042"
        )
        assert approval.status_code == 200
        assert approval["X-Request-ID"] == "review-approve-0042"
        call_command("runworker", "--burst")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]  # every line is JSON

    job = Job.objects.get(job_type=INGEST_JOB_TYPE)
    assert (job.status, job.request_id) == ("succeeded", "agent-upload-0042")
    [attempt] = [line for line in lines if line.get("job_id") == job.pk]
    assert attempt["logger"] == "jobs.worker"
    assert (attempt["outcome"], attempt["attempt"], attempt["queue"]) == ("succeeded", 1, "default")
    assert attempt["request_id"] == "agent-upload-0042"
    [handler] = [line for line in lines if line["logger"] == "research.handlers"]
    assert handler["message"].startswith(f"Bundle {job.payload['bundle_id']} ingested: 3 ")
    assert handler["request_id"] == "agent-upload-0042"
    [queued] = [line for line in lines if "ingestion job" in line["message"]]
    assert queued["request_id"] == "review-approve-0042"
    assert f"ingestion job {job.pk} queued" in queued["message"]
    assert queued["message"].endswith("agent-upload-0042")

    requests = {line["route"]: line for line in lines if line["logger"] == "ats.request"}
    assert requests["/api/v1/runs/<pk>/bundle/"]["request_id"] == "agent-upload-0042"
    assert requests["/api/v1/runs/<pk>/approve/"]["request_id"] == "review-approve-0042"
    # The worker's own lines (start, stop) belong to no request.
    assert {line["request_id"] for line in lines if "Worker " in line["message"]} == {"-"}
