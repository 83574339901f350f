"""The "Request removal" action of the toxicity audit: a decision plus removal prospects.

The button sits on audit's findings page (audit cannot import prospects, so the form posts
here). Manager and above, like every review decision.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from audit.models import Site
from audit.review import ReviewError
from linkcrm.choices import Role
from linkcrm.lib.redirects import safe_next
from linkcrm.permissions import role_required
from prospects.models import Project
from prospects.services.removal import RemovalError, removal_request


@role_required(Role.MANAGER)
@require_POST
def request_removal(request: HttpRequest, site_pk: int) -> HttpResponse:
    """Ticked domains/links → "Removal requested" (with the reason) and link-removal prospects."""
    site = get_object_or_404(Site, pk=site_pk)
    back = safe_next(request, reverse("audit:site-toxicity", args=[site.pk]))
    domains = request.POST.getlist("domain")
    links = [int(v) for v in request.POST.getlist("link") if v.isdigit()]
    if not domains and not links:
        messages.error(request, "Tick at least one referring domain or link.")
        return redirect(back)
    project_id = request.POST.get("project", "")
    project = get_object_or_404(Project, pk=int(project_id), site=site) if project_id.isdigit() else None
    try:
        result = removal_request(site=site, user=request.user, reason=request.POST.get("reason", "").strip(),
                                 domains=domains, backlink_ids=links, project=project)  # fmt: skip
    except (RemovalError, ReviewError) as exc:
        messages.error(request, f"Nothing was changed: {exc}")
        return redirect(back)
    messages.success(
        request, f"Removal requested: {result.creation.created} new prospect(s) in {result.project.name}'s link "
        f"removal pipeline, {len(result.creation.duplicates)} already there.",
    )  # fmt: skip
    return redirect(back)


urlpatterns = [
    path("removal/sites/<int:site_pk>/", request_removal, name="removal-request"),
]
