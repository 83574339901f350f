"""Pages of the toxicity audit, the review and the disavow file of a site.

Roles: outreach staff may look at findings, decisions, the disavow list, its versions and
diffs, download stored versions, and re-run the scoring (as an upload would). Review
decisions, importing a disavow file, exporting a new version and taking entries off the
list change what Google is told about the site: Role.MANAGER and above. "Request removal"
lives in prospects (prospects.views.removal): it creates prospects.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from audit import audit_selectors, review, toxicity
from audit.audit_forms import DecisionForm, DisavowUploadForm, FindingsFilterForm
from audit.choices import ToxicityRunStatus
from audit.disavow import DisavowRefused, Severity, diff_disavow
from audit.models import DisavowVersion, Site
from audit.site_layout import render_site_tab, site_or_404
from linkcrm.choices import Role
from linkcrm.lib.redirects import safe_next
from linkcrm.permissions import has_role, role_required

# --- toxicity findings and review -----------------------------------------------------------


@role_required(Role.OUTREACH)
def site_toxicity(request: HttpRequest, pk: int) -> HttpResponse:
    """Scored referring domains or links, worst first, with markers, reasons, status and actions."""
    site = site_or_404(pk)
    form = FindingsFilterForm(request.GET)
    query = form.to_query()
    params = request.GET.copy()
    params.pop("page", None)
    return render_site_tab(
        request, site, "toxicity", "audit/site_toxicity.html", form=form, query=query,
        page=audit_selectors.findings_page(site, query), summary=audit_selectors.audit_summary(site),
        filter_params=params.urlencode(), can_review=has_role(request.user, Role.MANAGER),
        decision_form=DecisionForm(auto_id="review_%s"), history=audit_selectors.decision_history(site, limit=20),
        markers=toxicity.MARKERS, bands=_bands(), projects=list(site.projects.order_by("name")),
    )


def _bands() -> list[tuple[str, int, int]]:
    return [(label, *toxicity.band_range(value)) for value, label in toxicity.ToxicityBand.choices]


@role_required(Role.OUTREACH)
@require_POST
def toxicity_rerun(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue a fresh scoring of the site (the worker publishes its progress on the page)."""
    site = site_or_404(pk)
    toxicity.toxicity_run_queue(site=site, requested_by=request.user)
    messages.success(request, "The audit is queued: scores refresh when it finishes.")
    return redirect("audit:site-toxicity", pk=site.pk)


@role_required(Role.OUTREACH)
def toxicity_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The latest run's progress fragment (htmx polls it while the run is queued or running)."""
    site = site_or_404(pk)
    run = audit_selectors.latest_run(site)
    response = render(request, "audit/_toxicity_run.html", {"site": site, "run": run})
    if run and run.status not in (ToxicityRunStatus.QUEUED, ToxicityRunStatus.RUNNING) and request.headers.get(
        "HX-Request"
    ):
        response["HX-Refresh"] = "true"
    return response


@role_required(Role.MANAGER)
@require_POST
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a decision (with why) on the ticked referring domains and links."""
    site = site_or_404(pk)
    form = DecisionForm(request.POST)
    back = safe_next(request, reverse("audit:site-toxicity", args=[site.pk]))
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(back)
    try:
        decisions = review.review_decide(
            site=site, status=form.cleaned_data["status"], reason=form.cleaned_data["reason"], user=request.user,
            domains=form.domains, backlink_ids=form.links,
        )  # fmt: skip
    except review.ReviewError as exc:
        messages.error(request, f"Nothing was changed: {exc}")
    else:
        label = dict(form.fields["status"].choices)[form.cleaned_data["status"]]
        messages.success(request, f"{label}: {len(decisions)} decision(s) recorded.")
    return redirect(back)


# --- the disavow file -----------------------------------------------------------------------


def _disavow_page(request: HttpRequest, site: Site, *, status: int = 200, **context: Any) -> HttpResponse:
    versions = audit_selectors.disavow_versions(site)
    return render_site_tab(
        request, site, "disavow", "audit/site_disavow.html", status=status,
        entries=audit_selectors.disavow_entries(site), removed=audit_selectors.disavow_entries(site, removed=True)[:50],
        versions=versions, can_manage=has_role(request.user, Role.MANAGER),
        upload_form=context.pop("upload_form", DisavowUploadForm()), **context,
    )  # fmt: skip


@role_required(Role.OUTREACH)
def site_disavow(request: HttpRequest, pk: int) -> HttpResponse:
    """The site's disavow list (with who added what and why), import, export, versions, diff."""
    return _disavow_page(request, site_or_404(pk))


@role_required(Role.MANAGER)
@require_POST
def disavow_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Import an existing disavow file; on errors (or unconfirmed warnings) show them line by line."""
    site = site_or_404(pk)
    form = DisavowUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _disavow_page(request, site, status=400, upload_form=form)
    upload = form.cleaned_data["file"]
    try:
        result = review.disavow_import(
            site=site, data=upload.read(), user=request.user, accept_warnings=form.cleaned_data["accept_warnings"],
            file_name=upload.name or "",
        )  # fmt: skip
    except review.DisavowFileRefused as exc:
        return _disavow_page(request, site, status=400, upload_form=form, refused=str(exc), check=exc.check,
                             Severity=Severity)  # fmt: skip
    messages.success(request, f"{result.added} entries added, {result.already} already on the list.")
    return redirect("audit:site-disavow", pk=site.pk)


def _download(version: DisavowVersion) -> HttpResponse:
    response = HttpResponse(version.content, content_type="text/plain; charset=utf-8")
    name = f"{version.site.domain}-disavow-v{version.number}.txt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@role_required(Role.MANAGER)
@require_POST
def disavow_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Store the current list as a new version and download it (refused past Google's limits)."""
    site = site_or_404(pk)
    try:
        version = review.disavow_export(site=site, user=request.user)
    except DisavowRefused as exc:
        messages.error(request, f"The file was not exported: {exc}")
        return redirect("audit:site-disavow", pk=site.pk)
    return _download(version)


def _version(site: Site, number: str | int | None) -> DisavowVersion:
    try:
        return audit_selectors.disavow_version(site, int(number or 0))
    except (DisavowVersion.DoesNotExist, ValueError):
        raise Http404("No such version of this site's disavow file.") from None


@role_required(Role.OUTREACH)
def disavow_version_download(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    """One stored version, exactly as it was exported."""
    return _download(_version(site_or_404(site_pk), pk))


@role_required(Role.OUTREACH)
def disavow_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """Entries added and removed between two versions (``?a=`` older, ``?b=`` newer), and the text diff."""
    site = site_or_404(pk)
    old, new = _version(site, request.GET.get("a")), _version(site, request.GET.get("b"))
    diff = diff_disavow(old.content, new.content, old_label=f"version {old.number}", new_label=f"version {new.number}")
    return render_site_tab(request, site, "disavow", "audit/disavow_diff.html", old=old, new=new, diff=diff,
                       versions=audit_selectors.disavow_versions(site))  # fmt: skip


@role_required(Role.MANAGER)
@require_POST
def disavow_entry_remove(request: HttpRequest, site_pk: int, pk: int) -> HttpResponse:
    """Take one entry off the list (kept in the history with who and when)."""
    site = site_or_404(site_pk)
    if review.disavow_entry_remove(site=site, entry_id=pk, user=request.user, reason=request.POST.get("reason", "")):
        messages.success(request, "The entry is off the list; export a new version to tell Google.")
    else:
        messages.info(request, "That entry was not on the list.")
    return redirect("audit:site-disavow", pk=site.pk)
