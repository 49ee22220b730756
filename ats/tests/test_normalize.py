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
