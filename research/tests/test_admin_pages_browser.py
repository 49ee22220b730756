"""Every admin page, loaded in a real browser: as a reviewer, every list and change page the
role may see; as a superuser, every page of every registered model (list, add, change,
history, delete confirmation) and each run's review page. No console error (a CSP violation
is one), no failed request, no request to another host; the screenshots are for people to
look at (1366 px wide)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ats.models import MemberRole, Tenant
from ats.services import api_key_create
from ats.tests.factories import MembershipFactory, UserFactory
from research.models import ResearchRun

pytestmark = pytest.mark.django_db(transaction=True)
APPS = ("ats", "research", "jobs")
# The ids of result tables (or their first class) wider than their scrolling box.
CUT_OFF_TABLES = """
[...document.querySelectorAll('.results, .tabular, .module table')]
  .filter(el => el.scrollWidth > el.clientWidth + 1)
  .map(el => el.id || el.className || el.tagName)
"""


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

    visit(browser_page_for(reviewer), urls)


def _of_tenant(model: type, tenant: Tenant) -> dict:
    if model is Tenant:
        return {"pk": tenant.pk}
    if any(f.name == "tenant" for f in model._meta.fields):
        return {"tenant": tenant}
    return {}


def test_every_admin_page_loads_cleanly_for_a_superuser(browser_page_for) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("runworker", burst=True)
    admin_user = UserFactory(username="ada", is_superuser=True)
    demo = Tenant.objects.get(slug="demo")
    api_key_create(tenant=demo, role=MemberRole.ANALYST, name="research-agent")
    MembershipFactory(tenant=demo, user=UserFactory(username="rhea"), role=MemberRole.REVIEWER)
    Group.objects.create(name="Reviewers")
    urls = [reverse("admin:index")]
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label):
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        model_admin = admin.site._registry[model]
        first = model._default_manager.first()
        if first is None:
            continue
        urls += [
            reverse(f"{prefix}_change", args=[first.pk]),
            reverse(f"{prefix}_history", args=[first.pk]),
        ]
        if model_admin.has_add_permission(_request_of(admin_user)):
            urls.append(reverse(f"{prefix}_add"))
        if model_admin.has_delete_permission(_request_of(admin_user), first):
            urls.append(reverse(f"{prefix}_delete", args=[first.pk]))
    urls += [
        reverse("admin:research_researchrun_review", args=[run.pk])
        for run in ResearchRun.objects.filter(bundles__isnull=False).distinct()
    ]
    assert len(urls) >= 40

    visit(browser_page_for(admin_user), urls)


def visit(page: Any, urls: list[str]) -> None:
    """Load each page at 1366 px wide: it answers 200, and no list is cut off (a results
    table wider than its box scrolls sideways, hiding columns)."""
    cut_off = []
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("load")
        page.shot(url.strip("/").replace("/", "-"))
        if overflow := page.evaluate(CUT_OFF_TABLES):
            cut_off.append(f"{url}: {overflow}")
    assert not cut_off, "tables cut off at 1366 px:\n" + "\n".join(cut_off)


def _request_of(user: object) -> object:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request
