"""The base of backfill commands (SPEC §3): batched, resumable, with a dry run.

A backfill walks rows in primary-key order, one batch at a time, with keyset pagination
(`pk > last key ORDER BY pk LIMIT n`: never OFFSET, never every id in memory), so memory stays
bounded on millions of rows. After each batch a checkpoint row (`BackfillCheckpoint`) records
the last key, in the batch's own transaction: a run that is killed resumes after the last
batch it committed. Every backfill must also be idempotent: a second run changes nothing.

Options of every backfill: `--dry-run` (report, change nothing, keep no checkpoint),
`--tenant SLUG` (one tenant's rows; all tenants by default), `--batch-size N`, `--restart`
(ignore an interrupted run's checkpoint). A progress bar on a terminal (tqdm), plain lines
every few seconds otherwise (cron, CI, `kubectl logs`), and a summary at the end.

A command subclasses `BackfillCommand` and implements `get_queryset` and `process_batch`,
or `passes()` when it walks more than one table or walks one twice.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from django.db import models, transaction
from django.utils import timezone
from tqdm import tqdm

from ats.management.base import get_tenant
from ats.models import BackfillCheckpoint, Tenant

MSG_BATCH_SIZE = "--batch-size must be a whole number of at least 1, not {value!r}."
MSG_INTERRUPTED = (
    "Interrupted. The batches done so far are kept; run the same command again to resume."
)


def batch_size(value: str) -> int:
    try:
        size = int(value)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(MSG_BATCH_SIZE.format(value=value))
    return size


class BackfillRun:
    """What a batch processor is given: the run's options, and where to count and report."""

    def __init__(
        self, *, tenant: Tenant | None, dry_run: bool, counts: Counter[str], report: Callable
    ) -> None:
        self.tenant = tenant
        self.dry_run = dry_run
        self.counts = counts
        self._report = report

    def count(self, what: str, n: int = 1) -> None:
        """Add to a figure of the summary ("evidence hashes updated": 3)."""
        self.counts[what] += n

    def report(self, line: str) -> None:
        """A finding for the operator (printed at once, above the progress bar)."""
        self._report(line)


@dataclass(frozen=True)
class Pass:
    """One walk over a table. `queryset(tenant)` selects its rows (every tenant's when
    None); `process(rows, run)` handles one batch of them, in primary-key order.

    `atomic`: the batch and its checkpoint commit together. Set it to False when `process`
    makes its own transactions (e.g. one per merge); the checkpoint then follows the batch.
    """

    name: str
    queryset: Callable[[Tenant | None], models.QuerySet]
    process: Callable[[list[Any], BackfillRun], None]
    atomic: bool = True
    # A cap on --batch-size for tables of large rows (megabytes of text each).
    max_batch_size: int | None = None


class Progress:
    """A tqdm bar on a terminal; otherwise a plain line every `interval` seconds."""

    def __init__(self, *, label: str, total: int, stream: OutputWrapper, interval: float) -> None:
        self.label, self.total, self.stream, self.interval = label, total, stream, interval
        self.done = self._written = 0
        self._started = self._last_line = time.monotonic()
        self._bar = (
            tqdm(total=total, desc=label, unit=" rows", file=stream._out, dynamic_ncols=True)
            if stream.isatty()
            else None
        )
        if self._bar is None:
            stream.write(f"{label}: {total:,} rows to examine" if total else f"{label}: no rows")

    def advance(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last_line >= self.interval:
            self._last_line, self._written = now, self.done
            self.stream.write(self._line(now))

    def _line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        line = f"{self.label}: {self.done:,}/{self.total:,} rows"
        if self.total:
            line += f" ({min(self.done / self.total, 1):.0%})"
        line += f", {rate:,.0f} rows/s"
        if rate and self.total > self.done:
            line += f", about {(self.total - self.done) / rate:,.0f} s left"
        return line

    def write(self, line: str, stream: OutputWrapper) -> None:
        if self._bar is not None:
            self._bar.write(line, file=stream._out)
        else:
            stream.write(line)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.total and self._written != self.done:
            self.stream.write(self._line(time.monotonic()))


class BackfillCommand(BaseCommand):
    """Base of the backfill commands; see the module docstring."""

    default_batch_size = 1_000
    # Options that change which rows a run walks: a run resumes only the checkpoint of a run
    # with the same values (with other ones it would skip rows the first never looked at).
    scope_options: tuple[str, ...] = ()
    # Seconds between plain progress lines when the output is not a terminal.
    progress_interval = 10.0

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; change nothing."
        )
        parser.add_argument(
            "--tenant", metavar="SLUG", help="Only this tenant's rows (default: every tenant)."
        )
        parser.add_argument(
            "--batch-size",
            type=batch_size,
            default=self.default_batch_size,
            metavar="N",
            help=f"Rows per batch and transaction (default {self.default_batch_size}).",
        )
        parser.add_argument(
            "--restart",
            action="store_true",
            help="Start from the beginning even if an interrupted run left a checkpoint.",
        )
        self.add_backfill_arguments(parser)

    def add_backfill_arguments(self, parser: CommandParser) -> None:
        """Options of one backfill, besides the common ones."""

    # --- what a backfill implements ---------------------------------------------------------

    def passes(self, **options: Any) -> Sequence[Pass]:
        return [Pass("all", self.get_queryset, self.process_batch)]

    def get_queryset(self, tenant: Tenant | None) -> models.QuerySet:
        raise NotImplementedError(f"{type(self).__name__} must implement get_queryset().")

    def process_batch(self, rows: list[Any], run: BackfillRun) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement process_batch().")

    # --- the walk ------------------------------------------------------------------------------

    @property
    def backfill_name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = get_tenant(options["tenant"]) if options["tenant"] else None
        dry_run: bool = options["dry_run"]
        counts: Counter[str] = Counter()
        self._progress: Progress | None = None
        run = BackfillRun(tenant=tenant, dry_run=dry_run, counts=counts, report=self._report)
        passes = self._passes = list(self.passes(**options))
        checkpoint = None if dry_run else self._checkpoint(tenant, passes, options)
        if checkpoint is not None:
            counts.update(checkpoint.counts)
        started = time.monotonic()
        try:
            for index, backfill_pass in enumerate(passes):
                if checkpoint is not None and index < self._pass_index(passes, checkpoint):
                    continue
                resume_after = None
                if checkpoint is not None and checkpoint.pass_name == backfill_pass.name:
                    resume_after = checkpoint.last_key or None
                self._walk(backfill_pass, run, options["batch_size"], checkpoint, resume_after)
        except KeyboardInterrupt:
            raise CommandError(MSG_INTERRUPTED) from None
        if checkpoint is not None:
            checkpoint.finished_at = timezone.now()
            checkpoint.save(update_fields=["finished_at"])
        self._summary(counts, dry_run=dry_run, seconds=time.monotonic() - started)

    def _walk(
        self,
        backfill_pass: Pass,
        run: BackfillRun,
        size: int,
        checkpoint: BackfillCheckpoint | None,
        resume_after: str | None,
    ) -> None:
        queryset = backfill_pass.queryset(run.tenant)
        size = min(size, backfill_pass.max_batch_size or size)
        pk_field = queryset.model._meta.pk
        last = pk_field.to_python(resume_after) if resume_after is not None else None
        remaining = queryset if last is None else queryset.filter(pk__gt=last)
        label, examined = self.backfill_name, "rows examined"
        if len(self._passes) > 1:
            label, examined = f"{label} {backfill_pass.name}", f"{backfill_pass.name}: {examined}"
        self._progress = Progress(
            label=label,
            total=remaining.count(),
            stream=self.stderr,
            interval=self.progress_interval,
        )
        while True:
            page = queryset if last is None else queryset.filter(pk__gt=last)
            rows = list(page.order_by("pk")[:size])
            if not rows:
                break
            last = rows[-1].pk
            run.count(examined, len(rows))
            if backfill_pass.atomic:
                with transaction.atomic():
                    backfill_pass.process(rows, run)
                    self._save_checkpoint(checkpoint, backfill_pass, last, run)
            else:
                backfill_pass.process(rows, run)
                self._save_checkpoint(checkpoint, backfill_pass, last, run)
            self._progress.advance(len(rows))
        self._progress.close()
        self._progress = None

    def checkpoint_scope(self, tenant: Tenant | None, options: dict[str, Any]) -> str:
        """Which runs a checkpoint resumes: the tenant and the `scope_options`' values, or a
        digest of those values when they would not fit the column (a path, a list)."""
        scope = f"tenant:{tenant.pk}" if tenant else "all"
        values = "".join(f" {name}={options[name]}" for name in self.scope_options)
        if len(scope + values) > BackfillCheckpoint._meta.get_field("scope").max_length:
            values = " options:" + hashlib.sha256(values.encode()).hexdigest()[:32]
        return scope + values

    def _checkpoint(
        self, tenant: Tenant | None, passes: list[Pass], options: dict[str, Any]
    ) -> BackfillCheckpoint:
        restart: bool = options["restart"]
        now = timezone.now()
        checkpoint, created = BackfillCheckpoint.objects.get_or_create(
            command=self.backfill_name,
            scope=self.checkpoint_scope(tenant, options),
            defaults={"pass_name": passes[0].name, "started_at": now, "updated_at": now},
        )
        if created:
            return checkpoint
        known = {p.name for p in passes}
        if checkpoint.finished_at is None and not restart and checkpoint.pass_name in known:
            self.stderr.write(
                f"Resuming the run interrupted at {checkpoint.updated_at:%Y-%m-%d %H:%M:%S} "
                f"(pass {checkpoint.pass_name}, after key {checkpoint.last_key or '-'}); "
                "--restart starts over."
            )
            return checkpoint
        checkpoint.pass_name, checkpoint.last_key, checkpoint.counts = passes[0].name, "", {}
        checkpoint.started_at = checkpoint.updated_at = now
        checkpoint.finished_at = None
        checkpoint.save()
        return checkpoint

    @staticmethod
    def _pass_index(passes: list[Pass], checkpoint: BackfillCheckpoint) -> int:
        return next(i for i, p in enumerate(passes) if p.name == checkpoint.pass_name)

    @staticmethod
    def _save_checkpoint(
        checkpoint: BackfillCheckpoint | None, backfill_pass: Pass, last: Any, run: BackfillRun
    ) -> None:
        if checkpoint is None:
            return
        checkpoint.pass_name, checkpoint.last_key = backfill_pass.name, str(last)
        checkpoint.counts, checkpoint.updated_at = dict(run.counts), timezone.now()
        checkpoint.save(update_fields=["pass_name", "last_key", "counts", "updated_at"])

    def _report(self, line: str) -> None:
        if self._progress is not None:
            self._progress.write(line, self.stdout)
        else:
            self.stdout.write(line)

    def _summary(self, counts: Counter[str], *, dry_run: bool, seconds: float) -> None:
        title = "Dry run, nothing changed" if dry_run else "Done"
        self.stdout.write(self.style.SUCCESS(f"{self.backfill_name}: {title} in {seconds:.1f} s."))
        if not counts:
            self.stdout.write("  no rows to examine")
        for what, n in counts.items():
            self.stdout.write(f"  {what}: {n:,}")
