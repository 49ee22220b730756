"""Manual lists: pasted company names (one a line) or CSV `name,domain`, matched like
bundle companies (SPEC §7) and added to a run as prospects."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from typing import Literal

from django.db import transaction

import jobs
from ats.actors import Actor
from ats.errors import Conflict, FieldError, InvalidInput
from ats.normalize import registrable_domain
from research.models import (
    EvidenceType,
    Prospect,
    ProspectEvidence,
    ProspectOrigin,
    ResearchRun,
    RunSource,
    RunStatus,
    Source,
    SourceKind,
    Verification,
)

from .events import event_record
from .locks import lock_run
from .matching import MatchKind, Proposed, create_new_companies, match_companies

LIST_JOB_TYPE = "research.ingest_list"
MAX_LIST_LINES = 5_000
MAX_NAME_LENGTH = 500
MSG_EMPTY_LIST = "The list has no company names."
MSG_TOO_MANY_LINES = f"A list may have at most {MAX_LIST_LINES:,} companies."
MSG_NAME_TOO_LONG = f"A company name may have at most {MAX_NAME_LENGTH} characters."
MSG_BAD_DOMAIN = "{value!r} is not a domain or website (such as example.com)."
MSG_BAD_CSV = "Each CSV line is name,domain (the domain may be empty): {error}"
MSG_RUN_CANCELLED = "The run is cancelled; lists cannot be added to it."


@dataclass(frozen=True)
class ListEntry:
    line: int  # 1-based line number in the pasted text
    name: str
    domain: str


def _detect_format(lines: list[str]) -> Literal["lines", "csv"]:
    """CSV when it starts with the header `name,domain`, or when every line ends in a
    domain after a comma; otherwise one name a line ("Acme, Inc." is a name)."""
    if not lines:
        return "lines"
    if lines[0].strip().lower().replace(" ", "") in ("name,domain", "name"):
        return "csv"
    for line in lines:
        _, comma, last = line.rpartition(",")
        if not comma or (last.strip() and not registrable_domain(last.strip())):
            return "lines"
    return "csv"


def parse_list(text: str, *, fmt: Literal["auto", "lines", "csv"] = "auto") -> list[ListEntry]:
    """Parse pasted text; errors name the line (`text.<line>`). A first CSV line
    `name,domain` is a header."""
    lines = text.splitlines()
    if fmt == "auto":
        fmt = _detect_format([line for line in lines if line.strip()])
    entries: list[ListEntry] = []
    errors: list[FieldError] = []
    if fmt == "csv":
        reader = csv.reader(io.StringIO(text))
        try:
            for row in reader:
                number = reader.line_num
                cells = [cell.strip() for cell in row]
                if not any(cells):
                    continue
                if (
                    not entries
                    and not errors
                    and [c.lower() for c in cells[:2]] in (["name", "domain"], ["name"])
                ):
                    continue  # header
                if len(cells) > 2:
                    errors.append(
                        FieldError(
                            f"text.{number}",
                            MSG_BAD_CSV.format(error="more than two columns"),
                            "csv_columns",
                        )
                    )
                    continue
                entries.append(ListEntry(number, cells[0], cells[1] if len(cells) > 1 else ""))
        except csv.Error as exc:
            errors.append(
                FieldError(f"text.{reader.line_num}", MSG_BAD_CSV.format(error=exc), "csv_error")
            )
    else:
        entries = [
            ListEntry(n, line.strip(), "") for n, line in enumerate(lines, 1) if line.strip()
        ]
    for entry in entries:
        loc = f"text.{entry.line}"
        if not entry.name:
            errors.append(FieldError(loc, "The name is missing.", "missing"))
        elif len(entry.name) > MAX_NAME_LENGTH:
            errors.append(FieldError(loc, MSG_NAME_TOO_LONG, "string_too_long"))
        if entry.domain and not registrable_domain(entry.domain):
            errors.append(
                FieldError(loc, MSG_BAD_DOMAIN.format(value=entry.domain), "invalid_domain")
            )
    if not entries and not errors:
        errors.append(FieldError("text", MSG_EMPTY_LIST, "empty"))
    if len(entries) > MAX_LIST_LINES:
        errors.append(FieldError("text", MSG_TOO_MANY_LINES, "too_long"))
    if errors:
        raise InvalidInput(f"The list is invalid: {len(errors)} error(s).", errors=errors[:200])
    return entries


def list_submit(
    *, run: ResearchRun, text: str, fmt: Literal["auto", "lines", "csv"], actor: Actor
) -> jobs.Job:
    """Check the list, keep it as a source of the run, and enqueue its matching."""
    entries = parse_list(text, fmt=fmt)
    if run.status == RunStatus.CANCELLED:
        raise Conflict(MSG_RUN_CANCELLED)
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with transaction.atomic():
        source, _ = Source.objects.get_or_create(
            tenant_id=run.tenant_id,
            sha256=sha256,
            defaults={
                "title": f"Manual list ({len(entries)} companies)",
                "mime_type": "text/plain",
                "text": text,
                "meta": {"kind": "manual_list"},
                "kind": SourceKind.LIST,
            },
        )
        RunSource.objects.get_or_create(run=run, source=source)
        job = jobs.enqueue(
            LIST_JOB_TYPE,
            {"run_id": str(run.pk), "source_id": source.pk, "format": fmt},
            tenant=run.tenant,
            unique_key=f"list:{run.pk}:{sha256}",
        )
        event_record(
            run=run,
            event_type="list_submitted",
            actor=actor,
            message=f"List of {len(entries)} companies submitted for matching.",
            data={"source_id": source.pk, "entries": len(entries)},
            job_id=job.pk,
        )
    return job


def list_ingest(
    *,
    run: ResearchRun,
    source: Source,
    fmt: Literal["auto", "lines", "csv"],
    job_id: int | None = None,
) -> dict[str, object]:
    """Match the list's companies and add prospects (inside the job's transaction).

    Matched and new companies become prospects (existing prospects keep everything and get
    the list as evidence); names that match several companies are left for a person to
    resolve and reported as ambiguous."""
    entries = parse_list(source.text, fmt=fmt)
    # One writer of the run's prospects at a time (bundle ingestion locks the run too).
    run = lock_run(run.pk)
    tenant = run.tenant
    matches = match_companies(
        tenant=tenant, proposals=[Proposed(name=e.name, domain=e.domain) for e in entries]
    )
    ambiguous = [
        {
            "line": e.line,
            "name": e.name,
            "candidates": [m.company.id, *(c.id for c in m.ambiguous_with)],
        }
        for e, m in zip(entries, matches, strict=True)
        if m.ambiguous_with
    ]
    company_ids = create_new_companies(
        tenant=tenant, matches=matches, fields_of=lambda i: {"name": entries[i].name}
    )
    chosen: dict[int, ListEntry] = {}
    for entry, match, company_id in zip(entries, matches, company_ids, strict=True):
        if not match.ambiguous_with:  # left for a person to resolve
            chosen.setdefault(company_id, entry)
    existing = dict(
        Prospect.objects.filter(run=run, company_id__in=list(chosen)).values_list(
            "company_id", "pk"
        )
    )
    new_prospects = Prospect.objects.bulk_create(
        [
            Prospect(
                tenant=tenant, run=run, company_id=cid, name=entry.name, origin=ProspectOrigin.LIST
            )
            for cid, entry in chosen.items()
            if cid not in existing
        ]
    )
    prospect_ids = {**existing, **{p.company_id: p.pk for p in new_prospects}}
    seen = set(
        ProspectEvidence.objects.filter(
            prospect_id__in=list(prospect_ids.values()), source=source
        ).values_list("prospect_id", "text_sha256")
    )
    evidence = []
    for cid, entry in chosen.items():
        text_sha256 = hashlib.sha256(" ".join(entry.name.split()).casefold().encode()).hexdigest()
        if (prospect_ids[cid], text_sha256) not in seen:
            evidence.append(
                ProspectEvidence(
                    tenant=tenant,
                    prospect_id=prospect_ids[cid],
                    source=source,
                    evidence_type=EvidenceType.MANUAL_LIST,
                    text=entry.name,
                    text_sha256=text_sha256,
                    verification=Verification.VERIFIED,
                )
            )
    ProspectEvidence.objects.bulk_create(evidence)
    result = {
        "entries": len(entries),
        "matched": sum(m.kind != MatchKind.NEW and not m.ambiguous_with for m in matches),
        "new": sum(m.kind == MatchKind.NEW for m in matches),
        "ambiguous": len(ambiguous),
        "companies_created": len(
            {cid for cid, m in zip(company_ids, matches, strict=True) if m.kind == MatchKind.NEW}
        ),
        "prospects_created": len(new_prospects),
        "ambiguous_entries": ambiguous[:100],
    }
    event_record(
        run=run,
        event_type="list_ingested",
        actor=Actor.system("worker"),
        message=(
            f"List matched: {result['matched']} matched, {result['new']} new, "
            f"{result['ambiguous']} ambiguous; {result['prospects_created']} prospects created."
        ),
        data=result,
        job_id=job_id,
    )
    return result
