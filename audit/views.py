"""Audit's pages: the site list and each site's link profile, uploads and import progress.

Thin: parse the request, call a selector or a service, render. Any role may look at every
site for now (project scoping comes later); uploading needs Role.OUTREACH, deleting a
site Role.MANAGER.
"""

from __future__ import annotations

import csv
import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from audit import charts, selectors, services
from audit.anchors import CATEGORY_LABELS, CATEGORY_ORDER
from audit.choices import ImportKind, LinkType
from audit.forms import (
    ColumnMappingForm,
    RefDomainFilterForm,
    SemrushPullForm,
    SiteForm,
    SiteTermsForm,
    UploadForm,
)
from audit.importers.base import ImportRefused
from audit.models import LinkImport, Site
from audit.retention import PENDING_DIR
from audit.site_layout import render_site_tab, site_or_404
from linkcrm.choices import Role
from linkcrm.lib.domains import DomainError
from linkcrm.lib.redirects import safe_next
from linkcrm.permissions import role_required

PENDING_SESSION_KEY = "audit_pending_uploads"


# --- sites ----------------------------------------------------------------------------------


@role_required(Role.OUTREACH)
def home(request: HttpRequest) -> HttpResponse:
    """Every site with its live backlinks, referring domains and latest import; the add-site form."""
    return render(request, "audit/home.html", {"sites": selectors.site_list_with_stats(), "form": SiteForm()})


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def site_add(request: HttpRequest) -> HttpResponse:
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = services.site_get_or_create(domain_or_url=form.cleaned_data["domain_or_url"])
        except DomainError as exc:
            form.add_error("domain_or_url", str(exc))
        else:
            services.site_update_terms(site_pk=site.pk, brand_terms=form.cleaned_data["brand_terms"],
                            money_terms=form.cleaned_data["money_terms"])
            messages.success(request, f"Site {site.domain} is ready: upload an export to build its profile.")
            return redirect("audit:site-imports", pk=site.pk)
    return render(request, "audit/site_form.html", {"form": form})


@role_required(Role.OUTREACH)
@require_POST
def site_terms(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the brand and money terms that the anchor categories are judged against."""
    site = site_or_404(pk)
    form = SiteTermsForm(request.POST)
    if form.is_valid():
        services.site_update_terms(site_pk=site.pk, **form.cleaned_data)
        messages.success(request, "Brand and money terms saved.")
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(safe_next(request, reverse("audit:site-anchors", args=[site.pk])))


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def site_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then delete a site with all its links, referring domains and imports."""
    site = site_or_404(pk)
    if request.method == "POST":
        domain = site.domain
        try:
            services.site_delete(site_pk=site.pk)
        except services.SiteInUse as exc:
            messages.error(request, f"{domain} is used by projects ({exc}): remove it from them first.")
            return redirect("audit:site-overview", pk=site.pk)
        messages.success(request, f"Site {domain} and its link profile were deleted.")
        return redirect("audit:home")
    overview = selectors.site_overview(site)
    return render(request, "audit/site_delete.html", {"site": site, "overview": overview})


# --- profile tabs ---------------------------------------------------------------------------


@role_required(Role.OUTREACH)
def site_overview(request: HttpRequest, pk: int) -> HttpResponse:
    site = site_or_404(pk)
    overview = selectors.site_overview(site)
    histograms = _authority_charts(overview.authority)
    link_types = [(LinkType(value).label, count) for value, count in overview.link_types.items() if count]
    rels = [("Follow", overview.follow), ("Nofollow", overview.nofollow), ("UGC", overview.ugc),
            ("Sponsored", overview.sponsored)]
    return render_site_tab(
        request, site, "overview", "audit/site_overview.html", overview=overview, histograms=histograms,
        link_types=link_types, rels=rels,
        link_type_chart=charts.hbar_chart(link_types, title="Live links by type"),
        rel_chart=charts.hbar_chart(rels, title="Live links by rel attribute"),
        latest_import=selectors.import_list_for_site(site).first(),
    )


def _authority_charts(authority: dict[str, list[int]]) -> list[tuple[str, str]]:
    """(label, SVG) per reported score: domain scores count domains, page scores count links."""
    scores = [(key, label, "Referring domains") for key, (_c, label) in selectors.AUTHORITY_PROVIDERS.items()]
    scores += [(key, label, "Live links") for key, (_c, label) in selectors.PAGE_AUTHORITY.items()]
    return [
        (f"{label} ({counted.lower()})",
         charts.bar_chart(list(zip(selectors.BUCKET_LABELS, authority[key], strict=True)),
                          title=f"{counted} by {label}"))
        for key, label, counted in scores if key in authority
    ]


@role_required(Role.OUTREACH)
def site_refdomains(request: HttpRequest, pk: int) -> HttpResponse:
    site = site_or_404(pk)
    form = RefDomainFilterForm.from_query(request.GET)
    form.is_valid()  # invalid filters are reported and ignored, the valid ones still apply
    query = form.to_query()
    page = selectors.refdomain_page(site, query)
    params = request.GET.copy()
    params.pop("page", None)
    return render_site_tab(
        request, site, "refdomains", "audit/site_refdomains.html", form=form, page=page, query=query,
        columns=_sort_links(query.sort), filter_params=params.urlencode(),
        sort_params=_without(request, "sort", "page"),
    )


# Text columns sort A→Z first; figures and dates biggest/newest first.
_ASCENDING_FIRST = {"domain", "tld", "country", "ip"}


def _sort_links(current: str) -> list[dict[str, str]]:
    """Each column's title, the sort its header link applies (toggling the current one) and an arrow."""
    columns = []
    for key, title in REFDOMAIN_COLUMNS:
        if current.lstrip("-") == key:
            next_sort = key if current.startswith("-") else f"-{key}"
            arrow = "↓" if current.startswith("-") else "↑"
        else:
            next_sort = key if key in _ASCENDING_FIRST else f"-{key}"
            arrow = ""
        columns.append({"key": key, "title": title, "sort": next_sort, "arrow": arrow})
    return columns


# (sort key, column title) of the referring-domains table, in display order.
REFDOMAIN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("domain", "Domain"), ("backlinks", "Links"), ("follow", "Follow"), ("semrush", "Semrush AS"),
    ("ahrefs", "Ahrefs DR"), ("majestic", "Majestic TF"), ("tld", "TLD"), ("country", "Country"),
    ("ip", "IP"), ("first_seen", "First seen"), ("last_seen", "Last seen"), ("lost_at", "Lost"),
)


def _without(request: HttpRequest, *names: str) -> str:
    """The current query string without ``names`` (for links that set them anew)."""
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@role_required(Role.OUTREACH)
def site_anchors(request: HttpRequest, pk: int) -> HttpResponse:
    site = site_or_404(pk)
    category = request.GET.get("category") or None
    if category not in CATEGORY_LABELS:
        category = None
    profile = selectors.anchor_profile(site, category=category, limit=200)
    chart = charts.hbar_chart([(share.label, share.backlinks) for share in profile.categories],
                              title="Live links by anchor category")
    return render_site_tab(
        request, site, "anchors", "audit/site_anchors.html", profile=profile, chart=chart, category=category,
        categories=[(key, CATEGORY_LABELS[key]) for key in CATEGORY_ORDER],
        terms_form=SiteTermsForm(initial={"brand_terms": site.brand_terms, "money_terms": site.money_terms}),
    )


@role_required(Role.OUTREACH)
def site_new_lost(request: HttpRequest, pk: int) -> HttpResponse:
    site = site_or_404(pk)
    period = "month" if request.GET.get("period") == "month" else "week"
    links = selectors.new_lost_series(site, period=period)
    domains = selectors.new_lost_series(site, period=period, of="refdomains")
    return render_site_tab(
        request, site, "new-lost", "audit/site_new_lost.html", period=period, links=links, domains=domains,
        links_chart=_new_lost_chart(links, f"New and lost backlinks per {period}"),
        domains_chart=_new_lost_chart(domains, f"New and lost referring domains per {period}"),
    )


def _new_lost_chart(series: selectors.NewLostSeries, title: str) -> str:
    lines = [charts.Series("New", series.new, "#059669"), charts.Series("Lost", series.lost, "#dc2626")]
    return charts.line_chart(series.labels, lines, title=title)


@role_required(Role.OUTREACH)
def site_geo(request: HttpRequest, pk: int) -> HttpResponse:
    site = site_or_404(pk)
    tlds, other_tlds = selectors.tld_distribution(site)
    countries, other_countries = selectors.country_distribution(site)
    return render_site_tab(
        request, site, "geo", "audit/site_geo.html", tlds=tlds, other_tlds=other_tlds, countries=countries,
        other_countries=other_countries,
        tld_chart=charts.hbar_chart([(s.value or "unknown", s.count) for s in tlds[:15]],
                                    title="Referring domains by TLD"),
        country_chart=charts.hbar_chart([(s.value.upper() or "unknown", s.count) for s in countries[:15]],
                                        title="Referring domains by country"),
    )


@role_required(Role.OUTREACH)
def site_top_pages(request: HttpRequest, pk: int) -> HttpResponse:
    site = site_or_404(pk)
    sort = "backlinks" if request.GET.get("sort") == "backlinks" else "refdomains"
    page = selectors.top_pages(site, sort=sort, page=_int(request.GET.get("page"), 1))
    return render_site_tab(request, site, "top-pages", "audit/site_top_pages.html", page=page, sort=sort)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


@role_required(Role.OUTREACH)
def site_ip_subnets(request: HttpRequest, pk: int) -> HttpResponse:
    site = site_or_404(pk)
    diversity = selectors.ip_diversity(site, min_domains=max(2, _int(request.GET.get("min"), 2)))
    return render_site_tab(request, site, "ip-subnets", "audit/site_ip_subnets.html", diversity=diversity)


# --- imports --------------------------------------------------------------------------------


def _semrush_configured() -> bool:
    """Whether a Semrush API key is set (the key itself never reaches a page)."""
    key = getattr(settings, "LINKCRM_SEMRUSH_API_KEY", None) or getattr(settings, "SEMRUSH_API_KEY", None)
    return bool(key)


@role_required(Role.OUTREACH)
def site_imports(request: HttpRequest, pk: int) -> HttpResponse:
    """Import history of a site, with the upload form (and the Semrush pull when configured)."""
    site = site_or_404(pk)
    return render_site_tab(request, site, "imports", "audit/site_imports.html", form=UploadForm(),
                       **_import_history_context(site))


@role_required(Role.OUTREACH)
@require_POST
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Store the upload and queue its import; an unknown header leads to the column-mapping step."""
    site = site_or_404(pk)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_site_tab(request, site, "imports", "audit/site_imports.html", status=400, form=form,
                           **_import_history_context(site))
    upload: UploadedFile = form.cleaned_data["file"]
    full_snapshot = form.cleaned_data["full_snapshot"]
    try:
        link_import = services.link_import_create(
            site=site, uploaded_file=upload, created_by=request.user, full_snapshot=full_snapshot
        )
    except ImportRefused as exc:
        return _refused_upload(request, site, form, upload, full_snapshot, exc)
    messages.success(request, f"{link_import.file_name} is queued for import.")
    return redirect("audit:import-detail", site_pk=site.pk, pk=link_import.pk)


def _import_history_context(site: Site) -> dict[str, Any]:
    return {
        "imports": selectors.import_list_for_site(site)[:100],
        "semrush_form": SemrushPullForm() if _semrush_configured() else None,
    }


def _refused_upload(
    request: HttpRequest, site: Site, form: UploadForm, upload: UploadedFile, full_snapshot: bool | None,
    refusal: ImportRefused,
) -> HttpResponse:
    """A refused upload: if the file reads as a table, keep it and ask for a column mapping;
    otherwise (undecodable, empty, too big) show why on the upload form."""
    upload.seek(0)
    try:
        preview = selectors.upload_preview(upload)
    except ImportRefused:
        preview = None
    if preview is None or upload.size > getattr(settings, "LINKCRM_IMPORT_MAX_BYTES", upload.size):
        form.add_error("file", f"The file was refused: {refusal}")
        return render_site_tab(request, site, "imports", "audit/site_imports.html", status=400, form=form,
                           **_import_history_context(site))
    token = _stash_upload(request, site, upload, full_snapshot)
    messages.info(request, f"{upload.name} is not an export LinkCRM recognises ({refusal.message}). "
                           "Say which column holds what.")
    return redirect("audit:import-map", pk=site.pk, token=token)


# Uploads waiting for a column mapping live in the default storage under PENDING_DIR; the
# session remembers which are the user's, so a token alone gives nobody else the file.
# Abandoned ones are swept by the daily retention task (audit.retention.pending_uploads_prune).


def _stash_upload(
    request: HttpRequest, site: Site, upload: UploadedFile, full_snapshot: bool | None
) -> str:
    token = secrets.token_urlsafe(16)
    name = os.path.basename(upload.name or "export.csv")[:200]
    upload.seek(0)
    path = default_storage.save(f"{PENDING_DIR}/{token}/{name}", upload)
    pending = request.session.get(PENDING_SESSION_KEY, {})
    pending[token] = {"path": path, "name": name, "site": site.pk, "full_snapshot": full_snapshot}
    request.session[PENDING_SESSION_KEY] = pending
    return token


def _pending(request: HttpRequest, site: Site, token: str) -> dict[str, Any]:
    entry = request.session.get(PENDING_SESSION_KEY, {}).get(token)
    if not entry or entry["site"] != site.pk or not default_storage.exists(entry["path"]):
        raise Http404("This upload is no longer waiting for a mapping: upload the file again.")
    return entry


def _drop_pending(request: HttpRequest, token: str) -> None:
    pending = request.session.get(PENDING_SESSION_KEY, {})
    entry = pending.pop(token, None)
    request.session[PENDING_SESSION_KEY] = pending
    if entry:
        default_storage.delete(entry["path"])


@role_required(Role.OUTREACH)
@require_http_methods(["GET", "POST"])
def import_map(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """Step two for an unknown header: map header cells to fields, then create the import."""
    site = site_or_404(pk)
    entry = _pending(request, site, token)
    with default_storage.open(entry["path"], "rb") as stream:
        preview = selectors.upload_preview(stream)
    form = ColumnMappingForm(request.POST or None, header=preview.header)
    if request.method == "POST" and "discard" in request.POST:
        _drop_pending(request, token)
        messages.info(request, f"{entry['name']} was discarded.")
        return redirect("audit:site-imports", pk=site.pk)
    if request.method == "POST" and form.is_valid():
        try:
            with default_storage.open(entry["path"], "rb") as stream:
                link_import = services.link_import_create(
                    site=site, uploaded_file=File(stream, name=entry["name"]), created_by=request.user,
                    column_mapping=form.mapping, full_snapshot=entry["full_snapshot"],
                )
        except ImportRefused as exc:
            form.add_error(None, f"The mapping was refused: {exc}")
        else:
            _drop_pending(request, token)
            messages.success(request, f"{link_import.file_name} is queued for import with your mapping.")
            return redirect("audit:import-detail", site_pk=site.pk, pk=link_import.pk)
    return render_site_tab(
        request, site, "imports", "audit/import_map.html", form=form, preview=preview,
        file_name=entry["name"],
        backlink_fields=form.group(ImportKind.BACKLINKS), refdomain_fields=form.group(ImportKind.REFDOMAINS),
        status=400 if form.errors else 200,
    )


@role_required(Role.OUTREACH)
@require_POST
def semrush_pull(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a pull of the site's backlinks from the Semrush API (only when a key is configured)."""
    site = site_or_404(pk)
    form = SemrushPullForm(request.POST)
    if not _semrush_configured():
        messages.error(request, "No Semrush API key is configured.")
    elif not form.is_valid():
        messages.error(request, "Give the number of backlinks to fetch (at least 1).")
    else:
        try:
            link_import = services.link_import_from_semrush_api(
                site=site, created_by=request.user, limit=form.cleaned_data["limit"]
            )
        except ImportRefused as exc:
            messages.error(request, f"The Semrush pull was refused: {exc}")
        else:
            messages.success(request, "The Semrush pull is queued.")
            return redirect("audit:import-detail", site_pk=site.pk, pk=link_import.pk)
    return redirect("audit:site-imports", pk=site.pk)


def _import(site_pk: int, pk: int) -> LinkImport:
    try:
        return selectors.import_get(site_pk=site_pk, pk=pk)
    except LinkImport.DoesNotExist:
        raise Http404("No such import for this site.") from None


ERRORS_SHOWN = 500


@role_required(Role.OUTREACH)
def import_detail(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    """One import: live progress while it runs, then its counts and row-numbered error report."""
    link_import = _import(site_pk, pk)
    errors = selectors.import_row_errors(link_import)
    return render_site_tab(
        request, link_import.site, "imports", "audit/import_detail.html", link_import=link_import,
        progress=selectors.import_progress(link_import, now=timezone.now()), errors=errors[:ERRORS_SHOWN],
        errors_total=len(errors),
    )


@role_required(Role.OUTREACH)
def import_progress(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    """The progress fragment htmx polls every second; once the import ends the page reloads."""
    link_import = _import(site_pk, pk)
    progress = selectors.import_progress(link_import, now=timezone.now())
    context = {"link_import": link_import, "progress": progress}
    response = render(request, "audit/_import_progress.html", context)
    if not progress.active and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # show the final counts and the error report
    return response


@role_required(Role.OUTREACH)
@require_POST
def import_cancel(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    link_import = _import(site_pk, pk)
    services.link_import_cancel(link_import=link_import)
    messages.info(request, "Cancel requested: a running import stops at its next check and rolls back.")
    return redirect("audit:import-detail", site_pk=site_pk, pk=pk)


@role_required(Role.OUTREACH)
def import_errors_csv(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    """The whole row error report as CSV: line, field, message."""
    link_import = _import(site_pk, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{link_import.pk}-errors.csv"'
    writer = csv.writer(response)
    writer.writerow(["line", "field", "message"])
    for error in selectors.import_row_errors(link_import):
        message = _csv_safe(str(error.get("message", "")))
        writer.writerow([error.get("line", ""), _csv_safe(str(error.get("field", ""))), message])
    return response


def _csv_safe(text: str) -> str:
    """Defuse spreadsheet formulas: messages quote file content, which anyone may have written."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
