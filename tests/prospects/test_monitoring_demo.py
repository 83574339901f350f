"""The demo pipeline's acquired links come with a check history written without any fetch."""

from __future__ import annotations

import pytest

from audit.choices import PROVIDER_BIT, Provider
from audit.models import Backlink
from linkcrm.choices import Role
from prospects import demo_pipeline
from prospects.choices import LinkStatus, Stage
from prospects.models import AcquiredLink, LinkCheck, Prospect
from prospects.selectors.monitoring import lost_links_for_user, monitored_links
from prospects.services.projects import project_set_site
from tests.prospects.pipeline_helpers import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(make_user):
    admin = make_user("boss", Role.ADMIN)
    project = make_project("Demo", admin)
    project.is_demo = True
    project.save(update_fields=["is_demo"])
    project_set_site(project=project, domain_or_url="northwind-gear.com")
    demo_pipeline.load(project)
    return project


def test_every_acquired_demo_link_has_a_page_and_a_history(demo):
    acquired = Prospect.objects.filter(project=demo, stage=Stage.LINK_ACQUIRED)
    assert acquired.count() == 6 and not acquired.filter(linking_page_url="").exists()
    links = AcquiredLink.objects.filter(prospect__project=demo)
    assert links.count() == 6
    assert all(link.checks.count() == 4 for link in links)
    statuses = sorted(links.values_list("status", flat=True))
    assert statuses.count(LinkStatus.LOST) == 1 and LinkStatus.CHANGED in statuses
    assert LinkCheck.objects.filter(link__prospect__project=demo, automation="demo.seed").count() == 24


def test_the_demo_loss_waits_for_its_assignee_and_demo_links_are_never_swept(demo):
    lost = AcquiredLink.objects.get(prospect__project=demo, status=LinkStatus.LOST)
    assert lost_links_for_user(lost.prospect.assignee) == [lost]
    assert not monitored_links().filter(prospect__project=demo).exists()


def test_demo_links_seen_live_are_in_the_sites_profile(demo):
    verified = Backlink.objects.filter(site=demo.site).filter(providers=PROVIDER_BIT[Provider.VERIFIED])
    assert verified.count() == 6
    assert verified.filter(lost_at__isnull=False).count() == 1
