"""`make run`'s demo workspace: every part loads, together, and a second load changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from audit.models import Backlink, Site
from prospects.choices import Stage
from prospects.models import Project, Prospect, StageChange

pytestmark = pytest.mark.django_db


def _load() -> str:
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


def test_the_demo_workspace_shows_profiles_a_gap_and_a_full_pipeline(admin_user):
    output = _load()
    project = Project.objects.get(is_demo=True)
    assert project.name in output
    assert project.site is not None and project.competitors.count() >= 2
    assert Backlink.objects.filter(site=project.site).exists()
    assert all(Backlink.objects.filter(site=site).exists() for site in project.competitors.all())
    stages = set(Prospect.objects.filter(project=project).values_list("stage", flat=True))
    assert stages == set(Stage.values)
    assert admin_user in project.members.all()


def test_loading_the_demo_twice_changes_nothing(admin_user):
    _load()
    counts = _counts()
    _load()
    assert _counts() == counts


def _counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Site, Backlink, Prospect, StageChange))
