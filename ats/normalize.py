"""Normalization of company names and domains, shared by matching, the admin and the API.

Matching (SPEC §7) compares companies by registrable domain first, then by normalized name
or alias; both sides must be normalized by the same functions, so they live here.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from urllib.parse import urlsplit

import tldextract

# Legal-form tokens stripped from the end of a name ("Acme Holdings Ltd" -> "acme holdings").
# Multi-word forms are matched after punctuation removal ("S.A." -> "s a").
_LEGAL_SUFFIX_LIST = """
inc, incorporated, llc, l l c, ltd, limited, plc, corp, corporation, co, company, gmbh,
mbh, ag, kg, gmbh and co kg, and co kg, co kg, and co, ug, sa, s a, sas, s a s, sarl,
s a r l, sl, s l, srl, s r l, spa, s p a, bv, b v, nv, n v, oy, oyj, ab, as, a s, asa,
aps, kk, k k, pty, pty ltd, pte, pte ltd, llp, lp, lllp, pllc, sae, se, kft, zrt,
sp z o o, s r o, d o o, ltda, s de rl, sa de cv, s a de c v, bhd, sdn bhd, pvt ltd,
private limited
"""
LEGAL_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {suffix.strip() for suffix in _LEGAL_SUFFIX_LIST.split(",") if suffix.strip()},
        key=lambda suffix: (-len(suffix), suffix),  # longest first: "pty ltd" before "ltd"
    )
)
_SUFFIX_RE = re.compile(
    r"(?:\s|^)(?:" + "|".join(re.escape(suffix) for suffix in LEGAL_SUFFIXES) + r")$"
)
_SPACES_RE = re.compile(r"\s+")
_BARE_ASCII_HOST_RE = re.compile(r"[A-Za-z0-9.-]+")
# Letters that render as blank space (Hangul fillers): spaces, like the separators (Z*).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


# In ASCII, what `_fold` keeps is letters and digits: every other ASCII character is
# punctuation, a symbol, a space or a control character (no accents, no format characters).
_ASCII_NOT_ALNUM_RE = re.compile(r"[^a-z0-9]+")


def _fold(text: str) -> str:
    """Casefold, drop accents and invisible characters, turn punctuation, symbols and every
    kind of space into spaces."""
    # ASCII (the common case) needs none of the per-character Unicode lookups.
    return _fold_ascii(text) if text.isascii() else _fold_unicode(text)


def _fold_ascii(text: str) -> str:
    return _ASCII_NOT_ALNUM_RE.sub(" ", text.lower().replace("&", " and ")).strip()


def _fold_unicode(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("&", " and "))
    kept = []
    for char in decomposed:
        category = unicodedata.category(char)
        # Combining accents ("é" -> "e") and invisible format characters (zero-width space
        # and joiners, soft hyphen, word joiner, BOM, bidi marks): "A\u200bcme" is "acme".
        if category in ("Mn", "Cf"):
            continue
        kept.append(" " if category[0] in "PSZC" or char in _BLANK_LETTERS else char)
    return _SPACES_RE.sub(" ", "".join(kept)).strip()


@functools.lru_cache(maxsize=100_000)  # ingestion normalizes the same names in several phases
def normalize_company_name(name: str) -> str:
    """The key under which two names count as the same company.

    Case, accents, punctuation and trailing legal forms do not matter. The result is never
    empty for a non-blank name: a name that is only a legal term ("Limited") keeps it.
    """
    folded = _fold(name)
    stripped = folded
    while True:
        shorter = _SUFFIX_RE.sub("", stripped).strip()
        if shorter == stripped or not shorter:
            break
        stripped = shorter
    return stripped or folded


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # The bundled Public Suffix List snapshot: no network, no cache directory.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@functools.lru_cache(maxsize=100_000)
def registrable_domain(value: str | None) -> str:
    """The registrable domain of a URL or host ("https://www.Example.co.uk/x" -> "example.co.uk").

    Returns "" when there is none (blank input, an IP address, a bare public suffix).
    """
    if not value:
        return ""
    value = value.strip()
    if _BARE_ASCII_HOST_RE.fullmatch(value):  # most are ("example.com"): nothing to parse
        host = value
    else:
        try:
            host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
        except ValueError:  # not a URL at all, e.g. "http://[oops/"
            return ""
    host = host.rstrip(".").lower()
    if not host:
        return ""
    if not host.isascii():
        with contextlib.suppress(UnicodeError):  # not IDNA-encodable: keep it as it is
            host = host.encode("idna").decode("ascii")
    parts = _extractor()(host)
    if not parts.suffix or not parts.domain:
        return ""
    return f"{parts.domain}.{parts.suffix}"


# Scripts whose letters imitate Latin ones ("\u0410cme" with a Cyrillic \u0410): a word mixing
# them with Latin letters is a review hint, never a merge on its own.
_LOOKALIKE_SCRIPTS = ("CYRILLIC", "GREEK")
# Cyrillic and Greek letters that look like Latin ones, after casefolding.
_HOMOGLYPHS = str.maketrans(
    "авеклмнорстухіјѕԁԛԝӏαβεικνορτυχ",
    "abeklmhopctyxijsdqwlabeiknoptux",
)


def _script(char: str) -> str:
    return unicodedata.name(char, "").split(" ", 1)[0]


def mixed_script_letters(name: str) -> tuple[str, str] | None:
    """(letter, script) of the first Cyrillic or Greek letter inside a word that also has
    Latin letters, or None. Words wholly in one script ("Сбербанк", "ソニー Sony") are fine."""
    if name.isascii():  # Latin letters only
        return None
    for word in _fold_keep_letters(name).split():
        scripts: dict[str, str] = {}
        for char in word:
            if char.isalpha():
                scripts.setdefault(_script(char), char)
        if "LATIN" in scripts:
            for script in _LOOKALIKE_SCRIPTS:
                if script in scripts:
                    return scripts[script], script.title()
    return None


def name_skeleton(name: str) -> str:
    """The normalized name with Cyrillic and Greek look-alikes read as Latin letters: two
    names with the same skeleton look the same to a reader."""
    normalized = normalize_company_name(name)
    return normalized if normalized.isascii() else normalized.translate(_HOMOGLYPHS)


def _fold_keep_letters(text: str) -> str:
    return "".join(
        char for char in unicodedata.normalize("NFC", text) if unicodedata.category(char) != "Cf"
    )
