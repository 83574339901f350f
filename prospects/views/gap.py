"""The gap pages of a project: tabs, filters, sort, pages, CSV export, prospects from rows, import.

Thin: parse with prospects.forms.GapFilterForm, read with prospects.selectors.gap, write with
prospects.services.gap_prospects and prospects.gap_import. Members (outreach and up) see the
gap, export it and create prospects from rows they pick; creating from every row matching a
filter (up to 50,000 at once) and importing a gap export are a manager's.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from audit.importers.base import ImportRefused
from linkcrm.choices import Role
from linkcrm.permissions import has_role, role_required
from prospects.forms import GapFilterForm, GapImportForm
from prospects.gap_import import gap_import
from prospects.models import Project
from prospects.selectors.gap import (
    SORTS,
    GapQuery,
    GapSites,
    GapTab,
    gap_export_rows,
    gap_page,
    gap_sites,
    is_sort_key,
)
from prospects.selectors.projects import project_get_for_user
from prospects.services.gap_prospects import (
    MAX_FROM_FILTER,
    GapCreationReport,
    prospects_create_from_gap_filter,
    prospects_create_from_gap_rows,
)

LISTED = 20  # domains named per category in a creation report; the rest are counted
# Text columns sort A→Z first; figures and dates biggest/newest first.
_ASCENDING_FIRST = {"domain", "tld", "country"}
_COLUMNS = (("domain", "Domain"), ("authority", "Authority"), ("competitors", "Competitors"),
            ("links", "Links"), ("follow", "Follow"), ("first_seen", "First seen"), ("tld", "TLD"),
            ("country", "Country"))  # fmt: skip


def parse_query(params: QueryDict) -> tuple[GapFilterForm, GapQuery]:
    """The form (for its errors and widgets) and the query of its valid fields."""
    data = params.copy()
    if not data.get("per_page"):
        data["per_page"] = "50"  # so the select shows the page size actually applied
    form = GapFilterForm(data)
    form.is_valid()  # invalid filters are reported and ignored, the valid ones still apply
    return form, form.to_query()


@role_required(Role.OUTREACH)
def gap(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, pk)
    form, query = parse_query(request.GET)
    result = gap_page(project, query)
    return render(request, "prospects/gap.html", {
        "project": project, "form": form, "result": result, "page": result.page, "query": result.query,
        "tabs": [(tab, label, result.counts[tab]) for tab, label in GapTab.choices],
        "columns": _sort_links(result.query.sort, result.sites), "sites": result.sites.all,
        "rows": [(row, row.cells(result.sites)) for row in result.page.rows],
        "tab_params": _without(request.GET, "tab", "page"), "page_params": _without(request.GET, "page"),
        "sort_params": _without(request.GET, "sort", "page"), "query_string": request.GET.urlencode(),
        "can_create_all": has_role(request.user, Role.MANAGER), "max_from_filter": MAX_FROM_FILTER,
    })  # fmt: skip


def _without(params: QueryDict, *names: str) -> str:
    copy = params.copy()
    for name in names:
        copy.pop(name, None)
    return copy.urlencode()


def _sort_links(current: str, sites: GapSites) -> list[dict[str, str]]:
    """Every column (per-site columns after Competitors) with the sort its header applies and an arrow."""
    compared = [
        (f"site{site.id}", f"{site.domain} (you)" if site == sites.you else site.domain) for site in sites.all
    ]
    keys = [*_COLUMNS[:3], *compared, *_COLUMNS[3:]]
    current = current if is_sort_key(current, sites) else "-authority"
    columns = []
    for key, title in keys:
        if current.lstrip("-") == key:
            next_sort, arrow = (key, "↓") if current.startswith("-") else (f"-{key}", "↑")
        else:
            next_sort, arrow = (key if key in _ASCENDING_FIRST else f"-{key}"), ""
        is_site = key not in SORTS
        columns.append({"key": key, "title": title, "sort": next_sort, "arrow": arrow, "site": is_site})
    return columns


@role_required(Role.OUTREACH)
def gap_export(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every row of the tab matching the filters as CSV (not only one page), formula-safe."""
    project = project_get_for_user(request.user, pk)
    _, query = parse_query(request.GET)
    response = StreamingHttpResponse(csv_lines(project, query), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gap-{project.pk}-{query.tab}.csv"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(project: Project, query: GapQuery) -> Iterator[str]:
    """The CSV export, line by line: a header naming each compared site, then every row."""
    sites = gap_sites(project)
    writer = csv.writer(_Echo())
    yield "\ufeff"  # spreadsheets then read UTF-8 (punycode aside, titles and countries may need it)
    yield writer.writerow([
        "domain", "authority", "competitors_linked", *(f"links_to_{site.domain}" for site in sites.all),
        "links", "follow_links", "first_seen", "tld", "country",
    ])  # fmt: skip
    for row in gap_export_rows(project, query):
        cells = [row.domain, row.authority, row.competitors_linked, *row.cells(sites), row.links, row.follow,
                 row.first_seen, row.tld, row.country]  # fmt: skip
        yield writer.writerow([csv_safe(cell) for cell in cells])


def csv_safe(value: Any) -> Any:
    """Defuse spreadsheet formulas: a text cell starting with = + - @ (or tab / CR) gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@role_required(Role.OUTREACH)
@require_POST
def gap_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Prospects from one row (``only``) or the selected rows (``domain``, repeated)."""
    project = project_get_for_user(request.user, pk)
    only = request.POST.get("only", "").strip()
    domains = [only] if only else request.POST.getlist("domain")
    if not domains:
        messages.warning(request, "No row was selected: nothing was created.")
    else:
        report = prospects_create_from_gap_rows(project=project, domains=domains, created_by=request.user)
        _report(request, report)
    return _back(project, request.POST.get("query", ""))


@role_required(Role.MANAGER)
@require_POST
def gap_create_all(request: HttpRequest, pk: int) -> HttpResponse:
    """Prospects from every row of the tab matching the filter the page showed (``query``)."""
    project = project_get_for_user(request.user, pk)
    _, query = parse_query(QueryDict(request.POST.get("query", "")))
    report = prospects_create_from_gap_filter(project=project, query=query, created_by=request.user)
    _report(request, report)
    return _back(project, request.POST.get("query", ""))


def _back(project: Project, query_string: str) -> HttpResponse:
    params = QueryDict(query_string, mutable=True)
    params.pop("page", None)
    url = reverse("prospects:gap", args=[project.pk])
    return redirect(f"{url}?{params.urlencode()}" if params else url)


def check_upload_size(size: int) -> None:
    """Refuse an upload over LINKCRM_IMPORT_MAX_BYTES (the limit every export upload has)."""
    if size > settings.LINKCRM_IMPORT_MAX_BYTES:
        raise ImportRefused(
            f"the file is {size:,} bytes; the upload limit is {settings.LINKCRM_IMPORT_MAX_BYTES:,} bytes"
        )


def _named(domains: list[str]) -> str:
    shown = ", ".join(domains[:LISTED])
    return shown + (f" and {len(domains) - LISTED:,} more" if len(domains) > LISTED else "")


def _report(request: HttpRequest, report: GapCreationReport) -> None:
    """The outcome, one message per kind: created, merged, refused (do-not-contact), not in the gap."""
    plural = "s" if report.created != 1 else ""
    messages.success(request, f"{report.created:,} prospect{plural} created.")
    if report.duplicates:
        merged = _named(report.duplicates)
        messages.info(request, f"{len(report.duplicates):,} already prospects (merged): {merged}.")
    if report.suppressed:
        refused = f"{len(report.suppressed):,} on a do-not-contact list (not created)"
        messages.warning(request, f"{refused}: {_named(report.suppressed)}.")
    if report.not_in_gap:
        outside = _named(report.not_in_gap)
        messages.warning(request, f"{len(report.not_in_gap):,} not in this project's gap: {outside}.")
    if report.invalid:
        unusable = _named([f"{value} ({why})" for value, why in report.invalid])
        messages.warning(request, f"{len(report.invalid):,} not usable: {unusable}.")
    if report.left_out:
        messages.warning(
            request,
            f"{report.left_out:,} more rows matched: at most {MAX_FROM_FILTER:,} are created at once. "
            "Narrow the filter or run it again (existing prospects are hidden).",
        )


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def gap_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Import an Ahrefs Link Intersect export (or any gap CSV with its columns named)."""
    project = project_get_for_user(request.user, pk)
    form = GapImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"project": project, "form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            check_upload_size(upload.size or 0)
            context["result"] = gap_import(
                project=project, stream=upload, file_name=upload.name or "gap.csv", created_by=request.user,
                mapping=form.mapping(),
            )  # fmt: skip
        except ImportRefused as exc:
            context["refused"] = str(exc)
            return render(request, "prospects/gap_import.html", context, status=400)
    return render(request, "prospects/gap_import.html", context)


urlpatterns = [
    path("projects/<int:pk>/gap/", gap, name="gap"),
    path("projects/<int:pk>/gap/export.csv", gap_export, name="gap-export"),
    path("projects/<int:pk>/gap/prospects/", gap_create, name="gap-create"),
    path("projects/<int:pk>/gap/prospects/all/", gap_create_all, name="gap-create-all"),
    path("projects/<int:pk>/gap/import/", gap_upload, name="gap-import"),
]
