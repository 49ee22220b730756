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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


# --- sources added to a run (POST /runs/{id}/sources/, SPEC §8-9) ---------------------------

MAX_SOURCES_PER_REQUEST = 100
MAX_SOURCE_TITLE = 1_000
MAX_SOURCE_URL = 2_000
MAX_SOURCE_TEXT_BYTES = MAX_CONTENT_BYTES
MSG_SOURCE_KIND = (
    "kind must be 'text' or 'url' (upload files as multipart form data, field 'file')."
)
MSG_SOURCE_ITEM = "Each source is an object with a kind: text or url."
MSG_SOURCES_EMPTY = "Send one source object or a list of 1 to {limit} of them."
MSG_TEXT_TOO_LONG = f"The text is larger than {MAX_SOURCE_TEXT_BYTES:,} bytes (UTF-8)."
MSG_NUL = "The text may not contain NUL characters."


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(MSG_NUL)
    return value


MSG_BLANK_TEXT = "The text is empty."


class _SourceInput(BaseModel):
    # The text is kept exactly as sent (its bytes are the material); names are trimmed.
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(max_length=MAX_SOURCE_TITLE)] = ""

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        return _no_nul(value.strip())


class SourceTextInput(_SourceInput):
    """Pasted text."""

    kind: Literal["text"]
    content_text: Annotated[str, Field(min_length=1)]

    @field_validator("content_text")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(MSG_BLANK_TEXT)
        if len(value.encode("utf-8")) > MAX_SOURCE_TEXT_BYTES:
            raise ValueError(MSG_TEXT_TOO_LONG)
        return _no_nul(value)


class SourceUrlInput(_SourceInput):
    """A URL, fetched by the pipeline (never when it is added)."""

    kind: Literal["url"]
    url: Annotated[str, Field(min_length=1, max_length=MAX_SOURCE_URL)]

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.strip()


SourceInput = SourceTextInput | SourceUrlInput
_SOURCE_INPUTS: dict[str, type[_SourceInput]] = {"text": SourceTextInput, "url": SourceUrlInput}


def parse_source_inputs(data: object) -> tuple[list[SourceInput], list[Issue]]:
    """One source object or a list of them → (validated inputs, issues). Locations are
    `url` for a single object and `2.url` for the third of a list."""
    single = isinstance(data, dict)
    items = [data] if single else data
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_SOURCES_PER_REQUEST:
        message = MSG_SOURCES_EMPTY.format(limit=MAX_SOURCES_PER_REQUEST)
        return [], [Issue(loc="", msg=message, type="invalid_sources")]
    parsed: list[SourceInput] = []
    problems: list[Issue] = []
    for index, item in enumerate(items):
        prefix = "" if single else f"{index}."
        if not isinstance(item, dict):
            problems.append(Issue(loc=prefix.rstrip("."), msg=MSG_SOURCE_ITEM, type="invalid"))
            continue
        model = _SOURCE_INPUTS.get(item.get("kind"))  # type: ignore[arg-type]
        if model is None:
            problems.append(Issue(loc=f"{prefix}kind", msg=MSG_SOURCE_KIND, type="invalid_kind"))
            continue
        try:
            parsed.append(model.model_validate(item))  # type: ignore[arg-type]
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                loc = prefix + ".".join(str(part) for part in error["loc"])
                problems.append(Issue(loc=loc, msg=error["msg"], type=error["type"]))
    return parsed, problems


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
    "SourceInput",
    "SourceTextInput",
    "SourceUrlInput",
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
    "parse_source_inputs",
    "validate_bundle",
]
