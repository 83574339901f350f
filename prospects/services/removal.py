"""Link removal: a reviewer asks a referring domain to take its links down.

``removal_request`` records the audit decision ("Removal requested", with who and why, through
``audit.review.review_decide``) and puts the domain in the project's *link removal* pipeline
(``PipelineKind.REMOVAL``, source ``ProspectSource.REMOVAL``), where the same outreach
engine and templates work it. The project is the one promoting the audited site; when
several do, the caller names one. Both writes commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from audit.choices import ReviewStatus
from audit.models import Backlink, ReviewDecision, Site
from audit.review import review_decide
from prospects.choices import PipelineKind, ProspectSource
from prospects.models import Project
from prospects.services.creation import CreationResult, prospects_create

AUTOMATION = "audit.removal"


class RemovalError(ValueError):
    """The request cannot be made (no project for the site, or an ambiguous one)."""


@dataclass(frozen=True)
class RemovalResult:
    project: Project
    decisions: list[ReviewDecision]
    creation: CreationResult


def removal_projects(site: Site) -> list[Project]:
    """Projects that promote ``site``: where its removal prospects can go."""
    return list(Project.objects.filter(site=site).order_by("name", "id"))


def _project(site: Site, project: Project | None) -> Project:
    if project is not None:
        if project.site_id != site.id:
            raise RemovalError(f"project {project.name} does not promote {site.domain}")
        return project
    candidates = removal_projects(site)
    if not candidates:
        raise RemovalError(f"no project promotes {site.domain}: create one for it to work removals")
    if len(candidates) > 1:
        raise RemovalError(f"several projects promote {site.domain}: choose one")
    return candidates[0]


@transaction.atomic
def removal_request(
    *,
    site: Site,
    user: AbstractBaseUser | None,
    reason: str,
    domains: Iterable[str] = (),
    backlink_ids: Iterable[int] = (),
    project: Project | None = None,
) -> RemovalResult:
    """Mark the domains and links "Removal requested" and create (or find) one removal prospect
    per referring domain in the site's project. Raises RemovalError or audit.review.ReviewError
    with nothing written."""
    target = _project(site, project)
    domains, backlink_ids = list(domains), list(backlink_ids)
    decisions = review_decide(site=site, status=ReviewStatus.REMOVAL_REQUESTED, reason=reason, user=user,
                              domains=domains, backlink_ids=backlink_ids)  # fmt: skip
    link_domains = Backlink.objects.filter(site=site, id__in=backlink_ids).values_list("source_domain", flat=True)
    creation = prospects_create(
        project=target, domains=[*domains, *link_domains], source=ProspectSource.REMOVAL, created_by=user,
        pipeline=PipelineKind.REMOVAL, automation="" if user else AUTOMATION,
        reason=reason or "removal requested from the toxicity audit",
    )  # fmt: skip
    return RemovalResult(project=target, decisions=decisions, creation=creation)
