"""Ingestion's facts about prospects: evidence passages and metrics, each added once.

A prospect's evidence is keyed by (source, normalized text hash), its metrics by an identity
hash of their content; what the run already has is read first and skipped, so ingesting a
bundle again adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ats.bulk import bulk_insert
from research.models import (
    EvidenceType,
    ProspectEvidence,
    ProspectMetric,
    ResearchRun,
    Verification,
)
from research.schemas import Company as ProposedCompany


def evidence_of_run(run: ResearchRun) -> set[tuple[int, int, str]]:
    """(prospect, source, text hash) of the run's evidence: what ingestion must not repeat."""
    return set(
        ProspectEvidence.objects.filter(prospect__run=run).values_list(
            "prospect_id", "source_id", "text_sha256"
        )
    )


def add_evidence(
    *,
    tenant_id: int,
    proposed: list[tuple[ProposedCompany, int]],
    sources: dict[str, int],
    seen: set[tuple[int, int, str]],
) -> tuple[int, int]:
    """Insert each proposal's resolved evidence that `seen` lacks (and add it there).
    Returns (passages added, of which unverified)."""
    new = []
    for company, prospect_id in proposed:
        for item in company.evidence:
            key = (prospect_id, sources[item.source_sha256], item.text_sha256)
            if key in seen:
                continue
            seen.add(key)
            new.append(
                {
                    "prospect_id": prospect_id,
                    "source_id": key[1],
                    "text": item.text,
                    "text_sha256": item.text_sha256,
                    "verification": Verification.VERIFIED
                    if item.verified
                    else Verification.UNVERIFIED,
                }
            )
    added = bulk_insert(
        ProspectEvidence,
        new,
        common={"tenant_id": tenant_id, "evidence_type": EvidenceType.SNIPPET},
    )
    return added, sum(e["verification"] == Verification.UNVERIFIED for e in new)


def metric_identity(
    *,
    key: str,
    value_type: str,
    value: Any,
    unit: str,
    currency: str,
    as_of_date: Any,
    source_sha256: str | None,
) -> str:
    """What makes two metrics of a prospect the same; content only (no database ids), so the
    same bundle gives the same identities in any tenant."""
    blob = _IDENTITY_JSON.encode(
        [key, value_type, value, unit, currency, str(as_of_date or ""), source_sha256 or ""]
    )
    return hashlib.sha256(blob.encode()).hexdigest()


# json.dumps with these options would build an encoder per call (15,000 per big bundle); the
# text, and so every stored identity, is the same.
_IDENTITY_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def metrics_of_run(run: ResearchRun) -> set[tuple[int, str]]:
    """(prospect, identity) of the run's metrics: what ingestion must not repeat."""
    return set(
        ProspectMetric.objects.filter(prospect__run=run).values_list(
            "prospect_id", "identity_sha256"
        )
    )


def add_metrics(
    *,
    tenant_id: int,
    proposed: list[tuple[ProposedCompany, int]],
    sources: dict[str, int],
    seen: set[tuple[int, str]],
) -> int:
    """Insert each proposal's metrics that `seen` lacks (and add them there). Returns how
    many were added."""
    new = []
    for company, prospect_id in proposed:
        for metric in company.metrics:
            source_id = sources[metric.source_sha256] if metric.source_sha256 else None
            identity = metric_identity(
                key=metric.key,
                value_type=metric.type,
                value=metric.value,
                unit=metric.unit or "",
                currency=metric.currency or "",
                as_of_date=metric.as_of_date,
                source_sha256=metric.source_sha256,
            )
            if (prospect_id, identity) in seen:
                continue
            seen.add((prospect_id, identity))
            new.append(
                {
                    "prospect_id": prospect_id,
                    "key": metric.key,
                    "value_type": metric.type,
                    f"value_{metric.type}": metric.value,
                    "unit": metric.unit or "",
                    "currency": metric.currency or "",
                    "as_of_date": metric.as_of_date,
                    "confidence": metric.confidence,
                    "source_id": source_id,
                    "identity_sha256": identity,
                }
            )
    return bulk_insert(ProspectMetric, new, common={"tenant_id": tenant_id})
