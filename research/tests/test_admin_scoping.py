"""No admin page shows another tenant's data (SPEC §10): list filters, form choices and
autocompletes are scoped to the user's tenants; crafted list-edit forms never answer 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from ats.actors import Actor
from ats.admin import TenantScopedAdmin
from ats.models import MemberRole, Membership
from ats.tests.factories import CompanyFactory, RoleFactory
from research.inputs import RunCreate
from research.models import Prospect, ResearchRun
from research.services import bundles as bundle_services
from research.services.runs import run_create

SECRET = "ALPHASECRET"


@pytest.fixture
def alpha_data(tenant_a, small_bundle):
    """Rows of tenant A in every model, each naming SECRET."""
    company = CompanyFactory(tenant=tenant_a, name=f"{SECRET} Company", domain="alpha.example")
    role = RoleFactory(tenant=tenant_a, title=f"{SECRET} Role", client_company=company)
    run, _ = run_create(
        tenant=tenant_a,
        data=RunCreate(objective=f"{SECRET} objective", role_id=role.pk),
        actor=Actor.system("test"),
    )
    bundle_services.bundle_upload(run=run, payload=small_bundle(run), actor=Actor.system("t"))
    Prospect.objects.create(tenant=tenant_a, run=run, company=company, name=f"{SECRET} P")
    return {"run": run, "role": role, "company": company}


@pytest.fixture
def beta_staff(client, tenant_b, staff_member_for):
    user = staff_member_for(tenant_b, MemberRole.ADMIN)
    client.force_login(user)
    return user


def tenant_scoped_changelists() -> list[str]:
    return sorted(
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, TenantScopedAdmin)
    )


@pytest.mark.parametrize("url_name", tenant_scoped_changelists())
def test_no_list_page_shows_another_tenants_data(client, alpha_data, beta_staff, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code in (200, 403), url_name
    html = response.content.decode()
    assert SECRET not in html
    assert "Alpha Search" not in html  # tenant A's name, e.g. under "By tenant"
    assert str(alpha_data["run"].pk) not in html


def _filter_titles(response) -> dict[str, list[str]]:
    return {
        spec.title: [choice["display"] for choice in spec.choices(response.context["cl"])]
        for spec in response.context["cl"].filter_specs
    }


def test_prospect_by_run_lists_only_own_runs(client, alpha_data, beta_staff, tenant_b, make_run):
    for objective in ("Beta objective", "Beta second"):  # a filter shows from two choices
        mine = make_run(tenant_b, objective=objective)
        company = CompanyFactory(tenant=tenant_b)
        Prospect.objects.create(tenant=tenant_b, run=mine, company=company)
    response = client.get(reverse("admin:research_prospect_changelist"))
    runs = _filter_titles(response)["run"]
    assert {"Beta objective", "Beta second"} <= set(runs)
    assert not any(SECRET in str(choice) for choice in runs)


def test_run_by_role_lists_only_own_roles(client, alpha_data, beta_staff, tenant_b):
    for title in ("Beta CFO", "Beta CTO"):
        role = RoleFactory(tenant=tenant_b, title=title)
        run_create(
            tenant=tenant_b,
            data=RunCreate(objective=f"Beta run for {title}", role_id=role.pk),
            actor=Actor.system("test"),
        )
    response = client.get(reverse("admin:research_researchrun_changelist"))
    roles = _filter_titles(response)["role"]
    assert {"Beta CFO", "Beta CTO"} <= set(roles) and not any(SECRET in str(r) for r in roles)


@pytest.mark.parametrize("url_name", tenant_scoped_changelists())
def test_tenant_filter_only_for_several_tenants(
    client, alpha_data, tenant_a, tenant_b, staff_member_for, url_name
):
    single = staff_member_for(tenant_b, MemberRole.ADMIN)
    client.force_login(single)
    response = client.get(reverse(url_name))
    if response.status_code == 200:
        assert "tenant" not in _filter_titles(response)
    several = staff_member_for(tenant_b, MemberRole.ADMIN)
    Membership.objects.create(tenant=tenant_a, user=several, role=MemberRole.ADMIN)
    client.force_login(several)
    response = client.get(reverse(url_name))
    if response.status_code == 200 and "tenant" in _filter_titles(response):
        offered = set(_filter_titles(response)["tenant"]) - {"All"}
        assert offered <= {"Alpha Search", "Beta Partners"}


def test_tenant_filter_of_multi_tenant_staff_names_only_their_tenants(
    client, alpha_data, tenant_a, tenant_b, staff_member_for
):
    from ats.tests.factories import TenantFactory

    other = TenantFactory(name="Gamma Executive")
    CompanyFactory(tenant=other, name="Gamma Co")
    user = staff_member_for(tenant_a, MemberRole.ADMIN)
    Membership.objects.create(tenant=tenant_b, user=user, role=MemberRole.ADMIN)
    CompanyFactory(tenant=tenant_b, name="Beta Co")
    client.force_login(user)
    response = client.get(reverse("admin:ats_company_changelist"))
    offered = set(_filter_titles(response)["tenant"]) - {"All"}
    assert offered == {"Alpha Search", "Beta Partners"}
    assert "Gamma" not in response.content.decode()


def test_run_form_offers_only_own_roles(client, alpha_data, tenant_b, staff_member_for):
    role = RoleFactory(tenant=tenant_b, title="Beta CFO")
    run, _ = run_create(
        tenant=tenant_b, data=RunCreate(objective="Beta run"), actor=Actor.system("t")
    )
    client.force_login(staff_member_for(tenant_b, MemberRole.ADMIN))
    response = client.get(reverse("admin:research_researchrun_change", args=[run.pk]))
    choices = [str(c[1]) for c in response.context["adminform"].form.fields["role"].choices]
    assert "Beta CFO" in choices and not any(SECRET in c for c in choices)
    assert role.pk


def test_company_autocomplete_is_scoped(client, alpha_data, beta_staff, tenant_b):
    CompanyFactory(tenant=tenant_b, name=f"{SECRET} lookalike of Beta")
    params = {
        "app_label": "research",
        "model_name": "companydecision",
        "field_name": "company",
        "term": SECRET,
    }
    found = client.get(reverse("admin:autocomplete"), params).json()["results"]
    assert [r["text"] for r in found] == [f"{SECRET} lookalike of Beta"]
    params["tenant"] = str(alpha_data["company"].tenant_id)  # asking for A's: nothing
    assert client.get(reverse("admin:autocomplete"), params).json()["results"] == []


@pytest.mark.parametrize("pk", ["foreign", "999999999", "abc", ""])
def test_list_edit_of_foreign_or_unknown_prospect_is_not_a_500(client, alpha_data, beta_staff, pk):
    foreign = Prospect.objects.get(run=alpha_data["run"])
    response = client.post(
        reverse("admin:research_prospect_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(foreign.pk) if pk == "foreign" else pk,
            "form-0-review_status": "accepted",
            "form-0-manual_priority": "1",
            "_save": "Save",
        },
    )
    assert response.status_code in (200, 302)
    foreign.refresh_from_db()
    assert (foreign.review_status, foreign.manual_priority) == ("new", None)


def test_reviewers_get_no_bulk_delete_of_runs(client, tenant_a, staff_member_for, alpha_data):
    for role in (MemberRole.REVIEWER, MemberRole.ADMIN):
        client.force_login(staff_member_for(tenant_a, role))
        response = client.get(reverse("admin:research_researchrun_changelist"))
        assert "delete_selected" not in response.content.decode()
    assert ResearchRun.objects.filter(pk=alpha_data["run"].pk).exists()
