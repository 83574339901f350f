"""Audit's pages: site link profiles, toxicity, disavow."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from linkcrm.choices import Role
from linkcrm.permissions import role_required


@role_required(Role.OUTREACH)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "audit/home.html")
