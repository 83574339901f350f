"""Outreach's pages: mailboxes, templates, sequences, inbox, reports."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from linkcrm.choices import Role
from linkcrm.permissions import role_required


@role_required(Role.OUTREACH)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "outreach/home.html")


@role_required(Role.OUTREACH)
def reports(request: HttpRequest) -> HttpResponse:
    return render(request, "outreach/reports.html")
