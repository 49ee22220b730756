"""Validated inputs of run services (pydantic, `extra="forbid"`).

The bundle format has its own schema in `research.schemas`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

MSG_NOTE_REQUIRED = "A note is required to reject a bundle: tell the researcher what to fix."


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RunCreate(_Input):
    objective: Annotated[NonBlank, Field(max_length=5_000)]
    constraints: dict[str, Any] = Field(default_factory=dict)
    rank_spec: dict[str, Any] = Field(default_factory=dict)
    role_id: int | None = None
    idempotency_key: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    def fingerprint(self) -> dict[str, Any]:
        """What must be equal for a repeated create with the same idempotency key."""
        return self.model_dump(exclude={"idempotency_key"})


class RunUpdate(_Input):
    objective: Annotated[NonBlank, Field(max_length=5_000)] | None = None
    constraints: dict[str, Any] | None = None
    rank_spec: dict[str, Any] | None = None
    role_id: int | None = None

    @field_validator("objective", "constraints", "rank_spec")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


Sha256 = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9a-fA-F]{64}$")]
MSG_SAME_AS_NEEDS_COMPANY = "`same_as` needs `company_id`: the existing company to take."
MSG_COMPANY_ID_ONLY_FOR_SAME_AS = "`company_id` belongs to `same_as` decisions only."


class CompanyDecisionInput(_Input):
    """What to do with one proposed company: `company` is its index in
    `proposal_json.companies`."""

    company: Annotated[int, Field(ge=0)]
    action: Literal["include", "exclude", "same_as"]
    company_id: Annotated[int | None, Field(validate_default=True)] = None

    @field_validator("company_id")
    @classmethod
    def _company_id_for_same_as(cls, value: int | None, info: ValidationInfo) -> int | None:
        action = info.data.get("action")
        if action == "same_as" and value is None:
            raise PydanticCustomError("missing", MSG_SAME_AS_NEEDS_COMPANY)
        if action != "same_as" and value is not None:
            raise PydanticCustomError("extra_forbidden", MSG_COMPANY_ID_ONLY_FOR_SAME_AS)
        return value


class ReviewDecision(_Input):
    """Approve: bound to the bundle the reviewer saw (`bundle_sha256`; recommended), with
    per-company decisions. Without `bundle_sha256` it approves the current pending bundle."""

    bundle_sha256: Sha256 | None = None
    note: Annotated[str, Field(max_length=10_000)] = ""
    decisions: Annotated[list[CompanyDecisionInput], Field(max_length=5_000)] = Field(
        default_factory=list
    )


class RejectDecision(_Input):
    bundle_sha256: Sha256 | None = None
    note: Annotated[str, Field(max_length=10_000)]

    @field_validator("note")
    @classmethod
    def _required(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(MSG_NOTE_REQUIRED)
        return value


class ListSubmit(_Input):
    """POST /runs/{id}/lists/: pasted names, one a line, or CSV `name,domain`."""

    text: Annotated[str, Field(min_length=1, max_length=2_000_000)]
    format: Literal["auto", "lines", "csv"] = "auto"
