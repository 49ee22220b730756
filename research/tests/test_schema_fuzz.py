"""Schemathesis against `/api/schema/`: every operation, an explicit example budget (issue 11 §4).

For each operation of the OpenAPI schema, Hypothesis generates requests (valid ones and ones
that break the schema) and each answer must not be a 5xx and must conform to the schema: a
documented status code and content type, a body matching its schema (errors as problem+json),
documented headers, and invalid input refused with a 4xx. Path ids are filled with the test
world's objects, so the operations reach their real code rather than a 404.

Deterministic (derandomized) and bounded: MAX_EXAMPLES per operation (MAX_BUNDLE_EXAMPLES, and
no coverage phase, for the two that take a bundle) keeps the whole run under a minute.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ats import services
from ats.models import MemberRole

from .world import World, api_schema, build_world

MAX_EXAMPLES = 15
MAX_BUNDLE_EXAMPLES = 4
PATH, HEADER = ParameterLocation.PATH, ParameterLocation.HEADER
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]

# Its answer to an invalid bundle is 200 {"ok": false, "errors": [...]} (SPEC §5), by design.
VALIDATOR = ("POST", "/api/v1/runs/{id}/bundle/validate/")

# A bundle body is large and slow to generate, and almost never valid by chance (hashes must
# match texts): its coverage phase alone would be hundreds of requests. A few fuzzed examples
# check those two operations' conformance; test_bundle_properties.py builds real bundles and
# mutations of them.
CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-method": "POST",
                "include-path-regex": r"/bundle/(validate/)?$",
                "phases": {"coverage": {"enabled": False}},
                "generation": {"max-examples": MAX_BUNDLE_EXAMPLES},
            }
        ]
    }
)
schema = schemathesis.openapi.from_dict(api_schema(), config=CONFIG)
schema.app = WSGIHandler()


@pytest.fixture
def in_test_transaction() -> Iterator[None]:
    """Like Django's test client: requests must not close the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(tenant_a, in_test_transaction, settings) -> tuple[World, str]:
    settings.RATE_LIMITS = {}  # hundreds of requests from one key in a second
    _, key = services.api_key_create(tenant=tenant_a, role=MemberRole.ADMIN, name="fuzz")
    return build_world(tenant_a), key


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_conforms_and_never_fails(case, fuzz_world) -> None:
    call_and_validate(case, *fuzz_world)


def call_and_validate(case, world: World, key: str) -> None:
    # Real ids and a real key, except where the case breaks them on purpose.
    if "id" in (case.path_parameters or {}) and not case.meta.is_negative_at(PATH):
        case.path_parameters["id"] = str(world.fill_id(case.path))
    headers = {} if case.meta.is_negative_at(HEADER) else {"Authorization": f"Bearer {key}"}
    is_validator = (case.method.upper(), case.path) == VALIDATOR
    checks = [check for check in CHECKS if not (is_validator and check is negative_data_rejection)]
    case.call_and_validate(headers=headers, checks=checks)
