"""The layout every page of one site shares: its tabs, its header buttons, the site itself.

Used by both halves of a site's pages (``audit.views``: the link profile and imports;
``audit.views_audit``: toxicity and disavow).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from audit.models import Site
from linkcrm.choices import Role
from linkcrm.permissions import has_role

TABS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("refdomains", "Referring domains"),
    ("anchors", "Anchors"),
    ("new-lost", "New & lost"),
    ("geo", "TLDs & countries"),
    ("top-pages", "Top pages"),
    ("ip-subnets", "IP diversity"),
    ("imports", "Imports"),
    ("toxicity", "Toxicity audit"),
    ("disavow", "Disavow"),
)


def site_or_404(pk: int) -> Site:
    return get_object_or_404(Site, pk=pk)


def render_site_tab(
    request: HttpRequest, site: Site, tab: str, template: str, *, status: int = 200, **context: Any
) -> HttpResponse:
    """Render one tab of a site's pages inside the site layout (header, tabs, role-dependent buttons)."""
    tabs = [(key, label, reverse(f"audit:site-{key}", args=[site.pk])) for key, label in TABS]
    base = {
        "site": site, "tabs": tabs, "tab": tab,
        "can_upload": has_role(request.user, Role.OUTREACH),
        "can_delete": has_role(request.user, Role.MANAGER),
    }
    return render(request, template, {**base, **context}, status=status)
