"""The reviewer's decisions while they page through a bundle, before they approve.

The review page shows 50 companies at a time. Moving to another page submits the decisions
made on this one; they are kept in the reviewer's session (per bundle) and shown again, and
Approve sends all of them, from every page. Nothing reaches the database before Approve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from research.inputs import CompanyDecisionInput
from research.models import Bundle

MSG_PICK_COMPANY = (
    "Pick the existing company that {name} is the same as, or choose another decision."
)
MSG_BAD_DECISION = "Unknown decision {value!r} for {name}."
NOTE_LIMIT = 10_000


@dataclass
class ReviewDraft:
    """Per company index: "include", "exclude" or "same_as:<company id>"; companies left at
    the default (include as matched) are absent."""

    choices: dict[int, str] = field(default_factory=dict)
    note: str = ""

    def update(self, data: Any, companies: list[dict[str, Any]]) -> list[str]:
        """Take the decisions a form posted (`decision-<index>`, and `company-<index>` for
        "another company"); returns messages for values that make no sense. A company set
        back to the default leaves the draft."""
        problems = []
        for key, posted in data.items():
            if not key.startswith("decision-"):
                continue
            raw_index = key.removeprefix("decision-")
            if not raw_index.isdigit() or int(raw_index) >= len(companies):
                problems.append(MSG_BAD_DECISION.format(value=key, name="an unknown company"))
                continue
            index, name = int(raw_index), companies[int(raw_index)]["name"]
            value = posted
            if value == "other":
                company_id = data.get(f"company-{index}", "")
                if not company_id:
                    problems.append(MSG_PICK_COMPANY.format(name=name))
                    continue
                value = f"same_as:{company_id}"
            action, _, company_id = value.partition(":")
            if not value:
                self.choices.pop(index, None)
            elif (action in ("include", "exclude") and not company_id) or (
                action == "same_as" and company_id.isdigit()
            ):
                self.choices[index] = value
            else:
                problems.append(MSG_BAD_DECISION.format(value=value, name=name))
        if "note" in data:
            self.note = data["note"][:NOTE_LIMIT]
        return problems

    def decisions(self) -> list[CompanyDecisionInput]:
        decisions = []
        for index, value in sorted(self.choices.items()):
            action, _, company_id = value.partition(":")
            decisions.append(
                CompanyDecisionInput(
                    company=index, action=action, company_id=int(company_id) if company_id else None
                )
            )
        return decisions

    def summary(self, on_page: set[int]) -> dict[str, int]:
        """How many companies outside this page the reviewer decided, by decision."""
        counts = {"exclude": 0, "include": 0, "same_as": 0}
        for index, value in self.choices.items():
            if index not in on_page:
                counts[value.partition(":")[0]] += 1
        return counts


def _key(bundle: Bundle) -> str:
    return f"research-review-draft:{bundle.pk}"


def load_draft(request: HttpRequest, bundle: Bundle) -> ReviewDraft:
    stored = request.session.get(_key(bundle)) or {}
    choices = {int(index): value for index, value in stored.get("choices", {}).items()}
    return ReviewDraft(choices=choices, note=stored.get("note", ""))


def save_draft(request: HttpRequest, bundle: Bundle, draft: ReviewDraft) -> None:
    request.session[_key(bundle)] = {
        "choices": {str(index): value for index, value in draft.choices.items()},
        "note": draft.note,
    }


def clear_draft(request: HttpRequest, bundle: Bundle) -> None:
    request.session.pop(_key(bundle), None)
