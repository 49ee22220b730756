"""Adding sources to a run: pasted text, URLs and uploaded files (SPEC §8-9, issue 9.1).

A source the tenant already knows is linked to the run, not duplicated: the same material
(SHA-256 of the text or the file's bytes), or the same URL not fetched yet. Adding a URL does
no network or DNS work; the fetcher checks the address when it fetches. Sources added while
the run is processing are picked up by its pipeline job, without another start.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ats.actors import Actor
from ats.errors import Conflict, FieldError, InvalidInput, ServiceError
from research.models import (
    ResearchRun,
    RunSource,
    RunStatus,
    Source,
    SourceKind,
    SourceStage,
    SourceState,
)
from research.schemas import SourceInput, SourceTextInput, SourceUrlInput, parse_source_inputs
from research.sources.extract import sniff_content_type
from research.sources.fetch import REFUSED_ADDRESS, FetchRefused, validate_fetchable_url

from .events import event_record
from .locks import lock_run
from .pipeline import enqueue_pipeline
from .stages import material_store, sha256_hex

MAX_FILE_BYTES = 10 * 1024 * 1024
ADDABLE_STATUSES = (RunStatus.DRAFT, RunStatus.PROCESSING, RunStatus.FAILED)

MSG_INVALID_SOURCES = "The sources are invalid: {count} error(s); see errors."
MSG_NOT_ADDABLE = (
    "Sources can be added to a draft run, a processing run or a run whose processing failed "
    "(retry picks them up); this run is {status}."
)
MSG_FILE_TOO_LARGE = f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB."
MSG_FILE_EMPTY = "The file is empty."
MSG_FILE_TYPE = (
    "The file is not HTML, XHTML, PDF or plain text (judged by its content); "
    "convert it to one of these."
)


class UnsupportedSourceType(ServiceError):
    status_code = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class SourceTooLarge(ServiceError):
    status_code = 413
    code = "file_too_large"
    title = "File too large"


@dataclass(frozen=True)
class UploadedFile:
    """A file as the API received it."""

    body: bytes
    filename: str
    declared_type: str | None = None
    title: str = ""


@dataclass(frozen=True)
class SourceNew:
    """What adding one source will create or link (built before the transaction)."""

    kind: str
    title: str
    url: str = ""
    body: bytes = b""
    content_type: str = ""
    filename: str = ""

    @property
    def sha256(self) -> str | None:
        return None if self.kind == SourceKind.URL else sha256_hex(self.body)


@dataclass(frozen=True)
class SourceAdded:
    source: Source
    created: bool  # a new source (False: the tenant knew it already)
    linked: bool  # newly linked to this run (False: the run cited it already)


def _checked_url(url: str) -> str:
    """The normalized URL, or FetchRefused for a URL that can never be fetched."""
    try:
        return validate_fetchable_url(url)
    except FetchRefused as exc:
        # Only the tests' loopback server: the fetcher applies the same policy when fetching.
        if exc.code == REFUSED_ADDRESS and settings.FETCH_ALLOW_PRIVATE_NETWORKS:
            return url
        raise


def source_inputs_parse(data: object) -> list[SourceNew]:
    """Validate a JSON body (one source or a list); every problem names its field."""
    inputs, issues = parse_source_inputs(data)
    errors = [FieldError(i.loc, i.msg, i.type) for i in issues]
    single = isinstance(data, dict)
    news: list[SourceNew] = []
    for index, item in enumerate(inputs):
        news.append(_new_from_input(item, prefix="" if single else f"{index}.", errors=errors))
    if errors:
        raise InvalidInput(MSG_INVALID_SOURCES.format(count=len(errors)), errors=errors)
    return news


def _new_from_input(item: SourceInput, *, prefix: str, errors: list[FieldError]) -> SourceNew:
    if isinstance(item, SourceTextInput):
        return SourceNew(
            kind=SourceKind.TEXT,
            title=item.title,
            body=item.content_text.encode("utf-8"),
            content_type="text/plain",
        )
    assert isinstance(item, SourceUrlInput)
    try:
        url = _checked_url(item.url)
    except FetchRefused as exc:
        errors.append(FieldError(f"{prefix}url", exc.detail, exc.code))
        url = item.url
    return SourceNew(kind=SourceKind.URL, title=item.title, url=url)


def source_file_parse(upload: UploadedFile) -> SourceNew:
    """An uploaded file: ≤ 10 MB, HTML, XHTML, PDF or plain text by its content."""
    if len(upload.body) > MAX_FILE_BYTES:
        raise SourceTooLarge(
            MSG_FILE_TOO_LARGE, errors=[FieldError("file", MSG_FILE_TOO_LARGE, "too_large")]
        )
    if not upload.body:
        raise InvalidInput(MSG_FILE_EMPTY, errors=[FieldError("file", MSG_FILE_EMPTY, "empty")])
    content_type = sniff_content_type(
        upload.body, declared=upload.declared_type, filename=upload.filename
    )
    if content_type is None:
        raise UnsupportedSourceType(
            MSG_FILE_TYPE, errors=[FieldError("file", MSG_FILE_TYPE, "unsupported_type")]
        )
    return SourceNew(
        kind=SourceKind.FILE,
        title=(upload.title or upload.filename)[:1000],
        body=upload.body,
        content_type=content_type,
        filename=upload.filename[:500],
    )


def sources_add(*, run: ResearchRun, sources: list[SourceNew], actor: Actor) -> list[SourceAdded]:
    """Create or link each source, in one transaction; a processing run picks them up."""
    with transaction.atomic():
        # The run's lock orders this with the run's pipeline job (which decides, under it,
        # whether every source is done) and with cancel.
        run = lock_run(run.pk)
        if run.status not in ADDABLE_STATUSES or (
            run.status == RunStatus.FAILED and run.failed_from != RunStatus.PROCESSING
        ):
            raise Conflict(MSG_NOT_ADDABLE.format(status=run.status.replace("_", " ")))
        added = [_add_one(run, new) for new in sources]
        linked = [a for a in added if a.linked]
        job = enqueue_pipeline(run) if linked and run.status == RunStatus.PROCESSING else None
        created = sum(a.created for a in added)
        event_record(
            run=run,
            event_type="sources_added",
            actor=actor,
            message=(
                f"Added {len(added)} source(s): {created} new, {len(added) - created} already "
                f"known to the tenant, {len(added) - len(linked)} already in the run."
                + (" The pipeline picks them up." if job else "")
            ),
            data={
                "sources": [a.source.pk for a in added],
                "created": created,
                "linked": len(linked),
            },
            job_id=job.pk if job else None,
        )
    return added


def _add_one(run: ResearchRun, new: SourceNew) -> SourceAdded:
    source, created = _find_or_create(run.tenant_id, new)
    if not created:
        # The source's lock orders this link with the stage jobs that move it on.
        source = Source.objects.select_for_update().get(pk=source.pk)
        _enrol(source)
    _, linked = RunSource.objects.get_or_create(run=run, source=source)
    return SourceAdded(source=source, created=created, linked=linked)


def _enrol(source: Source) -> None:
    """A known source joins the pipeline (a bundle or list source), or tries again the
    stage that failed for another run."""
    if not source.stage:
        source.stage, source.state = SourceStage.QUEUED, SourceState.PENDING
    elif source.state == SourceState.FAILED:
        source.state, source.error = SourceState.PENDING, ""
    else:
        return
    source.updated_at = timezone.now()
    source.save(update_fields=["stage", "state", "error", "updated_at"])


def _find_or_create(tenant_id: int, new: SourceNew) -> tuple[Source, bool]:
    now = timezone.now()
    common = {
        "kind": new.kind,
        "title": new.title,
        "text": "",
        "stage": SourceStage.QUEUED,
        "state": SourceState.PENDING,
        "created_at": now,
        "updated_at": now,
    }
    if new.kind == SourceKind.URL:
        # Conditional unique constraint: one unfetched source per URL and tenant.
        return Source.objects.get_or_create(
            tenant_id=tenant_id,
            kind=SourceKind.URL,
            url=new.url,
            stage=SourceStage.QUEUED,
            defaults={k: v for k, v in common.items() if k not in ("kind", "stage")},
        )
    existing = Source.objects.filter(tenant_id=tenant_id, sha256=new.sha256).first()
    if existing is not None:
        return existing, False
    material = material_store(tenant_id=tenant_id, body=new.body, content_type=new.content_type)
    text = new.body.decode("utf-8") if new.kind == SourceKind.TEXT else ""
    return Source.objects.get_or_create(
        tenant_id=tenant_id,
        sha256=new.sha256,
        defaults={
            **common,
            "text": text,
            "mime_type": new.content_type,
            "material": material,
            "material_hash": material.sha256,
            "meta": {"filename": new.filename} if new.filename else {},
        },
    )
