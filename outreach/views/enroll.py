"""Bulk enrollment: prospects checked on the board's table → sequence, mailbox(es), contacts → enroll.

The board's bulk form posts the checked ``ids`` (and ``project``) here; this page asks
for the rest and calls ``enrollments_create``, then shows how many were enrolled and
each refusal with its reason. Only prospects of projects the user may see are offered.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods

from linkcrm.choices import Role
from linkcrm.lib.redirects import safe_next
from linkcrm.permissions import role_required
from outreach.selectors import mailboxes_sendable_by, sequences_active, visible_prospects
from outreach.services.enrollments import EnrollmentError, enrollments_create
from prospects.models import Prospect, TargetPage

MAX_PROSPECTS = 500


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit()][:MAX_PROSPECTS]


def _selected(request: HttpRequest) -> list[Prospect]:
    ids = _ids(request.POST.getlist("ids"))
    rows = visible_prospects(request.user).filter(pk__in=ids).select_related("project")
    return list(rows.prefetch_related("contacts").order_by("domain"))


def _chosen_contacts(request: HttpRequest, prospects: list[Prospect]) -> list[int]:
    chosen = []
    for prospect in prospects:
        value = request.POST.get(f"contact-{prospect.pk}", "")
        if value.isdigit() and any(c.pk == int(value) for c in prospect.contacts.all()):
            chosen.append(int(value))
    return chosen


def _options(request: HttpRequest, prospects: list[Prospect]) -> dict:
    project_ids = {p.project_id for p in prospects}
    return {
        "prospects": prospects,
        "sequences": sequences_active(),
        "mailboxes": mailboxes_sendable_by(request.user),
        "target_pages": TargetPage.objects.filter(project_id__in=project_ids).select_related("project"),
        "back": safe_next(request),
    }


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def enroll(request: HttpRequest) -> HttpResponse:
    prospects = _selected(request) if request.method == "POST" else []
    context = _options(request, prospects)
    if request.method != "POST" or not request.POST.get("confirm"):
        return render(request, "outreach/enroll.html", context)
    errors = []
    sequence_ids = _ids([request.POST.get("sequence", "")])
    sequence = context["sequences"].filter(pk=sequence_ids[0]).first() if sequence_ids else None
    mailboxes = list(context["mailboxes"].filter(pk__in=_ids(request.POST.getlist("mailboxes"))))
    page_ids = _ids([request.POST.get("target_page", "")])
    target_page = context["target_pages"].filter(pk=page_ids[0]).first() if page_ids else None
    if sequence is None:
        errors.append("Choose a sequence.")
    if not mailboxes:
        errors.append("Choose at least one active mailbox to send from.")
    if not prospects:
        errors.append("No prospect selected: check some on the board's table first.")
    if errors:
        return render(request, "outreach/enroll.html", {**context, "errors": errors})
    try:
        result = enrollments_create(
            prospect_ids=[p.pk for p in prospects], sequence=sequence, mailboxes=mailboxes,
            enrolled_by=request.user, contact_ids=_chosen_contacts(request, prospects) or None,
            target_page=target_page,
        )
    except EnrollmentError as exc:
        return render(request, "outreach/enroll.html", {**context, "errors": [str(exc)]})
    return render(request, "outreach/enroll_result.html", {**context, "result": result, "sequence": sequence})


urlpatterns = [
    path("enroll/", enroll, name="enroll"),
]
