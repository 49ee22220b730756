import pytest
from django.utils import timezone

from ats import services
from ats.api.authentication import MSG_INVALID_KEY, MSG_REVOKED_KEY
from ats.models import MemberRole

from .factories import CompanyAliasFactory, CompanyFactory

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "code"} <= body.keys()
    return body


@pytest.fixture
def companies(tenant_a, tenant_b):
    return {
        "mine": CompanyFactory(tenant=tenant_a, name="Acme Robotics GmbH", domain="acme.de"),
        "theirs": CompanyFactory(tenant=tenant_b, name="Beta Widgets", domain="beta.com"),
    }


@pytest.mark.sqlite
def test_list_shows_only_own_tenant(analyst_client, companies) -> None:
    response = analyst_client.get("/api/v1/companies/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    assert [row["id"] for row in body["results"]] == [companies["mine"].id]


def test_other_tenants_company_is_404(analyst_client, companies) -> None:
    response = analyst_client.get(f"/api/v1/companies/{companies['theirs'].id}/")
    assert_problem(response, 404)
    assert analyst_client.get(f"/api/v1/companies/{companies['mine'].id}/").status_code == 200


def test_detail_has_aliases(analyst_client, companies) -> None:
    CompanyAliasFactory(company=companies["mine"], alias="Acme", alias_type="trade")
    body = analyst_client.get(f"/api/v1/companies/{companies['mine'].id}/").json()
    assert body["name"] == "Acme Robotics GmbH"
    assert body["domain"] == "acme.de"
    assert body["aliases"] == [{"alias": "Acme", "type": "trade"}]


def test_search_by_normalized_name_and_alias(analyst_client, companies, tenant_a) -> None:
    other = CompanyFactory(tenant=tenant_a, name="Zeta Corp", domain="zeta.io")
    CompanyAliasFactory(company=other, alias="Zed Robotics")
    response = analyst_client.get("/api/v1/companies/", {"search": "ROBOTICS"})
    assert {row["id"] for row in response.json()["results"]} == {companies["mine"].id, other.id}
    response = analyst_client.get("/api/v1/companies/", {"domain": "https://www.acme.de/x"})
    assert [row["id"] for row in response.json()["results"]] == [companies["mine"].id]


def test_cursor_pagination_walks_every_row_once(analyst_client, tenant_a) -> None:
    made = {CompanyFactory(tenant=tenant_a).id for _ in range(7)}
    seen, url = [], "/api/v1/companies/?limit=3"
    while url:
        body = analyst_client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(made) and set(seen) == made


def test_no_key_is_401(client, companies) -> None:
    body = assert_problem(client.get("/api/v1/companies/"), 401)
    assert body["code"] == "not_authenticated"


def test_wrong_key_is_401(client, companies) -> None:
    response = client.get("/api/v1/companies/", HTTP_AUTHORIZATION="Bearer ats_nope_nope")
    assert assert_problem(response, 401)["detail"] == MSG_INVALID_KEY
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_401(analyst_client, companies) -> None:
    services.api_key_revoke(api_key=analyst_client.api_key)
    body = assert_problem(analyst_client.get("/api/v1/companies/"), 401)
    assert body["detail"] == MSG_REVOKED_KEY


def test_api_key_header_form(client, tenant_a, companies) -> None:
    _, raw_key = services.api_key_create(tenant=tenant_a, role=MemberRole.ANALYST)
    response = client.get("/api/v1/companies/", HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    assert response.status_code == 200


def test_analyst_cannot_edit_admin_can(analyst_client, admin_client_a, companies) -> None:
    url = f"/api/v1/companies/{companies['mine'].id}/"
    body = assert_problem(analyst_client.patch(url, {"sector": "Robots"}, format="json"), 403)
    assert "admin" in body["detail"]
    response = admin_client_a.patch(
        url, {"sector": "Robots", "domain": "https://www.Acme.DE/about"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["sector"] == "Robots"
    assert response.json()["domain"] == "acme.de"


def test_admin_cannot_edit_other_tenants_company(admin_client_a, companies) -> None:
    url = f"/api/v1/companies/{companies['theirs'].id}/"
    assert_problem(admin_client_a.patch(url, {"sector": "x"}, format="json"), 404)
    companies["theirs"].refresh_from_db()
    assert companies["theirs"].sector == ""


def test_validation_error_names_the_field(admin_client_a, companies) -> None:
    url = f"/api/v1/companies/{companies['mine'].id}/"
    body = assert_problem(
        admin_client_a.patch(url, {"hq_country": "Germany", "tenant": 5}, format="json"), 400
    )
    assert {error["loc"] for error in body["errors"]} == {"tenant"}
    body = assert_problem(admin_client_a.patch(url, {"hq_country": "Germany"}, format="json"), 400)
    assert [error["loc"] for error in body["errors"]] == ["hq_country"]
    assert all({"loc", "msg", "type"} == error.keys() for error in body["errors"])


def test_duplicate_domain_is_409(admin_client_a, companies, tenant_a) -> None:
    other = CompanyFactory(tenant=tenant_a, domain="other.de")
    url = f"/api/v1/companies/{other.id}/"
    body = assert_problem(admin_client_a.patch(url, {"domain": "acme.de"}, format="json"), 409)
    assert body["errors"][0]["loc"] == "domain"


def test_malformed_json_is_400(admin_client_a, companies) -> None:
    url = f"/api/v1/companies/{companies['mine'].id}/"
    response = admin_client_a.generic("PATCH", url, "{not json", content_type="application/json")
    assert assert_problem(response, 400)["code"] == "parse_error"


def test_wrong_content_type_is_415(admin_client_a, companies) -> None:
    url = f"/api/v1/companies/{companies['mine'].id}/"
    response = admin_client_a.generic("PATCH", url, "sector=x", content_type="text/plain")
    assert_problem(response, 415)


def test_method_not_allowed_is_405(analyst_client) -> None:
    assert_problem(analyst_client.delete("/api/v1/companies/1/"), 405)
    assert_problem(analyst_client.post("/api/v1/companies/", {}, format="json"), 405)


def test_unknown_api_path_is_problem_404(analyst_client) -> None:
    assert_problem(analyst_client.get("/api/v1/no-such-thing/"), 404)


def test_session_auth_for_staff_member(client, tenant_a, companies, staff_member_for) -> None:
    user = staff_member_for(tenant_a, MemberRole.REVIEWER)
    client.force_login(user)
    response = client.get("/api/v1/companies/")
    assert [row["id"] for row in response.json()["results"]] == [companies["mine"].id]


def test_session_user_of_two_tenants_must_choose(
    client, tenant_a, tenant_b, companies, staff_member_for
) -> None:
    user = staff_member_for(tenant_a)
    services.member_add(tenant=tenant_b, email=user.email, role=MemberRole.ANALYST)
    client.force_login(user)
    assert_problem(client.get("/api/v1/companies/"), 403)
    response = client.get("/api/v1/companies/", HTTP_X_TENANT="beta")
    assert [row["id"] for row in response.json()["results"]] == [companies["theirs"].id]


def test_session_user_without_membership_is_403(client, django_user_model, companies) -> None:
    client.force_login(django_user_model.objects.create_user("loner", is_staff=True))
    assert_problem(client.get("/api/v1/companies/"), 403)


def test_last_used_is_recorded(analyst_client) -> None:
    before = timezone.now()
    analyst_client.get("/api/v1/companies/")
    analyst_client.api_key.refresh_from_db()
    assert analyst_client.api_key.last_used_at >= before


def test_list_query_count_does_not_grow(analyst_client, tenant_a, django_assert_max_num_queries):
    for _ in range(30):
        CompanyFactory(tenant=tenant_a)
    # 4, plus 6 to count the request against its key's rate limit in the database cache.
    with django_assert_max_num_queries(10):
        assert len(analyst_client.get("/api/v1/companies/").json()["results"]) == 30


def test_openapi_schema_lists_companies(client, db) -> None:  # db: rate limits are counted
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.0")
    assert "/api/v1/companies/{id}/" in schema["paths"]
    assert client.get("/api/docs/").status_code == 200


def test_openapi_schema_is_valid_openapi_30(db) -> None:
    from io import StringIO

    from django.core.management import call_command

    out, err = StringIO(), StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=err)
    assert "openapi: 3.0" in out.getvalue()
    assert "/api/v1/runs/{id}/bundle/" in out.getvalue()
