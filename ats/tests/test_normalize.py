import pytest

from ats.normalize import normalize_company_name, registrable_domain


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme Holdings Ltd", "acme holdings"),
        ("ACME, Inc.", "acme"),
        ("Société Générale S.A.", "societe generale"),
        ("Foo GmbH & Co. KG", "foo"),
        ("Björn Borg AB", "bjorn borg"),
        ("Johnson & Johnson", "johnson and johnson"),
        ("Limited", "limited"),  # only a legal term: kept, never empty
        ("S.A.", "s a"),
        ("  Tokyo 株式会社 ", "tokyo 株式会社"),
    ],
)
def test_normalize_company_name(name: str, expected: str) -> None:
    assert normalize_company_name(name) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://www.Example.co.uk/about", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("EXAMPLE.CO.UK.", "example.co.uk"),
        ("http://user@www.acme.com:8080/x?y=1", "acme.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("http://192.168.0.1/", ""),
        ("co.uk", ""),
        ("http://[not-ipv6/", ""),
        ("]\x08>÷", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_registrable_domain(value: str | None, expected: str) -> None:
    assert registrable_domain(value) == expected


def test_ascii_fast_path_folds_every_ascii_character_like_the_unicode_path() -> None:
    from ats.normalize import _fold_ascii, _fold_unicode

    every_ascii = [chr(c) for c in range(128)]
    samples = [*every_ascii, "".join(every_ascii), " Acme & Sons, Inc.\t(UK)\x00_x-Y ", "A__B..c"]
    samples += [f"a{char}b" for char in every_ascii]

    for text in samples:
        assert _fold_ascii(text) == _fold_unicode(text), repr(text)


@pytest.mark.parametrize(
    "name",
    [
        "A\u200bcme GmbH",  # zero-width space
        "Ac\u00adme",  # soft hyphen
        "\ufeffAcme",  # byte order mark
        "Ac\u2060me\u200d",  # word joiner, zero-width joiner
        "\u200eAcme\u200f",  # bidi marks
    ],
)
def test_invisible_characters_are_dropped_from_names_that_are_otherwise_ascii(name: str) -> None:
    assert not name.isascii()  # so it cannot take the ASCII path
    assert normalize_company_name(name) == normalize_company_name("Acme") == "acme"


def test_names_outside_ascii_are_still_folded() -> None:
    full_width = "\uff21\uff43\uff4d\uff45 \uff2c\uff54\uff44"  # "Acme Ltd", NFKD folds it
    assert normalize_company_name(full_width) == "acme"
    assert normalize_company_name("Acme\u3000Ltd") == "acme"  # ideographic space
    assert normalize_company_name("Acme\u3164Ltd") == "acme"  # Hangul filler
