"""Row locks on runs that more than one writer takes."""

from __future__ import annotations

from typing import Any

from django.db import connection

from research.models import ResearchRun


def lock_run_key_share(run_id: Any) -> None:
    """Hold the run's row with `FOR KEY SHARE` until the transaction ends.

    Writers that lock the run `FOR UPDATE` (lists, the source pipeline) wait for it, but a
    cancel does not: its plain UPDATE of the status goes through at once, and the holder sees
    it at its next checkpoint or when its own conditional status update matches no row.
    SQLite has no row locks (its IMMEDIATE transactions already serialize writers).
    """
    if connection.vendor != "postgresql":
        return
    query = ResearchRun.objects.filter(pk=run_id).order_by().values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)


def lock_run(run_id: Any) -> ResearchRun:
    """The run, locked `FOR UPDATE` until the transaction ends, with its tenant loaded."""
    # `of`: the run's row only, not its tenant's, which every run of the firm shares.
    return (
        ResearchRun.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=run_id)
    )
