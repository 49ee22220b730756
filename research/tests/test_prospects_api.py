import csv
import io

import pytest
from django.db import transaction

from ats.actors import Actor
from ats.models import MemberRole
from research.models import Prospect, ReviewStatus, RunEvent
from research.services import bundles as bundle_services
from research.services.ingest import bundle_ingest

SYSTEM = Actor.system("test")


@pytest.fixture
def ingested(run_a, small_bundle):
    payload = small_bundle(run_a, companies=6)
    payload["proposal_json"]["companies"][2]["name"] = '=HYPERLINK("http://evil")'
    bundle = bundle_services.bundle_upload(run=run_a, payload=payload, actor=SYSTEM).bundle
    bundle_services.bundle_approve(bundle=bundle, actor=SYSTEM)
    with transaction.atomic():
        bundle_ingest(bundle=bundle)
    return run_a


def url(run, suffix=""):
    return f"/api/v1/runs/{run.pk}/prospects/{suffix}"


def test_list_shape_and_default_rank_order(analyst_client, ingested) -> None:
    body = analyst_client.get(url(ingested)).json()
    rows = body["results"]
    assert [row["ai_rank"] for row in rows] == [1, 2, 3, 4, 5, 6]
    row = rows[0]
    assert {
        "id",
        "run_id",
        "company",
        "name",
        "ai_rank",
        "ai_score",
        "review_status",
        "manual_priority",
        "manual_notes",
        "is_pinned",
        "evidence_count",
        "metrics_count",
    } <= row.keys()
    assert row["company"]["domain"] == "gen-company-0.com"
    assert (row["evidence_count"], row["metrics_count"]) == (3, 3)


def test_filters_ordering_and_pagination(analyst_client, ingested) -> None:
    first = Prospect.objects.get(run=ingested, ai_rank=2)
    Prospect.objects.filter(pk=first.pk).update(is_pinned=True, review_status=ReviewStatus.HOLD)
    assert [
        r["id"] for r in analyst_client.get(url(ingested), {"pinned": "true"}).json()["results"]
    ] == [first.pk]
    assert [
        r["id"]
        for r in analyst_client.get(url(ingested), {"review_status": "hold,accepted"}).json()[
            "results"
        ]
    ] == [first.pk]
    scores = [
        r["ai_score"]
        for r in analyst_client.get(url(ingested), {"min_score": "0.6"}).json()["results"]
    ]
    assert scores and min(scores) >= 0.6
    names = [
        r["name"]
        for r in analyst_client.get(url(ingested), {"ordering": "-name"}).json()["results"]
    ]
    assert names == sorted(names, reverse=True)
    found = analyst_client.get(url(ingested), {"search": "company 4"}).json()["results"]
    assert [r["ai_rank"] for r in found] == [5]
    seen, next_url = [], url(ingested) + "?limit=4&ordering=-score"
    while next_url:
        page = analyst_client.get(next_url).json()
        seen += [r["ai_score"] for r in page["results"]]
        next_url = page["next"]
    assert seen == sorted(seen, reverse=True) and len(seen) == 6


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"ordering": "nope"}, "ordering"),
        ({"min_score": "high"}, "min_score"),
        ({"review_status": "maybe"}, "review_status"),
        ({"pinned": "perhaps"}, "pinned"),
    ],
)
def test_bad_filters_name_the_parameter(analyst_client, ingested, params, loc) -> None:
    response = analyst_client.get(url(ingested), params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == loc


def test_csv_export(analyst_client, ingested) -> None:
    response = analyst_client.get(url(ingested), {"format": "csv", "ordering": "rank"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(r["rank"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["domain"] == "gen-company-0.com"
    assert rows[0]["evidence_count"] == "3"
    assert rows[2]["name"].startswith("'=")  # a formula is neutralized


def test_patch_manual_fields_only(reviewer_client, ingested) -> None:
    prospect = Prospect.objects.get(run=ingested, ai_rank=1)
    response = reviewer_client.patch(
        f"/api/v1/prospects/{prospect.pk}/",
        {
            "review_status": "accepted",
            "manual_priority": 1,
            "manual_notes": "Warm intro via X",
            "is_pinned": True,
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["review_status"] == "accepted"
    prospect.refresh_from_db()
    assert prospect.manual_notes == "Warm intro via X" and prospect.edited_by_actor
    assert RunEvent.objects.filter(run=ingested, event_type="prospect_edited").exists()
    for body, loc in [
        ({"ai_rank": 9}, "ai_rank"),
        ({"name": "x"}, "name"),
        ({"review_status": "great"}, "review_status"),
        ({"manual_priority": 9}, "manual_priority"),
    ]:
        response = reviewer_client.patch(f"/api/v1/prospects/{prospect.pk}/", body, format="json")
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["loc"] == loc
    prospect.refresh_from_db()
    assert prospect.ai_rank == 1 and prospect.review_status == ReviewStatus.ACCEPTED


def test_analyst_cannot_patch(analyst_client, ingested) -> None:
    prospect = Prospect.objects.get(run=ingested, ai_rank=1)
    response = analyst_client.patch(
        f"/api/v1/prospects/{prospect.pk}/", {"is_pinned": True}, format="json"
    )
    assert response.status_code == 403


def test_evidence_and_metrics(analyst_client, ingested) -> None:
    prospect = Prospect.objects.get(run=ingested, ai_rank=1)
    evidence = analyst_client.get(f"/api/v1/prospects/{prospect.pk}/evidence/").json()["results"]
    assert len(evidence) == 3
    assert {e["verification"] for e in evidence} == {"verified", "unverified"}
    assert evidence[0]["source"]["sha256"]
    metrics = analyst_client.get(f"/api/v1/prospects/{prospect.pk}/metrics/").json()["results"]
    assert {m["key"]: m["value"] for m in metrics} == {
        "headcount": 100,
        "revenue": 1_000_000.0,
        "public": True,
    }
    source_id = evidence[0]["source"]["id"]
    source = analyst_client.get(f"/api/v1/sources/{source_id}/").json()
    assert source["text"].startswith("Source")


def test_prospects_and_sources_are_tenant_isolated(api_client_for, tenant_b, ingested) -> None:
    client = api_client_for(tenant_b, MemberRole.ADMIN)
    prospect = Prospect.objects.filter(run=ingested).first()
    source_id = prospect.evidence.first().source_id
    for path in [
        f"/api/v1/prospects/{prospect.pk}/",
        f"/api/v1/prospects/{prospect.pk}/evidence/",
        f"/api/v1/prospects/{prospect.pk}/metrics/",
        f"/api/v1/sources/{source_id}/",
        f"/api/v1/companies/{prospect.company_id}/",
    ]:
        assert client.get(path).status_code == 404, path
    assert (
        client.patch(
            f"/api/v1/prospects/{prospect.pk}/", {"is_pinned": True}, format="json"
        ).status_code
        == 404
    )
    prospect.refresh_from_db()
    assert prospect.is_pinned is False


def test_list_query_count_is_bounded(analyst_client, ingested, django_assert_max_num_queries):
    # 6, plus 6 to count the request against its key's rate limit in the database cache.
    with django_assert_max_num_queries(12):
        assert len(analyst_client.get(url(ingested)).json()["results"]) == 6
