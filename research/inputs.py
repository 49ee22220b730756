"""Validated inputs of run services (pydantic, `extra="forbid"`).

The bundle format has its own schema in `research.schemas`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

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


class ReviewDecision(_Input):
    note: Annotated[str, Field(max_length=10_000)] = ""


class RejectDecision(_Input):
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
