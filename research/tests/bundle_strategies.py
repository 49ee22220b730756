"""Hypothesis strategies: valid research bundles, and mutations of them.

`bundles()` draws bundles that are valid by construction (hashes of their texts, cited sources
that exist, ISO codes) with varied Unicode, sizes and optional fields. `mutated()` applies one
random change anywhere in a bundle: a value replaced by another type or a hostile one, a key
removed or added, an item duplicated or removed. A mutant may still be valid; what matters is
that every answer to it is a clean one.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

# Text anywhere in a bundle: any character but surrogates and NUL, which cannot be stored.
_TEXT_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_WORDS = st.text(_TEXT_CHARS, min_size=1, max_size=30).filter(str.strip)
_NAMES = st.one_of(
    st.sampled_from(["Acme GmbH", "A\u200bcme", "Nordlicht Robotik AG", "Ämber & Söhne"]),
    st.text(_TEXT_CHARS, min_size=1, max_size=60).filter(lambda text: text.strip()),
)
_DOMAINS = st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]\.(com|de|co\.uk|io)", fullmatch=True)
_COUNTRIES = st.sampled_from(["DE", "US", "GB", "FR", "jp", "ch"])
_CURRENCIES = st.sampled_from(["EUR", "USD", "gbp", "CHF"])
_DATETIMES = st.sampled_from(["2026-01-31T09:30:00Z", "2025-12-01T10:00:00+01:00"])
_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(_TEXT_CHARS, max_size=20),
)
_KEYS = st.text(_TEXT_CHARS, max_size=8)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)
_JSON_OBJECTS = st.dictionaries(_KEYS, _JSON, max_size=3)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@st.composite
def _source(draw: st.DrawFn) -> dict[str, Any]:
    text = draw(st.text(_TEXT_CHARS, min_size=20, max_size=400).filter(str.strip))
    source: dict[str, Any] = {"sha256": draw(st.sampled_from([str.lower, str.upper]))(sha256(text))}
    source["content_text"] = text
    if draw(st.booleans()):
        source["url"] = "https://" + draw(_DOMAINS) + "/article"
        source["title"] = draw(_WORDS)
        source["mime_type"] = draw(st.sampled_from(["text/html", "application/pdf", None, ""]))
        source["retrieved_at"] = draw(_DATETIMES)
        source["meta"] = draw(_JSON_OBJECTS)
    return source


def _metric(draw: st.DrawFn, sources: list[dict[str, Any]]) -> dict[str, Any]:
    kind = draw(st.sampled_from(["number", "text", "bool", "json"]))
    value = {
        "number": st.one_of(st.integers(-(10**12), 10**12), st.floats(-1e12, 1e12)),
        "text": _WORDS,
        "bool": st.booleans(),
        "json": st.one_of(_JSON_OBJECTS, st.lists(_JSON_LEAVES, max_size=3)),
    }[kind]
    metric: dict[str, Any] = {
        "key": draw(st.sampled_from(["Headcount", "revenue", "Founded Year", "public?"])),
        "type": kind,
        "value": draw(value),
    }
    if draw(st.booleans()):
        metric |= {
            "unit": draw(st.sampled_from(["people", None, ""])),
            "currency": draw(_CURRENCIES),
            "as_of_date": "2025-12-31",
            "confidence": draw(st.floats(0, 1)),
            "source_sha256": draw(st.sampled_from(sources))["sha256"],
        }
    return metric


@st.composite
def _company(draw: st.DrawFn, sources: list[dict[str, Any]]) -> dict[str, Any]:
    cited = draw(st.lists(st.sampled_from(sources), min_size=1, max_size=3))
    home = cited[0]["content_text"]
    start = draw(st.integers(0, max(0, len(home) - 10)))
    quoted = home[start : start + draw(st.integers(5, 60))]
    evidence: list[Any] = [quoted if quoted.strip() else "a claim"]
    if draw(st.booleans()):
        evidence.append({"text": draw(_WORDS), "source_sha256": cited[-1]["sha256"]})
    company: dict[str, Any] = {
        "name": draw(_NAMES),
        "source_sha256s": [source["sha256"] for source in cited],
        "evidence_snippets": evidence,
    }
    if draw(st.booleans()):
        company |= {
            "aliases": draw(
                st.lists(
                    st.one_of(
                        _NAMES,
                        st.fixed_dictionaries(
                            {"name": _NAMES, "type": st.sampled_from(["legal", "trade", None])}
                        ),
                    ),
                    max_size=3,
                )
            ),
            "website_url": "https://www." + draw(_DOMAINS),
            "domain": draw(_DOMAINS),
            "hq_country": draw(_COUNTRIES),
            "hq_city": draw(_WORDS),
            "sector": draw(st.sampled_from(["Robotics", "", None])),
            "description": draw(st.text(_TEXT_CHARS, max_size=200)),
            "ai_rank": draw(st.integers(1, 2_147_483_647)),
            "ai_score": draw(st.floats(0, 1)),
            "metrics": [_metric(draw, sources) for _ in range(draw(st.integers(0, 3)))],
        }
    return company


@st.composite
def bundles(draw: st.DrawFn, run_id: str = "00000000-0000-4000-8000-000000000000") -> dict:
    texts: set[str] = set()
    sources = []
    for source in draw(st.lists(_source(), min_size=1, max_size=4)):
        if source["content_text"] not in texts:  # each source once
            texts.add(source["content_text"])
            sources.append(source)
    companies = draw(st.lists(_company(sources), min_size=1, max_size=5))
    steps = [
        {"step_key": f"step-{index}", "step_type": step_type, "status": "ok"}
        for index, step_type in enumerate(draw(st.lists(st.sampled_from(["search", "fetch"]))))
    ]
    return {
        "version": "run_bundle_v1",
        "run_id": run_id,
        "plan_json": {"objective": draw(_WORDS), "extra": draw(_JSON)},
        "steps": steps,
        "sources": sources,
        "proposal_json": {
            "query": draw(_WORDS),
            "generated_at": draw(_DATETIMES),
            "model": draw(st.sampled_from(["agent-1", None])),
            "companies": companies,
        },
    }


# What a mutation may put somewhere: other types, hostile values, limits.
HOSTILE_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63),
    st.floats(),  # NaN and ±Infinity included
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "x" * 5_001, "\u200b", "😀" * 3]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
Path = tuple[str | int, ...]


def paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every location in a JSON document, the root included."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


def _parent(document: Any, path: Path) -> Any:
    for part in path[:-1]:
        document = document[part]
    return document


@st.composite
def mutated(draw: st.DrawFn, bundle: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """`bundle` with one random change, and a description of it."""
    document = copy.deepcopy(bundle)
    path = draw(st.sampled_from([p for p in paths(document) if p]))
    parent, key = _parent(document, path), path[-1]
    operation = draw(st.sampled_from(["replace", "remove", "add_key", "duplicate"]))
    if operation == "replace":
        parent[key] = draw(HOSTILE_VALUES)
    elif operation == "remove":
        del parent[key]
    elif operation == "add_key" and isinstance(parent[key], dict):
        parent[key][draw(st.sampled_from(["unknown", "\x00", "name"]))] = draw(HOSTILE_VALUES)
    elif operation == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    else:
        parent[key] = draw(HOSTILE_VALUES)
        operation = "replace"
    return document, f"{operation} at {'.'.join(map(str, path))}"
