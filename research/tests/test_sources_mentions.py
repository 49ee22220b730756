"""Company mentions: names and aliases, word boundaries, Unicode, one pass."""

from __future__ import annotations

import pytest

from research.sources import mentions
from research.sources.mentions import Mention, find_mentions

TEXT = (
    "Skovby Industries has agreed to buy Nordcell. SKOVBY said the deal closes in June.\n"
    "Acmeville is a town; it is not Acme. ACME Corp and Acmé SA are different firms.\n"
    "Straße GmbH opened in Köln, wrote STRASSE GMBH in a filing. 東京電機 grew too."
)


def by_company(found: list[Mention]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for mention in found:
        result.setdefault(mention.company_id, []).append(TEXT[mention.start : mention.end])
    return result


def test_names_and_aliases_on_word_boundaries() -> None:
    found = find_mentions(
        TEXT,
        {
            1: ["Skovby Industries", "Skovby"],
            2: ["Nordcell"],
            3: ["Acme", "ACME Corp"],
            4: ["Straße GmbH"],
            5: ["Skovby"],  # another company with the same short name
            6: ["東京電機"],
            7: ["Acmé SA"],
            8: ["Unknown Ltd"],
        },
    )

    assert by_company(found) == {
        1: ["Skovby Industries", "SKOVBY"],
        2: ["Nordcell"],
        3: ["Acme", "ACME Corp"],  # not inside "Acmeville", not "Acmé"
        4: ["Straße GmbH"],  # "STRASSE GMBH" is the same passage: one mention
        5: ["SKOVBY"],  # not inside "Skovby Industries", which is company 1's
        6: ["東京電機"],
        7: ["Acmé SA"],
    }
    first = found[0]
    assert first == Mention(
        company_id=1,
        name="Skovby Industries",
        start=0,
        end=17,
        passage="Skovby Industries has agreed to buy Nordcell.",
    )
    assert [m.passage for m in found if m.company_id == 4] == [
        "Straße GmbH opened in Köln, wrote STRASSE GMBH in a filing."
    ]


def test_names_across_a_line_break_and_in_several_passages() -> None:
    text = "We met Northwind\nRobotics today.\n\nLater, Northwind Robotics called again."
    found = find_mentions(text, {1: ["Northwind Robotics"]})

    assert [(m.start, m.passage) for m in found] == [
        (7, "We met Northwind Robotics today."),
        (41, "Later, Northwind Robotics called again."),
    ]


def test_punctuated_names() -> None:
    text = "Both AT&T and C++ Labs (known as CPL) grew; AT&Tx is a typo."
    found = find_mentions(text, {1: ["AT&T"], 2: ["C++ Labs", "CPL"]})

    assert [(m.company_id, text[m.start : m.end]) for m in found] == [
        (1, "AT&T"),
        (2, "C++ Labs"),
    ]


def test_no_names_or_text() -> None:
    assert find_mentions("", {1: ["Acme"]}) == []
    assert find_mentions("Acme", {}) == []
    assert find_mentions("A is short", {1: ["A", " "]}) == []  # one-letter names match anything


def test_one_automaton_pass_for_thousands_of_companies(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {company_id: [f"Company {company_id} Holdings"] for company_id in range(5000)}
    text = "Company 4321 Holdings and Company 17 Holdings signed. " * 20
    passes: list[str] = []
    real_automaton = mentions.ahocorasick.Automaton

    class CountingAutomaton:
        """Counts the scans of the text (the C type cannot be subclassed)."""

        def __init__(self) -> None:
            self.automaton = real_automaton()

        def __getattr__(self, name: str) -> object:
            return getattr(self.automaton, name)

        def __contains__(self, key: str) -> bool:
            return key in self.automaton

        def __len__(self) -> int:
            return len(self.automaton)

        def iter(self, string: str) -> object:
            passes.append(string)
            return self.automaton.iter(string)

    monkeypatch.setattr(mentions.ahocorasick, "Automaton", CountingAutomaton)
    found = find_mentions(text, names)

    assert len(passes) == 1
    assert {m.company_id for m in found} == {4321, 17}
