"""Content-Security-Policy on every page, and the API docs served from this site (issue 11 §6)."""

from __future__ import annotations

import re

import pytest

CSP_HEADER = "Content-Security-Policy"


def policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response[CSP_HEADER].split(";")]
    return {name: values for name, *values in directives}


def assert_strict_policy(response) -> None:
    found = policy(response)
    assert found["default-src"] == ["'self'"]
    assert found["object-src"] == ["'none'"]
    assert found["frame-ancestors"] == ["'none'"]
    for values in found.values():  # nothing from another host, no inline without a nonce
        assert all(value.startswith("'") or value == "data:" for value in values), values
        assert "'unsafe-inline'" not in values and "'unsafe-eval'" not in values


@pytest.mark.parametrize(
    "path", ["/admin/login/", "/api/v1/companies/", "/api/docs/", "/api/schema/", "/healthz"]
)
def test_every_page_has_the_policy(client, db, path) -> None:
    assert_strict_policy(client.get(path))


def test_admin_pages_have_the_policy(client, tenant_a, staff_member_for) -> None:
    client.force_login(staff_member_for(tenant_a))
    for path in ("/admin/", "/admin/ats/company/", "/admin/research/researchrun/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict_policy(response)


def test_api_docs_work_offline_under_the_policy(client, db) -> None:
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert_strict_policy(page)
    html = page.text
    assert "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 5  # Swagger UI's CSS and JS, our CSS, the favicon, the start-up
    for url in assets:
        assert url.startswith("/"), f"{url} is not served by this site"
        asset = client.get(url.replace("&amp;", "&"))
        assert asset.status_code == 200, url
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
