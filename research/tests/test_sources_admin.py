"""The sources admin pages, the run page's sources, and the admin's lifecycle actions
(server-rendered; the browser tests of these pages are added with the admin's suite)."""

from __future__ import annotations

from django.urls import reverse

from ats.actors import Actor
from ats.models import MemberRole
from research.models import ResearchRun, RunStatus, Source
from research.services.sources import SourceNew, sources_add

TEXT = "Acme Robotics builds picking arms for warehouses. " * 30


def added(run: ResearchRun) -> Source:
    new = SourceNew(kind="text", title="Field notes", body=TEXT.encode(), content_type="text/plain")
    return sources_add(run=run, sources=[new], actor=Actor.system("test"))[0].source


def test_source_pages_show_the_pipeline(client, tenant_a, staff_member_for, run_a) -> None:
    source = added(run_a)
    client.force_login(staff_member_for(tenant_a, MemberRole.ANALYST))
    listing = client.get(reverse("admin:research_source_changelist"), {"stage": "queued"})
    assert listing.status_code == 200
    assert b"Field notes" in listing.content and b"Pasted text" in listing.content
    page = client.get(reverse("admin:research_source_change", args=[source.pk]))
    assert page.status_code == 200
    for text in (b"Pipeline", b"Fetch record", b"Acme Robotics builds", b"Queued"):
        assert text in page.content
    run_page = client.get(reverse("admin:research_researchrun_change", args=[run_a.pk]))
    assert run_page.status_code == 200
    assert reverse("admin:research_source_change", args=[source.pk]).encode() in run_page.content


def test_reprocess_action_does_nothing_for_unextracted_sources(
    client, tenant_a, staff_member_for, run_a
) -> None:
    source = added(run_a)
    client.force_login(staff_member_for(tenant_a, MemberRole.ANALYST))
    response = client.post(
        reverse("admin:research_source_changelist"),
        {"action": "reprocess", "_selected_action": [source.pk]},
        follow=True,
    )
    assert b"Reprocessed 0 source(s)" in response.content


def test_run_list_actions_start_and_refuse_clearly(client, tenant_a, staff_member_for, make_run):
    ready, empty = make_run(tenant_a), make_run(tenant_a, "Nothing added")
    added(ready)
    client.force_login(staff_member_for(tenant_a, MemberRole.ANALYST))
    response = client.post(
        reverse("admin:research_researchrun_changelist"),
        {"action": "start_runs", "_selected_action": [ready.pk, empty.pk]},
        follow=True,
    )
    assert ResearchRun.objects.get(pk=ready.pk).status == RunStatus.PROCESSING
    assert ResearchRun.objects.get(pk=empty.pk).status == RunStatus.DRAFT
    assert b"Start: 1 run(s)." in response.content
    assert b"add text, URLs or files" in response.content
