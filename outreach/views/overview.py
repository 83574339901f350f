"""Outreach's landing page: what needs attention, and the way to each screen."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from linkcrm.choices import Role
from linkcrm.permissions import role_required
from outreach.choices import RUNNING_ENROLLMENT, OutboxStatus
from outreach.selectors import (
    enrollments_for_user,
    inbox_for_user,
    mailboxes_managed_by,
    outbound_for_user,
)


@role_required(Role.OUTREACH)
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "outreach/home.html", {
        "attention": inbox_for_user(user).count(),
        "mailboxes": mailboxes_managed_by(user).count(),
        "running": enrollments_for_user(user).filter(status__in=RUNNING_ENROLLMENT).count(),
        "queued": outbound_for_user(user).filter(status__in=[OutboxStatus.QUEUED, OutboxStatus.RETRY]).count(),
    })


urlpatterns = [
    path("", home, name="home"),
]
