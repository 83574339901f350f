"""The demo project: the audit demo's sites compared, its best gap rows as scored prospects, idempotent."""

from __future__ import annotations

import pytest

from audit import demo as audit_demo
from prospects import demo
from prospects.choices import ProspectSource, Stage
from prospects.models import Project, Prospect
from prospects.selectors.gap import GapQuery, GapTab, gap_page

pytestmark = pytest.mark.django_db


def test_the_demo_project_compares_the_demo_sites_and_has_gap_prospects(admin_user):
    audit_demo.load(links_per_site=400)
    project = demo.load()
    assert project.site.domain == audit_demo.DEMO_SITE.domain
    assert sorted(project.competitors.values_list("domain", flat=True)) == sorted(
        rival.domain for rival in audit_demo.COMPETITORS
    )
    assert project.brand_terms == [audit_demo.DEMO_SITE.brand] and "hiking" in project.keywords
    assert project.target_pages.count() == 3 and admin_user in project.members.all()
    counts = gap_page(project, GapQuery(tab=GapTab.ALL, hide_prospects=False)).counts
    assert counts["best"] > 0 and counts["missing"] > 0
    prospects = Prospect.objects.filter(project=project, source=ProspectSource.GAP)
    assert 0 < prospects.count() <= demo.GAP_PROSPECTS
    assert not prospects.filter(score=0).exists()  # scored as they were created
    assert prospects.filter(stage=Stage.LINK_ACQUIRED).exists()  # the demo pipeline worked them

    before = list(Prospect.objects.order_by("id").values_list("id", "domain", "score", "stage"))
    assert demo.load() == project
    assert Project.objects.filter(is_demo=True).count() == 1
    assert list(Prospect.objects.order_by("id").values_list("id", "domain", "score", "stage")) == before
