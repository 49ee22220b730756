"""The hostile-input table (issue 11 §3): no input gets a 500, and a refused one writes nothing.

Each class of hostile input is one parametrized test over every operation of the OpenAPI schema
that it applies to, so an endpoint added later is covered without being listed here.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import RequestFactory
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.test import APIClient

from ats.api.parsers import MAX_JSON_DEPTH, MAX_STRING_LENGTH, CheckedParser, LimitedJSONParser
from ats.api.viewsets import TenantScopedViewSet
from ats.errors import InvalidInput
from ats.jsonvalues import INVALID_CHARACTER, INVALID_JSON_VALUE
from ats.models import MemberRole
from ats.wsgi_body import ChunkedBodyMiddleware
from research.models import ResearchRun

from .world import World, api_operations, build_world, row_counts

PROBLEM = "application/problem+json"
OPERATIONS = api_operations()
WRITES = [(method, path) for method, path, op in OPERATIONS if method in ("POST", "PATCH")]
READS = [(method, path) for method, path, op in OPERATIONS if method == "GET"]
WRITE_IDS = [f"{method} {path}" for method, path in WRITES]
READ_IDS = [f"{method} {path}" for method, path in READS]

# (name, body as sent, loc, type): values JSON or PostgreSQL cannot store.
UNSTORABLE_BODIES = [
    ("nul-in-value", '{"objective": "a\\u0000b"}', "objective", INVALID_CHARACTER),
    ("nul-in-key", '{"constraints": {"a\\u0000": 1}}', "constraints.a\\u0000", INVALID_CHARACTER),
    ("nul-in-list", '{"note": "ok", "x": ["a", "\\u0000"]}', "x.1", INVALID_CHARACTER),
    ("lone-surrogate", '{"note": "\\udfff"}', "note", INVALID_CHARACTER),
    ("surrogate-key", '{"constraints": {"\\ud800": 1}}', "constraints.\\ud800", INVALID_CHARACTER),
    ("nan", '{"constraints": {"x": NaN}}', "constraints.x", INVALID_JSON_VALUE),
    ("infinity", '{"constraints": {"x": Infinity}}', "constraints.x", INVALID_JSON_VALUE),
    ("-infinity", '{"rank_spec": [-Infinity]}', "rank_spec.0", INVALID_JSON_VALUE),
    ("1e400", '{"constraints": {"x": 1e400}}', "constraints.x", INVALID_JSON_VALUE),
    ("huge-int", '{"role_id": 100000000000000000000}', "role_id", INVALID_JSON_VALUE),
]


@pytest.fixture
def world(tenant_a) -> World:
    return build_world(tenant_a, companies=1)


@pytest.fixture
def admin_api(tenant_a, api_client_for) -> APIClient:
    """Every endpoint is open to an admin key: refusals below are about input, not roles."""
    client = api_client_for(tenant_a, MemberRole.ADMIN)
    client.raise_request_exception = False  # a 500 must show as a 500, not as an exception
    return client


def send(client: APIClient, method: str, path: str, body: str | bytes, **extra: Any) -> Any:
    return client.generic(method, path, body, content_type="application/json", **extra)


def assert_refused(response: Any, *, status: int = 400, loc: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    if loc is not None:
        assert loc in [error["loc"] for error in body["errors"]], body
    return body


@pytest.mark.parametrize(
    ("name", "body", "loc", "code"), UNSTORABLE_BODIES, ids=[case[0] for case in UNSTORABLE_BODIES]
)
@pytest.mark.parametrize(("method", "path"), WRITES, ids=WRITE_IDS)
def test_unstorable_values_are_refused_on_every_write(
    admin_api, world, method, path, name, body, loc, code
) -> None:
    before = row_counts()

    problem = assert_refused(send(admin_api, method, world.fill(path), body), loc=loc)

    assert {error["type"] for error in problem["errors"]} == {code}
    assert row_counts() == before


@pytest.mark.parametrize(("method", "path"), WRITES, ids=WRITE_IDS)
def test_deep_nesting_is_refused_before_parsing_recurses(admin_api, world, method, path) -> None:
    before = row_counts()
    body = '{"constraints": ' + "[" * 10_000 + "]" * 10_000 + "}"

    problem = assert_refused(send(admin_api, method, world.fill(path), body), loc="")

    assert problem["errors"][0]["type"] == "json_too_deep"
    assert row_counts() == before


def nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = [value]
    return value


def test_nesting_up_to_the_limit_is_accepted(admin_api, world) -> None:
    # The body and `constraints` are two levels of objects.
    def create(levels: int) -> Any:
        body = {"objective": "x", "constraints": {"d": nested(levels)}}
        return admin_api.post("/api/v1/runs/", body, format="json")

    assert create(MAX_JSON_DEPTH - 2).status_code == 201
    assert_refused(create(MAX_JSON_DEPTH - 1), loc="")


def test_brackets_inside_strings_do_not_count_as_nesting(admin_api, world) -> None:
    text = '"[{\\"' + "[" * 1000 + '"'
    response = send(admin_api, "POST", "/api/v1/runs/", '{"objective": ' + text + "}")
    assert response.status_code == 201, response.content


def test_overlong_strings_are_refused(admin_api, world) -> None:
    before = row_counts()
    body = json.dumps({"note": "x" * (MAX_STRING_LENGTH + 1)})

    problem = assert_refused(send(admin_api, "POST", f"/api/v1/runs/{world.run.pk}/reject/", body))

    assert problem["errors"][0] == {
        "loc": "note",
        "msg": f"Text should have at most {MAX_STRING_LENGTH:,} characters",
        "type": "string_too_long",
    }
    assert row_counts() == before


@pytest.mark.parametrize("value", ["a%00b", "%00", "x%C0%80"])
@pytest.mark.parametrize(("method", "path"), READS, ids=READ_IDS)
def test_unstorable_query_parameters_are_refused(admin_api, world, method, path, value) -> None:
    url = world.fill(path)
    for name in ("search", "domain", "status", "cursor"):
        response = admin_api.get(f"{url}?{name}={value}")
        if value == "x%C0%80":  # invalid UTF-8 is decoded as U+FFFD: harmless, never a 500
            assert response.status_code < 500
            continue
        assert_refused(response, loc=name)


def test_nul_in_a_query_parameter_name_is_refused(admin_api, world) -> None:
    assert_refused(admin_api.get("/api/v1/companies/?a%00b=1"), loc="a\\u0000b")


def test_nul_in_a_query_outside_the_api_is_a_400_page(client, db) -> None:
    response = client.get("/admin/login/?next=%00")
    assert response.status_code == 400


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/runs"),
        ("PATCH", "/api/v1/runs/{id}"),
        ("POST", "/api/v1/runs/{id}/cancel"),
    ],
)
def test_a_write_missing_its_trailing_slash_is_redirected_with_its_method(
    admin_api, world, settings, debug, method, path
) -> None:
    settings.DEBUG = debug
    before = row_counts()
    url = path.replace("{id}", str(world.run.pk))

    response = send(admin_api, method, url, '{"objective": "Slashless"}')

    assert response.status_code == 308  # repeated with the same method and body, unlike 301
    assert response["Location"] == url + "/"
    assert row_counts() == before


def test_following_the_redirect_creates_the_run(admin_api, world) -> None:
    response = admin_api.post(
        "/api/v1/runs", {"objective": "Slashless"}, format="json", follow=True
    )
    assert response.status_code == 201, response.content
    assert ResearchRun.objects.filter(objective="Slashless").count() == 1


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/api/v1/nothing-here/", {}, 404),
        ("GET", "/api/v2/runs/", {}, 404),
        ("GET", "/api/nothing", {}, 404),
        ("GET", "/api/v1/runs/{id}/nothing/", {}, 404),
        ("GET", "/api/v1/runs/not-a-uuid/", {}, 404),
        ("DELETE", "/api/v1/runs/{id}/", {}, 405),
        ("PUT", "/api/v1/runs/", {}, 405),
        ("GET", "/api/v1/runs/", {"HTTP_ACCEPT": "text/html"}, 406),
        (
            "GET",
            "/api/v1/runs/{id}/prospects/?format=csv",
            {"HTTP_ACCEPT": "application/json"},
            406,
        ),
        ("POST", "/api/v1/runs/", {"CONTENT_TYPE": "text/plain"}, 415),
        ("POST", "/api/v1/runs/", {"HTTP_HOST": "evil.example"}, 400),
    ],
)
def test_every_api_error_is_problem_json(
    admin_api, world, settings, debug, method, path, headers, status
) -> None:
    settings.DEBUG = debug
    response = admin_api.generic(
        method, world.fill(path).replace("{id}", str(world.run.pk)), "x", **headers
    )
    assert_refused(response, status=status)


def test_a_body_over_the_limit_is_413(admin_api, world, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    before = row_counts()
    body = json.dumps({"objective": "x" * 2_000})

    assert_refused(send(admin_api, "POST", "/api/v1/runs/", body), status=413)
    assert row_counts() == before


def test_unstorable_form_fields_and_file_names_are_refused() -> None:
    """Any parser a view adds (here DRF's multipart one) is wrapped in the same check."""
    body = (
        b'--B\r\nContent-Disposition: form-data; name="title"\r\n\r\na\x00b\r\n'
        b'--B\r\nContent-Disposition: form-data; name="ok"\r\n\r\nfine\r\n'
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="a\xed\xa0\x80.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--B--\r\n"
    )
    request = RequestFactory().post("/", body, content_type="multipart/form-data; boundary=B")
    parser = CheckedParser(MultiPartParser())
    with pytest.raises(InvalidInput) as refused:
        parser.parse(
            io.BytesIO(body),
            "multipart/form-data; boundary=B",
            {"request": request, "encoding": "utf-8"},
        )
    assert [(e.loc, e.type) for e in refused.value.errors] == [("title", INVALID_CHARACTER)]


# Transfer-Encoding: chunked, through the real WSGI stack (gunicorn decodes the chunks and
# marks the input terminated; Django alone would read the body as empty).


def wsgi_call(body: bytes, *, key: str, terminated: bool = True) -> tuple[str, dict, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/runs/",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": terminated,
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "HTTP_AUTHORIZATION": f"Bearer {key}",
    }
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    content = b"".join(ChunkedBodyMiddleware(WSGIHandler())(environ, start_response))
    return answer["status"], answer["headers"], content


@pytest.fixture
def raw_admin_key(tenant_a) -> str:
    from ats import services

    return services.api_key_create(tenant=tenant_a, role=MemberRole.ADMIN, name="wsgi")[1]


def test_a_chunked_body_is_read(raw_admin_key, transactional_db) -> None:
    status, _, content = wsgi_call(b'{"objective": "Chunked"}', key=raw_admin_key)
    assert status.startswith("201"), content
    assert ResearchRun.objects.get().objective == "Chunked"


def test_a_chunked_body_over_the_limit_is_413(raw_admin_key, transactional_db, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    status, headers, content = wsgi_call(b'{"objective": "' + b"x" * 200 + b'"}', key=raw_admin_key)
    assert status.startswith("413")
    assert headers["Content-Type"] == PROBLEM
    assert json.loads(content)["status"] == 413
    assert ResearchRun.objects.count() == 0


def test_a_chunked_body_that_cannot_be_delimited_is_411(raw_admin_key, transactional_db) -> None:
    status, headers, _ = wsgi_call(b'{"objective": "x"}', key=raw_admin_key, terminated=False)
    assert status.startswith("411")
    assert headers["Content-Type"] == PROBLEM
    assert ResearchRun.objects.count() == 0


def test_finite_numbers_and_unicode_are_welcome(admin_api, world) -> None:
    constraints = {"max": 1.7e308, "min": -(2**63) + 1, "emoji": "🤖", "rtl": "مرحبا"}
    body = {"objective": "ok", "constraints": constraints}
    response = admin_api.post("/api/v1/runs/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["constraints"] == constraints
    assert math.isfinite(response.json()["constraints"]["max"])


def test_a_parser_a_view_adds_is_checked_too() -> None:
    """A view may declare DRF's own parsers (multipart for files, plain JSON): the base
    viewset wraps them, so their output is checked and deep nesting is still a 400."""
    view = type("View", (TenantScopedViewSet,), {"queryset": ResearchRun.objects.all()})
    view.parser_classes = [JSONParser, MultiPartParser, LimitedJSONParser]
    parsers = view().get_parsers()
    assert [type(parser) for parser in parsers] == [CheckedParser, CheckedParser, LimitedJSONParser]

    deep = io.BytesIO(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(InvalidInput) as refused:
        parsers[0].parse(deep, "application/json", {"encoding": "utf-8"})
    assert refused.value.errors[0].type == "json_too_deep"
    with pytest.raises(InvalidInput) as refused:
        parsers[0].parse(io.BytesIO(b'{"a": "\\u0000"}'), "application/json", {"encoding": "utf-8"})
    assert refused.value.errors[0].loc == "a"
