"""Mentions of a tenant's known companies in a source's text, in one pass.

pyahocorasick builds one automaton of every name and alias (casefolded), so a text is scanned
once however many companies the tenant has. Matches must start and end on word boundaries
(Unicode-aware: "Acme" does not match inside "Acmeville" or "Acmé"), and a match inside a
longer match of another name ("Skovby" inside "Skovby Industries") is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ahocorasick

MIN_NAME_CHARS = 2
PASSAGE_MAX_CHARS = 400
_SENTENCE_END = re.compile(r"[.!?\u3002\uff01\uff1f](?=\s)|\n")


@dataclass(frozen=True)
class Mention:
    company_id: int
    name: str  # the name or alias as the tenant spells it
    start: int  # offsets in the NFC form of the text (extracted texts are NFC already)
    end: int
    passage: str  # the sentence around the mention (at most PASSAGE_MAX_CHARS)


def _fold(text: str) -> tuple[str, list[int]]:
    """Casefolded text with whitespace runs collapsed to one space, and for each of its
    characters the index of the original character it came from."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(unicodedata.normalize("NFC", text)):
        if char.isspace():
            if folded and folded[-1] == " ":
                continue
            folded.append(" ")
            origin.append(index)
            continue
        for part in char.casefold():
            folded.append(part)
            origin.append(index)
    return "".join(folded), origin


def _fold_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


def _passage(text: str, start: int, end: int) -> str:
    sentence_start = 0
    for match in _SENTENCE_END.finditer(text, 0, start):
        sentence_start = match.end()
    following = _SENTENCE_END.search(text, end)
    sentence_end = following.end() if following else len(text)
    sentence_start = max(sentence_start, start - PASSAGE_MAX_CHARS // 2)
    sentence_end = min(sentence_end, end + PASSAGE_MAX_CHARS // 2)
    return " ".join(text[sentence_start:sentence_end].split())


def find_mentions(text: str, names: Mapping[int, Iterable[str]]) -> list[Mention]:
    """Mentions of known companies (names and aliases) on word boundaries, Unicode-aware,
    case-insensitive, in one pass over the text however many companies there are (one compiled
    automaton/regex, not one search per company). At most one Mention per (company, passage)."""
    automaton = ahocorasick.Automaton()
    for company_id, company_names in names.items():
        for name in company_names:
            key = _fold_name(name)
            if len(key) < MIN_NAME_CHARS:
                continue
            if key in automaton:
                automaton.get(key).append((company_id, name))
            else:
                automaton.add_word(key, [(company_id, name)])
    if not len(automaton) or not text:
        return []
    automaton.make_automaton()
    text = unicodedata.normalize("NFC", text)
    folded, origin = _fold(text)
    found: list[tuple[int, int, int, str]] = []  # folded start, folded end, company, name
    for last, owners in automaton.iter(folded):
        key_length = len(_fold_name(owners[0][1]))
        first = last - key_length + 1
        if first > 0 and _is_word_char(folded[first - 1]) and _is_word_char(folded[first]):
            continue
        if (
            last + 1 < len(folded)
            and _is_word_char(folded[last + 1])
            and _is_word_char(folded[last])
        ):
            continue
        found.extend((first, last + 1, company_id, name) for company_id, name in owners)
    # Longest first at each position; drop matches inside a longer match of another company.
    found.sort(key=lambda match: (match[0], -(match[1] - match[0]), match[2]))
    mentions: list[Mention] = []
    seen: set[tuple[int, str]] = set()
    cover_start, cover_end, cover_companies = -1, -1, set()
    for first, end, company_id, name in found:
        inside = end <= cover_end and end - first < cover_end - cover_start
        if inside and company_id not in cover_companies:
            continue
        if end > cover_end:
            cover_start, cover_end, cover_companies = first, end, {company_id}
        elif (first, end) == (cover_start, cover_end):
            cover_companies.add(company_id)
        start, stop = origin[first], origin[end - 1] + 1
        passage = _passage(text, start, stop)
        if (company_id, passage) in seen:
            continue
        seen.add((company_id, passage))
        mentions.append(Mention(company_id, name, start, stop, passage))
    return mentions
