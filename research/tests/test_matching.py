import pytest

from ats.tests.factories import CompanyAliasFactory, CompanyFactory
from research.services.matching import MatchKind, Proposed, match_companies, summarize

pytestmark = pytest.mark.django_db


def one(tenant, **kwargs):
    return match_companies(tenant=tenant, proposals=[Proposed(**kwargs)])[0]


def test_domain_forms_match_registrable_domain(tenant_a) -> None:
    company = CompanyFactory(tenant=tenant_a, name="Example Ltd", domain="example.co.uk")
    for form in ["https://www.Example.co.uk/about", "example.co.uk", "shop.EXAMPLE.co.uk."]:
        match = one(tenant_a, name="Totally Different Name", domain=form)
        assert (match.kind, match.company.id) == (MatchKind.DOMAIN, company.id), form


def test_legal_suffixes_and_case(tenant_a) -> None:
    company = CompanyFactory(tenant=tenant_a, name="Acme Robotics GmbH", domain="")
    match = one(tenant_a, name="ACME ROBOTICS, Inc.")
    assert (match.kind, match.company.id) == (MatchKind.NAME, company.id)


def test_alias_match(tenant_a) -> None:
    company = CompanyFactory(
        tenant=tenant_a, name="International Business Machines", domain="ibm.com"
    )
    CompanyAliasFactory(company=company, alias="IBM")
    assert one(tenant_a, name="IBM Corp").company.id == company.id
    # A proposal's own alias can match a canonical name too.
    assert (
        one(
            tenant_a, name="Big Blue", aliases=["International Business Machines Corporation"]
        ).company.id
        == company.id
    )


def test_unicode_names(tenant_a) -> None:
    company = CompanyFactory(tenant=tenant_a, name="Société Générale S.A.", domain="")
    assert one(tenant_a, name="SOCIETE GENERALE").company.id == company.id
    cjk = CompanyFactory(tenant=tenant_a, name="株式会社 ソニー", domain="")
    assert one(tenant_a, name="株式会社 ソニー").company.id == cjk.id


def test_name_that_is_only_a_legal_term(tenant_a) -> None:
    company = CompanyFactory(tenant=tenant_a, name="Limited", domain="")
    assert one(tenant_a, name="LIMITED").company.id == company.id
    assert one(tenant_a, name="Acme Limited").kind == MatchKind.NEW


def test_same_name_different_domain_is_a_different_company(tenant_a) -> None:
    company = CompanyFactory(tenant=tenant_a, name="Apex Systems", domain="apex.com")
    match = match_companies(
        tenant=tenant_a,
        proposals=[Proposed(name="Apex Systems", domain="apex.de")],
        with_hints=True,
    )[0]
    assert match.kind == MatchKind.NEW
    assert match.hints[0].company.id == company.id
    assert match.hints[0].reason == "same name, different domain"
    # Without a domain on the proposal, the name match is taken.
    assert one(tenant_a, name="Apex Systems").company.id == company.id


def test_fuzzy_similarity_is_only_a_hint(tenant_a) -> None:
    company = CompanyFactory(tenant=tenant_a, name="Northwind Robotics", domain="nw.io")
    match = match_companies(
        tenant=tenant_a, proposals=[Proposed(name="Northwind Robotic")], with_hints=True
    )[0]
    assert match.kind == MatchKind.NEW and match.company is None
    assert match.hints[0].company.id == company.id
    assert 85 <= match.hints[0].similarity < 100


def test_two_proposals_of_one_batch_share_a_new_company(tenant_a) -> None:
    matches = match_companies(
        tenant=tenant_a,
        proposals=[
            Proposed(name="Zeta Labs", domain="zeta.io"),
            Proposed(name="ZETA LABS GmbH"),  # no domain: same name → same company
            Proposed(name="Zeta Labs", domain="zeta.de"),  # other domain → another company
            Proposed(name="Other", domain="https://www.zeta.io/x"),  # same domain
        ],
    )
    groups = [m.new_group for m in matches]
    assert groups[0] == groups[1] == groups[3] != groups[2]
    assert summarize(matches)["new_companies"] == 2


def test_other_tenants_companies_never_match(tenant_a, tenant_b) -> None:
    CompanyFactory(tenant=tenant_b, name="Acme", domain="acme.com")
    assert one(tenant_a, name="Acme", domain="acme.com").kind == MatchKind.NEW


def test_query_count_is_constant(tenant_a, django_assert_num_queries) -> None:
    proposals = [
        Proposed(name=f"Company {i}", domain=f"c{i}.com", aliases=[f"C{i}"]) for i in range(300)
    ]
    with django_assert_num_queries(3):
        match_companies(tenant=tenant_a, proposals=proposals)
