"""Mailbox pages: list, create, edit (write-only passwords), test the connection, pause/resume.

Everyone with a role manages their own mailboxes; admins manage everyone's. Other
people's mailboxes answer 404, like a project one may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from linkcrm.choices import Role
from linkcrm.permissions import role_required
from outreach.forms import MailboxForm, mailbox_initial, timezone_names
from outreach.models import Mailbox
from outreach.selectors import mailbox_get_managed, mailboxes_managed_by
from outreach.services.mailboxes import (
    MailboxError,
    mailbox_create,
    mailbox_set_paused,
    mailbox_test_connection,
    mailbox_update,
)


@role_required(Role.OUTREACH)
def mailbox_list(request: HttpRequest) -> HttpResponse:
    return render(request, "outreach/mailbox_list.html", {"mailboxes": mailboxes_managed_by(request.user)})


def _form_page(
    request: HttpRequest, form: MailboxForm, mailbox: Mailbox | None, save: Callable[..., Mailbox], note: str
) -> HttpResponse:
    """Validate, call ``save(values=…, smtp_password=…, imap_password=…)``, redirect; or show the errors."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(values=form.values(), smtp_password=form.cleaned_data["smtp_password"],
                         imap_password=form.cleaned_data["imap_password"])
        except MailboxError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, f"Mailbox {saved.email} saved.{note}")
            return redirect("outreach:mailbox-edit", pk=saved.pk)
    return render(request, "outreach/mailbox_form.html", {
        "form": form, "mailbox": mailbox, "timezones": timezone_names(),
    })


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def mailbox_new(request: HttpRequest) -> HttpResponse:
    form = MailboxForm(request.POST or None, creating=True)
    save = partial(mailbox_create, owner=request.user)
    return _form_page(request, form, None, save, " Test its connection below.")


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = mailbox_get_managed(request.user, pk)
    form = MailboxForm(request.POST or None, initial=mailbox_initial(mailbox))
    return _form_page(request, form, mailbox, partial(mailbox_update, mailbox=mailbox), "")


@role_required(Role.OUTREACH)
@require_POST
def mailbox_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Log in over SMTP and IMAP now and show what happened, each separately."""
    mailbox = mailbox_get_managed(request.user, pk)
    report = mailbox_test_connection(mailbox)
    return render(request, "outreach/mailbox_test.html", {"mailbox": mailbox, "report": report})


@role_required(Role.OUTREACH)
@require_POST
def mailbox_pause_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    mailbox = mailbox_get_managed(request.user, pk)
    pause = request.POST.get("action") == "pause"
    if mailbox_set_paused(mailbox=mailbox, paused=pause, by=request.user):
        messages.success(request, f"{mailbox.email} {'paused' if pause else 'resumed'}.")
    else:
        messages.info(request, f"{mailbox.email} was already {'paused' if pause else 'active'}.")
    return redirect("outreach:mailbox-list")


urlpatterns = [
    path("mailboxes/", mailbox_list, name="mailbox-list"),
    path("mailboxes/new/", mailbox_new, name="mailbox-new"),
    path("mailboxes/<int:pk>/", mailbox_edit, name="mailbox-edit"),
    path("mailboxes/<int:pk>/test/", mailbox_test, name="mailbox-test"),
    path("mailboxes/<int:pk>/pause/", mailbox_pause_toggle, name="mailbox-pause"),
]
