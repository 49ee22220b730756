"""Pydantic schemas of the research app: the bundle format ``run_bundle_v1`` (SPEC §5).

This module is the import surface; the implementation lives in ``research.bundle``. It imports
no Django, so it works without settings. Usage::

    result = validate_bundle(payload, expected_run_id=run.id)
    if not result.ok:
        return problem(errors=[issue.as_dict() for issue in result.errors])
    bundle_ingest(bundle=result.bundle, ...)  # a normalized RunBundleV1

See ``docs/bundle-format.md`` for the format and the conventions of errors.
"""

import copy
from typing import Any

from research.bundle import issues
from research.bundle.issues import Issue
from research.bundle.models import (
    BUNDLE_VERSION,
    MAX_COMPANIES,
    MAX_SOURCES,
    Company,
    Proposal,
    RunBundleV1,
)
from research.bundle.normalize import (
    bundle_sha256,
    canonical_json,
    evidence_text_sha256,
    normalize_evidence_text,
    normalize_metric_key,
)
from research.bundle.parts import (
    MAX_CONTENT_BYTES,
    Alias,
    AliasType,
    EvidenceSnippet,
    Metric,
    MetricType,
    Source,
    Step,
    StepStatus,
    StepType,
)
from research.bundle.resolve import ResolvedEvidence
from research.bundle.validation import MAX_ISSUES, BundleCounts, BundleValidation, validate_bundle

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# The JSON Schema (draft 2020-12) of an uploaded bundle, with descriptions and limits. It
# describes the shape; rules JSON Schema cannot express (content hashes, cross-references, ISO
# code lists, byte sizes) are checked by validate_bundle only. Read-only: copy it to modify it.
BUNDLE_JSON_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DIALECT,
    **RunBundleV1.model_json_schema(),
}


def bundle_json_schema() -> dict[str, Any]:
    """Return a copy of ``BUNDLE_JSON_SCHEMA`` that the caller may modify."""
    return copy.deepcopy(BUNDLE_JSON_SCHEMA)


__all__ = [
    "BUNDLE_JSON_SCHEMA",
    "BUNDLE_VERSION",
    "MAX_COMPANIES",
    "MAX_CONTENT_BYTES",
    "MAX_ISSUES",
    "MAX_SOURCES",
    "Alias",
    "AliasType",
    "BundleCounts",
    "BundleValidation",
    "Company",
    "EvidenceSnippet",
    "Issue",
    "Metric",
    "MetricType",
    "Proposal",
    "ResolvedEvidence",
    "RunBundleV1",
    "Source",
    "Step",
    "StepStatus",
    "StepType",
    "bundle_json_schema",
    "bundle_sha256",
    "canonical_json",
    "evidence_text_sha256",
    "issues",
    "normalize_evidence_text",
    "normalize_metric_key",
    "validate_bundle",
]
