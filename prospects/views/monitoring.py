"""Acquired-link monitoring on the prospect page: "check now" and "reclaim". Thin: parse, call, redirect.

The monitoring block itself (status, history, these two buttons) is drawn by the
``{% link_monitoring prospect %}`` tag (prospects.templatetags.monitoring_tags), so the
prospect page view stays as it is.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from linkcrm.choices import Role
from linkcrm.permissions import role_required
from prospects.models import AcquiredLink, Prospect
from prospects.selectors import monitoring as monitoring_selectors
from prospects.selectors import pipeline as pipeline_selectors
from prospects.selectors.projects import project_get_for_user
from prospects.services.monitoring import (
    MonitoringError,
    acquired_link_check_now,
    acquired_link_reclaim,
)
from prospects.services.pipeline import StageConflict


def _prospect_and_link(request: HttpRequest, project_pk: int, pk: int) -> tuple[Prospect, AcquiredLink]:
    """The prospect (404 outside the user's projects) and its acquired link (404 when it has none)."""
    project = project_get_for_user(request.user, project_pk)
    try:
        prospect = pipeline_selectors.prospect_get(project=project, prospect_id=pk)
    except Prospect.DoesNotExist:
        raise Http404("No such prospect") from None
    link = monitoring_selectors.acquired_link_of_prospect(prospect.pk)
    if link is None:
        raise Http404("This prospect has no acquired link to monitor")
    return prospect, link


def _back(prospect: Prospect) -> HttpResponse:
    return redirect(reverse("prospects:prospect-detail", args=[prospect.project_id, prospect.pk]) + "#monitoring")


@role_required(Role.OUTREACH)
@require_POST
def check_now(request: HttpRequest, project_pk: int, pk: int) -> HttpResponse:
    """Queue a check of the prospect's linking page (still polite to its host)."""
    prospect, link = _prospect_and_link(request, project_pk, pk)
    try:
        acquired_link_check_now(link=link, actor=request.user)
    except MonitoringError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"A check of {link.page_url} is queued; reload the page in a moment.")
    return _back(prospect)


@role_required(Role.OUTREACH)
@require_POST
def reclaim(request: HttpRequest, project_pk: int, pk: int) -> HttpResponse:
    """Move a prospect whose link is confirmed lost back to To Contact."""
    prospect, link = _prospect_and_link(request, project_pk, pk)
    try:
        acquired_link_reclaim(link_id=link.pk, actor=request.user, reason=request.POST.get("reason", "")[:500])
    except (MonitoringError, StageConflict) as exc:
        messages.error(request, f"Not reclaimed: {exc}")
    else:
        messages.success(request, f"{prospect.domain} is back in To Contact: win the link back.")
    return _back(prospect)


urlpatterns = [
    path("projects/<int:project_pk>/prospects/<int:pk>/link/check/", check_now, name="link-check-now"),
    path("projects/<int:project_pk>/prospects/<int:pk>/link/reclaim/", reclaim, name="link-reclaim"),
]
