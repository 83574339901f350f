"""Request removal: an audit decision plus a prospect in the project's link-removal pipeline;
disavowed domains leave the gap."""

from __future__ import annotations

import pytest

from audit.choices import ReviewStatus
from audit.models import ReviewDecision
from audit.review import review_decide
from prospects.choices import PipelineKind, ProspectSource, Stage
from prospects.models import Project, Prospect
from prospects.selectors.gap import GapQuery, GapTab, gap_domains
from prospects.services.removal import RemovalError, removal_request
from tests.prospects import gap_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> gap_world.World:
    return gap_world.build(Project.objects.create(name="Shop"))


def test_a_removal_request_records_the_decision_and_creates_a_removal_prospect(world, manager):
    link = world.shop.backlinks.get(source_domain="mine.org", source_url__endswith="page-0")
    result = removal_request(site=world.shop, user=manager, reason="paid link from 2019",
                             backlink_ids=[link.id], domains=["weak.org"])
    prospects = Prospect.objects.filter(project=world.project).order_by("domain")
    assert [(p.domain, p.pipeline, p.source, p.stage) for p in prospects] == [
        ("mine.org", PipelineKind.REMOVAL, ProspectSource.REMOVAL, Stage.IN_PROGRESS),
        ("weak.org", PipelineKind.REMOVAL, ProspectSource.REMOVAL, Stage.IN_PROGRESS),
    ]
    assert result.creation.created == 2
    decisions = ReviewDecision.objects.filter(site=world.shop).order_by("domain")
    assert [(d.domain, d.status, d.decided_by, d.reason) for d in decisions] == [
        ("mine.org", ReviewStatus.REMOVAL_REQUESTED, manager, "paid link from 2019"),
        ("weak.org", ReviewStatus.REMOVAL_REQUESTED, manager, "paid link from 2019"),
    ]
    again = removal_request(site=world.shop, user=manager, reason="still there", domains=["weak.org"])
    assert again.creation.duplicates == ["weak.org"]  # one removal prospect per domain


def test_without_a_project_for_the_site_nothing_is_written(world, manager):
    with pytest.raises(RemovalError, match="no project promotes alpha.com"):
        removal_request(site=world.alpha, user=manager, reason="", domains=["best1.org"])
    assert not ReviewDecision.objects.exists()


def test_disavowed_domains_are_hidden_from_the_gap(world, manager):
    assert gap_domains(world.project, GapQuery(tab=GapTab.BEST), limit=10) == ["best2.org", "best1.org"]
    review_decide(site=world.shop, status=ReviewStatus.DISAVOWED, reason="spam", user=manager, domains=["best1.org"])
    assert gap_domains(world.project, GapQuery(tab=GapTab.BEST), limit=10) == ["best2.org"]
    shown = gap_domains(world.project, GapQuery(tab=GapTab.BEST, hide_toxic=False), limit=10)
    assert "best1.org" in shown
