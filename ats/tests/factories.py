"""factory_boy factories of the core models."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from ats.models import Company, CompanyAlias, MemberRole, Membership, Role, Tenant
from ats.normalize import normalize_company_name


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Search Firm {n}")
    slug = factory.Sequence(lambda n: f"firm-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    password = factory.django.Password("pw")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = MemberRole.ANALYST


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    tenant = factory.SubFactory(TenantFactory)
    name = factory.Sequence(lambda n: f"Company {n} Ltd")
    normalized_name = factory.LazyAttribute(lambda company: normalize_company_name(company.name))
    domain = factory.Sequence(lambda n: f"company{n}.com")


class CompanyAliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompanyAlias

    company = factory.SubFactory(CompanyFactory)
    tenant = factory.SelfAttribute("company.tenant")
    alias = factory.Sequence(lambda n: f"Alias {n}")
    normalized_alias = factory.LazyAttribute(lambda alias: normalize_company_name(alias.alias))


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role

    tenant = factory.SubFactory(TenantFactory)
    title = "VP Engineering"
