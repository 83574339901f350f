"""Small builders shared by the pipeline tests: a project with members, prospects in a stage."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser

from audit.models import Backlink, Site
from linkcrm.lib.domains import domain_of_url, host_of_url
from prospects.choices import ProspectSource, Stage
from prospects.models import Project, Prospect
from prospects.services.creation import prospects_create
from prospects.services.pipeline import prospect_move_stage
from prospects.services.projects import project_create


def make_project(
    name: str, *members: AbstractBaseUser, created_by: AbstractBaseUser | None = None
) -> Project:
    return project_create(name=name, created_by=created_by, members=members)


def make_prospects(
    project: Project,
    *domains: str,
    by: AbstractBaseUser | None = None,
    stage: str = Stage.IN_PROGRESS,
    **extra: object,
) -> list[Prospect]:
    """Create prospects and, when ``stage`` says so, move them there as ``by`` (a person)."""
    result = prospects_create(
        project=project, domains=domains, source=ProspectSource.MANUAL, created_by=by, **extra
    )
    prospects = list(Prospect.objects.filter(pk__in=result.created_ids).order_by("id"))
    if stage != Stage.IN_PROGRESS:
        for prospect in prospects:
            prospect_move_stage(
                prospect_id=prospect.pk,
                to_stage=stage,
                actor=by,
                reject_reason="declined" if stage == Stage.REJECTED else "",
            )
            prospect.refresh_from_db()
    return prospects


def backlink(site: Site, source_url: str, target_url: str, anchor: str, **extra: object) -> Backlink:
    """A backlink row of ``site`` as an import would leave it."""
    return Backlink.objects.create(
        site=site,
        url_key=uuid.uuid4(),
        source_url=source_url,
        source_host=host_of_url(source_url),
        source_domain=domain_of_url(source_url),
        target_url=target_url,
        anchor=anchor,
        **extra,
    )
