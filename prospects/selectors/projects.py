"""Reads for prospects: which projects a user may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, QuerySet
from django.http import Http404

from linkcrm.choices import Role
from linkcrm.permissions import has_role
from prospects.models import Project


def project_list_for_user(user: AbstractBaseUser) -> QuerySet[Project]:
    """Managers and admins see every project; outreach staff their own; outsiders none."""
    projects = Project.objects.annotate(member_count=Count("memberships", distinct=True))
    if has_role(user, Role.MANAGER):
        return projects
    if has_role(user, Role.OUTREACH):
        return projects.filter(memberships__user=user)
    return projects.none()


def project_get_for_user(user: AbstractBaseUser, project_id: int) -> Project:
    """The project, or 404 when it does not exist or the user may not see it."""
    try:
        return project_list_for_user(user).get(pk=project_id)
    except Project.DoesNotExist:
        raise Http404("No such project") from None
