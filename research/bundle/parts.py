"""The leaf models of ``run_bundle_v1``: steps, sources, aliases, evidence snippets, metrics.

Each checks what one object can check on its own (a source's hash, a metric's value type);
``models`` assembles them into a bundle and checks what needs the whole bundle.
Model docstrings and field descriptions are published in the JSON Schema: keep them plain text.
"""

import hashlib
import json
import math
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from . import issues
from .fields import (
    JsonObject,
    MetricKey,
    Name,
    OptionalCurrencyCode,
    OptionalDate,
    OptionalDatetime,
    OptionalHttpUrl,
    OptionalMimeType,
    OptionalStr,
    Sha256,
    Str,
    UnitInterval,
)
from .issues import fail

MAX_CONTENT_BYTES = 2 * 1024 * 1024
MAX_EVIDENCE_TEXT = 2_000
MAX_METRIC_TEXT = 10_000

StepType = Literal["search", "fetch", "extract", "validate", "compose", "finalize"]
StepStatus = Literal["queued", "running", "ok", "failed", "skipped"]
AliasType = Literal["legal", "trade", "former", "local", "abbreviation"]
MetricType = Literal["number", "text", "bool", "json"]


class BundleModel(BaseModel):
    """Base of the bundle's models: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Step(BundleModel):
    """One step of the agent's work, shown in the run's timeline."""

    step_key: Str = Field(
        min_length=1, max_length=200, description="Identifies the step; unique in the bundle."
    )
    step_type: StepType = Field(description="What the step did.")
    status: StepStatus = Field(description="How the step ended (or where it stands).")
    inputs_json: JsonObject = Field(default_factory=dict, description="Free-form inputs.")
    outputs_json: JsonObject = Field(default_factory=dict, description="Free-form outputs.")
    provider_meta: JsonObject = Field(
        default_factory=dict, description="Free-form metadata of the model or provider."
    )
    started_at: OptionalDatetime = Field(
        default=None, description="ISO 8601 datetime with a timezone."
    )
    finished_at: OptionalDatetime = Field(
        default=None, description="ISO 8601 datetime with a timezone; not before started_at."
    )
    output_sha256: Sha256 | None = Field(default=None, description="SHA-256 of the output.")
    error: OptionalStr = Field(default=None, max_length=20_000, description="Why it failed.")

    @model_validator(mode="after")
    def _check_times(self) -> Self:
        if self.started_at and self.finished_at and self.finished_at < self.started_at:
            fail("Step", issues.STEP_TIME_ORDER, issues.MSG_STEP_TIME_ORDER, ("finished_at",))
        return self


class Source(BundleModel):
    """A document the research read: evidence is verified against its text."""

    sha256: Sha256 = Field(
        description="SHA-256 of content_text's UTF-8 bytes, 64 hex digits in any case; "
        "unique in the bundle."
    )
    content_text: str = Field(
        strict=True,
        description="The text as read: not blank, at most 2 MiB (2,097,152 bytes) in UTF-8, "
        "hashed exactly as given (never stripped).",
        json_schema_extra={"minLength": 1, "maxLength": MAX_CONTENT_BYTES},
    )
    url: OptionalHttpUrl = Field(
        default=None, description="Where the text was read: an http(s) URL."
    )
    title: OptionalStr = Field(default=None, max_length=1_000, description="Title of the document.")
    mime_type: OptionalMimeType = Field(
        default=None,
        description="Media type 'type/subtype' (parameters allowed); stored lowercase.",
    )
    retrieved_at: OptionalDatetime = Field(
        default=None, description="ISO 8601 datetime with a timezone."
    )
    meta: JsonObject = Field(default_factory=dict, description="Free-form metadata.")

    @field_validator("content_text")
    @classmethod
    def _check_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError(issues.CONTENT_BLANK, issues.MSG_CONTENT_BLANK)
        return value

    @model_validator(mode="after")
    def _check_size_and_hash(self) -> Self:
        text = ("content_text",)
        try:
            data = self.content_text.encode("utf-8")
        except UnicodeEncodeError:
            fail("Source", issues.INVALID_CHARACTER, issues.MSG_UNPAIRED_SURROGATE, text)
        if len(data) > MAX_CONTENT_BYTES:
            context = {"limit": f"{MAX_CONTENT_BYTES:,}", "size": f"{len(data):,}"}
            fail("Source", issues.CONTENT_TOO_LARGE, issues.MSG_CONTENT_TOO_LARGE, text, context)
        expected = hashlib.sha256(data).hexdigest()
        if expected != self.sha256:
            code, msg = issues.SHA256_MISMATCH, issues.MSG_SHA256_MISMATCH
            fail("Source", code, msg, ("sha256",), {"expected": expected})
        return self


class Alias(BundleModel):
    """Another name of the company. A bare string in the bundle is an alias without a type."""

    model_config = ConfigDict(frozen=True)

    name: Name = Field(description="1-500 characters; whitespace is collapsed.")
    type: AliasType | None = Field(default=None, description="What kind of name it is.")


EvidenceText = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_EVIDENCE_TEXT),
]
_ALIAS_NAME = TypeAdapter(Name)
_EVIDENCE_TEXT = TypeAdapter(EvidenceText)


def _alias_item(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, str):  # checked first, so that its errors are at the item, not at .name
        return handler({"name": _ALIAS_NAME.validate_python(value)})
    if isinstance(value, dict | Alias):
        return handler(value)
    raise PydanticCustomError(issues.ALIAS_TYPE, issues.MSG_ALIAS_TYPE)


AliasItem = Annotated[Alias, WrapValidator(_alias_item, json_schema_input_type=Name | Alias)]


class EvidenceSnippet(BundleModel):
    """A passage of a source that supports the company.

    A bare string, or an object without source_sha256, may come from any of the company's sources.
    """

    text: EvidenceText = Field(description="1-2,000 characters.")
    source_sha256: Sha256 | None = Field(
        default=None, description="The source the passage is from; one of the bundle's sources."
    )


def _evidence_item(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, str):  # checked first, so that its errors are at the item, not at .text
        return handler({"text": _EVIDENCE_TEXT.validate_python(value)})
    if isinstance(value, dict | EvidenceSnippet):
        return handler(value)
    raise PydanticCustomError(issues.EVIDENCE_TYPE, issues.MSG_EVIDENCE_TYPE)


EvidenceItem = Annotated[
    EvidenceSnippet,
    WrapValidator(
        _evidence_item,
        json_schema_input_type=EvidenceText | EvidenceSnippet,
    ),
]


class Metric(BundleModel):
    """A typed fact about the company, such as its headcount or revenue."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"type": {"const": name}}},
                    "then": {"properties": {"value": schema}},
                }
                for name, schema in [
                    ("number", {"type": "number"}),
                    ("text", {"type": "string", "minLength": 1, "maxLength": MAX_METRIC_TEXT}),
                    ("bool", {"type": "boolean"}),
                    ("json", {"type": ["object", "array"]}),
                ]
            ]
        }
    )

    key: MetricKey = Field(
        description="What is measured, such as 'headcount'. Normalized: lowercase, each run of "
        "spaces and punctuation becomes '_'; 1-100 characters after that."
    )
    type: MetricType = Field(description="The type of value.")
    value: Any = Field(
        description="Of the metric's type. number: a finite number, not a boolean; text: a "
        "non-blank string of at most 10,000 characters; bool: true or false; json: an object or "
        "an array."
    )
    unit: OptionalStr = Field(
        default=None, max_length=100, description="Unit of a number, such as 'people'."
    )
    currency: OptionalCurrencyCode = Field(default=None, description="Currency of an amount.")
    as_of_date: OptionalDate = Field(
        default=None, description="Date the value holds for (YYYY-MM-DD)."
    )
    confidence: UnitInterval | None = Field(default=None, description="From 0 to 1.")
    source_sha256: Sha256 | None = Field(
        default=None, description="The source of the value; one of the bundle's sources."
    )

    @field_validator("value")
    @classmethod
    def _check_value_type(cls, value: Any, info: ValidationInfo) -> Any:
        metric_type = info.data.get("type")
        if metric_type is None:  # the type itself is invalid: already reported
            return value
        if metric_type == "text" and isinstance(value, str):
            value = value.strip()
        if not _value_matches(metric_type, value):
            raise PydanticCustomError(
                issues.METRIC_VALUE_TYPE,
                issues.MSG_METRIC_VALUE_TYPE,
                {
                    "expected": issues.METRIC_VALUE_EXPECTATIONS[metric_type],
                    "metric_type": metric_type,
                },
            )
        return value

    def identity(self) -> tuple[Any, ...]:
        """What makes two metrics of a company the same: normalized key, value, as_of_date."""
        value = self.value
        if self.type == "json":
            value = json.dumps(value, sort_keys=True, separators=(",", ":"))
        return (self.key, self.type, value, self.as_of_date)


def _value_matches(metric_type: str, value: Any) -> bool:
    if metric_type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        try:
            return math.isfinite(value)
        except OverflowError:  # an int beyond the range of a float
            return False
    if metric_type == "text":
        return isinstance(value, str) and 0 < len(value) <= MAX_METRIC_TEXT
    if metric_type == "bool":
        return isinstance(value, bool)
    return isinstance(value, dict | list)
