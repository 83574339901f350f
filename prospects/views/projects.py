"""Prospects' pages: dashboard, projects, pipeline. Thin: parse, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from linkcrm.choices import Role
from linkcrm.permissions import has_role, role_required, user_role
from prospects.choices import Stage
from prospects.forms import MembersForm, ProjectForm
from prospects.selectors.gap import gap_sites
from prospects.selectors.pipeline import pipeline_overview
from prospects.selectors.projects import project_get_for_user, project_list_for_user
from prospects.services.projects import project_create, project_set_members
from prospects.views import project_settings


@role_required(Role.OUTREACH)
def dashboard(request: HttpRequest) -> HttpResponse:
    projects = project_list_for_user(request.user)
    return render(
        request,
        "prospects/dashboard.html",
        {"projects": projects[:12], "project_count": projects.count(), "role": user_role(request.user)},
    )


@role_required(Role.OUTREACH)
def project_list(request: HttpRequest) -> HttpResponse:
    projects = project_list_for_user(request.user).select_related("created_by")
    return render(
        request,
        "prospects/project_list.html",
        {"projects": projects, "can_create": has_role(request.user, Role.MANAGER)},
    )


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = project_create(
            name=form.cleaned_data["name"], description=form.cleaned_data["description"],
            created_by=request.user, members=[request.user],
        )
        messages.success(request, f"Project {project.name} created.")
        return redirect("prospects:project-detail", pk=project.pk)
    return render(request, "prospects/project_form.html", {"form": form})


@role_required(Role.OUTREACH)
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, pk)
    memberships = project.memberships.select_related("user").order_by("user__username")
    return render(
        request,
        "prospects/project_detail.html",
        {
            "project": project, "memberships": memberships, "sites": gap_sites(project),
            "can_manage": has_role(request.user, Role.MANAGER), "target_pages": project.target_pages.all(),
        },
    )  # fmt: skip


@role_required(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def project_members(request: HttpRequest, pk: int) -> HttpResponse:
    project = project_get_for_user(request.user, pk)
    form = MembersForm(request.POST or None, initial={"members": project.members.all()})
    if request.method == "POST" and form.is_valid():
        project_set_members(project=project, users=form.cleaned_data["members"], changed_by=request.user)
        messages.success(request, "Members updated.")
        return redirect("prospects:project-detail", pk=project.pk)
    return render(request, "prospects/project_members.html", {"project": project, "form": form})


@role_required(Role.OUTREACH)
def pipeline(request: HttpRequest) -> HttpResponse:
    """The way into the boards: every project the user sees with its prospects per stage."""
    rows = pipeline_overview(request.user)
    return render(request, "prospects/pipeline.html", {"rows": rows, "stages": Stage.choices})


urlpatterns = [
    path("projects/", project_list, name="project-list"),
    path("projects/new/", project_new, name="project-new"),
    path("projects/<int:pk>/", project_detail, name="project-detail"),
    path("projects/<int:pk>/members/", project_members, name="project-members"),
    *project_settings.urlpatterns,
    path("pipeline/", pipeline, name="pipeline"),
]
