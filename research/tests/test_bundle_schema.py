"""The bundle format run_bundle_v1: fixture corpus, documentation, JSON Schema, normalization.

Pure pydantic: these tests need neither Django settings nor a database. The builders below are
shared with the other test_bundle_* modules.
"""

import copy
import hashlib
import io
import json
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from research import iso_codes
from research.schemas import (
    BUNDLE_JSON_SCHEMA,
    BUNDLE_VERSION,
    Alias,
    BundleValidation,
    Company,
    RunBundleV1,
    bundle_json_schema,
    bundle_sha256,
    canonical_json,
    evidence_text_sha256,
    issues,
    normalize_evidence_text,
    normalize_metric_key,
    validate_bundle,
)

pytestmark = pytest.mark.sqlite  # no database: valid on either one

FIXTURES = Path(__file__).parent / "fixtures" / "bundles"
DOC = Path(__file__).resolve().parents[2] / "docs" / "bundle-format.md"
RUN_ID = "3f1c9a52-7d4e-4b8a-9c61-2e5f0b7d8a14"  # the run_id of every fixture
COMPANY = "proposal_json.companies.0"

TEXT_A = (
    "Nordlicht Robotics GmbH, based in Hamburg, builds autonomous forklifts "
    "for cold-storage warehouses. The company employs 240 people."
)
TEXT_B = "Press release: Nordlicht Robotics reported revenue of EUR 38.5 million for 2025."


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_fixture(relative: str) -> Any:
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def source(text: str, **fields: Any) -> dict[str, Any]:
    return {"sha256": sha256_of(text), "content_text": text, **fields}


def company(name: str = "Nordlicht Robotics", **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "source_sha256s": [sha256_of(TEXT_A)],
        "evidence_snippets": ["builds autonomous forklifts"],
        **fields,
    }


def bundle(
    *, companies: list[dict[str, Any]] | None = None, sources: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A valid bundle: one source (TEXT_A) and one company citing it, unless told otherwise."""
    return copy.deepcopy(
        {
            "version": "run_bundle_v1",
            "run_id": RUN_ID,
            "plan_json": {},
            "sources": sources if sources is not None else [source(TEXT_A)],
            "proposal_json": {
                "query": "Warehouse robotics companies in Germany",
                "companies": companies if companies is not None else [company()],
            },
        }
    )


def valid(payload: Any, **kwargs: Any) -> RunBundleV1:
    """Validate a payload that must be valid, and return the normalized bundle."""
    result = validate_bundle(payload, **kwargs)
    assert result.ok, [issue.as_dict() for issue in result.errors]
    assert result.bundle is not None
    return result.bundle


def error_pairs(result: BundleValidation) -> set[tuple[str, str]]:
    return {(issue.loc, issue.type) for issue in result.errors}


def large_bundle(*, companies: int, sources: int, words_per_source: int = 200) -> dict[str, Any]:
    """A bundle at the format's scale: each company cites two sources and has three snippets
    (bare and verified, cited and verified, unverified) and three metrics."""
    texts = [
        f"Source {s}: " + " ".join(f"w{(s * 31 + w * 7) % 997}" for w in range(words_per_source))
        for s in range(sources)
    ]
    shas = [sha256_of(text) for text in texts]
    items = []
    for c in range(companies):
        first, second = c % sources, (c * 7 + 1) % sources
        words = texts[first].split()
        items.append(
            {
                "name": f"Company {c}",
                "aliases": [f"Co {c}", {"name": f"Company {c} GmbH", "type": "legal"}],
                "domain": f"company{c}.example",
                "hq_country": "de",
                "ai_rank": c + 1,
                "ai_score": 0.5,
                "source_sha256s": [shas[first], shas[second]],
                "evidence_snippets": [
                    " ".join(words[2:12]),
                    {"text": " ".join(words[20:30]).upper(), "source_sha256": shas[first]},
                    f"not in any source {c}",
                ],
                "metrics": [
                    {"key": "Head Count", "type": "number", "value": c},
                    {"key": "revenue", "type": "number", "value": 1.5e6, "currency": "eur"},
                    {
                        "key": "public",
                        "type": "bool",
                        "value": False,
                        "source_sha256": shas[second],
                    },
                ],
            }
        )
    return {
        "version": "run_bundle_v1",
        "run_id": RUN_ID,
        "plan_json": {"objective": "Find companies"},
        "sources": [
            {"sha256": sha, "content_text": text} for sha, text in zip(shas, texts, strict=True)
        ],
        "proposal_json": {"query": "Companies", "companies": items},
    }


# --- The fixture corpus ----------------------------------------------------------------------

VALID_FIXTURES = sorted(path.name for path in (FIXTURES / "valid").glob("*.json"))
EXPECTATIONS: dict[str, dict[str, Any]] = json.loads(
    (FIXTURES / "invalid" / "expectations.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("name", VALID_FIXTURES)
def test_valid_fixture_validates(name: str) -> None:
    payload = load_fixture(f"valid/{name}")

    result = validate_bundle(payload, expected_run_id=uuid.UUID(RUN_ID))

    assert result.ok, [issue.as_dict() for issue in result.errors]
    assert result.errors == []
    assert isinstance(result.bundle, RunBundleV1)
    assert result.sha256 == bundle_sha256(payload)
    assert result.counts is not None


def test_corpus_has_both_valid_fixtures() -> None:
    assert {"minimal.json", "complete.json"} <= set(VALID_FIXTURES)


def test_every_invalid_fixture_has_expectations_and_back() -> None:
    files = {path.name for path in (FIXTURES / "invalid").glob("*.json")}
    assert files - {"expectations.json"} == set(EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_invalid_fixture_yields_exactly_the_expected_errors(name: str) -> None:
    expected = EXPECTATIONS[name]
    payload = load_fixture(f"invalid/{name}")

    result = validate_bundle(payload, expected_run_id=expected.get("expected_run_id"))

    assert not result.ok
    assert result.bundle is None
    assert result.counts is None
    assert error_pairs(result) == {(e["loc"], e["type"]) for e in expected["errors"]}, expected[
        "rule"
    ]
    for issue in result.errors:
        assert issue.msg and len(issue.msg) <= 500


def test_minimal_fixture_gets_defaults() -> None:
    data = valid(load_fixture("valid/minimal.json"))

    assert data.version == BUNDLE_VERSION
    assert data.run_id == uuid.UUID(RUN_ID)
    assert data.steps == []
    assert data.plan_json == {}
    assert data.objective is None
    only = data.proposal_json.companies[0]
    assert (only.aliases, only.metrics, only.domain, only.ai_rank) == ([], [], None, None)
    assert [item.verified for item in only.evidence] == [True]


def test_complete_fixture_is_normalized() -> None:
    payload = load_fixture("valid/complete.json")

    result = validate_bundle(payload)
    data = result.bundle

    assert data is not None
    assert data.objective == payload["plan_json"]["objective"]
    assert [s.sha256 for s in data.sources] == [s["sha256"].lower() for s in payload["sources"]]
    assert data.sources[1].mime_type == "text/html; charset=utf-8"
    nordlicht, kaeltetech = data.proposal_json.companies
    assert nordlicht.hq_country == "DE"
    assert [m.key for m in nordlicht.metrics] == [
        "headcount",
        "revenue_eur",
        "chief_executive",
        "venture_backed",
        "markets",
    ]
    assert nordlicht.metrics[1].currency == "EUR"
    assert [(a.name, a.type) for a in nordlicht.aliases] == [
        ("Nordlicht", None),
        ("Nordlicht Robotics GmbH", "legal"),
        ("Nordlicht Automation UG", "former"),
    ]
    assert [(e.source_sha256, e.verified) for e in nordlicht.evidence] == [
        (data.sources[0].sha256, True),  # a bare snippet, found in the first source
        (data.sources[1].sha256, True),
        (data.sources[0].sha256, False),
    ]
    assert [e.verified for e in kaeltetech.evidence] == [True]
    assert [w.as_dict() for w in result.warnings] == [
        {
            "loc": f"{COMPANY}.evidence_snippets.2",
            "msg": issues.MSG_UNVERIFIED_EVIDENCE.format(sha256=data.sources[0].sha256),
            "type": "unverified_evidence",
        }
    ]
    assert result.counts is not None
    assert result.counts.as_dict() == {
        "sources": 3,
        "companies": 2,
        "evidence": 4,
        "unverified_evidence": 1,
        "metrics": 5,
        "steps": 3,
        "aliases": 4,
    }


def test_validated_bundle_dumps_to_a_valid_bundle() -> None:
    data = valid(load_fixture("valid/complete.json"))

    again = valid(data.model_dump(mode="json"))

    assert again == data
    assert again.proposal_json.companies[0].evidence == data.proposal_json.companies[0].evidence


# --- The documentation cannot drift from the fixtures ----------------------------------------


def doc_block(marker: str) -> Any:
    """The JSON of the ```json block that follows `<!-- marker -->` in docs/bundle-format.md."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {re.escape(marker)} -->\s*```json\n(.*?)\n```", text, re.DOTALL)
    assert found, f"docs/bundle-format.md has no json block after <!-- {marker} -->"
    return json.loads(found.group(1))


def test_doc_example_is_the_complete_fixture() -> None:
    assert doc_block("example: valid/complete.json") == load_fixture("valid/complete.json")


def test_doc_answer_is_the_answer_for_the_example() -> None:
    result = validate_bundle(load_fixture("valid/complete.json"))

    assert doc_block("answer: valid/complete.json") == result.as_dict()


def test_doc_error_example_is_a_real_answer() -> None:
    expected = doc_block("answer: invalid/several_errors.json")

    result = validate_bundle(load_fixture("invalid/several_errors.json"))

    assert result.as_dict() == expected


def test_doc_lists_every_error_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    codes = [value for name, value in vars(issues).items() if name.isupper() and "MSG" not in name]
    codes = [code for code in codes if isinstance(code, str)]

    assert [code for code in codes if f"`{code}`" not in text] == []


# --- JSON Schema and the export command ------------------------------------------------------


def test_json_schema_describes_every_field_with_its_limits() -> None:
    schema = bundle_json_schema()
    models = [schema, *schema["$defs"].values()]

    undescribed = [
        f"{model['title']}.{name}"
        for model in models
        for name, field in model["properties"].items()
        if "description" not in field and "$ref" not in field
    ]
    assert undescribed == []
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["sources"]["maxItems"] == 2_000
    assert schema["$defs"]["Proposal"]["properties"]["companies"]["maxItems"] == 5_000
    assert schema["$defs"]["Company"]["properties"]["name"]["maxLength"] == 500
    assert all(model.get("additionalProperties") is False for model in models)


def test_bundle_json_schema_returns_a_copy() -> None:
    copy_of_schema = bundle_json_schema()
    copy_of_schema["$defs"].clear()

    assert BUNDLE_JSON_SCHEMA["$defs"]


def test_json_schema_accepts_valid_and_rejects_structurally_invalid_fixtures() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(BUNDLE_JSON_SCHEMA)

    for name in VALID_FIXTURES:
        assert list(validator.iter_errors(load_fixture(f"valid/{name}"))) == [], name
    for name in ["unknown_field_company", "metric_number_is_bool", "company_ai_score_above_one"]:
        assert list(validator.iter_errors(load_fixture(f"invalid/{name}.json"))), name


def test_export_bundle_schema_prints_the_schema() -> None:
    from research.management.commands.export_bundle_schema import Command

    out = io.StringIO()
    Command(stdout=out).handle()

    assert json.loads(out.getvalue()) == BUNDLE_JSON_SCHEMA
    assert out.getvalue().startswith('{\n  "$schema"')


# --- Canonical hash --------------------------------------------------------------------------


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": ["é", 1.5, None, True]}) == (
        '{"a":["é",1.5,null,true],"b":1}'.encode()
    )


def test_bundle_hash_ignores_key_order_and_whitespace() -> None:
    payload = load_fixture("valid/complete.json")
    reordered = json.loads(json.dumps(dict(reversed(payload.items())), indent=7))

    assert bundle_sha256(reordered) == bundle_sha256(payload)
    assert bundle_sha256(payload) == hashlib.sha256(canonical_json(payload)).hexdigest()


def test_bundle_hash_changes_with_any_value() -> None:
    payload = load_fixture("valid/complete.json")
    changed = copy.deepcopy(payload)
    changed["proposal_json"]["companies"][1]["ai_score"] = 0.72

    assert bundle_sha256(changed) != bundle_sha256(payload)


def test_validation_hash_is_of_the_payload_as_uploaded() -> None:
    upper = bundle(sources=[source(TEXT_A, sha256=sha256_of(TEXT_A).upper())])
    lower = bundle()

    upper_result, lower_result = validate_bundle(upper), validate_bundle(lower)

    assert upper_result.ok and lower_result.ok
    assert upper_result.sha256 == bundle_sha256(upper) != lower_result.sha256


# --- Normalization ---------------------------------------------------------------------------


def test_hashes_are_matched_case_insensitively_and_stored_lowercase() -> None:
    sha = sha256_of(TEXT_A)
    payload = bundle(
        sources=[source(TEXT_A, sha256=sha.upper())],
        companies=[
            company(
                source_sha256s=[sha.upper(), sha],
                evidence_snippets=[{"text": "employs 240 people", "source_sha256": sha.upper()}],
                metrics=[{"key": "x", "type": "bool", "value": True, "source_sha256": sha.upper()}],
            )
        ],
    )
    payload["steps"] = [
        {"step_key": "s", "step_type": "fetch", "status": "ok", "output_sha256": sha.upper()}
    ]

    data = valid(payload)

    only = data.proposal_json.companies[0]
    assert data.sources[0].sha256 == sha
    assert data.steps[0].output_sha256 == sha
    assert only.source_sha256s == [sha]  # the duplicate is dropped
    assert only.evidence[0].source_sha256 == sha
    assert only.metrics[0].source_sha256 == sha


def test_aliases_are_normalized_and_deduplicated() -> None:
    payload = bundle(
        companies=[
            company(
                name="  Nordlicht   Robotics ",
                aliases=[
                    "NORDLICHT robotics",  # the name itself
                    " Nordlicht ",
                    {"name": "nordlicht", "type": "trade"},  # repeats: lends its type
                    {"name": "Nordlicht  Robotics GmbH", "type": "legal"},
                    {"name": "Nordlicht Robotics GmbH", "type": "former"},  # repeats: dropped
                    {"name": "NLR", "type": None},
                    {"name": "NLR", "type": "abbreviation"},
                ],
            )
        ]
    )

    only = valid(payload).proposal_json.companies[0]

    assert only.name == "Nordlicht Robotics"
    assert only.aliases == [
        Alias(name="Nordlicht", type="trade"),
        Alias(name="Nordlicht Robotics GmbH", type="legal"),
        Alias(name="NLR", type="abbreviation"),
    ]


def test_optional_fields_accept_null_and_blank() -> None:
    payload = bundle(
        companies=[company(aliases=None, metrics=None, domain="", hq_country=" ", website_url=None)]
    )
    payload["steps"] = None

    data = valid(payload)

    only = data.proposal_json.companies[0]
    assert (data.steps, only.aliases, only.metrics) == ([], [], [])
    assert (only.domain, only.hq_country, only.website_url) == (None, None, None)


def test_evidence_is_verified_ignoring_whitespace_and_case() -> None:
    sha = sha256_of(TEXT_A)
    payload = bundle(
        companies=[
            company(
                evidence_snippets=[
                    "BUILDS   autonomous\n\tforklifts",
                    {"text": "The Company Employs 240 people.", "source_sha256": sha},
                ]
            )
        ]
    )

    evidence = valid(payload).proposal_json.companies[0].evidence

    assert [(e.verified, e.source_sha256) for e in evidence] == [(True, sha), (True, sha)]
    assert evidence[0].text == "BUILDS   autonomous\n\tforklifts"  # kept as written
    assert evidence[0].text_sha256 == evidence_text_sha256("builds autonomous forklifts")
    assert evidence[0].text_sha256 == hashlib.sha256(b"builds autonomous forklifts").hexdigest()


def test_unverified_evidence_is_a_warning_not_an_error() -> None:
    sha = sha256_of(TEXT_A)
    payload = bundle(
        companies=[
            company(
                evidence_snippets=[
                    "builds autonomous forklifts",
                    {"text": "employs 9,000 people", "source_sha256": sha},
                    "market leader in Europe",
                ]
            )
        ]
    )

    result = validate_bundle(payload)

    assert result.ok
    assert [w.as_dict() for w in result.warnings] == [
        {
            "loc": f"{COMPANY}.evidence_snippets.1",
            "msg": issues.MSG_UNVERIFIED_EVIDENCE.format(sha256=sha),
            "type": "unverified_evidence",
        },
        {
            "loc": f"{COMPANY}.evidence_snippets.2",
            "msg": issues.MSG_UNVERIFIED_EVIDENCE_ANY,
            "type": "unverified_evidence",
        },
    ]
    assert result.counts is not None and result.counts.unverified_evidence == 2
    assert result.bundle is not None and result.bundle.warnings == result.warnings


def test_bare_snippet_is_attributed_to_the_source_that_contains_it() -> None:
    sha_a, sha_b = sha256_of(TEXT_A), sha256_of(TEXT_B)
    payload = bundle(
        sources=[source(TEXT_A), source(TEXT_B)],
        companies=[
            company(
                source_sha256s=[sha_a, sha_b],
                evidence_snippets=["revenue of EUR 38.5 million", "founded in 1850"],
            )
        ],
    )

    evidence = valid(payload).proposal_json.companies[0].evidence

    assert [(e.source_sha256, e.verified) for e in evidence] == [(sha_b, True), (sha_a, False)]


def test_evidence_of_a_standalone_company_is_not_resolved() -> None:
    standalone = Company.model_validate(company())

    with pytest.raises(RuntimeError):
        _ = standalone.evidence


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        (" a\u00a0\u2003B \n\n c ", "a b c"),
        ("Straße  ﬁne\u3000X", "strasse fine x"),
        ("\t", ""),
        ("", ""),
        ("x\u1680\u2028\u2029\u202f\u205f\x1c\x85y", "x y"),
    ],
)
def test_evidence_text_normalization(text: str, normalized: str) -> None:
    assert normalize_evidence_text(text) == normalized


def test_evidence_text_normalization_collapses_every_unicode_space() -> None:
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())

    assert normalize_evidence_text(f" A{everything}B{everything}") == "a b"


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("headcount", "headcount"),
        ("  Head Count  ", "head_count"),
        ("head-count.2024", "head_count_2024"),
        ("Revenue (EUR)", "revenue_eur"),
        ("employees / FTE", "employees_fte"),
        ("__total__revenue__", "total_revenue"),
        ("EBITDA-margin %", "ebitda_margin"),
        ("numEmployees", "numemployees"),  # camelCase is not split
        ("Umsatz €", "umsatz"),
        ("\uff32\uff25\uff36\uff25\uff2e\uff35\uff25", "revenue"),  # NFKC: full-width REVENUE
        ("größe", "größe"),  # letters of any script are kept
        ("%", ""),
    ],
)
def test_metric_key_normalization(raw: str, normalized: str) -> None:
    assert normalize_metric_key(raw) == normalized


def test_a_rejected_long_metric_key_is_not_remembered() -> None:
    from research.bundle.normalize import _normalized_metric_key

    long_key = "Revenue " * 100_000
    metric = {"key": long_key, "type": "number", "value": 1}
    metrics = [metric, {**metric, "key": "Head Count"}]
    _normalized_metric_key.cache_clear()

    result = validate_bundle(bundle(companies=[company(metrics=metrics)]))

    assert error_pairs(result) == {(f"{COMPANY}.metrics.0.key", issues.METRIC_KEY_TOO_LONG)}
    assert _normalized_metric_key.cache_info().currsize == 1  # "Head Count" only


def test_duplicate_metrics_collapse_to_the_first() -> None:
    def metric(**fields: Any) -> dict[str, Any]:
        return {"key": "Head Count", "type": "number", "value": 240, **fields}

    payload = bundle(
        companies=[
            company(
                metrics=[
                    metric(unit="people"),
                    metric(key="head-count"),  # same normalized key, value and date
                    metric(value=240.0),  # the same number
                    metric(as_of_date="2025-12-31"),  # another date: kept
                    metric(value=250),  # another value: kept
                    {"key": "head count", "type": "bool", "value": True},  # another type: kept
                    {"key": "markets", "type": "json", "value": {"b": 1, "a": 2}},
                    {"key": "markets", "type": "json", "value": {"a": 2, "b": 1}},  # same object
                ]
            )
        ]
    )

    metrics = valid(payload).proposal_json.companies[0].metrics

    assert [(m.key, m.value, m.unit) for m in metrics] == [
        ("head_count", 240, "people"),
        ("head_count", 240, None),
        ("head_count", 250, None),
        ("head_count", True, None),
        ("markets", {"b": 1, "a": 2}, None),
    ]


@pytest.mark.parametrize(
    ("metric_type", "value"),
    [
        ("number", 0),
        ("number", -3.5),
        ("number", 10**30),
        ("text", "Maren Vogt"),
        ("bool", False),
        ("json", {}),
        ("json", [1, "two"]),
    ],
)
def test_metric_values_of_the_right_type_are_accepted(metric_type: str, value: Any) -> None:
    payload = bundle(
        companies=[company(metrics=[{"key": "k", "type": metric_type, "value": value}])]
    )

    assert valid(payload).proposal_json.companies[0].metrics[0].value == value


@pytest.mark.parametrize(
    ("metric_type", "value"),
    [
        ("number", True),
        ("number", "12"),
        ("number", None),
        ("number", float("nan")),
        ("number", float("inf")),
        ("number", 10**400),  # beyond the range of a float
        ("text", ""),
        ("text", "   "),
        ("text", "t" * 10_001),
        ("text", ["a"]),
        ("bool", 0),
        ("bool", "false"),
        ("json", "{}"),
        ("json", None),
        ("json", 3),
    ],
)
def test_metric_values_of_another_type_are_refused(metric_type: str, value: Any) -> None:
    payload = bundle(
        companies=[company(metrics=[{"key": "k", "type": metric_type, "value": value}])]
    )

    result = validate_bundle(payload)

    assert (f"{COMPANY}.metrics.0.value", "metric_value_type") in error_pairs(result)
    expected = issues.METRIC_VALUE_EXPECTATIONS[metric_type]
    message = issues.MSG_METRIC_VALUE_TYPE.format(expected=expected, metric_type=metric_type)
    assert message in [issue.msg for issue in result.errors]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Example.COM", "example.com"),
        ("www.example.co.uk.", "www.example.co.uk"),
        ("münchen.de", "münchen.de"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        (f"{'a' * 63}.com", f"{'a' * 63}.com"),
    ],
)
def test_domain_is_normalized(raw: str, stored: str) -> None:
    payload = bundle(companies=[company(domain=raw)])

    assert valid(payload).proposal_json.companies[0].domain == stored


@pytest.mark.parametrize(
    ("raw", "code", "hint"),
    [
        ("https://www.example.com/about", "domain_is_url", "www.example.com"),
        ("example.com/about", "domain_is_url", "example.com"),
        ("example.com:8080", "domain_is_url", "example.com"),
        ("localhost", "domain_format", None),
        ("192.168.0.1", "domain_format", None),
        ("exa mple.com", "domain_format", None),
        ("-bad.example.com", "domain_format", None),
        ("a..b.com", "domain_format", None),
        ("a.com..", "domain_format", None),
        (f"{'a' * 64}.com", "domain_format", None),  # a label is at most 63 characters
        (f"{'a.' * 126}com", "domain_format", None),  # 255 characters in all
        ("bad_label.com", "domain_format", None),
    ],
)
def test_domain_errors_say_what_to_send(raw: str, code: str, hint: str | None) -> None:
    result = validate_bundle(bundle(companies=[company(domain=raw)]))

    assert error_pairs(result) == {(f"{COMPANY}.domain", code)}
    if hint:
        assert result.errors[0].msg == issues.MSG_DOMAIN_IS_URL.format(hostname=hint)


def test_codes_are_case_insensitive_and_stored_uppercase() -> None:
    payload = bundle(
        companies=[
            company(
                hq_country="gb",
                metrics=[{"key": "rev", "type": "number", "value": 1, "currency": "gbp"}],
            )
        ]
    )

    only = valid(payload).proposal_json.companies[0]

    assert (only.hq_country, only.metrics[0].currency) == ("GB", "GBP")


def test_code_errors_name_the_value() -> None:
    payload = bundle(
        companies=[
            company(
                hq_country="UK",
                metrics=[{"key": "r", "type": "number", "value": 1, "currency": "HRK"}],
            )
        ]
    )

    messages = {issue.loc: issue.msg for issue in validate_bundle(payload).errors}

    assert messages == {
        f"{COMPANY}.hq_country": issues.MSG_COUNTRY_CODE.format(value="'UK'"),
        f"{COMPANY}.metrics.0.currency": issues.MSG_CURRENCY_CODE.format(value="'HRK'"),
    }


def test_iso_code_lists() -> None:
    assert len(iso_codes.COUNTRY_CODES) == 249
    assert {"DE", "GB", "US", "AX", "SS", "BQ"} <= iso_codes.COUNTRY_CODES
    assert not {"UK", "EU", "XK"} & iso_codes.COUNTRY_CODES
    assert len(iso_codes.CURRENCY_CODES) == 175
    assert {"EUR", "USD", "GBP", "XCG", "ZWG", "SLE", "VED", "CHF"} <= iso_codes.CURRENCY_CODES
    assert not {"HRK", "ANG", "BGN", "CUC", "SLL", "ZWL", "XXX", "XTS"} & iso_codes.CURRENCY_CODES
    assert all(len(code) == 2 and code.isupper() for code in iso_codes.COUNTRY_CODES)
    assert all(len(code) == 3 and code.isupper() for code in iso_codes.CURRENCY_CODES)


def test_duplicate_companies_are_flagged_as_warnings() -> None:
    payload = bundle(
        companies=[
            company(domain="nordlicht.example"),
            company(name="NORDLICHT ROBOTICS"),
            company(name="Nordlicht Automation", domain="Nordlicht.example"),
        ]
    )

    result = validate_bundle(payload)

    assert result.ok
    assert [(w.loc, w.type, w.msg) for w in result.warnings] == [
        (
            "proposal_json.companies.1.name",
            "duplicate_company",
            issues.MSG_DUPLICATE_COMPANY.format(field="name", first=0),
        ),
        (
            "proposal_json.companies.2.domain",
            "duplicate_company",
            issues.MSG_DUPLICATE_COMPANY.format(field="domain", first=0),
        ),
    ]


def test_objective_is_exposed_only_when_it_is_text() -> None:
    payload = bundle()
    payload["plan_json"] = {"objective": "  Find robotics firms  "}
    assert valid(payload).objective == "Find robotics firms"

    payload["plan_json"] = {"objective": {"text": "nested"}}
    assert valid(payload).objective is None
