"""``validate_bundle``: the answer to "is this upload a valid bundle?", never an exception.

Order of the checks, all collected into one answer:
1. the payload must be a JSON object; its canonical hash is computed as uploaded;
2. values JSON or PostgreSQL cannot hold (NaN, NUL characters, unpaired surrogates...), anywhere;
3. pydantic: structure, types and limits of every field, then the rules of ``RunBundleV1``
   (cross-references and evidence verification run only when the structure is valid).
"""

import functools
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ats.gc_pause import gc_paused
from ats.jsonvalues import unstorable_values

from . import issues
from .issues import Issue, format_loc
from .models import RunBundleV1
from .normalize import canonical_json

MAX_ISSUES = 1_000
_MESSAGE_LIMIT = 500
_JSON_KIND_MESSAGES = {
    "model_type": issues.MSG_JSON_OBJECT,
    "dict_type": issues.MSG_JSON_OBJECT,
    "list_type": issues.MSG_JSON_ARRAY,
}


@dataclass(frozen=True, slots=True)
class BundleCounts:
    """What a valid bundle holds, after deduplication (aliases, metrics)."""

    sources: int
    companies: int
    evidence: int
    unverified_evidence: int
    metrics: int
    steps: int
    aliases: int

    @classmethod
    def of(cls, bundle: RunBundleV1) -> "BundleCounts":
        companies = bundle.proposal_json.companies
        evidence = [item for company in companies for item in company.evidence]
        return cls(
            sources=len(bundle.sources),
            companies=len(companies),
            evidence=len(evidence),
            unverified_evidence=sum(not item.verified for item in evidence),
            metrics=sum(len(company.metrics) for company in companies),
            steps=len(bundle.steps),
            aliases=sum(len(company.aliases) for company in companies),
        )

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True)
class BundleValidation:
    """The outcome of ``validate_bundle``.

    ``bundle`` and ``counts`` are set only when ``ok``. ``sha256`` is the canonical hash of the
    payload as uploaded (before normalization), set whenever the payload is a JSON object
    and was not validated as `stored` (read back from the database).
    """

    ok: bool
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    bundle: RunBundleV1 | None = None
    sha256: str | None = None

    @functools.cached_property
    def counts(self) -> BundleCounts | None:
        # Counted when asked (an upload stores them; ingestion never asks).
        return BundleCounts.of(self.bundle) if self.ok and self.bundle is not None else None

    def as_dict(self) -> dict[str, Any]:
        """The validation answer of SPEC §5, plus ``sha256`` and ``counts``."""
        return {
            "ok": self.ok,
            "errors": [issue.as_dict() for issue in self.errors],
            "warnings": [issue.as_dict() for issue in self.warnings],
            "sha256": self.sha256,
            "counts": self.counts.as_dict() if self.counts else None,
        }


def validate_bundle(
    payload: object,
    *,
    expected_run_id: uuid.UUID | str | None = None,
    max_issues: int | None = MAX_ISSUES,
    stored: bool = False,
) -> BundleValidation:
    """Validate an uploaded bundle (a parsed JSON document) and normalize it.

    Never raises for any payload. ``expected_run_id``, when given, must equal the bundle's
    ``run_id``. Errors and warnings are each cut to ``max_issues`` (``None``: no limit), the
    last one saying how many were left out, so that an answer stays readable. ``stored``: the
    payload was read back from a ``jsonb`` column, which can hold none of the values step 2
    looks for, and whose hash was taken at upload: steps 1-2 are skipped (``sha256`` is None).
    """
    if isinstance(expected_run_id, str):
        try:
            expected_run_id = uuid.UUID(expected_run_id)
        except ValueError:
            raise ValueError(f"expected_run_id is not a UUID: {expected_run_id!r}") from None

    sha256 = None
    value_issues: list[Issue] = []
    if isinstance(payload, dict) and not stored:
        sha256, value_issues = _hash_and_check_values(payload)

    warnings: list[Issue] = []
    context = {"expected_run_id": expected_run_id, "warnings": warnings}
    bundle = None
    model_issues: list[Issue] = []
    try:
        with gc_paused():
            bundle = RunBundleV1.model_validate(payload, context=context)
    except ValidationError as exc:
        model_issues = [_issue_from_pydantic(error) for error in exc.errors(include_url=False)]

    reported = {issue.loc for issue in model_issues}
    errors = [issue for issue in value_issues if issue.loc not in reported] + model_issues
    ok = not errors
    return BundleValidation(
        ok=ok,
        errors=_cut(errors, max_issues, issues.TOO_MANY_ERRORS, issues.MSG_TOO_MANY_ERRORS),
        warnings=_cut(warnings, max_issues, issues.TOO_MANY_WARNINGS, issues.MSG_TOO_MANY_WARNINGS),
        bundle=bundle if ok else None,
        sha256=sha256,
    )


def _issue_from_pydantic(error: Any) -> Issue:
    # Keep loc, msg and type; drop input, ctx and url, which may echo megabytes back.
    msg = _JSON_KIND_MESSAGES.get(error["type"], error["msg"])
    if len(msg) > _MESSAGE_LIMIT:
        msg = msg[: _MESSAGE_LIMIT - 3] + "..."
    return Issue(loc=format_loc(error["loc"]), msg=msg, type=error["type"])


def _cut(found: list[Issue], limit: int | None, code: str, template: str) -> list[Issue]:
    if limit is None or len(found) <= limit:
        return found
    left_out = len(found) - limit + 1
    summary = Issue(loc="", msg=template.format(count=f"{left_out:,}"), type=code)
    return [*found[: limit - 1], summary]


def _hash_and_check_values(payload: dict[str, Any]) -> tuple[str | None, list[Issue]]:
    """Hash the payload; find what JSON or the database cannot store, only if something is."""
    try:
        canonical = canonical_json(payload)
    except (ValueError, TypeError, RecursionError) as exc:
        found = _find_bad_values(payload)
        if not found:  # nothing to point at: nesting beyond the serializer's recursion limit
            reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            msg = issues.MSG_NOT_SERIALIZABLE.format(reason=reason[:200])
            found = [Issue(loc="", msg=msg, type=issues.INVALID_JSON_VALUE)]
        return None, found
    sha256 = hashlib.sha256(canonical).hexdigest()
    # JSON escapes NUL as \u0000; the text can also appear escaped in a string (a false alarm
    # the exact search below clears).
    if b"\\u0000" in canonical:
        return sha256, _find_bad_values(payload)
    return sha256, []


def _find_bad_values(payload: dict[str, Any]) -> list[Issue]:
    return [Issue(error.loc, error.msg, error.type) for error in unstorable_values(payload)]
