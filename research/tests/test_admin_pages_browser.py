"""Every admin list and change page of the ats, research and jobs models, loaded in a real
browser as a reviewer (and the review page as an analyst): no console error, no failed
request, no request to another host, nothing cut off is checked by the screenshots."""

from __future__ import annotations

import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ats.models import MemberRole, Tenant
from ats.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
APPS = ("ats", "research", "jobs")


def test_every_admin_page_loads_cleanly_for_a_reviewer(browser_page_for) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("runworker", burst=True)  # ingests the demo's approved bundle
    tenant = Tenant.objects.get(slug="demo")
    reviewer = UserFactory(username="rhea")
    MembershipFactory(tenant=tenant, user=reviewer, role=MemberRole.REVIEWER)
    client = Client()
    client.force_login(reviewer)

    urls = [reverse("admin:index")]
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label):
        opts = model._meta
        if opts.app_label not in APPS:
            continue
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if client.get(changelist).status_code != 200:
            continue  # not for reviewers (API keys, members, workers)
        urls.append(changelist)
        first = model._default_manager.filter(**_of_tenant(model, tenant)).first()
        if first is not None:
            urls.append(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            )
    assert len(urls) >= 17  # index, 8 lists and their first rows at least

    page = browser_page_for(reviewer)
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("load")
        page.shot(url.strip("/").replace("/", "-"))


def _of_tenant(model: type, tenant: Tenant) -> dict:
    if model is Tenant:
        return {"pk": tenant.pk}
    if any(f.name == "tenant" for f in model._meta.fields):
        return {"tenant": tenant}
    return {}
