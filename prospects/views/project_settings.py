"""A project's settings page (managers): its site, competitors, brand terms, keywords, target
pages and score weights. One page, one form per setting; each POST names its ``action``.

Thin: parse with prospects.forms, write with prospects.services.projects, redirect back with
what happened (or show the page again with the form's errors).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from linkcrm.choices import Role
from linkcrm.permissions import role_required
from prospects.forms import (
    SCORE_PART_LABELS,
    CompetitorsForm,
    ProjectSiteForm,
    ScoreWeightsForm,
    TargetPageForm,
    TermsForm,
)
from prospects.models import Project
from prospects.selectors.gap import gap_sites
from prospects.selectors.projects import project_get_for_user
from prospects.services import projects as services
from prospects.services.scoring import project_weights

FORMS = {"site": ProjectSiteForm, "competitors": CompetitorsForm, "terms": TermsForm,
         "target_page": TargetPageForm, "weights": ScoreWeightsForm}  # fmt: skip


def _forms(project: Project) -> dict[str, forms.Form]:
    """Every setting's form, filled with what the project holds now."""
    return {
        "site": ProjectSiteForm(initial={"site": project.site.domain if project.site_id else ""}),
        "competitors": CompetitorsForm(),
        "terms": TermsForm(
            initial={"brand_terms": "\n".join(project.brand_terms), "keywords": "\n".join(project.keywords)}
        ),  # fmt: skip
        "target_page": TargetPageForm(),
        "weights": ScoreWeightsForm(initial=project_weights(project)),
    }


def _render(
    request: HttpRequest, project: Project, bound: dict[str, forms.Form], status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {
        "project": project, "forms": {**_forms(project), **bound}, "sites": gap_sites(project),
        "target_pages": project.target_pages.all(), "part_labels": SCORE_PART_LABELS,
    }  # fmt: skip
    return render(request, "prospects/project_settings.html", context, status=status)


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def project_settings(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, pk)
    if request.method == "GET":
        return _render(request, project, {})
    action = request.POST.get("action", "")
    if action == "remove_competitor":
        return _remove_competitor(request, project)
    if action == "remove_target_page":
        return _remove_target_page(request, project)
    if action not in FORMS:
        messages.error(request, "Unknown setting.")
        return redirect("prospects:project-settings", pk=project.pk)
    form = FORMS[action](request.POST)
    if not form.is_valid():
        return _render(request, project, {action: form}, status=400)
    try:
        with transaction.atomic():  # a form that sets two things sets both or neither
            _save(request, project, action, form)
    except services.ProjectSettingsError as exc:
        form.add_error(None, str(exc))
        return _render(request, project, {action: form}, status=400)
    return redirect("prospects:project-settings", pk=project.pk)


def _save(request: HttpRequest, project: Project, action: str, form: Any) -> None:
    """Apply one valid form; raises ProjectSettingsError when the service refuses it."""
    if action == "site":
        site = services.project_set_site(project=project, domain_or_url=form.cleaned_data["site"])
        messages.success(request, f"Your site is now {site.domain}." if site else "The project has no site.")
    elif action == "competitors":
        _competitors_added(request, services.project_add_competitors(project=project, values=form.values()))
    elif action == "terms":
        services.project_set_brand_terms(project=project, terms=form.brand_list())
        services.project_set_keywords(project=project, keywords=form.keyword_list())
        messages.success(request, "Brand terms and keywords saved; prospects rescored.")
    elif action == "target_page":
        page = services.project_add_target_page(project=project, url=form.cleaned_data["url"],
                                                label=form.cleaned_data["label"])  # fmt: skip
        messages.success(request, f"Target page {page.url} added.")
    else:
        services.project_set_score_weights(project=project, weights=form.weights())
        messages.success(request, "Score weights saved; prospects rescored.")


def _competitors_added(request: HttpRequest, result: services.CompetitorsAdded) -> None:
    if result.added:
        messages.success(request, f"Added: {', '.join(result.added)}.")
    if result.already:
        messages.info(request, f"Already competitors: {', '.join(result.already)}.")
    for value, why in result.refused:
        messages.error(request, f"Not added: {value} ({why}).")


def _remove_competitor(request: HttpRequest, project: Project) -> HttpResponse:
    site_id = request.POST.get("site", "")
    if site_id.isdigit() and services.project_remove_competitor(project=project, site_id=int(site_id)):
        messages.success(request, "Competitor removed (its link data stays in the audit).")
    else:
        messages.error(request, "That site is not a competitor of this project.")
    return redirect("prospects:project-settings", pk=project.pk)


def _remove_target_page(request: HttpRequest, project: Project) -> HttpResponse:
    page_id = request.POST.get("target_page", "")
    remove = services.project_remove_target_page
    if page_id.isdigit() and remove(project=project, target_page_id=int(page_id)):
        messages.success(request, "Target page removed.")
    else:
        messages.error(request, "No such target page in this project.")
    return redirect("prospects:project-settings", pk=project.pk)


urlpatterns = [path("projects/<int:pk>/settings/", project_settings, name="project-settings")]
