"""`field__any=[...]`: the same rows as `field__in`, whatever the values hold."""

import pytest

from ats.models import Company, Tenant

pytestmark = pytest.mark.django_db

AWKWARD_NAMES = [
    'say "hi"',
    "back\\slash",
    "{braces}, and commas",
    "NULL",
    "",
    "  spaced  ",
    "Zürich 😀",
]


@pytest.mark.sqlite  # IN there, ANY here
def test_strings_match_exactly_as_given(tenant_a: Tenant) -> None:
    for i, name in enumerate([*AWKWARD_NAMES, "other"]):
        Company.objects.create(tenant=tenant_a, name=name, normalized_name=f"n{i}")

    found = Company.objects.filter(name__any=AWKWARD_NAMES).values_list("name", flat=True)

    assert sorted(found) == sorted(AWKWARD_NAMES)


@pytest.mark.sqlite
def test_ids_and_foreign_keys_match_like_in(tenant_a: Tenant, tenant_b: Tenant) -> None:
    companies = [
        Company.objects.create(tenant=tenant, name=f"C{i}", normalized_name=f"c{i}")
        for i, tenant in enumerate([tenant_a, tenant_a, tenant_b])
    ]
    ids = [companies[0].pk, companies[2].pk, 10**12]

    assert set(Company.objects.filter(pk__any=ids)) == set(Company.objects.filter(pk__in=ids))
    assert Company.objects.filter(tenant__any=[tenant_b.pk]).get() == companies[2]
    assert not Company.objects.filter(pk__any=[]).exists()


def test_ids_beyond_bigint_match_nothing_like_in(tenant_a: Tenant) -> None:
    # PostgreSQL only: SQLite cannot even bind such an integer.
    company = Company.objects.create(tenant=tenant_a, name="C", normalized_name="c")
    ids = [company.pk, 2**63, -(2**64)]

    assert list(Company.objects.filter(pk__any=ids)) == [company]
    assert list(Company.objects.filter(pk__in=ids)) == [company]
