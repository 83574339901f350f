"""Reads of acquired-link monitoring: what is due, host history, a link's checks, alerts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Max, QuerySet, Window
from django.db.models.functions import RowNumber

from prospects.choices import PipelineKind, Stage
from prospects.linkcheck import LOSS_STATUSES
from prospects.models import AcquiredLink, LinkCheck, Project, TargetPage
from prospects.selectors.projects import project_list_for_user


def monitored_links() -> QuerySet[AcquiredLink]:
    """Links still worth checking: their prospect is in Link Acquired (link building).

    Demo projects are left out: their history is written by the demo loader, and their
    domains are sites nobody asked us to visit.
    """
    return AcquiredLink.objects.filter(
        prospect__stage=Stage.LINK_ACQUIRED,
        prospect__pipeline=PipelineKind.ACQUISITION,
        prospect__project__is_demo=False,
    )


def links_due_ids(*, now: datetime, batch: int, per_host: int) -> list[int]:
    """Ids of up to ``batch`` due links, oldest due first, at most ``per_host`` on one host."""
    ranked = (
        monitored_links()
        .filter(next_check_at__lte=now)
        .annotate(rank=Window(RowNumber(), partition_by=[F("host")], order_by=[F("next_check_at"), F("id")]))
        .filter(rank__lte=per_host)
        .order_by("next_check_at", "id")
        .values_list("id", flat=True)
    )
    return list(ranked[:batch])


def hosts_last_checked(hosts: Iterable[str]) -> dict[str, datetime]:
    """When each host was last asked for a linking page (from the check history)."""
    rows = (
        LinkCheck.objects.filter(host__in=set(hosts))
        .values("host")
        .annotate(last=Max("checked_at"))
        .values_list("host", "last")
    )
    return dict(rows)


@dataclass(frozen=True)
class ProjectTargets:
    """A project's target page URLs and its own site's domain (used when it has no target page)."""

    urls: tuple[str, ...]
    site_domain: str


def targets_of_projects(project_ids: Iterable[int]) -> dict[int, ProjectTargets]:
    """Each project's targets, in two queries."""
    ids = set(project_ids)
    urls: dict[int, list[str]] = defaultdict(list)
    for project_id, url in TargetPage.objects.filter(project_id__in=ids).values_list("project_id", "url"):
        urls[project_id].append(url)
    sites = dict(Project.objects.filter(pk__in=ids).values_list("pk", "site__domain"))
    return {pk: ProjectTargets(urls=tuple(urls[pk]), site_domain=sites.get(pk) or "") for pk in ids}


def acquired_link_of_prospect(prospect_id: int) -> AcquiredLink | None:
    return AcquiredLink.objects.filter(prospect_id=prospect_id).first()


def link_checks(link_id: int, *, limit: int = 50) -> list[LinkCheck]:
    """The link's latest checks, newest first."""
    return list(
        LinkCheck.objects.filter(link_id=link_id).select_related("actor").order_by("-checked_at", "-id")[:limit]
    )


def acquired_links_for_user(user: AbstractBaseUser) -> QuerySet[AcquiredLink]:
    """Acquired links of the projects the user may see, with their prospect and project."""
    projects = project_list_for_user(user).values("pk")
    return AcquiredLink.objects.filter(prospect__project__in=projects).select_related(
        "prospect", "prospect__project", "prospect__assignee"
    )


def lost_links_for_user(user: AbstractBaseUser, *, limit: int = 20) -> list[AcquiredLink]:
    """Confirmed losses on the user's prospects waiting for a decision (reclaim), newest first."""
    return list(
        AcquiredLink.objects.filter(prospect__stage=Stage.LINK_ACQUIRED, prospect__assignee=user)
        .filter(status__in=LOSS_STATUSES, reclaimed_at__isnull=True)
        .select_related("prospect", "prospect__project")
        .order_by("-loss_confirmed_at", "-id")[:limit]
    )
