"""Reprocessing sources: extract and classify again from the stored material, never fetch
(SPEC §3 `reprocess_sources`, §8).

A source whose extractor version is the current one and whose material is the one it was
extracted from is unchanged: it is skipped without reading its material, so running the
backfill again does no work. A reprocessed source whose text or decision changed has its
decisions in its runs recomputed (near-duplicates); evidence already recorded stays.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F, Q, QuerySet

from research.models import ResearchRun, RunStatus, Source, SourceStage, SourceState
from research.sources.extract import EXTRACTOR_VERSION

from .pipeline import CLASSIFY_JOB_TYPE, enqueue_run_job
from .stages import (
    EXTRACTION_FIELDS,
    _extract,
    classify_intrinsic,
    extraction_fields,
    run_decisions_refresh,
)

UNCHANGED, UPDATED, WOULD_UPDATE, SKIPPED = "unchanged", "updated", "would_update", "skipped"
REPROCESSABLE = (SourceStage.EXTRACTED, SourceStage.CLASSIFIED)


def _current() -> Q:
    """Extracted by this extractor version from the material it still has."""
    return Q(extractor_version=EXTRACTOR_VERSION) & (
        Q(material__isnull=True) | Q(material_hash=F("material__sha256"))
    )


def sources_for_reprocessing(
    *, tenant_id: int | None = None, run: ResearchRun | None = None
) -> QuerySet:
    """Extracted pipeline sources (of a tenant or a run) that are not up to date."""
    queryset = (
        Source.objects.filter(stage__in=REPROCESSABLE)
        .exclude(state=SourceState.RUNNING)
        .exclude(_current())
    )
    if tenant_id is not None:
        queryset = queryset.filter(tenant_id=tenant_id)
    if run is not None:
        queryset = queryset.filter(runsource__run=run)
    return queryset


def source_reprocess(*, source_id: int, dry_run: bool = False) -> str:
    """Extract and classify one source again from its material; returns what happened."""
    with transaction.atomic():
        source = Source.objects.select_for_update().filter(pk=source_id).first()
        if source is None or source.stage not in REPROCESSABLE:
            return SKIPPED
        if Source.objects.filter(_current(), pk=source_id).exists():
            return UNCHANGED
        if dry_run:
            return WOULD_UPDATE
        before = (source.text_hash, source.decision, list(source.reason_codes))
        extraction, unsupported = _extract(source)
        extraction_fields(source, extraction, unsupported)
        fields = list(EXTRACTION_FIELDS)
        if source.stage == SourceStage.CLASSIFIED:
            classify_intrinsic(source)
            fields += ["decision", "reason_codes", "classification"]
        source.save(update_fields=fields)
        if (source.text_hash, source.decision, list(source.reason_codes)) != before:
            _runs_follow(source)
    return UPDATED


def _runs_follow(source: Source) -> None:
    """The source's runs take its new text and decision into their own decisions."""
    for run in ResearchRun.objects.filter(runsource__source=source).select_related("tenant"):
        if run.status == RunStatus.PROCESSING:
            enqueue_run_job(CLASSIFY_JOB_TYPE, run)
        else:
            run_decisions_refresh(run=run)
