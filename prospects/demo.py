"""The prospects part of the demo workspace."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from prospects.models import Project
from prospects.services.projects import project_add_member, project_create

DEMO_PROJECT = "Demo: Northwind Outdoor Gear"


@transaction.atomic
def load() -> Project:
    project = Project.objects.filter(is_demo=True, name=DEMO_PROJECT).first()
    if project is None:
        project = project_create(
            name=DEMO_PROJECT,
            created_by=None,
            description="A sample project to explore LinkCRM: our shop against three competitors.",
            is_demo=True,
        )
    for admin in get_user_model().objects.filter(is_superuser=True, is_active=True):
        project_add_member(project=project, user=admin, added_by=None)
    return project
