"""Reviewers' per-company decisions (SPEC §10): validated against the bundle and the tenant,
stored with the approval, read back by ingestion."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ats.actors import Actor
from ats.errors import FieldError, InvalidInput
from ats.models import Company
from research.inputs import CompanyDecisionInput
from research.models import Bundle, CompanyDecision, DecisionAction

MSG_INVALID_DECISIONS = "Some decisions are invalid; see errors."
MSG_NO_SUCH_PROPOSAL = (
    "The bundle proposes {count} companies (indexes 0 to {last}); there is no company {index}."
)
MSG_DECIDED_TWICE = "Company {index} is decided twice (also in decisions.{first})."
MSG_UNKNOWN_COMPANY = "No company with id {company_id} in this tenant."


@dataclass(frozen=True)
class DecisionCounts:
    included: int = 0
    excluded: int = 0
    same_as: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"included": self.included, "excluded": self.excluded, "same_as": self.same_as}


def decisions_validate(*, bundle: Bundle, decisions: Sequence[CompanyDecisionInput]) -> None:
    """Each decision names a company of the bundle, at most once, and `same_as` an existing
    company of the bundle's tenant. Raises InvalidInput naming `decisions.N.<field>`."""
    companies = bundle.payload["proposal_json"]["companies"]
    errors: list[FieldError] = []
    first_at: dict[int, int] = {}
    for n, decision in enumerate(decisions):
        if decision.company >= len(companies):
            errors.append(
                FieldError(
                    f"decisions.{n}.company",
                    MSG_NO_SUCH_PROPOSAL.format(
                        count=len(companies), last=len(companies) - 1, index=decision.company
                    ),
                    "out_of_range",
                )
            )
        elif decision.company in first_at:
            errors.append(
                FieldError(
                    f"decisions.{n}.company",
                    MSG_DECIDED_TWICE.format(
                        index=decision.company, first=first_at[decision.company]
                    ),
                    "duplicate",
                )
            )
        else:
            first_at[decision.company] = n
    wanted = {d.company_id for d in decisions if d.company_id is not None}
    known = set(
        Company.objects.filter(tenant_id=bundle.tenant_id, pk__in=wanted).values_list(
            "pk", flat=True
        )
    )
    for n, decision in enumerate(decisions):
        if decision.company_id is not None and decision.company_id not in known:
            errors.append(
                FieldError(
                    f"decisions.{n}.company_id",
                    MSG_UNKNOWN_COMPANY.format(company_id=decision.company_id),
                    "not_found",
                )
            )
    if errors:
        raise InvalidInput(MSG_INVALID_DECISIONS, errors=errors)


def decisions_record(
    *, bundle: Bundle, decisions: Sequence[CompanyDecisionInput], actor: Actor
) -> DecisionCounts:
    """Store validated decisions with the approval (inside its transaction)."""
    companies = bundle.payload["proposal_json"]["companies"]
    CompanyDecision.objects.bulk_create(
        CompanyDecision(
            tenant_id=bundle.tenant_id,
            bundle=bundle,
            company_index=d.company,
            proposed_name=companies[d.company]["name"][:500],
            action=d.action,
            company_id=d.company_id,
            decided_by=actor.user,
            decided_by_actor=actor.label,
        )
        for d in decisions
    )
    by_action = Counter(d.action for d in decisions)
    return DecisionCounts(
        included=by_action[DecisionAction.INCLUDE],
        excluded=by_action[DecisionAction.EXCLUDE],
        same_as=by_action[DecisionAction.SAME_AS],
    )


def decisions_of(bundle: Bundle) -> dict[int, CompanyDecision]:
    """The bundle's stored decisions by company index (one query)."""
    return {d.company_index: d for d in CompanyDecision.objects.filter(bundle=bundle)}
