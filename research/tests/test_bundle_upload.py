import json

import pytest

from research.models import Bundle, BundleStatus, ResearchRun, RunEvent, RunStatus, RunStep

from . import builders

PROBLEM = "application/problem+json"


def upload(client, run, payload, **kwargs):
    return client.post(f"/api/v1/runs/{run.pk}/bundle/", payload, format="json", **kwargs)


def stored_state() -> tuple:
    return (
        Bundle.objects.count(),
        RunStep.objects.count(),
        RunEvent.objects.count(),
        list(ResearchRun.objects.values_list("status", "updated_at")),
    )


@pytest.mark.sqlite
def test_upload_then_same_content_again(analyst_client, run_a, small_bundle) -> None:
    payload = small_bundle(run_a)
    payload["steps"] = [{"step_key": "search-1", "step_type": "search", "status": "ok"}]
    response = upload(analyst_client, run_a, payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["already_accepted"] is False
    assert body["run_id"] == str(run_a.pk)
    assert body["status"] == "pending_review"
    assert len(body["bundle_sha256"]) == 64
    assert body["counts"]["companies"] == 3
    run_a.refresh_from_db()
    assert run_a.status == RunStatus.NEEDS_REVIEW
    assert RunStep.objects.get(run=run_a).step_key == "search-1"

    before = stored_state()
    # Same content, other key order and whitespace: the same bundle.
    reordered = json.loads(json.dumps(payload, sort_keys=True, indent=3))
    again = upload(analyst_client, run_a, reordered)
    assert again.status_code == 200
    assert again.json()["already_accepted"] is True
    assert again.json()["bundle_id"] == body["bundle_id"]
    assert stored_state() == before


def test_new_upload_supersedes_pending(analyst_client, run_a, small_bundle) -> None:
    first = upload(analyst_client, run_a, small_bundle(run_a, companies=2)).json()
    second = upload(analyst_client, run_a, small_bundle(run_a, companies=3)).json()
    assert Bundle.objects.get(pk=first["bundle_id"]).status == BundleStatus.SUPERSEDED
    assert Bundle.objects.get(pk=second["bundle_id"]).status == BundleStatus.PENDING_REVIEW
    assert (
        analyst_client.get(f"/api/v1/runs/{run_a.pk}/bundle/").json()["bundle_id"]
        == (second["bundle_id"])
    )
    types = list(RunEvent.objects.filter(run=run_a).values_list("event_type", flat=True))
    assert types == ["run_created", "bundle_uploaded", "bundle_superseded", "bundle_uploaded"]


def test_validate_stores_nothing(analyst_client, run_a, small_bundle) -> None:
    before = stored_state()
    good = analyst_client.post(
        f"/api/v1/runs/{run_a.pk}/bundle/validate/", small_bundle(run_a), format="json"
    )
    assert good.status_code == 200
    assert good.json()["ok"] is True and good.json()["errors"] == []
    bad_payload = small_bundle(run_a)
    bad_payload["sources"][0]["content_text"] += " tampered"
    bad = analyst_client.post(
        f"/api/v1/runs/{run_a.pk}/bundle/validate/", bad_payload, format="json"
    )
    assert bad.status_code == 200
    answer = bad.json()
    assert answer["ok"] is False
    assert answer["errors"][0]["loc"] == "sources.0.sha256"
    assert answer["errors"][0]["type"] == "sha256_mismatch"
    assert stored_state() == before


@pytest.mark.parametrize(
    ("mutate", "loc", "error_type"),
    [
        (lambda b: b.update(extra_field=1), "extra_field", "extra_forbidden"),
        (
            lambda b: b["sources"][0].update(content_text="changed"),
            "sources.0.sha256",
            "sha256_mismatch",
        ),
        (
            lambda b: b["proposal_json"]["companies"][1]["source_sha256s"].append("f" * 64),
            "proposal_json.companies.1.source_sha256s.2",
            "unknown_source",
        ),
        (
            lambda b: b["proposal_json"]["companies"][0].update(ai_score=1.5),
            "proposal_json.companies.0.ai_score",
            None,
        ),
        (
            lambda b: b.update(run_id="00000000-0000-4000-8000-000000000000"),
            "run_id",
            "run_id_mismatch",
        ),
    ],
)
def test_invalid_bundle_is_400_with_locs_and_stores_nothing(
    analyst_client, run_a, small_bundle, mutate, loc, error_type
) -> None:
    payload = small_bundle(run_a)
    mutate(payload)
    before = stored_state()
    response = upload(analyst_client, run_a, payload)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == PROBLEM
    errors = response.json()["errors"]
    assert loc in [error["loc"] for error in errors], errors
    if error_type:
        assert error_type in [error["type"] for error in errors]
    assert stored_state() == before


def test_not_json_is_400(analyst_client, run_a) -> None:
    before = stored_state()
    response = analyst_client.generic(
        "POST", f"/api/v1/runs/{run_a.pk}/bundle/", b"{nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert stored_state() == before


def test_json_that_is_not_an_object_is_400(analyst_client, run_a) -> None:
    response = upload(analyst_client, run_a, [1, 2, 3])
    assert response.status_code == 400
    assert response.json()["errors"]


def test_wrong_content_type_is_415(analyst_client, run_a) -> None:
    response = analyst_client.generic(
        "POST",
        f"/api/v1/runs/{run_a.pk}/bundle/",
        b"version=1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response["Content-Type"] == PROBLEM


def test_body_over_25_mb_is_413(analyst_client, run_a, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024  # the same check, with a small limit
    before = stored_state()
    body = json.dumps({"padding": "x" * 2048}).encode()
    response = analyst_client.generic(
        "POST", f"/api/v1/runs/{run_a.pk}/bundle/", body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert stored_state() == before


def test_real_25_mb_limit(analyst_client, run_a) -> None:
    body = b'{"padding": "' + b"x" * (25 * 1024 * 1024) + b'"}'
    response = analyst_client.generic(
        "POST", f"/api/v1/runs/{run_a.pk}/bundle/", body, content_type="application/json"
    )
    assert response.status_code == 413


def test_upload_refused_while_ingesting(analyst_client, run_a, small_bundle) -> None:
    ResearchRun.objects.filter(pk=run_a.pk).update(status=RunStatus.INGESTING)
    response = upload(analyst_client, run_a, small_bundle(run_a))
    assert response.status_code == 409
    assert "ingesting" in response.json()["detail"]
    assert not Bundle.objects.exists()


def test_bundle_read_without_bundle_is_404(analyst_client, run_a) -> None:
    assert analyst_client.get(f"/api/v1/runs/{run_a.pk}/bundle/").status_code == 404


def test_unverified_evidence_is_a_warning(analyst_client, run_a) -> None:
    src = builders.source("Acme builds robots in Lyon.")
    payload = builders.bundle(
        run_a.pk,
        [builders.company("Acme", sources=[src], evidence=["Acme builds ROBOTS", "Acme is big"])],
        [src],
    )
    body = upload(analyst_client, run_a, payload).json()
    assert body["counts"]["unverified_evidence"] == 1
    assert [w["loc"] for w in body["warnings"]] == ["proposal_json.companies.0.evidence_snippets.1"]
