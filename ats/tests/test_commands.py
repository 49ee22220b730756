import pytest
from django.core.management import CommandError, call_command

from ats.models import MemberRole, Membership, Tenant


@pytest.mark.sqlite
def test_create_tenant_and_duplicate_slug(db) -> None:
    call_command("create_tenant", "Northwind Search", "--slug", "northwind")
    assert Tenant.objects.get(slug="northwind").name == "Northwind Search"
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_tenant", "Other", "--slug", "northwind")


def test_unknown_tenant_says_how_to_create_it(db) -> None:
    with pytest.raises(CommandError, match="create_tenant"):
        call_command("create_api_key", "--tenant", "nope", "--role", "analyst")


def test_add_member_creates_staff_user_and_updates_role(tenant_a, django_user_model) -> None:
    call_command(
        "add_member", "--tenant", "alpha", "--user", "ann@example.com", "--role", "analyst"
    )
    user = django_user_model.objects.get(email="ann@example.com")
    assert user.is_staff and not user.has_usable_password()
    call_command("add_member", "--tenant", "alpha", "--user", "ANN@example.com", "--role", "admin")
    assert Membership.objects.get(user=user, tenant=tenant_a).role == MemberRole.ADMIN
    assert django_user_model.objects.count() == 1
