"""`manage.py recompute_hashes`: bring stored hashes in line with the current definitions.

Hashes that are derived from a row's own content (evidence `text_sha256`, the normalized
text that dedups evidence) are stored so that lookups need not recompute them; when their
definition changes (a normalization fix), this backfill rewrites the stale ones. Each hashed
field is one line of `HASHED_FIELDS` and one pass over its table.

Not here: `Source.sha256`, which is not derived data but the address bundles cite the
document by (it equals the SHA-256 of the uploaded text by contract, and it never changes).

A recomputed hash that collides with another row's under a unique constraint (two evidence
rows of a prospect that are now the same text) is reported and left unchanged: merging
duplicates is a decision for a person, not for a hash backfill.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, models, transaction

from ats.management.backfill import BackfillCommand, BackfillRun, Pass
from ats.models import Tenant
from research.bundle.normalize import evidence_text_sha256
from research.models import ProspectEvidence


@dataclass(frozen=True)
class HashedField:
    """A stored hash and how it is computed now from the row's other fields."""

    model: type[models.Model]
    field: str
    reads: tuple[str, ...]
    compute: Callable[[Any], str]
    # Rows per batch at most: keeps memory bounded when the hashed content is large.
    max_batch_size: int | None = None

    @property
    def label(self) -> str:
        return f"{self.model.__name__}.{self.field}"


HASHED_FIELDS: tuple[HashedField, ...] = (
    HashedField(ProspectEvidence, "text_sha256", ("text",), lambda e: evidence_text_sha256(e.text)),
)


class Command(BackfillCommand):
    help = (
        "Recompute stored hashes (" + ", ".join(h.label for h in HASHED_FIELDS) + ") with the "
        "current definitions and fix the stale ones. Idempotent and resumable."
    )

    def passes(self, **options: Any) -> Sequence[Pass]:
        return [
            Pass(
                hashed.label,
                partial(self._rows, hashed),
                partial(self._recompute, hashed),
                max_batch_size=hashed.max_batch_size,
            )
            for hashed in HASHED_FIELDS
        ]

    @staticmethod
    def _rows(hashed: HashedField, tenant: Tenant | None) -> models.QuerySet:
        manager = hashed.model._default_manager
        rows = manager.for_tenant(tenant) if tenant else manager.all()
        return rows.only("pk", hashed.field, *hashed.reads)

    def _recompute(self, hashed: HashedField, rows: list[Any], run: BackfillRun) -> None:
        stale = []
        for row in rows:
            value = hashed.compute(row)
            if getattr(row, hashed.field) != value:
                setattr(row, hashed.field, value)
                stale.append(row)
        if run.dry_run:
            run.count(f"{hashed.label} stale", len(stale))
            return
        if not stale:
            run.count(f"{hashed.label} updated", 0)
            return
        try:
            with transaction.atomic():
                hashed.model._default_manager.bulk_update(stale, [hashed.field])
            run.count(f"{hashed.label} updated", len(stale))
        except IntegrityError:
            self._update_one_by_one(hashed, stale, run)

    @staticmethod
    def _update_one_by_one(hashed: HashedField, stale: list[Any], run: BackfillRun) -> None:
        """Some new values collide with other rows: update the rest, report those."""
        for row in stale:
            try:
                with transaction.atomic():
                    hashed.model._default_manager.filter(pk=row.pk).update(
                        **{hashed.field: getattr(row, hashed.field)}
                    )
                run.count(f"{hashed.label} updated", 1)
            except IntegrityError:
                run.count(f"{hashed.label} left as is (would duplicate another row)", 1)
                run.report(
                    f"{hashed.model.__name__} #{row.pk}: its recomputed {hashed.field} equals "
                    "another row's under a unique constraint (a duplicate); left unchanged."
                )
