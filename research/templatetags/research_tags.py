"""Template helpers of the research admin: counted nouns and the index's review count."""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.urls import reverse

from ats.admin import tenant_ids_for
from research.formatting import actor_display, plural
from research.models import ResearchRun, RunStatus

register = template.Library()


@register.filter
def counted(count: int | None, forms: str) -> str:
    """`{{ n|counted:"company,companies" }}` → "1 company", "2 companies"."""
    singular, _, plural_form = forms.partition(",")
    return plural(count or 0, singular, plural_form or None)


@register.filter
def actor(label: str) -> str:
    """`{{ event.actor|actor }}`: "user:ann" → "ann", "system:worker" → "the worker"."""
    return actor_display(label)


@register.inclusion_tag("admin/research/awaiting_review.html", takes_context=True)
def runs_awaiting_review(context: template.Context) -> dict:
    """ "N runs awaiting review", linked to that list, for the admin index."""
    request: HttpRequest | None = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {"count": None}
    runs = ResearchRun.objects.filter(status=RunStatus.NEEDS_REVIEW)
    tenant_ids = tenant_ids_for(request)
    if tenant_ids is not None:
        runs = runs.filter(tenant_id__in=tenant_ids)
    url = reverse("admin:research_researchrun_changelist")
    return {"count": runs.count(), "url": f"{url}?status__exact={RunStatus.NEEDS_REVIEW}"}
