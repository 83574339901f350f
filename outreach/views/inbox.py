"""The unified inbox: replies (and other mail) needing attention across mailboxes; mark handled.

Everyone sees the mail of prospects in their projects and of their own mailboxes;
managers and admins see all of it.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from linkcrm.choices import Role
from linkcrm.lib.redirects import safe_next
from linkcrm.permissions import role_required
from outreach.forms import InboxFilterForm
from outreach.models import Mailbox
from outreach.selectors import inbound_get_for_user, inbox_for_user
from outreach.services.inbox_actions import inbound_mark_handled
from prospects.selectors.projects import project_list_for_user

PAGE_SIZE = 50


def _filter_form(request: HttpRequest) -> InboxFilterForm:
    form = InboxFilterForm(request.GET or None)
    seen = inbox_for_user(request.user, attention_only=False)
    mailbox_ids = seen.values("mailbox_id").distinct()
    form.fields["mailbox"].choices = [("", "Any mailbox")] + [
        (m.pk, m.email) for m in Mailbox.objects.filter(pk__in=mailbox_ids)
    ]
    form.fields["project"].choices = [("", "Any project")] + [
        (p.pk, p.name) for p in project_list_for_user(request.user)
    ]
    return form


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@role_required(Role.OUTREACH)
def inbox(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    data = form.cleaned_data if form.is_valid() else {}
    rows = inbox_for_user(
        request.user, mailbox_id=data.get("mailbox"), project_id=data.get("project"),
        kind=data.get("kind") or "", attention_only=not data.get("all"),
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "outreach/inbox.html", {
        "form": form, "page": page,
        "query": _without_page(request),
    })


@role_required(Role.OUTREACH)
@require_POST
def inbox_mark_handled(request: HttpRequest, pk: int) -> HttpResponse:
    message = inbound_get_for_user(request.user, pk)
    if inbound_mark_handled(message_id=message.pk, by=request.user):
        messages.success(request, f"Marked handled: {message.subject or '(no subject)'}")
    else:
        messages.info(request, "Someone already marked it handled.")
    return HttpResponseRedirect(safe_next(request, reverse("outreach:inbox")))


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/<int:pk>/handled/", inbox_mark_handled, name="inbox-handled"),
]
