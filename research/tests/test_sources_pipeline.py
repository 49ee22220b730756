"""The source pipeline end to end: sources added over the API, Start, and `runworker
--burst` advancing every stage with no manual step (committed transactions, real worker)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from ats.tests.factories import CompanyAliasFactory, CompanyFactory
from jobs.models import Job, JobStatus
from research.models import (
    Prospect,
    ProspectEvidence,
    ResearchRun,
    RunSource,
    RunStatus,
    RunStep,
    Source,
    SourceMaterial,
)
from research.services import reprocess, stages
from research.sources.classify import decision_for

from .source_server import NOTES, PLAIN_TEXT, serve

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fetch_loopback"),
]


@pytest.fixture
def fetch_loopback():
    with override_settings(
        FETCH_ALLOW_PRIVATE_NETWORKS=True, JOBS_RETRY_BASE=0.0, JOBS_RETRY_MAX=0.0
    ):
        yield


def drain() -> None:
    call_command("runworker", burst=True, poll_interval=0.05, verbosity=0)


def add(client, run, body, status=201):
    response = client.post(f"/api/v1/runs/{run.pk}/sources/", body, format="json")
    assert response.status_code == status, response.content
    return response.json()


def run_sources(client, run) -> dict[str, dict]:
    items = client.get(f"/api/v1/runs/{run.pk}/sources/").json()["results"]
    return {item["url"] or item["title"]: item for item in items}


@pytest.mark.sqlite
def test_sources_are_fetched_extracted_classified_and_processed(
    analyst_client, run_a, tenant_a
) -> None:
    acme = CompanyFactory(tenant=tenant_a, name="Acme Robotics GmbH", domain="acme.de")
    CompanyAliasFactory(company=acme, alias="Acme Robotics")
    beta = CompanyFactory(tenant=tenant_a, name="Beta Motion", domain="beta.example")
    CompanyFactory(tenant=tenant_a, name="Gamma Unmentioned", domain="gamma.example")
    with serve() as server:
        paths = ["/good", "/near-copy", "/thin", "/login", "/error-page", "/missing", "/empty"]
        add(analyst_client, run_a, [{"kind": "url", "url": server.url(p)} for p in paths])
        add(
            analyst_client,
            run_a,
            {"kind": "text", "title": "Notes", "content_text": NOTES},
        )
        response = analyst_client.post(f"/api/v1/runs/{run_a.pk}/start/")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "processing"
        job_id = response.json()["job_id"]
        # A second start while processing answers the same job.
        again = analyst_client.post(f"/api/v1/runs/{run_a.pk}/start/").json()
        assert again["job_id"] == job_id
        drain()
        assert sorted(server.requests) == sorted(paths)  # each fetched once

    run = analyst_client.get(f"/api/v1/runs/{run_a.pk}/").json()
    assert run["status"] == "succeeded", run["last_error"]
    sources = run_sources(analyst_client, run_a)
    decision = {
        key.rsplit("/", 1)[-1]: (s["decision"], s["reason_codes"]) for key, s in sources.items()
    }
    assert decision["good"] == ("accept", [])
    assert decision["near-copy"] == ("flag", ["FLAG_DUPLICATE_TEMPLATE"])
    assert decision["thin"] == ("reject", ["REJECT_THIN_CONTENT"])
    # Short pages may be thin as well: the decision follows from all codes (any REJECT wins).
    for page, code in (("login", "FLAG_PAYWALL_OR_LOGIN"), ("error-page", "FLAG_ERROR_PAGE")):
        assert code in decision[page][1]
        assert decision[page][0] == decision_for(decision[page][1])
    assert decision["missing"] == ("reject", ["REJECT_FETCH_FAILED"])
    assert decision["empty"] == ("reject", ["REJECT_EMPTY_TEXT"])
    assert decision["Notes"] == ("accept", [])
    assert all(s["stage"] == "classified" and s["state"] == "done" for s in sources.values())
    near = sources[next(k for k in sources if k.endswith("/near-copy"))]
    assert near["duplicate_of"] == sources[next(k for k in sources if k.endswith("/good"))]["id"]
    assert near["source_decision"] == "accept"  # its own decision; flagged in this run

    # Mentions in accepted sources became verified evidence on new prospects.
    prospects = {p.company_id: p for p in Prospect.objects.filter(run=run_a)}
    assert set(prospects) == {acme.pk, beta.pk}
    assert all(p.origin == "source" for p in prospects.values())
    evidence = ProspectEvidence.objects.filter(prospect__run=run_a)
    assert evidence.exists() and all(e.verification == "verified" for e in evidence)
    assert {e.source.decision for e in evidence} == {"accept"}

    steps = {s.step_key: s for s in RunStep.objects.filter(run=run_a, bundle__isnull=True)}
    assert [steps[k].status for k in ("fetch", "extract", "classify", "process")] == ["ok"] * 4
    assert steps["fetch"].outputs == {"total": 7, "done": 7, "running": 0, "failed": 0}
    assert all(s.started_at and s.finished_at for s in steps.values())
    events = [
        e["event_type"]
        for e in analyst_client.get(f"/api/v1/runs/{run_a.pk}/events/").json()["results"]
    ]
    assert events[:3] == ["run_created", "sources_added", "sources_added"]
    assert "run_started" in events and "sources_processed" in events
    assert events[-1] == "sources_completed"
    completed = ResearchRun.objects.get(pk=run_a.pk).counts["sources"]
    assert completed["total"] == 8 and completed["accept"] == 2
    assert not Job.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).exists()
    listed = analyst_client.get(f"/api/v1/runs/{run_a.pk}/jobs/").json()["results"]
    assert {j["job_type"] for j in listed} >= {"research.source_fetch", "research.source_process"}

    detail = analyst_client.get(f"/api/v1/sources/{sources[next(iter(sources))]['id']}/").json()
    assert "text" in detail and detail["fetch"] and detail["runs"][0]["run_id"] == str(run_a.pk)


def test_source_added_while_processing_is_picked_up(analyst_client, run_a) -> None:
    add(analyst_client, run_a, {"kind": "text", "content_text": PLAIN_TEXT.decode()})
    analyst_client.post(f"/api/v1/runs/{run_a.pk}/start/")
    add(analyst_client, run_a, {"kind": "text", "content_text": "Another " * 200})
    drain()
    run = ResearchRun.objects.get(pk=run_a.pk)
    assert run.status == RunStatus.SUCCEEDED, run.last_error
    assert RunSource.objects.filter(run=run_a, processed_at__isnull=False).count() == 2


def test_a_failed_stage_fails_the_run_and_retry_resumes_there(
    analyst_client, run_a, monkeypatch
) -> None:
    with serve() as server:
        add(analyst_client, run_a, [{"kind": "url", "url": server.url("/good")}])
        add(analyst_client, run_a, {"kind": "text", "title": "Broken", "content_text": "x " * 300})
        real_extract = stages.extract

        def failing_extract(*, body, **kwargs):
            if body.startswith(b"x x"):
                raise RuntimeError("parser crashed")
            return real_extract(body=body, **kwargs)

        monkeypatch.setattr(stages, "extract", failing_extract)
        analyst_client.post(f"/api/v1/runs/{run_a.pk}/start/")
        drain()
        run = ResearchRun.objects.get(pk=run_a.pk)
        assert run.status == RunStatus.FAILED
        broken = Source.objects.get(title="Broken")
        assert f"#{broken.pk}" in run.last_error and "extract" in run.last_error
        assert "parser crashed" in run.last_error
        assert broken.state == "failed" and broken.stage == "queued"
        step = RunStep.objects.get(run=run_a, step_key="extract")
        assert step.status == "failed" and "parser crashed" in step.error

        monkeypatch.setattr(stages, "extract", real_extract)
        response = analyst_client.post(f"/api/v1/runs/{run_a.pk}/retry/")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "processing"
        drain()
        assert server.requests == ["/good"]  # the fetched source was not fetched again
    run = ResearchRun.objects.get(pk=run_a.pk)
    assert run.status == RunStatus.SUCCEEDED, run.last_error
    assert run.last_error == ""
    assert Source.objects.get(pk=broken.pk).decision == "accept"


def snapshot() -> dict[str, object]:
    return {
        "sources": sorted(
            Source.objects.values_list("pk", "text_hash", "material_hash", "decision", "word_count")
        ),
        "runs": sorted(RunSource.objects.values_list("source_id", "decision", "duplicate_of_id")),
        "rows": [m.objects.count() for m in (Source, SourceMaterial, RunSource, ProspectEvidence)],
    }


def test_reprocessing_is_idempotent_and_never_fetches(analyst_client, run_a, monkeypatch) -> None:
    with serve() as server:
        paths = ["/good", "/near-copy", "/thin", "/missing"]
        add(analyst_client, run_a, [{"kind": "url", "url": server.url(p)} for p in paths])
        add(analyst_client, run_a, {"kind": "text", "content_text": NOTES})
        analyst_client.post(f"/api/v1/runs/{run_a.pk}/start/")
        drain()
        assert ResearchRun.objects.get(pk=run_a.pk).status == RunStatus.SUCCEEDED
        fetched = list(server.requests)
        before = snapshot()

        out = StringIO()
        call_command("reprocess_sources", stdout=out)
        assert "0 source(s) out of date" in out.getvalue()

        # A new extractor version: every source is extracted and classified again, from
        # its stored material, with the same results.
        monkeypatch.setattr(reprocess, "EXTRACTOR_VERSION", "next")
        monkeypatch.setattr(stages, "EXTRACTOR_VERSION", "next")
        out = StringIO()
        call_command("reprocess_sources", "--run", str(run_a.pk), "--dry-run", stdout=out)
        assert "5 source(s) out of date: 5 would be reprocessed" in out.getvalue()
        assert Source.objects.filter(extractor_version="next").count() == 0
        out = StringIO()
        call_command("reprocess_sources", "--run", str(run_a.pk), stdout=out)
        assert "5 source(s) out of date: 5 reprocessed" in out.getvalue()
        assert Source.objects.filter(extractor_version="next").count() == 5
        assert snapshot() == before
        out = StringIO()
        call_command("reprocess_sources", stdout=out)  # resumable: nothing left to do
        assert "0 source(s) out of date" in out.getvalue()
        assert server.requests == fetched  # nothing fetched again


def test_reprocess_command_errors_are_one_line(db) -> None:
    with pytest.raises(CommandError, match="No tenant with slug 'nope'"):
        call_command("reprocess_sources", "--tenant", "nope")
    with pytest.raises(CommandError, match="run id"):
        call_command("reprocess_sources", "--run", "42")
