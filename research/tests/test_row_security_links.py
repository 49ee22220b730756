"""Row-level security of the research tables that have no tenant column of their own
(ats/tests/test_row_security.py checks the policies of every table)."""

from __future__ import annotations

from ats.tenant_scope import tenant_scope
from research.models import ResearchRun, RunSource, Source


def test_links_to_sources_follow_their_run(tenant_a, tenant_b) -> None:
    runs = {
        t.pk: ResearchRun.objects.create(tenant=t, objective=f"run of {t.slug}")
        for t in (tenant_a, tenant_b)
    }
    for tenant_id, run in runs.items():
        source = Source.objects.create(tenant_id=tenant_id, sha256=f"{tenant_id:064d}", text="t")
        RunSource.objects.create(run=run, source=source)
    with tenant_scope([tenant_a.pk]):
        assert list(RunSource.objects.values_list("run_id", flat=True)) == [runs[tenant_a.pk].pk]
