"""Names that look the same (issue 11 §9): invisible characters, odd spaces, look-alike letters."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps
from django.db import transaction

from ats.actors import Actor
from ats.models import Company
from ats.normalize import mixed_script_letters, name_skeleton, normalize_company_name
from ats.tests.factories import CompanyFactory
from research.bundle import issues
from research.models import Prospect
from research.review import review_panel
from research.schemas import validate_bundle
from research.services import bundles as bundle_services
from research.services.ingest import bundle_ingest

from . import builders

SYSTEM = Actor.system("test")
CYRILLIC_ACME = "\u0410cme"  # the first letter is CYRILLIC CAPITAL LETTER A


@pytest.mark.parametrize(
    "name",
    [
        "A\u200bcme",  # zero-width space
        "Ac\u200dme",  # zero-width joiner
        "\u00adAcme",  # soft hyphen
        "Ac\u2060me",  # word joiner
        "Acme\ufeff",  # byte order mark
        "\u200eAcme\u200f",  # bidi marks
        "Acme\u00a0GmbH",  # no-break space, then a legal form
        "Acme\u3000Ltd",  # ideographic space
        "Acme\u2003Inc.",  # em space
        "ACME\u3164",  # Hangul filler: a letter that renders as a space
    ],
)
@pytest.mark.sqlite
def test_invisible_characters_and_odd_spaces_do_not_matter(name: str) -> None:
    assert normalize_company_name(name) == normalize_company_name("Acme") == "acme"


@pytest.mark.sqlite
def test_look_alike_letters_share_a_skeleton_but_not_a_key() -> None:
    assert name_skeleton(CYRILLIC_ACME) == name_skeleton("Acme") == "acme"
    assert normalize_company_name(CYRILLIC_ACME) != "acme"  # never merged on its own
    assert mixed_script_letters(CYRILLIC_ACME) == ("\u0410", "Cyrillic")
    assert mixed_script_letters("\u0391lpha Robotics") == ("\u0391", "Greek")


@pytest.mark.parametrize(
    "name", ["Acme", "Сбербанк", "ソニー Sony", "Ελληνικά Robotics", "Straße AG", "株式会社 Acme"]
)
@pytest.mark.sqlite
def test_names_in_one_script_per_word_are_not_flagged(name: str) -> None:
    assert mixed_script_letters(name) is None


def _bundle(run_id, *names: str) -> dict:
    text = "Acme builds robots in Berlin and Munich for the car industry."
    source = builders.source(text)
    companies = [builders.company(name, sources=[source]) for name in names]
    return builders.bundle(run_id, companies, [source])


def _warnings(result) -> set[tuple[str, str]]:
    return {(warning.loc, warning.type) for warning in result.warnings}


@pytest.mark.sqlite
def test_a_zero_width_duplicate_is_a_warning() -> None:
    result = validate_bundle(_bundle("00000000-0000-4000-8000-000000000000", "Acme", "A\u200bcme"))
    assert result.ok
    assert ("proposal_json.companies.1.name", issues.DUPLICATE_COMPANY) in _warnings(result)


@pytest.mark.sqlite
def test_a_look_alike_is_a_duplicate_and_a_mixed_script_warning() -> None:
    result = validate_bundle(_bundle("00000000-0000-4000-8000-000000000000", "Acme", CYRILLIC_ACME))
    assert result.ok
    found = _warnings(result)
    assert ("proposal_json.companies.1.name", issues.DUPLICATE_COMPANY) in found
    assert ("proposal_json.companies.1.name", issues.MIXED_SCRIPT) in found
    mixed = next(w for w in result.warnings if w.type == issues.MIXED_SCRIPT)
    assert mixed.msg == issues.MSG_MIXED_SCRIPT.format(letter="\u0410", script="Cyrillic")


def test_ingestion_merges_a_zero_width_variant(run_a) -> None:
    payload = _bundle(run_a.pk, "Acme", "A\u200bcme GmbH")
    bundle = bundle_services.bundle_upload(run=run_a, payload=payload, actor=SYSTEM).bundle
    bundle_services.bundle_approve(bundle=bundle, actor=SYSTEM)
    with transaction.atomic():
        bundle_ingest(bundle=bundle)

    assert Company.objects.filter(tenant=run_a.tenant).count() == 1
    assert Prospect.objects.filter(run=run_a).count() == 1


def test_reviewers_see_name_warnings_beside_the_company(run_a) -> None:
    payload = _bundle(run_a.pk, "Acme", CYRILLIC_ACME)
    bundle = bundle_services.bundle_upload(run=run_a, payload=payload, actor=SYSTEM).bundle

    panel = review_panel(bundle=bundle)

    assert panel.companies[0].name_warnings == []
    assert panel.companies[1].name_warnings == [
        issues.MSG_MIXED_SCRIPT.format(letter="\u0410", script="Cyrillic"),
        issues.MSG_DUPLICATE_COMPANY.format(field="name", first=0),
    ]


def test_existing_names_are_normalized_again_by_the_migration(tenant_a) -> None:
    company = CompanyFactory(tenant=tenant_a, name="A\u200bcme", normalized_name="a cme")
    import_module("ats.migrations.0006_renormalize_names").renormalize(apps, None)
    company.refresh_from_db()
    assert company.normalized_name == "acme"
