"""`manage.py seed_demo` (a research command: it makes research runs too)."""

import pytest
from django.core.management import call_command

from ats.models import Company, CompanyAlias, Membership, Role, Tenant


@pytest.mark.sqlite
def test_seed_demo_is_idempotent(db, django_user_model) -> None:
    call_command("seed_demo", "--admin")
    counts = (
        Tenant.objects.count(),
        Company.objects.count(),
        CompanyAlias.objects.count(),
        Role.objects.count(),
        django_user_model.objects.count(),
        Membership.objects.count(),
    )
    call_command("seed_demo", "--admin")
    assert counts == (
        Tenant.objects.count(),
        Company.objects.count(),
        CompanyAlias.objects.count(),
        Role.objects.count(),
        django_user_model.objects.count(),
        Membership.objects.count(),
    )
    assert counts[1] >= 3
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin")
