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
from research.inputs import MSG_NOTE_REQUIRED, RejectDecision
from research.models import Bundle, BundleStatus, CompanyDecision, ResearchRun
from research.review import ReviewPanel, review_outcome, review_panel
from research.services import bundles as bundle_services

from .review_drafts import NOTE_LIMIT, ReviewDraft, clear_draft, load_draft, save_draft

MSG_NEEDS_REVIEWER = (
    "Approving and rejecting bundles needs the reviewer role in {tenant}; your role is {role}. "
    "Ask an admin of your firm if you should review."
)
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
                "<uuid:run_id>/review/page/",
                view(require_POST(self.page_view)),
                name="research_researchrun_review_page",
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
        panel = outcome = draft = None
        if bundle is not None:
            bundle.run = run
            if bundle.status == BundleStatus.PENDING_REVIEW:
                panel = review_panel(bundle=bundle, page_number=request.GET.get("page", 1))
                if can_review:
                    draft = load_draft(request, bundle)
                    self._add_decision_controls(panel, run, draft)
            else:
                outcome = review_outcome(bundle=bundle)
        on_page = {view.index for view in panel.companies} if panel else set()
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
            "note": note or (draft.note if draft else ""),
            "decided_elsewhere": draft.summary(on_page) if draft else {},
            "reject_note_error": reject_note_error,
            "change_url": reverse("admin:research_researchrun_change", args=[run.pk]),
        }
        return TemplateResponse(
            request, "admin/research/researchrun/review.html", context, status=status
        )

    def _add_decision_controls(
        self, panel: ReviewPanel, run: ResearchRun, draft: ReviewDraft
    ) -> None:
        """Each company's decision options, with the reviewer's draft choice selected, and
        the company search for "another company"."""
        picker = CompanyPicker(tenant_id=run.tenant_id)
        for view in {id(v): v for v in [*panel.duplicates, *panel.companies]}.values():
            chosen = draft.choices.get(view.index, "")
            offered = {value for value, _, _ in decision_options(view, "")}
            picked = None
            if chosen not in offered:  # a company searched for: "another company…"
                chosen, picked = "other", chosen.removeprefix("same_as:")
            if not chosen and view.probable_duplicate:
                chosen = "include"
            view.options = decision_options(view, chosen)  # type: ignore[attr-defined]
            view.picker = picker.render(  # type: ignore[attr-defined]
                f"company-{view.index}",
                picked,
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
        note = request.POST.get("note", "")[:NOTE_LIMIT]
        try:
            bundle = self._bundle_posted(request, run)
            draft = self._draft_with_posted(request, bundle)
            bundle_services.bundle_approve(
                bundle=bundle,
                actor=Actor.for_user(request.user),
                note=note,
                decisions=draft.decisions(),
                require_duplicate_decisions=True,
            )
        except ServiceError as exc:
            return self._refused(request, run, exc, note=note)
        clear_draft(request, bundle)
        self.log_change(request, run, f"Approved bundle {bundle.sha256[:12]}")  # type: ignore[attr-defined]
        messages.success(request, MSG_APPROVED.format(job=bundle.ingest_job_id))
        return HttpResponseRedirect(self.review_url(run))

    def reject_view(self, request: HttpRequest, run_id: Any) -> HttpResponse:
        run = self._run(request, run_id)
        if not has_tenant_role(request, MemberRole.REVIEWER, run.tenant_id):
            return self._forbidden(request, run)
        note = request.POST.get("note", "")[:NOTE_LIMIT]
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
        clear_draft(request, bundle)
        self.log_change(request, run, f"Rejected bundle {bundle.sha256[:12]}")  # type: ignore[attr-defined]
        messages.success(request, MSG_REJECTED)
        return HttpResponseRedirect(self.review_url(run))

    def _draft_with_posted(self, request: HttpRequest, bundle: Bundle) -> ReviewDraft:
        """The reviewer's draft with the decisions this form posted; kept in the session,
        also when some make no sense (400), so that nothing they chose is lost."""
        draft = load_draft(request, bundle)
        problems = draft.update(request.POST, bundle.payload["proposal_json"]["companies"])
        save_draft(request, bundle, draft)
        if problems:
            raise InvalidInput(problems[0], errors=[FieldError("", p, "invalid") for p in problems])
        return draft

    def page_view(self, request: HttpRequest, run_id: Any) -> HttpResponse:
        """Another page of companies: keep this page's decisions (and the note), then go."""
        run = self._run(request, run_id)
        if not has_tenant_role(request, MemberRole.REVIEWER, run.tenant_id):
            return self._forbidden(request, run)
        try:
            bundle = self._bundle_posted(request, run)
            self._draft_with_posted(request, bundle)
        except ServiceError as exc:
            return self._refused(request, run, exc, note=request.POST.get("note", ""))
        goto = request.POST.get("goto", "1")
        page = int(goto) if goto.isdigit() else 1
        return HttpResponseRedirect(f"{self.review_url(run)}?page={page}#companies")

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


def decision_options(view: Any, chosen: str) -> list[tuple[str, str, bool]]:
    """(value, label, selected) of a company's decision select."""
    if view.probable_duplicate:
        options = [("include", "Create as a new company")]
    else:
        becomes = view.match.company.name if view.match.company else "a new company"
        options = [("", f"Include as {becomes}")]
    options.append(("exclude", "Exclude: do not ingest"))
    for hint in view.match.hints:
        options.append((f"same_as:{hint.company.id}", f"Same as {hint.company.name}"))
    for other in view.match.ambiguous_with:
        options.append((f"same_as:{other.id}", f"Same as {other.name}"))
    options.append(("other", "Same as another company…"))
    return [(value, label, value == chosen) for value, label in options]


def review_link(run: ResearchRun) -> str:
    """The "Review" link of a run awaiting review (run list and run page)."""
    url = reverse("admin:research_researchrun_review", args=[run.pk])
    return format_html('<a class="button review-link" href="{}">Review</a>', url)
