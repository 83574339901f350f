"""Reads for contacts, do-not-contact lists and discovery runs, scoped to what a user may see.

Visibility follows projects (``prospects.selectors.projects``): a contact or prospect is
visible when its project is; a do-not-contact entry when it is global or its project is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import Http404
from django_q.models import Task

from prospects.models import Contact, Project, Prospect, Suppression
from prospects.selectors.projects import project_list_for_user
from prospects.services.contacts import discovery_group


def _visible_project_ids(user: AbstractBaseUser) -> QuerySet[Project]:
    return project_list_for_user(user).values("pk")


def contact_list_for_user(user: AbstractBaseUser) -> QuerySet[Contact]:
    """Contacts of prospects in projects the user may see."""
    return Contact.objects.filter(prospect__project__in=_visible_project_ids(user)).select_related(
        "prospect", "prospect__project"
    )


def contact_get_for_user(user: AbstractBaseUser, contact_id: int) -> Contact:
    """The contact, or 404 when it does not exist or its project is not the user's."""
    contact = contact_list_for_user(user).filter(pk=contact_id).first()
    if contact is None:
        raise Http404("No such contact")
    return contact


def prospect_for_contacts(user: AbstractBaseUser, prospect_id: int) -> Prospect:
    """The prospect whose contacts the user works on, or 404 when its project is not visible."""
    prospect = (
        Prospect.objects.filter(pk=prospect_id, project__in=_visible_project_ids(user))
        .select_related("project")
        .first()
    )
    if prospect is None:
        raise Http404("No such prospect")
    return prospect


def contacts_of_prospect(prospect_id: int) -> QuerySet[Contact]:
    """A prospect's contacts, primary first."""
    return Contact.objects.filter(prospect_id=prospect_id).order_by("-is_primary", "email")


def suppression_list(*, project: Project | None) -> QuerySet[Suppression]:
    """One list: the project's own entries, or the global ones (project None)."""
    entries = Suppression.objects.select_related("created_by", "project")
    if project is None:
        return entries.filter(project__isnull=True).order_by("kind", "value")
    return entries.filter(project=project).order_by("kind", "value")


def suppression_list_for_user(user: AbstractBaseUser) -> QuerySet[Suppression]:
    """Global entries plus those of the projects the user may see."""
    return Suppression.objects.filter(
        Q(project__isnull=True) | Q(project__in=_visible_project_ids(user))
    ).select_related("created_by", "project")


@dataclass(frozen=True)
class DiscoveryRun:
    """The last finished discovery run of a prospect, as its task stored it."""

    finished_at: datetime
    succeeded: bool
    result: dict | None  # DiscoveryResult.as_dict() when it succeeded
    failure: str  # a plain message when it did not (the traceback stays in the worker's log)


def discovery_last_run(prospect_id: int) -> DiscoveryRun | None:
    """The latest finished run (django-q2 keeps task results), or None when none finished yet."""
    task = Task.objects.filter(group=discovery_group(prospect_id)).order_by("-stopped").first()
    if task is None:
        return None
    if task.success:
        return DiscoveryRun(finished_at=task.stopped, succeeded=True, result=task.result, failure="")
    return DiscoveryRun(finished_at=task.stopped, succeeded=False, result=None,
                        failure="The discovery run failed; the worker's log has the details.")
