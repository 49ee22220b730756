"""The bundle validator on hostile, broken and huge input: it answers, it never raises.

Sizes at the format's limits are built here, in memory, rather than stored as fixtures.
"""

import math
import uuid
from typing import Any

import pytest

from research.schemas import (
    MAX_CONTENT_BYTES,
    BundleValidation,
    RunBundleV1,
    issues,
    validate_bundle,
)
from research.tests.test_bundle_schema import (
    COMPANY,
    RUN_ID,
    TEXT_A,
    bundle,
    company,
    error_pairs,
    large_bundle,
    sha256_of,
    source,
)

pytestmark = pytest.mark.sqlite  # no database: valid on either one


def nested_lists(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def cyclic() -> dict[str, Any]:
    value: dict[str, Any] = {"objective": "x"}
    value["self"] = value
    return value


JUNK: list[Any] = [
    None,
    [],
    [bundle()],
    "run_bundle_v1",
    "",
    0,
    10**5000,
    -1.5,
    float("nan"),
    True,
    b'{"version": "run_bundle_v1"}',
    {1, 2},
    object(),
    {},
    {"version": None},
    {"version": ["run_bundle_v1"]},
    {"version": "run_bundle_v1"},
    {"version": "run_bundle_v1", "run_id": 10**5000, "plan_json": 10**5000},
    {"version": "run_bundle_v1", "sources": "x" * 100_000, "proposal_json": [[[]]]},
    {"version": "run_bundle_v1", "steps": [None, 1, "s", [], {"step_key": {}}]},
    {"version": "run_bundle_v1", "proposal_json": {"companies": [None, [], {"name": 5}]}},
    {"version": "run_bundle_v1", "plan_json": nested_lists(10_000)},
    {"version": "run_bundle_v1", "plan_json": cyclic()},
    {"version": "run_bundle_v1", "plan_json": {"a": {1, 2}, 3: "int key", "b": b"bytes"}},
    {"version": "run_bundle_v1", "plan_json": {"\ud800": "surrogate key", "n": -math.inf}},
    {"\x00": None, "version": "run_bundle_v1"},
]


@pytest.mark.parametrize("payload", JUNK, ids=range(len(JUNK)))
def test_junk_gets_an_answer_not_an_exception(payload: Any) -> None:
    result = validate_bundle(payload)

    assert isinstance(result, BundleValidation)
    assert not result.ok
    assert result.errors
    assert result.bundle is None
    for issue in result.errors:
        assert isinstance(issue.loc, str)
        assert issue.type
        assert 0 < len(issue.msg) <= 500


def test_a_payload_that_is_not_an_object_is_reported_at_the_root() -> None:
    result = validate_bundle([1, 2, 3])

    assert [issue.as_dict() for issue in result.errors] == [
        {"loc": "", "msg": issues.MSG_JSON_OBJECT, "type": "model_type"}
    ]
    assert result.sha256 is None


def test_a_huge_input_is_not_echoed_in_messages() -> None:
    huge = "N" * (3 * 1024 * 1024)
    payload = bundle(companies=[company(name=huge, hq_country=huge)])
    payload["version"] = huge

    result = validate_bundle(payload)

    assert error_pairs(result) == {("version", "unsupported_version")}
    assert all(len(issue.msg) <= 200 for issue in result.errors)


def test_another_version_is_reported_alone() -> None:
    payload = bundle()
    payload["version"] = "run_bundle_v2"
    payload["proposal_json"] = {"items": []}

    result = validate_bundle(payload)

    assert [issue.as_dict() for issue in result.errors] == [
        {
            "loc": "version",
            "msg": issues.MSG_UNSUPPORTED_VERSION.format(version="'run_bundle_v2'"),
            "type": "unsupported_version",
        }
    ]


def test_values_the_database_cannot_store_are_located() -> None:
    sha = sha256_of(TEXT_A)
    payload = bundle(
        companies=[
            company(
                description="a\x00b", metrics=[{"key": "k", "type": "json", "value": [math.nan]}]
            )
        ]
    )
    payload["plan_json"] = {"steps": [{"note": "\udcff"}], "big": 10**5000}
    payload["sources"][0]["meta"] = {"checksum": sha, "nul": "\x00"}

    result = validate_bundle(payload)

    assert result.sha256 is None  # NaN and the huge int make it unserializable
    assert error_pairs(result) == {
        ("plan_json.steps.0.note", "invalid_character"),
        ("plan_json.big", "invalid_json_value"),
        ("sources.0.meta.nul", "invalid_character"),
        (f"{COMPANY}.description", "invalid_character"),
        (f"{COMPANY}.metrics.0.value.0", "invalid_json_value"),
    }


def test_text_that_merely_mentions_a_nul_escape_is_fine() -> None:
    payload = bundle()
    payload["plan_json"] = {"objective": "strip \\u0000 from text"}

    assert validate_bundle(payload).ok


def test_unpaired_surrogate_in_source_text_is_refused() -> None:
    text = "Nordlicht \udc80 Robotics"
    payload = bundle(
        sources=[{"sha256": "0" * 64, "content_text": text}],
        companies=[company(source_sha256s=["0" * 64])],
    )

    result = validate_bundle(payload)

    assert error_pairs(result) == {("sources.0.content_text", "invalid_character")}


def test_all_errors_are_collected_in_one_answer() -> None:
    payload = bundle(
        companies=[
            company(ai_rank=0, ai_score=1.5, hq_country="XX", website_url="ftp://x.example"),
            company(name="", source_sha256s=[], evidence_snippets=[]),
        ]
    )
    payload["steps"] = [{"step_key": "s", "step_type": "crawl", "status": "ok", "extra": 1}]
    payload["sources"][0]["url"] = "javascript:alert(1)"

    result = validate_bundle(payload)

    assert error_pairs(result) == {
        ("steps.0.step_type", "literal_error"),
        ("steps.0.extra", "extra_forbidden"),
        ("sources.0.url", "url_scheme"),
        (f"{COMPANY}.ai_rank", "greater_than_equal"),
        (f"{COMPANY}.ai_score", "less_than_equal"),
        (f"{COMPANY}.hq_country", "country_code"),
        (f"{COMPANY}.website_url", "url_scheme"),
        ("proposal_json.companies.1.name", "string_too_short"),
        ("proposal_json.companies.1.source_sha256s", "too_short"),
        ("proposal_json.companies.1.evidence_snippets", "too_short"),
    }


def test_cross_references_are_checked_only_once_the_structure_is_valid() -> None:
    unknown = sha256_of("not in the bundle")
    payload = bundle(companies=[company(source_sha256s=[unknown]), company(ai_score=7)])

    first = validate_bundle(payload)
    payload["proposal_json"]["companies"][1]["ai_score"] = 0.7
    second = validate_bundle(payload)

    assert error_pairs(first) == {("proposal_json.companies.1.ai_score", "less_than_equal")}
    assert error_pairs(second) == {(f"{COMPANY}.source_sha256s.0", "unknown_source")}


def test_every_unknown_reference_is_reported_with_warnings_kept() -> None:
    unknown = sha256_of("not in the bundle")
    sha = sha256_of(TEXT_A)
    payload = bundle(
        companies=[
            company(
                source_sha256s=[sha, unknown],
                evidence_snippets=["not in the text", {"text": "x", "source_sha256": unknown}],
                metrics=[
                    {"key": "a", "type": "bool", "value": True, "source_sha256": unknown},
                    {"key": "b", "type": "bool", "value": True, "source_sha256": unknown.upper()},
                ],
            )
        ]
    )

    result = validate_bundle(payload)

    assert error_pairs(result) == {
        (f"{COMPANY}.source_sha256s.1", "unknown_source"),
        (f"{COMPANY}.evidence_snippets.1.source_sha256", "unknown_source"),
        (f"{COMPANY}.metrics.0.source_sha256", "unknown_source"),
        (f"{COMPANY}.metrics.1.source_sha256", "unknown_source"),
    }
    assert result.errors[0].msg == issues.MSG_UNKNOWN_SOURCE.format(sha256=unknown)
    assert [(w.loc, w.type) for w in result.warnings] == [
        (f"{COMPANY}.evidence_snippets.0", "unverified_evidence")
    ]


def test_hash_mismatch_says_the_expected_hash() -> None:
    payload = bundle(sources=[source(TEXT_A, sha256=sha256_of("other"))])

    result = validate_bundle(payload)

    assert [issue.as_dict() for issue in result.errors] == [
        {
            "loc": "sources.0.sha256",
            "msg": issues.MSG_SHA256_MISMATCH.format(expected=sha256_of(TEXT_A)),
            "type": "sha256_mismatch",
        }
    ]


def test_run_id_is_compared_as_a_uuid() -> None:
    payload = bundle()

    assert validate_bundle(payload, expected_run_id=RUN_ID.upper()).ok
    assert validate_bundle(payload, expected_run_id=uuid.UUID(RUN_ID)).ok
    other = uuid.uuid4()
    result = validate_bundle(payload, expected_run_id=other)
    assert [issue.as_dict() for issue in result.errors] == [
        {
            "loc": "run_id",
            "msg": issues.MSG_RUN_ID_MISMATCH.format(expected=other),
            "type": "run_id_mismatch",
        }
    ]
    with pytest.raises(ValueError, match="expected_run_id"):
        validate_bundle(payload, expected_run_id="not a uuid")


def test_strict_types_refuse_what_lax_parsing_would_coerce() -> None:
    payload = bundle(companies=[company(ai_rank=1.0, ai_score=True, name=5)])
    payload["steps"] = [
        {"step_key": "s", "step_type": "fetch", "status": "ok", "started_at": 1_700_000_000}
    ]

    assert error_pairs(validate_bundle(payload)) == {
        ("steps.0.started_at", "datetime_type"),
        (f"{COMPANY}.name", "string_type"),
        (f"{COMPANY}.ai_rank", "int_type"),
        (f"{COMPANY}.ai_score", "float_type"),
    }


# --- Limits ----------------------------------------------------------------------------------


def test_content_text_is_limited_in_utf8_bytes_not_characters() -> None:
    at_limit = "é" * (MAX_CONTENT_BYTES // 2)  # 2 bytes each: exactly 2 MiB
    over = at_limit + "e"
    payload = bundle(
        sources=[source(TEXT_A), source(at_limit), source(over)],
    )

    result = validate_bundle(payload)

    assert [issue.as_dict() for issue in result.errors] == [
        {
            "loc": "sources.2.content_text",
            "msg": issues.MSG_CONTENT_TOO_LARGE.format(limit="2,097,152", size="2,097,153"),
            "type": "content_too_large",
        }
    ]


def test_at_most_2000_sources() -> None:
    sources = [source(f"document {n}") for n in range(2_001)]

    result = validate_bundle(bundle(sources=sources))

    assert error_pairs(result) == {("sources", "too_long")}


def test_at_most_5000_companies() -> None:
    companies = [company(name=f"Company {n}") for n in range(5_001)]

    result = validate_bundle(bundle(companies=companies))

    assert error_pairs(result) == {("proposal_json.companies", "too_long")}


def test_issues_are_cut_to_max_issues_with_a_count_of_the_rest() -> None:
    payload = bundle(companies=[company(name=f"C{n}", hq_country="XX") for n in range(1_500)])

    result = validate_bundle(payload)
    unlimited = validate_bundle(payload, max_issues=None)

    assert len(result.errors) == 1_000
    assert result.errors[-1].as_dict() == {
        "loc": "",
        "msg": issues.MSG_TOO_MANY_ERRORS.format(count="501"),
        "type": "too_many_errors",
    }
    assert len(unlimited.errors) == 1_500


def test_a_bundle_at_full_scale_validates() -> None:
    """5,000 companies, 1,000 sources, 3 snippets and 3 metrics each. Its speed is measured in
    bench/, not asserted here."""
    payload = large_bundle(companies=5_000, sources=1_000)

    result = validate_bundle(payload)

    assert result.ok, result.errors[:3]
    assert isinstance(result.bundle, RunBundleV1)
    assert result.counts is not None
    assert result.counts.as_dict() == {
        "sources": 1_000,
        "companies": 5_000,
        "evidence": 15_000,
        "unverified_evidence": 5_000,
        "metrics": 15_000,
        "steps": 0,
        "aliases": 10_000,
    }
    assert len(result.warnings) == 1_000  # cut: 5,000 unverified snippets
    assert result.warnings[-1].type == "too_many_warnings"
