"""The admin as reviewers use it: login, index, tenant scoping by membership role."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from ats.admin import ago
from ats.models import MemberRole

from .factories import CompanyFactory


@pytest.mark.sqlite
def test_login_page_renders_for_anonymous_users(client, db) -> None:
    response = client.get(reverse("admin:login"))
    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302  # to the login page


def test_member_sees_own_tenants_companies_only(client, tenant_a, tenant_b, staff_member_for):
    mine = CompanyFactory(tenant=tenant_a, name="Mine GmbH")
    theirs = CompanyFactory(tenant=tenant_b, name="Theirs Ltd")
    client.force_login(staff_member_for(tenant_a, MemberRole.ANALYST))
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    changelist = client.get(reverse("admin:ats_company_changelist"))
    assert list(changelist.context["cl"].result_list) == [mine]
    assert client.get(reverse("admin:ats_company_change", args=[theirs.pk])).status_code == 302


def test_analyst_cannot_change_companies_admin_can(client, tenant_a, staff_member_for) -> None:
    company = CompanyFactory(tenant=tenant_a, name="Acme", domain="acme.com")
    url = reverse("admin:ats_company_change", args=[company.pk])
    client.force_login(staff_member_for(tenant_a, MemberRole.ANALYST))
    response = client.post(
        url,
        {
            "tenant": tenant_a.pk,
            "name": "Changed",
            "domain": "acme.com",
            "aliases-TOTAL_FORMS": 0,
            "aliases-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 403
    client.force_login(staff_member_for(tenant_a, MemberRole.ADMIN))
    management = {
        f"{prefix}-{name}": 0
        for prefix in ("aliases", "prospects")
        for name in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    response = client.post(
        url,
        {
            "tenant": tenant_a.pk,
            "name": "Acme Robotics AG",
            "domain": "https://www.acme.com/",
            **management,
        },
    )
    assert response.status_code == 302, response.content
    company.refresh_from_db()
    assert (company.name, company.normalized_name, company.domain) == (
        "Acme Robotics AG",
        "acme robotics",
        "acme.com",
    )


def test_inactive_superuser_has_no_access(client, django_user_model, db) -> None:
    user = django_user_model.objects.create_superuser("gone", "gone@example.com", "pw")
    client.force_login(user)
    user.is_active = False
    user.save()
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.sqlite
@time_machine.travel(datetime(2026, 11, 30, 12, 0, tzinfo=UTC), tick=False)
def test_ago_says_just_now_under_a_minute_and_one_unit_after() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert ago(None) == "-"
    assert ago(now - timedelta(seconds=59)) == "just now"
    assert ago(now + timedelta(seconds=2)) == "just now"  # a database clock slightly ahead
    assert ago(now - timedelta(seconds=60)) == "1\xa0minute ago"
    assert ago(now - timedelta(hours=3, minutes=20)) == "3\xa0hours ago"
