"""`manage.py rematch_companies`: merges what exact matching would merge, reports probable
duplicates, changes nothing on a dry run or a second run, and resumes after a kill."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from ats.models import BackfillCheckpoint, Company, Role
from jobs.tests.utils import run_killed
from research.models import Prospect, RunEvent

from .backfill_data import build_duplicates, picture, run_command


def rematch(*args: str) -> str:
    out = io.StringIO()
    call_command("rematch_companies", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def names(tenant) -> list[str]:
    return sorted(Company.objects.for_tenant(tenant).values_list("name", flat=True))


def test_dry_run_changes_nothing(tenant_a) -> None:
    build_duplicates(tenant_a)
    before = picture(tenant_a)
    out = rematch("--tenant", "alpha", "--dry-run")
    assert picture(tenant_a) == before
    assert "Would merge 'ACME' (#" in out
    assert "Dry run, nothing changed" in out
    assert not BackfillCheckpoint.objects.exists()


@pytest.mark.sqlite
def test_merges_exact_duplicates_and_reports_probable_ones(tenant_a, tenant_b) -> None:
    build_duplicates(tenant_a)
    build_duplicates(tenant_b)
    untouched = picture(tenant_b)
    out = rematch("--tenant", "alpha", "--batch-size", "3")

    assert names(tenant_a) == [
        "Acme GmbH",
        "Beta Limited",
        "Beta Ltd",
        "Delta Robotics",
        "Epsilon AG",
        "Gamma",
        "Gamma Inc",
        *(f"Unique {n} Systems" for n in range(5)),
        "gamma",
    ]
    assert picture(tenant_b) == untouched  # another tenant's duplicates are its own business
    acme = Company.objects.get(tenant=tenant_a, name="Acme GmbH")
    assert not acme.aliases.exists()  # "ACME" is its own name, normalized
    delta = Company.objects.get(tenant=tenant_a, name="Delta Robotics")
    assert set(delta.aliases.values_list("alias", flat=True)) == {"DR"}  # "DR." is the same
    epsilon = Company.objects.get(tenant=tenant_a, name="Epsilon AG")
    assert epsilon.normalized_name == "epsilon"
    assert set(epsilon.aliases.values_list("alias", flat=True)) == {"Eps"}  # moved over
    assert Role.objects.get(tenant=tenant_a).client_company == acme

    # Run 1 had prospects for both Acme records: now one, with all evidence once and the
    # people's fields of both.
    [first] = Prospect.objects.filter(run__objective="first run", company=acme)
    assert first.review_status == "accepted" and first.is_pinned
    assert first.manual_notes == "Call the CEO" and first.ai_rank == 1
    assert first.evidence.count() == 2  # "Acme news" = "ACME  NEWS"; "Acme hires"
    assert first.metrics.count() == 3
    assert Prospect.objects.get(run__objective="second run", company=acme).evidence.count() == 1
    assert Prospect.objects.get(run__objective="second run", company=delta).name == "DR."
    assert RunEvent.objects.filter(tenant=tenant_a, event_type="companies_merged").count() == 3

    assert "Merged 'ACME' (#" in out and "same name or alias." in out
    assert "Probable duplicates: 'Beta Ltd' (#" in out and "same name, different domain" in out
    assert (
        "Probable duplicates: 'Gamma' (#{}, no domain), 'Gamma Inc' (#{}, gamma.io), 'gamma' "
        "(#{}, gamma.net): a name shared by companies of different domains.".format(
            *Company.objects.filter(tenant=tenant_a, name__iexact="gamma")
            .values_list("pk", flat=True)
            .order_by("pk")[:1],
            *Company.objects.filter(tenant=tenant_a, domain__in=["gamma.io", "gamma.net"])
            .order_by("pk")
            .values_list("pk", flat=True),
        )
        in out
    )
    assert out.count("Probable duplicates") == 2
    assert "companies merged away: 3" in out


@pytest.mark.sqlite
def test_a_second_run_does_nothing(tenant_a) -> None:
    build_duplicates(tenant_a)
    rematch("--tenant", "alpha")
    after_first = picture(tenant_a)
    out = rematch("--tenant", "alpha")
    assert picture(tenant_a) == after_first
    assert "Merged" not in out
    assert "companies merged away" not in out
    assert "Probable duplicate" in out  # still reported: a person has to decide


def test_every_tenant_without_tenant_option(tenant_a, tenant_b) -> None:
    build_duplicates(tenant_a)
    build_duplicates(tenant_b)
    rematch()
    assert names(tenant_a) == names(tenant_b)
    assert len(names(tenant_a)) == 13


@pytest.mark.django_db(transaction=True)
def test_killed_halfway_then_resumed_ends_like_an_uninterrupted_run(tenant_a, tenant_b) -> None:
    build_duplicates(tenant_a)
    build_duplicates(tenant_b)
    command = ("rematch_companies", "--batch-size", "2")
    run_killed("merge", 3, *command, "--tenant", "alpha")
    checkpoint = BackfillCheckpoint.objects.get(command="rematch_companies")
    assert checkpoint.pass_name == "merge" and checkpoint.finished_at is None
    assert 1 <= checkpoint.counts["companies merged away"] < 3  # killed between merges
    out, err = run_command(*command, "--tenant", "alpha")
    assert "Resuming the run interrupted" in err
    assert "companies merged away: 3" in out  # the summary counts the whole run
    run_command(*command, "--tenant", "beta")
    assert picture(tenant_a) == picture(tenant_b)
    out, err = run_command(*command, "--tenant", "alpha")
    assert "Merged" not in out and "Resuming" not in err
