"""The work of each pipeline stage (SPEC §8): fetch and extract a source, classify and
process a run's sources. The job handlers call these; `pipeline` decides what runs when.

Fetch and extract do their slow part (network, parsing) outside any transaction and then
record the result under the source's row lock, checking that the stage is still the one
they started from: an attempt repeated after a crash, or a second job, changes nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from research.models import (
    ResearchRun,
    RunSource,
    RunStatus,
    Source,
    SourceDecision,
    SourceKind,
    SourceMaterial,
    SourceStage,
    SourceState,
)
from research.sources.classify import (
    FLAG_DUPLICATE_TEMPLATE,
    classify,
    decision_for,
    near_duplicate_groups,
)
from research.sources.extract import EXTRACTOR_VERSION, Extraction, extract
from research.sources.fetch import (
    SUPPORTED_CONTENT_TYPES,
    FetchError,
    FetchFailed,
    FetchPolicy,
    FetchRefused,
    fetch_url,
)

from .events import event_record
from .locks import lock_run
from .mentions import run_sources_process_mentions
from .pipeline import (
    CLASSIFY_JOB_TYPE,
    PROCESS_JOB_TYPE,
    enqueue_run_job,
    enqueue_source_job,
    lock_sources,
    processing_runs_of,
    run_complete_if_done,
    run_pipeline_sources,
)
from .steps import EXTRACT, WORKER, steps_refresh, steps_refresh_for

TEXT_KINDS = (SourceKind.TEXT, SourceKind.BUNDLE, SourceKind.LIST)


class SourceStageError(Exception):
    """A stage failed on one source of a run-level batch: names the source for the run's
    `last_error` (the original error is its cause)."""

    def __init__(self, source_id: int, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.source_id = source_id


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def material_store(*, tenant_id: int, body: bytes, content_type: str) -> SourceMaterial:
    """The tenant's material with these bytes (stored once per tenant)."""
    material, _ = SourceMaterial.objects.get_or_create(
        tenant_id=tenant_id,
        sha256=sha256_hex(body),
        defaults={"content_type": content_type, "size": len(body), "body": body},
    )
    return material


# --- fetch -------------------------------------------------------------------------------


def _cancellable_sleep(checkpoint: Callable[[], None]) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        checkpoint()
        time.sleep(seconds)
        checkpoint()

    return sleep


def _fetch_error_record(exc: FetchError) -> dict[str, Any]:
    return {**exc.to_record(), "class": type(exc).__name__}


def fetch_error_of(record: dict[str, Any]) -> FetchError | None:
    """The fetch error a stored fetch record describes (for classification), if any."""
    error = record.get("error")
    if not isinstance(error, dict):
        return None
    code, detail, url = error.get("error", "error"), error.get("detail", ""), error.get("url", "")
    if error.get("class") == "FetchFailed":
        return FetchFailed(
            code,
            detail,
            retryable=bool(error.get("retryable")),
            status=error.get("status"),
            url=url,
        )
    if error.get("class") == "FetchRefused":
        return FetchRefused(code, detail, url=url)
    return FetchError(code, detail, url=url)


def source_fetch(
    *, source: Source, final_attempt: bool, checkpoint: Callable[[], None]
) -> dict[str, Any]:
    """Fetch a URL source (safe fetcher, SPEC §8). A fetch that fails for good (refused,
    4xx, or retryable failures on the job's last attempt) is a result, not an error: the
    source goes on and is rejected with REJECT_FETCH_FAILED. Retryable failures on earlier
    attempts raise, so that the job retries with backoff."""
    started = Source.objects.filter(
        pk=source.pk, kind=SourceKind.URL, stage=SourceStage.QUEUED
    ).update(state=SourceState.RUNNING, updated_at=timezone.now())
    if not started:
        return _after_fetch(source.pk)
    result, failure = None, None
    try:
        result = fetch_url(
            source.url,
            policy=FetchPolicy.from_settings(),
            sleep=_cancellable_sleep(checkpoint),
        )
    except FetchError as exc:
        if exc.retryable and not final_attempt:
            Source.objects.filter(pk=source.pk, stage=SourceStage.QUEUED).update(
                state=SourceState.PENDING, error=f"{exc.code}: {exc.detail} (will retry)"
            )
            raise
        failure = exc
    checkpoint()
    with transaction.atomic():
        source = Source.objects.select_for_update().get(pk=source.pk)
        if source.stage != SourceStage.QUEUED:
            return {"skipped": f"already {source.stage}"}
        now = timezone.now()
        if result is not None:
            record = result.to_record()
            if result.body:
                source.material = material_store(
                    tenant_id=source.tenant_id, body=result.body, content_type=result.content_type
                )
            source.material_hash = result.material_hash
            source.mime_type = result.content_type[:200]
            source.retrieved_at = result.started_at
        else:
            assert failure is not None
            record = {
                "url": source.url,
                "at": now.isoformat(),
                "error": _fetch_error_record(failure),
            }
        source.fetch = record
        source.stage, source.state, source.error, source.updated_at = (
            SourceStage.FETCHED,
            SourceState.PENDING,
            "",
            now,
        )
        source.save(
            update_fields=[
                "material",
                "material_hash",
                "mime_type",
                "retrieved_at",
                "fetch",
                "stage",
                "state",
                "error",
                "updated_at",
            ]
        )
        enqueue_source_job(EXTRACT, source)
    steps_refresh_for(processing_runs_of(source.pk))
    return {k: v for k, v in record.items() if k != "redirects"}


def _after_fetch(source_id: int) -> dict[str, Any]:
    """A repeated fetch job: make sure the fetched source's extraction is queued."""
    with transaction.atomic():
        source = Source.objects.select_for_update().filter(pk=source_id).first()
        if source is None or source.stage != SourceStage.FETCHED:
            return {"skipped": f"source is {source.stage if source else 'gone'}"}
        enqueue_source_job(EXTRACT, source)
    return {"skipped": "already fetched"}


# --- extract -----------------------------------------------------------------------------


EXTRACT_READY = Q(stage=SourceStage.FETCHED) | (
    Q(stage=SourceStage.QUEUED) & ~Q(kind=SourceKind.URL)
)


def _material(source: Source) -> tuple[bytes, str] | None:
    """The bytes to extract and their content type (None: nothing was fetched)."""
    if source.material_id is not None:
        return bytes(source.material.body), source.material.content_type
    if source.kind in TEXT_KINDS:
        # A bundle or list source that joined the pipeline: its text is its material.
        body = source.text.encode("utf-8")
        source.material = material_store(
            tenant_id=source.tenant_id, body=body, content_type="text/plain"
        )
        return body, "text/plain"
    if source.fetch and not source.fetch.get("error"):
        return b"", source.mime_type  # fetched, with an empty body
    return None


def _extract(source: Source) -> tuple[Extraction | None, bool]:
    """(extraction, unsupported type). No extraction when the fetch failed or the type is
    not one we read."""
    if source.fetch.get("error"):
        return None, False
    if source.fetch and source.fetch.get("supported") is False:
        return None, True
    material = _material(source)
    if material is None:
        return None, False
    body, content_type = material
    if content_type not in SUPPORTED_CONTENT_TYPES:
        return None, True
    extraction = extract(
        body=body,
        content_type=content_type,
        url=source.url or None,
        charset=source.fetch.get("charset"),  # the server's, for fetched text
    )
    return extraction, False


def extraction_fields(source: Source, extraction: Extraction | None, unsupported: bool) -> None:
    """Set the source's extraction results (text, counts, hashes, version)."""
    source.extractor_version = EXTRACTOR_VERSION
    if extraction is None:
        source.text, source.word_count, source.text_hash = "", 0, ""
        source.extraction = {"kind": "unsupported" if unsupported else "none"}
        return
    source.text = extraction.text
    source.word_count = extraction.word_count
    source.text_hash = extraction.text_hash
    source.material_hash = extraction.material_hash
    source.extraction = {
        "kind": extraction.kind,
        "title": extraction.title,
        "pdf_status": extraction.pdf_status,
        "signals": extraction.signals,
    }
    if not source.title and extraction.title:
        source.title = extraction.title[:1000]


EXTRACTION_FIELDS = [
    "text",
    "word_count",
    "text_hash",
    "material_hash",
    "extractor_version",
    "extraction",
    "title",
    "material",
]


def source_extract(*, source: Source) -> dict[str, Any]:
    """Extract the source's text from its material (HTML, PDF, plain text)."""
    started = (
        Source.objects.filter(EXTRACT_READY, pk=source.pk)
        .exclude(state=SourceState.FAILED)
        .update(state=SourceState.RUNNING, updated_at=timezone.now())
    )
    if not started:
        return _after_extract(source.pk)
    source = Source.objects.select_related("material").get(pk=source.pk)
    extraction, unsupported = _extract(source)
    with transaction.atomic():
        current = Source.objects.select_for_update().filter(EXTRACT_READY, pk=source.pk).first()
        if current is None:
            return {"skipped": "already extracted"}
        extraction_fields(source, extraction, unsupported)
        source.stage, source.state, source.error = SourceStage.EXTRACTED, SourceState.PENDING, ""
        source.updated_at = timezone.now()
        source.save(update_fields=[*EXTRACTION_FIELDS, "stage", "state", "error", "updated_at"])
        runs = processing_runs_of(source.pk)
        for run in runs:
            enqueue_run_job(CLASSIFY_JOB_TYPE, run)
    steps_refresh_for(runs)
    return {
        "word_count": source.word_count,
        "text_hash": source.text_hash,
        "kind": source.extraction.get("kind"),
        "runs": len(runs),
    }


def _after_extract(source_id: int) -> dict[str, Any]:
    """A repeated extract job: make sure the runs processing the source classify it."""
    with transaction.atomic():
        source = Source.objects.select_for_update().filter(pk=source_id).first()
        if source is None or source.stage not in (SourceStage.EXTRACTED, SourceStage.CLASSIFIED):
            return {"skipped": f"source is {source.stage if source else 'gone'}"}
        for run in processing_runs_of(source_id):
            enqueue_run_job(CLASSIFY_JOB_TYPE, run)
    return {"skipped": "already extracted"}


# --- classify ----------------------------------------------------------------------------


def extraction_of(source: Source) -> Extraction:
    """The stored extraction of a source, as the classifier takes it."""
    return Extraction(
        text=source.text,
        word_count=source.word_count or 0,
        text_hash=source.text_hash,
        material_hash=source.material_hash,
        kind=source.extraction.get("kind", "text"),
        title=source.extraction.get("title", ""),
        pdf_status=source.extraction.get("pdf_status"),
        signals=source.extraction.get("signals") or {},
        extractor_version=source.extractor_version,
    )


def classify_intrinsic(source: Source) -> None:
    """Classify one extracted source on its own (everything but near-duplicates)."""
    fetch_error = fetch_error_of(source.fetch)
    kind = source.extraction.get("kind")
    extracted = fetch_error is None and kind not in (None, "none", "unsupported")
    result = classify(
        extraction=extraction_of(source) if extracted else None,
        fetch_error=fetch_error,
        unsupported_type=kind == "unsupported",
    )
    source.decision = result.decision
    source.reason_codes = list(result.reason_codes)
    source.classification = result.details


@dataclass
class RunDecisions:
    decided: int = 0
    changed: int = 0
    duplicates: int = 0


def run_decisions_refresh(*, run: ResearchRun) -> RunDecisions:
    """Each classified source's decision in the run: its own codes, plus
    FLAG_DUPLICATE_TEMPLATE when it is a near-duplicate of a longer source of the run."""
    links = list(
        RunSource.objects.filter(run=run, source__stage=SourceStage.CLASSIFIED)
        .select_related("source")
        .order_by("source_id")
    )
    texts = {
        link.source_id: link.source.text
        for link in links
        if link.source.decision != SourceDecision.REJECT and link.source.text.strip()
    }
    primaries = near_duplicate_groups(texts)
    outcome, changed = RunDecisions(duplicates=len(primaries)), []
    for link in links:
        primary = primaries.get(link.source_id)
        codes = set(link.source.reason_codes) | ({FLAG_DUPLICATE_TEMPLATE} if primary else set())
        wanted = (decision_for(codes), sorted(codes), primary)
        if (link.decision, link.reason_codes, link.duplicate_of_id) == wanted:
            continue
        outcome.decided += not link.decision
        outcome.changed += bool(link.decision)
        link.decision, link.reason_codes, link.duplicate_of_id = wanted
        changed.append(link)
    RunSource.objects.bulk_update(changed, ["decision", "reason_codes", "duplicate_of"])
    return outcome


def run_sources_classify(*, run_id: Any, job_id: int | None = None) -> dict[str, Any]:
    """The classify job of a run (atomic): classify its extracted sources, then decide every
    classified source's place in the run (near-duplicates), then queue processing."""
    run = lock_run(run_id)
    if run.status != RunStatus.PROCESSING:
        return {"skipped": f"run is {run.status}"}
    sources = lock_sources(run_pipeline_sources(run))
    classified = 0
    for source in sources:
        if source.stage != SourceStage.EXTRACTED or source.state == SourceState.FAILED:
            continue
        try:
            classify_intrinsic(source)
        except Exception as exc:
            raise SourceStageError(source.pk, exc) from exc
        source.stage, source.state, source.updated_at = (
            SourceStage.CLASSIFIED,
            SourceState.DONE,
            timezone.now(),
        )
        source.save(
            update_fields=[
                "decision",
                "reason_codes",
                "classification",
                "stage",
                "state",
                "updated_at",
            ]
        )
        classified += 1
    decisions = run_decisions_refresh(run=run)
    if RunSource.objects.filter(run=run, processed_at__isnull=True).exclude(decision="").exists():
        enqueue_run_job(PROCESS_JOB_TYPE, run)
    if decisions.decided or decisions.changed:
        event_record(
            run=run,
            event_type="sources_classified",
            actor=WORKER,
            message=(
                f"Classified {decisions.decided} source(s) for the run"
                + (f", {decisions.changed} decision(s) changed" if decisions.changed else "")
                + f"; {decisions.duplicates} near-duplicate(s) flagged in the run."
            ),
            data={**vars(decisions), "classified": classified},
            job_id=job_id,
        )
    steps_refresh(run)
    return {"classified": classified, **vars(decisions)}


# --- process -----------------------------------------------------------------------------


def run_sources_process(*, run_id: Any, job_id: int | None = None) -> dict[str, Any]:
    """The process job of a run (atomic): accepted sources' company mentions become
    evidence on the run's prospects; every decided source is marked processed; the run
    completes when all are."""
    run = lock_run(run_id)
    if run.status != RunStatus.PROCESSING:
        return {"skipped": f"run is {run.status}"}
    links = list(
        RunSource.objects.filter(run=run, processed_at__isnull=True)
        .exclude(decision="")
        .select_related("source")
        .order_by("source_id")
    )
    counts = run_sources_process_mentions(run=run, links=links, job_id=job_id)
    steps_refresh(run)
    return {**counts, "outcome": run_complete_if_done(run=run)}
