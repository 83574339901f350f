"""In Chromium: acquire a link with its page, watch it get lost on a loopback site, reclaim it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from prospects.choices import PipelineKind, ProspectSource, Stage
from prospects.models import Prospect
from prospects.services.creation import prospects_create
from prospects.services.monitoring import links_sweep
from prospects.services.projects import project_set_site
from tests.conftest import PASSWORD
from tests.lib.loopback import serve
from tests.prospects.monitoring_world import BLOG, OURS, FakeClock, make_client, page_with
from tests.prospects.pipeline_helpers import make_project, make_prospects

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server():
    yield from serve()


def sweep(server, clock: FakeClock) -> None:
    with make_client(server) as client:
        links_sweep(client=client, clock=clock, sleep=clock.sleep)


def test_a_link_acquired_on_the_board_is_checked_lost_and_reclaimed(server, alice, login, page, settings):
    settings.LINKCRM_LINKCHECK_CONFIRM_FAILURES = 1
    project = make_project("Gear", alice)
    project_set_site(project=project, domain_or_url=OURS)
    make_prospects(project, BLOG, by=alice, stage=Stage.REPLY_RECEIVED)
    linking_page = server.url("/post", host=BLOG)
    base = login("alice", PASSWORD)

    page.goto(f"{base}/projects/{project.pk}/board/")
    page.locator(f'.pcard[data-domain="{BLOG}"]').drag_to(page.locator('.board-col[data-stage="link_acquired"]'))
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Linking page").fill(linking_page)
    dialog.get_by_role("button", name="Move").click()
    expect(page.locator("#board-live")).to_contain_text(f"{BLOG} moved to Link Acquired")

    clock = FakeClock()
    server.page("/post", page_with(f'<a href="https://www.{OURS}/">tents</a>'))
    sweep(server, clock)
    prospect = Prospect.objects.get(domain=BLOG)
    page.goto(f"{base}/projects/{project.pk}/prospects/{prospect.pk}/")
    expect(page.locator("#monitoring .link-pill").first).to_have_text("Active")

    server.page("/post", page_with())
    clock.advance(days=1)
    sweep(server, clock)
    page.reload()
    expect(page.locator("#monitoring .link-pill").first).to_have_text("Lost")
    page.get_by_role("button", name="Reclaim: back to To Contact").click()
    expect(page.locator(".stage-pill").first).to_have_text("To Contact")
    expect(page.locator("#monitoring")).to_contain_text("Reclaimed on")


def test_the_board_switches_to_the_removal_pipeline(alice, login, page):
    project = make_project("Gear", alice)
    prospects_create(project=project, domains=["kept.com"], source=ProspectSource.MANUAL, created_by=alice)
    prospects_create(project=project, domains=["toxic.com"], source=ProspectSource.REMOVAL, created_by=alice,
                     pipeline=PipelineKind.REMOVAL)  # fmt: skip
    base = login("alice", PASSWORD)
    page.goto(f"{base}/projects/{project.pk}/board/")
    expect(page.locator('.pcard[data-domain="kept.com"]')).to_be_visible()
    page.get_by_role("navigation", name="Pipeline").get_by_role("link", name="Link removal").click()
    expect(page.locator('.pcard[data-domain="toxic.com"]')).to_be_visible()
    expect(page.locator('.pcard[data-domain="kept.com"]')).to_have_count(0)
