"""Classification of a source (SPEC §8): reason codes, then the decision they imply.

Heuristics, each chosen to hold on real pages and not only on our fixtures:

* Thin content: fewer than 150 words of main text for HTML, 50 for PDF (SPEC). Plain text
  (pasted notes, text files) has no minimum: an analyst's short note is deliberate.
* Login or paywall: the page's markup declares a paywall (schema.org `isAccessibleForFree:
  false`, or paywall/regwall/metered widgets); or it has a form with a password field and little
  main text, outside the header, menus and dialogs (news sites keep a login form in their
  header); or its title/heading is a sign-in prompt; or the end of a short text says the rest is
  for subscribers ("subscribe to continue reading", "log in to read the full article"...).
* Error page served with 200: the title or first heading reads like an error ("404", "page not
  found", "access denied", "service unavailable", bot challenges such as "verify you are
  human"), in English, German, French, Spanish, Italian, Dutch and Portuguese; or short main
  text does. A long article that merely mentions "404" is not flagged.
* Unextractable PDF: image-only (no text layer), password-protected, or a PDF the parser could
  not read within its limits: a flag for a person to look at, never REJECT_EMPTY_TEXT.
* Near-duplicates (`near_duplicate_groups`): word 3-shingles hashed with BLAKE2b; candidate
  pairs come from an inverted index over the shingles whose hash is 0 mod 4 (Broder's mod-m
  sampling: the same shingles are sampled in every text, so similar texts share samples), then
  exact Jaccard similarity ≥ 0.6 joins two texts; groups are transitive (union-find) and the
  longest text of a group stays primary. Deterministic, no dependency, fast for a run's sources.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import FetchError
from .extract import Extraction

ACCEPT, FLAG, REJECT = "accept", "flag", "reject"

REJECT_EMPTY_TEXT = "REJECT_EMPTY_TEXT"
REJECT_FETCH_FAILED = "REJECT_FETCH_FAILED"
REJECT_THIN_CONTENT = "REJECT_THIN_CONTENT"
FLAG_PAYWALL_OR_LOGIN = "FLAG_PAYWALL_OR_LOGIN"
FLAG_ERROR_PAGE = "FLAG_ERROR_PAGE"
FLAG_DUPLICATE_TEMPLATE = "FLAG_DUPLICATE_TEMPLATE"
FLAG_UNEXTRACTABLE_PDF = "FLAG_UNEXTRACTABLE_PDF"
FLAG_UNSUPPORTED_TYPE = "FLAG_UNSUPPORTED_TYPE"
REASON_CODES = (
    REJECT_EMPTY_TEXT, REJECT_FETCH_FAILED, REJECT_THIN_CONTENT, FLAG_PAYWALL_OR_LOGIN,
    FLAG_ERROR_PAGE, FLAG_DUPLICATE_TEMPLATE, FLAG_UNEXTRACTABLE_PDF, FLAG_UNSUPPORTED_TYPE,
)  # fmt: skip

MIN_WORDS = {"html": 150, "pdf": 50}
# Main text shorter than this is a login wall or an error message rather than a page that
# happens to contain a login form or the word "error".
LOGIN_PAGE_MAX_WORDS = 300
TEASER_MAX_WORDS = 600
ERROR_PAGE_MAX_WORDS = 200
DUPLICATE_MIN_JACCARD = 0.6
SHINGLE_WORDS = 3
SAMPLE_MODULUS = 4

_LOGIN_HEADING = re.compile(
    r"^\W*(?:sign\s?in|log\s?in|login|sign\s?on|anmelden|einloggen|connexion|se connecter|"
    r"iniciar sesi[oó]n|accedi|inloggen|entrar)\b|\b(?:sign|log)\s?in to (?:your|continue)",
    re.IGNORECASE,
)
_PAYWALL_PHRASES = re.compile(
    r"(?:subscribe|sign\s?up|register|log\s?in|sign\s?in|create a (?:free )?account)"
    r"(?: now| today| for free)? to (?:continue|keep) reading|"
    r"(?:subscribe|log\s?in|sign\s?in|register) to (?:read|view|access|unlock) (?:the|this)"
    r"(?: full)? (?:article|story|report|content|page)|"
    r"this (?:article|content|story|report) is (?:only )?(?:available )?(?:for|to) "
    r"(?:subscribers|members|premium)|already a (?:subscriber|member)\?|"
    r"you(?:'ve| have) reached your (?:limit|free article)|"
    r"(?:log in|sign in) to continue|to continue reading|"
    r"weiterlesen mit|jetzt abonnieren|réservé aux abonnés|contenido exclusivo para suscriptores",
    re.IGNORECASE,
)
# An error heading: a status code at its start or next to "error", or an error phrase.
_ERROR_HEADING = re.compile(
    r"^\W*(?:error\s*)?(?:40[0134]|410|429|50[0234])(?:\W|$)|"
    r"\b(?:error|erreur|fehler|errore)\s*(?:40[0134]|410|429|50[0234])\b|"
    r"page (?:not found|introuvable)|access denied|service (?:temporarily )?unavailable|"
    r"internal server error|bad gateway|too many requests|"
    r"seite nicht gefunden|p[aá]gina no encontrada|pagina non trovata|pagina niet gevonden|"
    r"p[aá]gina n[aã]o encontrada|verify you are (?:a )?human|are you a robot|"
    r"checking your browser|^\W*just a moment|attention required|request blocked",
    re.IGNORECASE,
)
# Weaker words that make an error page only when the main text is short.
_ERROR_WORDS = re.compile(
    r"\b(?:error|oops|not found|nicht gefunden|something went wrong|no longer available)\b",
    re.IGNORECASE,
)
_ERROR_TEXT = re.compile(
    r"page (?:you (?:are looking for|requested|were looking for)|could not be found)|"
    r"(?:could|can)(?: not|n't) (?:be )?f(?:ou)?nd (?:the|this) page|"
    r"\b404\b|page (?:not found|introuvable)|does(?: not|n't) exist|has been (?:moved|removed)|"
    r"access (?:to this page )?(?:is )?denied|verify you are (?:a )?human|"
    r"checking (?:if the site connection is secure|your browser)|"
    r"enable (?:javascript|cookies) (?:and cookies )?to continue|"
    r"service (?:is )?(?:temporarily )?unavailable|something went wrong",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Classification:
    decision: str  # accept | flag | reject
    reason_codes: tuple[str, ...]  # sorted, unique
    details: dict[str, Any] = field(default_factory=dict)  # what led to each code (JSON-able)


def decision_for(codes: Iterable[str]) -> str:
    """Any REJECT code rejects, else any FLAG flags, else accept."""
    codes = list(codes)
    if any(code.startswith("REJECT_") for code in codes):
        return REJECT
    if any(code.startswith("FLAG_") for code in codes):
        return FLAG
    return ACCEPT


def _classification(details: dict[str, Any]) -> Classification:
    codes = tuple(sorted(details))
    return Classification(decision=decision_for(codes), reason_codes=codes, details=details)


def with_codes(classification: Classification, *codes: str, **details: Any) -> Classification:
    """Add codes (e.g. FLAG_DUPLICATE_TEMPLATE) and recompute the decision; keyword arguments
    are the added codes' details (`FLAG_DUPLICATE_TEMPLATE={"primary": 12}`)."""
    merged = dict(classification.details)
    for code in codes:
        merged.setdefault(code, details.get(code, {}))
    return replace(_classification(merged), details=merged)


def _login_or_paywall(extraction: Extraction) -> dict[str, Any] | None:
    signals = extraction.signals
    words = extraction.word_count
    heading = f"{signals.get('title', '')} | {signals.get('h1', '')}"
    if signals.get("paywall_markup"):
        return {"why": "paywall markup"}
    if signals.get("password_in_content") and words < LOGIN_PAGE_MAX_WORDS:
        return {"why": "password form", "word_count": words, "max_words": LOGIN_PAGE_MAX_WORDS}
    login_heading = _LOGIN_HEADING.search(signals.get("h1", "")) or _LOGIN_HEADING.search(
        signals.get("title", "")
    )
    if login_heading and words < LOGIN_PAGE_MAX_WORDS:
        return {"why": "sign-in heading", "heading": heading}
    # Walls come after the teaser: the wording must be in the last quarter of a short text.
    text = extraction.text
    phrase = _PAYWALL_PHRASES.search(text, int(len(text) * 0.75))
    if phrase and words < TEASER_MAX_WORDS:
        return {"why": "subscriber-only wording", "phrase": phrase.group(0), "word_count": words}
    return None


def _error_page(extraction: Extraction) -> dict[str, Any] | None:
    signals = extraction.signals
    short = extraction.word_count < ERROR_PAGE_MAX_WORDS
    for name in ("title", "h1"):
        value = signals.get(name) or ""
        bare = len(value.split()) <= 8  # "404 | Acme", not a headline about an error
        if (match := _ERROR_HEADING.search(value)) and (bare or short):
            return {"why": f"error {name}", name: value, "match": match.group(0)}
        if short and (match := _ERROR_WORDS.search(value)):
            return {"why": f"error {name}", name: value, "match": match.group(0)}
    if short and (match := _ERROR_TEXT.search(extraction.text)):
        return {
            "why": "error wording",
            "match": match.group(0),
            "word_count": extraction.word_count,
        }
    return None


def classify(
    *,
    extraction: Extraction | None,
    fetch_error: FetchError | None = None,
    unsupported_type: bool = False,
) -> Classification:
    """Intrinsic classification of one source (everything except FLAG_DUPLICATE_TEMPLATE)."""
    if fetch_error is not None:
        return _classification({REJECT_FETCH_FAILED: fetch_error.to_record()})
    if unsupported_type or extraction is None or extraction.kind == "unsupported":
        content_type = extraction.signals.get("content_type") if extraction else None
        return _classification({FLAG_UNSUPPORTED_TYPE: {"content_type": content_type}})
    details: dict[str, Any] = {}
    words = extraction.word_count
    if extraction.kind == "pdf" and extraction.pdf_status in ("image_only", "encrypted", "error"):
        details[FLAG_UNEXTRACTABLE_PDF] = {
            "pdf_status": extraction.pdf_status,
            "error": extraction.signals.get("pdf_error"),
        }
    elif words == 0:
        details[REJECT_EMPTY_TEXT] = {"word_count": 0}
    elif (minimum := MIN_WORDS.get(extraction.kind)) and words < minimum:
        details[REJECT_THIN_CONTENT] = {"word_count": words, "min_words": minimum}
    if extraction.kind == "html" and words:
        if login := _login_or_paywall(extraction):
            details[FLAG_PAYWALL_OR_LOGIN] = login
        if error := _error_page(extraction):
            details[FLAG_ERROR_PAGE] = error
    return _classification(details)


# -- near-duplicates --------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+")


def _shingles(text: str) -> set[int]:
    tokens = _TOKEN.findall(text.casefold())
    grams = (
        " ".join(tokens[i : i + SHINGLE_WORDS])
        for i in range(max(1, len(tokens) - SHINGLE_WORDS + 1))
    )
    return {
        int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "big")
        for gram in grams
        if gram
    }


def near_duplicate_groups[K: Hashable](texts: Mapping[K, str]) -> dict[K, K]:
    """Near-duplicate template detection across one run's sources (shingles with mod-m
    sampling and exact Jaccard, see the module docstring): maps every non-primary member of a
    group to its primary (the longest text; ties by key order). Primaries and unique texts are
    absent from the result. Deterministic."""
    keys = list(texts)
    order = {key: index for index, key in enumerate(keys)}
    shingles = {key: _shingles(texts[key]) for key in keys}
    index: dict[int, list[K]] = defaultdict(list)
    for key in keys:
        for value in shingles[key]:
            if value % SAMPLE_MODULUS == 0:
                index[value].append(key)
    parent = {key: key for key in keys}

    def root(key: K) -> K:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    compared: set[tuple[K, K]] = set()
    for posting in index.values():
        for position, first in enumerate(posting):
            for second in posting[position + 1 :]:
                if (first, second) in compared or root(first) == root(second):
                    continue
                compared.add((first, second))
                a, b = shingles[first], shingles[second]
                if min(len(a), len(b)) < DUPLICATE_MIN_JACCARD * max(len(a), len(b)):
                    continue  # sizes too different to reach the threshold
                if len(a & b) >= DUPLICATE_MIN_JACCARD * len(a | b):
                    parent[root(second)] = root(first)
    groups: dict[K, list[K]] = defaultdict(list)
    for key in keys:
        groups[root(key)].append(key)
    result: dict[K, K] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        primary = min(members, key=lambda key: (-len(texts[key]), order[key]))
        result.update({member: primary for member in members if member != primary})
    return result
