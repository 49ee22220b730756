"""POST/GET /api/v1/runs/{id}/sources/ and GET /api/v1/sources/{id}/ (SPEC §9, issue 9.1)."""

from __future__ import annotations

import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from research.models import RunSource, Source, SourceMaterial
from research.services import sources as source_services

from .source_server import GOOD

TEXT = "Acme Robotics builds picking arms for warehouses. " * 40
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


def url(run) -> str:
    return f"/api/v1/runs/{run.pk}/sources/"


def post(client, run, body):
    return client.post(url(run), body, format="json")


def upload(client, run, name, content, content_type="application/octet-stream", **fields):
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(url(run), {"file": file, **fields}, format="multipart")


def locs(response) -> list[str]:
    return [e["loc"] for e in response.json()["errors"]]


def test_text_is_added_once_and_linked_again(analyst_client, run_a, make_run, tenant_a) -> None:
    first = post(analyst_client, run_a, {"kind": "text", "title": "Notes", "content_text": TEXT})
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["kind"], body["stage"], body["state"]) == ("text", "queued", "pending")
    assert (body["created"], body["linked"]) == (True, True)
    assert body["sha256"] == body["material_hash"] and len(body["sha256"]) == 64

    again = post(analyst_client, run_a, {"kind": "text", "content_text": TEXT})
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["linked"]) == (False, False)

    other_run = make_run(tenant_a)
    linked = post(analyst_client, other_run, {"kind": "text", "content_text": TEXT})
    assert linked.status_code == 201
    assert (linked.json()["id"], linked.json()["created"]) == (body["id"], False)
    assert Source.objects.count() == 1 and SourceMaterial.objects.count() == 1
    assert RunSource.objects.count() == 2


def test_a_url_is_added_without_any_network_work(analyst_client, run_a, monkeypatch) -> None:
    def no_dns(*args, **kwargs):
        raise AssertionError("adding a URL must not resolve it")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(socket, "create_connection", no_dns)
    body = [
        {"kind": "url", "url": "https://news.example.org/acme", "title": "Acme news"},
        {"kind": "url", "url": "https://news.example.org/acme"},  # same URL, not fetched yet
        {"kind": "text", "content_text": TEXT},
    ]
    response = post(analyst_client, run_a, body)
    assert response.status_code == 201, response.content
    results = response.json()["results"]
    assert [r["kind"] for r in results] == ["url", "url", "text"]
    assert results[0]["id"] == results[1]["id"] and results[0]["sha256"] is None
    assert Source.objects.filter(kind="url").count() == 1


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"kind": "pdf", "content_text": "x"}, "kind"),
        ({"kind": "text", "content_text": ""}, "content_text"),
        ({"kind": "text", "content_text": "x", "author": "me"}, "author"),
        ({"kind": "url", "url": "file:///etc/passwd"}, "url"),
        ({"kind": "url", "url": "gopher://example.org/"}, "url"),
        ({"kind": "url", "url": "http://127.0.0.1/admin"}, "url"),
        ({"kind": "url", "url": "http://169.254.169.254/latest/meta-data/"}, "url"),
        ([{"kind": "text", "content_text": "fine"}, {"kind": "url"}], "1.url"),
        ([], ""),
        ("just a string", ""),
    ],
)
def test_invalid_sources_name_the_field_and_store_nothing(analyst_client, run_a, body, loc) -> None:
    response = post(analyst_client, run_a, body)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert loc in locs(response)
    assert not Source.objects.exists()


def test_files_are_sniffed_by_content(analyst_client, run_a) -> None:
    html = upload(analyst_client, run_a, "page.bin", GOOD, title="Saved page")
    assert html.status_code == 201, html.content
    assert (html.json()["kind"], html.json()["mime_type"], html.json()["title"]) == (
        "file",
        "text/html",
        "Saved page",
    )
    pdf = upload(analyst_client, run_a, "report.pdf", PDF, "application/pdf")
    assert pdf.json()["mime_type"] == "application/pdf"
    assert Source.objects.get(pk=pdf.json()["id"]).meta == {"filename": "report.pdf"}

    image = upload(analyst_client, run_a, "report.pdf", PNG, "application/pdf")
    assert image.status_code == 415
    assert locs(image) == ["file"]
    assert Source.objects.count() == 2


def test_upload_errors_name_the_file(analyst_client, run_a, monkeypatch) -> None:
    monkeypatch.setattr(source_services, "MAX_FILE_BYTES", 100)
    from research.api import uploads

    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 100)
    too_big = upload(analyst_client, run_a, "big.txt", b"a" * 101, "text/plain")
    assert too_big.status_code == 413 and locs(too_big) == ["file"]
    missing = analyst_client.post(url(run_a), {"title": "x"}, format="multipart")
    assert missing.status_code == 400 and locs(missing) == ["file"]
    extra = upload(analyst_client, run_a, "a.txt", b"hello", "text/plain", colour="red")
    assert extra.status_code == 400 and locs(extra) == ["colour"]
    assert not Source.objects.exists()


def test_sources_cannot_be_added_to_a_finished_run(analyst_client, run_a) -> None:
    analyst_client.post(f"/api/v1/runs/{run_a.pk}/cancel/")
    response = post(analyst_client, run_a, {"kind": "text", "content_text": TEXT})
    assert response.status_code == 409
    assert "draft run, a processing run" in response.json()["detail"]
    assert not Source.objects.exists()


def test_lists_and_details_are_tenant_scoped(
    analyst_client, api_client_for, tenant_b, make_run, run_a
) -> None:
    other = make_run(tenant_b)
    source_id = post(
        api_client_for(tenant_b), other, {"kind": "text", "content_text": TEXT}
    ).json()["id"]
    assert post(analyst_client, other, {"kind": "text", "content_text": TEXT}).status_code == 404
    assert analyst_client.get(url(other)).status_code == 404
    assert analyst_client.get(f"/api/v1/sources/{source_id}/").status_code == 404


def test_source_detail_and_list_filters(analyst_client, run_a) -> None:
    source_id = post(analyst_client, run_a, {"kind": "text", "content_text": TEXT}).json()["id"]
    detail = analyst_client.get(f"/api/v1/sources/{source_id}/").json()
    assert detail["text"] == TEXT
    for field in ("stage", "state", "decision", "reason_codes", "fetch", "text_hash", "runs"):
        assert field in detail
    listed = analyst_client.get(url(run_a), {"stage": "queued", "kind": "text"}).json()
    assert [s["id"] for s in listed["results"]] == [source_id]
    assert analyst_client.get(url(run_a), {"stage": "classified"}).json()["results"] == []
    bad = analyst_client.get(url(run_a), {"decision": "maybe"})
    assert bad.status_code == 400 and locs(bad) == ["decision"]


def test_a_known_bundle_source_joins_the_pipeline(analyst_client, run_a, tenant_a) -> None:
    from .builders import sha

    bundle_source = Source.objects.create(tenant=tenant_a, sha256=sha(TEXT), text=TEXT)
    assert (bundle_source.kind, bundle_source.stage) == ("bundle", "")
    response = post(analyst_client, run_a, {"kind": "text", "content_text": TEXT})
    assert response.status_code == 201
    assert (response.json()["id"], response.json()["created"]) == (bundle_source.pk, False)
    bundle_source.refresh_from_db()
    assert (bundle_source.kind, bundle_source.stage, bundle_source.state) == (
        "bundle",
        "queued",
        "pending",
    )


def test_a_source_that_failed_for_another_run_tries_again(
    analyst_client, run_a, make_run, tenant_a
) -> None:
    first = post(analyst_client, run_a, {"kind": "text", "content_text": TEXT}).json()
    Source.objects.filter(pk=first["id"]).update(state="failed", error="boom")
    other = make_run(tenant_a)
    again = post(analyst_client, other, {"kind": "text", "content_text": TEXT}).json()
    assert (again["id"], again["state"], again["source_error"]) == (first["id"], "pending", "")


def test_the_sources_list_reads_in_constant_queries(
    analyst_client, run_a, django_assert_max_num_queries
) -> None:
    items = [{"kind": "text", "content_text": f"Source {i}: " + "words " * 20} for i in range(40)]
    assert post(analyst_client, run_a, items).status_code == 201
    # 8, plus 6 to count the request against its key's rate limit in the database cache.
    with django_assert_max_num_queries(14):
        response = analyst_client.get(url(run_a))
    assert len(response.json()["results"]) == 40
