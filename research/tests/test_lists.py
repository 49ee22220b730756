import pytest

from ats.errors import InvalidInput
from research.services.lists import parse_list

pytestmark = pytest.mark.sqlite


def names(text: str, fmt: str = "auto") -> list[tuple[str, str]]:
    return [(e.name, e.domain) for e in parse_list(text, fmt=fmt)]


def test_pasted_names_with_commas_are_names() -> None:
    assert names("Acme, Inc.\nBeta Holdings, LLC\n\nGamma GmbH") == [
        ("Acme, Inc.", ""),
        ("Beta Holdings, LLC", ""),
        ("Gamma GmbH", ""),
    ]


def test_csv_with_header_or_domains_is_csv() -> None:
    assert names("name,domain\nAcme,acme.com\nBeta,\n") == [("Acme", "acme.com"), ("Beta", "")]
    assert names("Acme,https://acme.com/\nBeta,beta.io") == [
        ("Acme", "https://acme.com/"),
        ("Beta", "beta.io"),
    ]
    assert names('"Acme, Inc.",acme.com', fmt="csv") == [("Acme, Inc.", "acme.com")]


def test_errors_name_the_line() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_list("name,domain\nAcme,acme.com\nBeta,not a domain\n")
    assert [e.loc for e in caught.value.errors] == ["text.3"]
    with pytest.raises(InvalidInput) as caught:
        parse_list("   \n\n")
    assert caught.value.errors[0].loc == "text"
