"""The pydantic models of ``run_bundle_v1`` (SPEC §5).

``RunBundleV1.model_validate(payload)`` checks everything the format defines: structure and
limits first; then, only when the structure is valid, the cross-references (each cited source
is in ``sources``) and evidence verification. A validated bundle is normalized for the rest of
the system: lowercase hashes, uppercase country and currency codes, normalized metric keys,
deduplicated aliases, metrics and ``source_sha256s``, and resolved evidence (``Company.evidence``).
Treat a validated bundle as read-only.

Model docstrings and field descriptions are published in the JSON Schema: keep them plain text.
"""

import uuid
from typing import Annotated, Any, Literal, Self

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from . import issues
from .fields import (
    Name,
    OptionalCountryCode,
    OptionalDatetime,
    OptionalDomain,
    OptionalHttpUrl,
    OptionalStr,
    Sha256,
    Str,
    UnitInterval,
    null_as_empty,
)
from .issues import Issue, clip, fail, format_loc, line_error, raise_all
from .parts import Alias, AliasItem, BundleModel, EvidenceItem, Metric, Source, Step
from .resolve import ResolvedEvidence, resolve_bundle

BUNDLE_VERSION = "run_bundle_v1"
MAX_SOURCES = 2_000
MAX_COMPANIES = 5_000
MAX_STEPS = 10_000
MAX_RANK = 2_147_483_647  # fits a PostgreSQL integer


class Company(BundleModel):
    """A company the research proposes, with its sources, evidence and metrics."""

    name: Name = Field(description="1-500 characters; whitespace is collapsed.")
    aliases: Annotated[list[AliasItem], null_as_empty(list[AliasItem]), Field(max_length=100)] = (
        Field(
            default_factory=list,
            description="Other names: strings or {name, type}. Duplicates and the name itself are "
            "dropped (case-insensitive); a repeated alias lends its type to the first.",
        )
    )
    website_url: OptionalHttpUrl = Field(
        default=None, description="The company's website: an http(s) URL."
    )
    domain: OptionalDomain = Field(
        default=None,
        description="The company's domain: a bare hostname such as 'example.com', not a URL.",
    )
    hq_country: OptionalCountryCode = Field(
        default=None, description="Country of the headquarters."
    )
    hq_city: OptionalStr = Field(
        default=None, max_length=200, description="City of the headquarters."
    )
    sector: OptionalStr = Field(default=None, max_length=200, description="Industry or sector.")
    description: OptionalStr = Field(
        default=None, max_length=5_000, description="What the company does."
    )
    ai_rank: Annotated[int, Field(strict=True, ge=1, le=MAX_RANK)] | None = Field(
        default=None, description="The agent's rank of the company, from 1 (best)."
    )
    ai_score: UnitInterval | None = Field(
        default=None, description="The agent's score of the company, from 0 to 1."
    )
    source_sha256s: Annotated[list[Sha256], Field(min_length=1, max_length=MAX_SOURCES)] = Field(
        description="The sources about the company (at least one); each one of the bundle's "
        "sources. Duplicates are dropped."
    )
    evidence_snippets: Annotated[list[EvidenceItem], Field(min_length=1, max_length=1_000)] = Field(
        description="Passages supporting the company (at least one): strings, which may come "
        "from any of its sources, or {text, source_sha256}."
    )
    metrics: Annotated[list[Metric], null_as_empty(list[Metric]), Field(max_length=1_000)] = Field(
        default_factory=list,
        description="Typed facts. Metrics with the same key, value and as_of_date collapse to "
        "the first.",
    )

    _evidence: list[ResolvedEvidence] | None = PrivateAttr(default=None)

    @field_validator("aliases")
    @classmethod
    def _dedupe_aliases(cls, aliases: list[Alias], info: ValidationInfo) -> list[Alias]:
        name = info.data.get("name")
        position: dict[str, int] = {name.casefold(): -1} if name else {}  # -1: the name itself
        kept: list[Alias] = []
        for alias in aliases:
            folded = alias.name.casefold()
            if folded not in position:
                position[folded] = len(kept)
                kept.append(alias)
                continue
            first = position[folded]
            if first >= 0 and kept[first].type is None and alias.type:
                kept[first] = Alias(name=kept[first].name, type=alias.type)
        return kept

    @property
    def evidence(self) -> list[ResolvedEvidence]:
        """The snippets resolved against the bundle's sources, in the bundle's order."""
        if self._evidence is None:
            raise RuntimeError("Evidence is resolved only when a company is part of a bundle")
        return self._evidence


class Proposal(BundleModel):
    """What the research proposes: the query it answered and the companies it found."""

    query: Str = Field(
        min_length=1, max_length=2_000, description="The question the research answered."
    )
    generated_at: OptionalDatetime = Field(
        default=None, description="ISO 8601 datetime with a timezone."
    )
    model: OptionalStr = Field(
        default=None, max_length=200, description="The model that wrote the proposal."
    )
    companies: Annotated[list[Company], Field(min_length=1, max_length=MAX_COMPANIES)] = Field(
        description="The proposed companies: 1 to 5,000."
    )


class RunBundleV1(BundleModel):
    """One upload of an agent's work for a research run (format run_bundle_v1).

    Unknown fields are rejected at every level. Optional fields may be absent or null; blank
    optional strings count as absent.
    """

    version: Literal["run_bundle_v1"] = Field(description="The format: 'run_bundle_v1'.")
    run_id: uuid.UUID = Field(description="The id of the run the bundle is uploaded to.")
    plan_json: dict[str, Any] = Field(
        description="The agent's plan, free-form; its 'objective' is shown to reviewers."
    )
    steps: Annotated[list[Step], null_as_empty(list[Step]), Field(max_length=MAX_STEPS)] = Field(
        default_factory=list, description="What the agent did, step by step."
    )
    sources: Annotated[list[Source], Field(min_length=1, max_length=MAX_SOURCES)] = Field(
        description="The documents the research read: 1 to 2,000, each listed once."
    )
    proposal_json: Proposal = Field(description="The result of the research.")

    _warnings: list[Issue] = PrivateAttr(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _check_version(cls, data: Any) -> Any:
        # Another version is another format: listing how it differs from this one helps nobody.
        if isinstance(data, dict) and "version" in data and data["version"] != BUNDLE_VERSION:
            code, msg = issues.UNSUPPORTED_VERSION, issues.MSG_UNSUPPORTED_VERSION
            fail("RunBundleV1", code, msg, ("version",), {"version": clip(data["version"], 60)})
        return data

    @field_validator("run_id")
    @classmethod
    def _check_run_id(cls, run_id: uuid.UUID, info: ValidationInfo) -> uuid.UUID:
        expected = info.context.get("expected_run_id") if isinstance(info.context, dict) else None
        if expected is not None and run_id != expected:
            raise PydanticCustomError(
                issues.RUN_ID_MISMATCH, issues.MSG_RUN_ID_MISMATCH, {"expected": str(expected)}
            )
        return run_id

    @field_validator("steps")
    @classmethod
    def _check_unique_step_keys(cls, steps: list[Step]) -> list[Step]:
        first: dict[str, int] = {}
        errors = []
        for index, step in enumerate(steps):
            if step.step_key not in first:
                first[step.step_key] = index
                continue
            code, msg = issues.DUPLICATE_STEP_KEY, issues.MSG_DUPLICATE_STEP_KEY
            context = {"step_key": clip(step.step_key), "first": str(first[step.step_key])}
            errors.append(line_error(code, msg, (index, "step_key"), context))
        raise_all("RunBundleV1", errors)
        return steps

    @field_validator("sources")
    @classmethod
    def _check_unique_sources(cls, sources: list[Source]) -> list[Source]:
        first: dict[str, int] = {}
        errors = []
        for index, source in enumerate(sources):
            if source.sha256 not in first:
                first[source.sha256] = index
                continue
            code, msg = issues.DUPLICATE_SOURCE, issues.MSG_DUPLICATE_SOURCE
            context = {"sha256": source.sha256, "first": str(first[source.sha256])}
            errors.append(line_error(code, msg, (index, "sha256"), context))
        raise_all("RunBundleV1", errors)
        return sources

    @model_validator(mode="after")
    def _resolve_references(self, info: ValidationInfo) -> Self:
        errors, warnings = resolve_bundle(self)
        self._warnings = [Issue(format_loc(loc), msg, code) for loc, code, msg in warnings]
        if isinstance(info.context, dict) and isinstance(info.context.get("warnings"), list):
            info.context["warnings"].extend(self._warnings)  # reported even if errors follow
        raise_all(
            "RunBundleV1", [line_error(code, msg, loc, ctx) for loc, code, msg, ctx in errors]
        )
        return self

    @property
    def objective(self) -> str | None:
        """``plan_json["objective"]`` when it is a non-blank string, for reviewers."""
        objective = self.plan_json.get("objective")
        return (objective.strip() or None) if isinstance(objective, str) else None

    @property
    def warnings(self) -> list[Issue]:
        """Warnings found while validating: unverified evidence, probable duplicate companies."""
        return list(self._warnings)
