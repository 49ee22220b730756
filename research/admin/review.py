"""The review page of a run (SPEC §10): a custom admin view of its own, with Approve and
Reject as separate top-level forms bound to the bundle shown (its id and SHA-256).

Reviewers decide per company (include, exclude, same as an existing company); analysts see
the page read-only. A stale page (the bundle was superseded or already decided) answers 409
and changes nothing; a forced POST without the reviewer role answers 403 in the admin layout.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from ats.actors import Actor
from ats.admin import has_tenant_role, member_roles
from ats.errors import Conflict, FieldError, InvalidInput, ServiceError
from ats.models import Company, MemberRole
from research.formatting import actor_display, plural, when
from research.inputs import MSG_NOTE_REQUIRED, CompanyDecisionInput, RejectDecision
from research.models import Bundle, BundleStatus, CompanyDecision, ResearchRun
from research.review import ReviewPanel, review_outcome, review_panel
from research.services import bundles as bundle_services

MSG_NEEDS_REVIEWER = (
    "Approving and rejecting bundles needs the reviewer role in {tenant}; your role is {role}. "
    "Ask an admin of your firm if you should review."
)
MSG_PICK_COMPANY = (
    "Pick the existing company that {name} is the same as, or choose another decision."
)
MSG_BAD_DECISION = "Unknown decision {value!r} for {name}."
MSG_APPROVED = (
    "Bundle approved: ingestion job {job} is queued. This page shows the result when it is done."
)
MSG_REJECTED = "Bundle rejected. The researcher sees your note."


class CompanyPicker(AutocompleteSelect):
    """The admin's company autocomplete, limited to one tenant's companies (the run's)."""

    def __init__(self, *, tenant_id: int) -> None:
        super().__init__(CompanyDecision._meta.get_field("company"), admin.site)
        self.tenant_id = tenant_id
        self.choices = forms.ModelChoiceField(
            queryset=Company.objects.filter(tenant_id=tenant_id), required=False
        ).choices

    def get_url(self) -> str:
        return f"{super().get_url()}?tenant={self.tenant_id}"


def _current_bundle(run: ResearchRun) -> Bundle | None:
    """The bundle the page is about: the one awaiting review, else the newest decided."""
    return (
        Bundle.objects.filter(run=run)
        .exclude(status=BundleStatus.SUPERSEDED)
        .select_related("run__tenant", "run__role__client_company")
        .order_by("-created_at")
        .first()
    )


def decisions_from_form(
    data: Any, companies: list[dict[str, Any]]
) -> tuple[list[CompanyDecisionInput], list[str]]:
    """The posted per-company decisions (`decision-<index>` and, for "another company",
    `company-<index>`); also messages for values that make no sense. Only explicit choices
    become decisions: an empty value is the default (include as matched)."""
    decisions, problems = [], []
    for key, value in data.items():
        if not key.startswith("decision-") or not value:
            continue
        raw_index = key.removeprefix("decision-")
        if not raw_index.isdigit() or int(raw_index) >= len(companies):
            problems.append(MSG_BAD_DECISION.format(value=key, name="an unknown company"))
            continue
        index = int(raw_index)
        name = companies[index]["name"]
        action, _, company_id = value.partition(":")
        if action == "other":
            action, company_id = "same_as", data.get(f"company-{index}", "")
            if not company_id:
                problems.append(MSG_PICK_COMPANY.format(name=name))
                continue
        if action not in ("include", "exclude", "same_as") or (
            action == "same_as" and not company_id.isdigit()
        ):
            problems.append(MSG_BAD_DECISION.format(value=value, name=name))
            continue
        decisions.append(
            CompanyDecisionInput(
                company=index,
                action=action,
                company_id=int(company_id) if action == "same_as" else None,
            )
        )
    return decisions, problems


class RunReviewAdminMixin:
    """Adds the review page and its approve/reject endpoints to the research run admin."""

    def get_urls(self) -> list:
        view = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path(
                "<uuid:run_id>/review/",
                view(self.review_view),
                name="research_researchrun_review",
            ),
            path(
                "<uuid:run_id>/review/approve/",
                view(require_POST(self.approve_view)),
                name="research_researchrun_approve",
            ),
            path(
                "<uuid:run_id>/review/reject/",
                view(require_POST(self.reject_view)),
                name="research_researchrun_reject",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    # --- reading ------------------------------------------------------------------------

    def _run(self, request: HttpRequest, run_id: Any) -> ResearchRun:
        return get_object_or_404(
            self.get_queryset(request).select_related("tenant", "role__client_company"),  # type: ignore[attr-defined]
            pk=run_id,
        )

    def review_url(self, run: ResearchRun) -> str:
        return reverse("admin:research_researchrun_review", args=[run.pk])

    def review_view(self, request: HttpRequest, run_id: Any) -> HttpResponse:
        return self._render(request, self._run(request, run_id))

    def _render(
        self,
        request: HttpRequest,
        run: ResearchRun,
        *,
        status: int = 200,
        form_errors: list[str] | None = None,
        note: str = "",
        reject_note_error: str = "",
    ) -> HttpResponse:
        bundle = _current_bundle(run)
        can_review = has_tenant_role(request, MemberRole.REVIEWER, run.tenant_id)
        panel = outcome = None
        if bundle is not None:
            bundle.run = run
            if bundle.status == BundleStatus.PENDING_REVIEW:
                panel = review_panel(bundle=bundle, page_number=request.GET.get("page", 1))
                if can_review:
                    self._add_pickers(panel, run)
            else:
                outcome = review_outcome(bundle=bundle)
        role = member_roles(request).get(run.tenant_id, "")
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": ResearchRun._meta,
            "title": f"Review: {run}",
            "subtitle": None,
            "run": run,
            "bundle": bundle,
            "uploaded_by": actor_display(bundle.uploaded_by_actor) if bundle else "",
            "uploaded_at": when(bundle.created_at) if bundle else "",
            "reviewed_by": actor_display(bundle.reviewed_by_actor) if bundle else "",
            "reviewed_at": when(bundle.reviewed_at) if bundle else "",
            "warnings": plural(len(bundle.validation_warnings), "warning") if bundle else "",
            "panel": panel,
            "outcome": outcome,
            "can_review": can_review and panel is not None,
            "needs_reviewer": ""
            if can_review
            else MSG_NEEDS_REVIEWER.format(tenant=run.tenant.name, role=role or "none"),
            "form_errors": form_errors or [],
            "note": note,
            "reject_note_error": reject_note_error,
            "change_url": reverse("admin:research_researchrun_change", args=[run.pk]),
        }
        return TemplateResponse(
            request, "admin/research/researchrun/review.html", context, status=status
        )

    def _add_pickers(self, panel: ReviewPanel, run: ResearchRun) -> None:
        picker = CompanyPicker(tenant_id=run.tenant_id)
        for view in {id(v): v for v in [*panel.duplicates, *panel.companies]}.values():
            view.picker = picker.render(  # type: ignore[attr-defined]
                f"company-{view.index}",
                None,
                attrs={"id": f"id_company_{view.index}", "form": "approve-form"},
            )
        panel.media = picker.media  # type: ignore[attr-defined]

    # --- deciding -----------------------------------------------------------------------

    def _forbidden(self, request: HttpRequest, run: ResearchRun) -> HttpResponse:
        role = member_roles(request).get(run.tenant_id, "none")
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": ResearchRun._meta,
            "title": "You cannot approve or reject this bundle",
            "run": run,
            "message": MSG_NEEDS_REVIEWER.format(tenant=run.tenant.name, role=role),
            "review_url": self.review_url(run),
        }
        return TemplateResponse(
            request, "admin/research/researchrun/review_forbidden.html", context, status=403
        )

    def _bundle_posted(self, request: HttpRequest, run: ResearchRun) -> Bundle:
        """The bundle the page showed, which must still await review (else 409)."""
        sha = request.POST.get("bundle_sha256", "").strip().lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise Conflict("The form did not say which bundle it was about; reload the page.")
        bundle = bundle_services.bundle_for_review(run=run, bundle_sha256=sha)
        if request.POST.get("bundle_id") and request.POST["bundle_id"] != str(bundle.pk):
            raise Conflict("The form's bundle id and SHA-256 disagree; reload the page.")
        return bundle

    def approve_view(self, request: HttpRequest, run_id: Any) -> HttpResponse:
        run = self._run(request, run_id)
        if not has_tenant_role(request, MemberRole.REVIEWER, run.tenant_id):
            return self._forbidden(request, run)
        note = request.POST.get("note", "")[:10_000]
        try:
            bundle = self._bundle_posted(request, run)
            companies = bundle.payload["proposal_json"]["companies"]
            decisions, problems = decisions_from_form(request.POST, companies)
            if problems:
                raise InvalidInput(
                    problems[0], errors=[FieldError("", p, "invalid") for p in problems]
                )
            bundle_services.bundle_approve(
                bundle=bundle,
                actor=Actor.for_user(request.user),
                note=note,
                decisions=decisions,
                require_duplicate_decisions=True,
            )
        except ServiceError as exc:
            return self._refused(request, run, exc, note=note)
        self.log_change(request, run, f"Approved bundle {bundle.sha256[:12]}")  # type: ignore[attr-defined]
        messages.success(request, MSG_APPROVED.format(job=bundle.ingest_job_id))
        return HttpResponseRedirect(self.review_url(run))

    def reject_view(self, request: HttpRequest, run_id: Any) -> HttpResponse:
        run = self._run(request, run_id)
        if not has_tenant_role(request, MemberRole.REVIEWER, run.tenant_id):
            return self._forbidden(request, run)
        note = request.POST.get("note", "")[:10_000]
        if not note.strip():
            return self._render(request, run, status=400, reject_note_error=MSG_NOTE_REQUIRED)
        try:
            bundle = self._bundle_posted(request, run)
            bundle_services.bundle_reject(
                bundle=bundle,
                actor=Actor.for_user(request.user),
                decision=RejectDecision(note=note),
            )
        except ServiceError as exc:
            return self._refused(request, run, exc, note="")
        self.log_change(request, run, f"Rejected bundle {bundle.sha256[:12]}")  # type: ignore[attr-defined]
        messages.success(request, MSG_REJECTED)
        return HttpResponseRedirect(self.review_url(run))

    def _refused(
        self, request: HttpRequest, run: ResearchRun, exc: ServiceError, *, note: str
    ) -> HttpResponse:
        """The page as it is now, with why nothing happened (409 stale, 400 invalid)."""
        details = [e.msg for e in exc.errors if e.msg != exc.message]
        return self._render(
            request,
            run,
            status=exc.status_code,
            form_errors=[exc.message, *details],
            note=note,
        )


def review_link(run: ResearchRun) -> str:
    """The "Review" link of a run awaiting review (run list and run page)."""
    url = reverse("admin:research_researchrun_review", args=[run.pk])
    return format_html('<a class="button review-link" href="{}">Review</a>', url)
