"""Generated bundles, valid ones and mutations of them (issue 11 §4).

The validator must accept every bundle built by the rules, answer every mutant without an
exception, and the upload endpoint must never answer a 5xx; a refused upload writes nothing.
Deterministic (derandomized) with explicit example budgets: a few seconds each.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ats.models import MemberRole
from research.schemas import validate_bundle

from .bundle_strategies import bundles, mutated
from .world import row_counts

PROBLEM = "application/problem+json"
RUN_ID = "00000000-0000-4000-8000-000000000000"
FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None)
WITH_DATABASE = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FAST
@given(bundles(run_id=RUN_ID))
def test_bundles_built_by_the_rules_are_valid(payload) -> None:
    result = validate_bundle(payload, expected_run_id=RUN_ID)
    assert result.ok, [issue.as_dict() for issue in result.errors]
    assert result.counts is not None
    assert result.counts.companies == len(payload["proposal_json"]["companies"])


@FAST
@given(st.data())
def test_every_mutant_gets_an_answer_not_an_exception(data) -> None:
    mutant, how = data.draw(bundles(run_id=RUN_ID).flatmap(mutated))
    result = validate_bundle(mutant, expected_run_id=RUN_ID)
    assert result.ok == (result.bundle is not None), how
    if not result.ok:
        assert result.errors, how
    for issue in result.errors + result.warnings:
        assert isinstance(issue.loc, str) and issue.type, how
        assert 0 < len(issue.msg) <= 500, how
        json.dumps(issue.as_dict(), allow_nan=False).encode("utf-8")  # storable, printable


@pytest.fixture
def upload_target(tenant_a, api_client_for, make_run, settings):
    settings.RATE_LIMITS = {}
    client = api_client_for(tenant_a, MemberRole.ADMIN)
    client.raise_request_exception = False  # a 500 must show as a 500
    return client, make_run(tenant_a)


def post_raw(client, url: str, payload) -> object:
    body = json.dumps(payload)  # NaN and Infinity as JavaScript writes them, surrogates escaped
    return client.generic("POST", url, body, content_type="application/json")


def valid_or_mutated(run_id: str) -> st.SearchStrategy:
    """(bundle, how): a valid bundle ("valid") or a mutant of one."""
    valid = bundles(run_id=run_id)
    return st.one_of(valid.map(lambda bundle: (bundle, "valid")), valid.flatmap(mutated))


@WITH_DATABASE
@given(st.data())
def test_uploads_never_fail_and_a_refusal_writes_nothing(upload_target, data) -> None:
    client, run = upload_target
    payload, how = data.draw(valid_or_mutated(str(run.pk)))
    before = row_counts()

    response = post_raw(client, f"/api/v1/runs/{run.pk}/bundle/", payload)

    assert response.status_code < 500, (how, response.content[:300])
    if how == "valid":
        assert response.status_code in (200, 201), response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM, how
        problem = response.json()
        assert problem["status"] == response.status_code
        if response.status_code == 400:
            assert all(isinstance(error["loc"], str) for error in problem["errors"]), how
        assert row_counts() == before, how


@WITH_DATABASE
@given(st.data())
def test_validation_never_fails_and_never_writes(upload_target, data) -> None:
    client, run = upload_target
    payload, how = data.draw(valid_or_mutated(str(run.pk)))
    before = row_counts()

    response = post_raw(client, f"/api/v1/runs/{run.pk}/bundle/validate/", payload)

    # 400: refused at the edge (a value that cannot be stored); otherwise the answer.
    assert response.status_code in (200, 400), (how, response.content[:300])
    if response.status_code == 200:
        answer = response.json()
        assert answer["ok"] == (not answer["errors"]), how
        assert answer["ok"] or how != "valid", answer["errors"]
    assert row_counts() == before
