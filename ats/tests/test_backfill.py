"""The backfill base (`ats.management.backfill`) through `prune_idempotency_keys`: dry run,
tenant scope, keyset batches, checkpoints and resuming, progress output, errors."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ats.management import backfill
from ats.management.commands import prune_idempotency_keys
from ats.models import BackfillCheckpoint, IdempotencyRecord

COMMAND = "prune_idempotency_keys"


def records(tenant, *ages_in_hours: int) -> list[IdempotencyRecord]:
    made = [
        IdempotencyRecord.objects.create(
            tenant=tenant, key=f"{tenant.slug}-{n}", request_sha256="x"
        )
        for n in range(len(ages_in_hours))
    ]
    for record, hours in zip(made, ages_in_hours, strict=True):
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            created_at=timezone.now() - timedelta(hours=hours)
        )
    return made


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(COMMAND, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def left(tenant) -> int:
    return IdempotencyRecord.objects.for_tenant(tenant).count()


def test_dry_run_deletes_nothing_and_keeps_no_checkpoint(tenant_a) -> None:
    records(tenant_a, 25, 30, 1)
    out, _ = run("--dry-run")
    assert "Dry run, nothing changed" in out
    assert "expired idempotency keys deleted: 2" in out
    assert left(tenant_a) == 3
    assert not BackfillCheckpoint.objects.exists()


@pytest.mark.sqlite
def test_deletes_expired_keys_of_the_tenant_only_once(tenant_a, tenant_b) -> None:
    records(tenant_a, 25, 30, 1)
    records(tenant_b, 25)
    out, _ = run("--tenant", "alpha")
    assert "expired idempotency keys deleted: 2" in out
    assert (left(tenant_a), left(tenant_b)) == (1, 1)
    out, _ = run("--tenant", "alpha")
    assert "expired idempotency keys deleted" not in out and "rows examined" not in out
    assert left(tenant_a) == 1
    checkpoint = BackfillCheckpoint.objects.get(command=COMMAND, scope=f"tenant:{tenant_a.pk}")
    assert checkpoint.finished_at is not None


def test_keyset_batches_never_offset(tenant_a) -> None:
    records(tenant_a, *[30] * 7)
    with CaptureQueriesContext(connection) as queries:
        out, _ = run("--batch-size", "3")
    assert "expired idempotency keys deleted: 7" in out
    selects = [q["sql"] for q in queries if 'FROM "ats_idempotencyrecord"' in q["sql"]]
    pages = [sql for sql in selects if "LIMIT 3" in sql]
    assert len(pages) == 4  # 3 + 3 + 1, then an empty page
    assert all('"id" >' in sql for sql in pages[1:])
    assert not any("OFFSET" in q["sql"] for q in queries)


@pytest.mark.sqlite
def test_an_interrupted_run_resumes_after_its_last_batch(tenant_a, monkeypatch) -> None:
    made = records(tenant_a, *[30] * 5)
    process = backfill.BackfillRun.count
    batches = []

    def interrupt_third_batch(self, what: str, n: int = 1) -> None:
        if what == "rows examined":
            batches.append(n)
            if len(batches) == 3:
                raise KeyboardInterrupt
        process(self, what, n)

    monkeypatch.setattr(backfill.BackfillRun, "count", interrupt_third_batch)
    with pytest.raises(CommandError, match="run the same command again to resume"):
        run("--batch-size", "2")
    checkpoint = BackfillCheckpoint.objects.get(command=COMMAND)
    assert checkpoint.last_key == str(made[3].pk) and checkpoint.finished_at is None
    assert checkpoint.counts["expired idempotency keys deleted"] == 4
    assert left(tenant_a) == 1

    monkeypatch.undo()
    out, err = run("--batch-size", "2")
    assert "Resuming the run interrupted" in err
    assert "expired idempotency keys deleted: 5" in out  # the whole run, both parts
    assert left(tenant_a) == 0


def test_restart_ignores_an_interrupted_run(tenant_a) -> None:
    BackfillCheckpoint.objects.create(
        command=COMMAND, scope="all", pass_name="all", last_key="999999999", counts={"x": 1}
    )
    records(tenant_a, 30)
    out, err = run("--restart")
    assert "Resuming" not in err
    assert "expired idempotency keys deleted: 1" in out and "x:" not in out


def test_plain_progress_lines_when_not_a_terminal(tenant_a, monkeypatch) -> None:
    monkeypatch.setattr(backfill.BackfillCommand, "progress_interval", 0)
    records(tenant_a, *[30] * 4)
    _, err = run("--batch-size", "2")
    assert [line.split(",")[0] for line in err.splitlines()] == [
        "prune_idempotency_keys: 4 rows to examine",
        "prune_idempotency_keys: 2/4 rows (50%)",
        "prune_idempotency_keys: 4/4 rows (100%)",
    ]
    assert "rows/s" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "nope"], "No tenant with slug 'nope'"),
        (["--batch-size", "0"], "--batch-size must be a whole number of at least 1"),
        (["--older-than", "2h"], "--older-than must be at least 24h"),
        (["--older-than", "soon"], "'soon' is not a duration"),
    ],
)
def test_wrong_options_say_what_to_do(db, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_checkpoint_scope_fits_its_column_whatever_the_options() -> None:
    command = prune_idempotency_keys.Command()
    command.scope_options = ("label",)
    short = command.checkpoint_scope(None, {"label": "7d"})
    long_a = command.checkpoint_scope(None, {"label": "a" * 200})
    long_b = command.checkpoint_scope(None, {"label": "a" * 199 + "b"})
    assert short == "all label=7d"
    limit = BackfillCheckpoint._meta.get_field("scope").max_length
    assert len(long_a) <= limit and len(long_b) <= limit and long_a != long_b
