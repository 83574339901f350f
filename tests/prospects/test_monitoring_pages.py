"""Monitoring in the UI and the API: status and history, check now, reclaim, alerts, roles, the board switch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from prospects import tasks
from prospects.choices import LinkStatus, PipelineKind, ProspectSource, Stage
from prospects.linkcheck import CheckResult, FoundLink
from prospects.models import AcquiredLink, LinkCheck, Prospect
from prospects.services import monitoring
from prospects.services.acquired import acquired_links_sync
from prospects.services.creation import prospects_create
from prospects.services.monitoring import acquired_link_record
from prospects.services.projects import project_set_site
from tests.lib.loopback import serve
from tests.prospects.monitoring_world import BLOG, acquire, make_client, page_with
from tests.prospects.pipeline_helpers import make_project

pytestmark = pytest.mark.django_db

PAGE = "https://trail-notes.com/best-gear"


@pytest.fixture
def project(alice, bob):
    project = make_project("Gear", alice)
    make_project("Other", bob)
    return project


@pytest.fixture
def prospect(project, alice):
    return acquire(project, BLOG, PAGE, by=alice, assignee=alice)


def record(prospect: Prospect, outcome: str, *, days_ago: int, rel: tuple[str, ...] = ()) -> AcquiredLink:
    """Apply a made-up check result through the service (no fetch)."""
    link = AcquiredLink.objects.get(prospect=prospect)
    found = FoundLink(href="https://northwind-gear.com/", anchor="great tents", rel=rel)
    result = CheckResult(
        outcome=outcome, url=PAGE, final_url=PAGE, http_status=200 if outcome != LinkStatus.BROKEN else 404,
        link=found if outcome == LinkStatus.ACTIVE else None,
    )  # fmt: skip
    acquired_link_record(link_id=link.pk, result=result, checked_at=timezone.now() - timedelta(days=days_ago),
                         automation="linkcheck.sweep")  # fmt: skip
    link.refresh_from_db()
    return link


def lose(prospect: Prospect) -> AcquiredLink:
    record(prospect, LinkStatus.ACTIVE, days_ago=4)
    for days in (3, 2, 1):
        link = record(prospect, LinkStatus.LOST, days_ago=days)
    assert link.status == LinkStatus.LOST
    return link


def detail_url(prospect: Prospect) -> str:
    return reverse("prospects:prospect-detail", args=[prospect.project_id, prospect.pk])


# --- pages -------------------------------------------------------------------------------------------


def test_the_prospect_page_shows_the_status_and_the_check_history(prospect, alice, client_for):
    record(prospect, LinkStatus.ACTIVE, days_ago=2)
    record(prospect, LinkStatus.ACTIVE, days_ago=1, rel=("nofollow",))
    html = client_for(alice).get(detail_url(prospect)).content.decode()
    assert 'id="monitoring" data-link-status="changed"' in html
    assert html.count('<tr data-outcome="') == 2 and '<tr data-outcome="changed">' in html
    assert "great tents" in html and "Check now" in html and "Reclaim" not in html


def test_a_prospect_without_an_acquired_link_shows_no_monitoring(project, alice, client_for):
    other = prospects_create(project=project, domains=["quiet.com"], source=ProspectSource.MANUAL, created_by=alice)
    html = client_for(alice).get(reverse("prospects:prospect-detail", args=[project.pk, other.created_ids[0]]))
    assert 'id="monitoring"' not in html.content.decode()


def test_a_confirmed_loss_is_on_the_assignees_dashboard_and_reclaimed_from_the_page(prospect, alice, bob, client_for):
    lose(prospect)
    assert "Links lost" in client_for(alice).get(reverse("dashboard")).content.decode()
    assert "Links lost" not in client_for(bob).get(reverse("dashboard")).content.decode()
    page = client_for(alice).get(detail_url(prospect)).content.decode()
    assert "Reclaim: back to To Contact" in page
    url = reverse("prospects:link-reclaim", args=[prospect.project_id, prospect.pk])
    response = client_for(alice).post(url, {"reason": "Ask them to restore it"})
    assert response.status_code == 302
    prospect.refresh_from_db()
    assert prospect.stage == Stage.TO_CONTACT
    assert prospect.stage_changes.latest("id").reason == "Ask them to restore it"
    assert "Links lost" not in client_for(alice).get(reverse("dashboard")).content.decode()


def test_check_now_queues_one_task_that_checks_as_the_person(
    prospect, alice, client_for, django_capture_on_commit_callbacks, monkeypatch, settings
):
    settings.LINKCRM_LINKCHECK_HOST_DELAY_SECONDS = 0
    url = reverse("prospects:link-check-now", args=[prospect.project_id, prospect.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert client_for(alice).post(url).status_code == 302
    assert len(callbacks) == 1
    server = next(serve_it := serve())
    try:
        server.page("/best-gear", page_with('<a href="https://northwind-gear.com/">tents</a>'))
        project_set_site(project=prospect.project, domain_or_url="northwind-gear.com")  # no target page: any page
        Prospect.objects.filter(pk=prospect.pk).update(linking_page_url=server.url("/best-gear", host=BLOG))
        acquired_links_sync()
        link = AcquiredLink.objects.get(prospect=prospect)
        monkeypatch.setattr(monitoring, "make_client", lambda: make_client(server))
        assert tasks.acquired_link_check_task(link.pk, alice.pk)["checked"] == 1
    finally:
        serve_it.close()
    check = LinkCheck.objects.get(link=link)
    assert (check.actor, check.outcome, check.automation) == (alice, LinkStatus.ACTIVE, "")


@pytest.mark.parametrize("name", ["link-check-now", "link-reclaim"])
def test_actions_need_the_outreach_role_and_membership(prospect, outsider, bob, client_for, name):
    url = reverse(f"prospects:{name}", args=[prospect.project_id, prospect.pk])
    assert client_for(outsider).post(url).status_code == 403
    assert client_for(bob).post(url).status_code == 404
    assert client_for(None).post(url).status_code == 302  # to the login page


def test_the_board_switches_between_link_building_and_removal(project, alice, client_for):
    prospects_create(project=project, domains=["building.com"], source=ProspectSource.MANUAL, created_by=alice)
    prospects_create(project=project, domains=["toxic-links.com"], source=ProspectSource.REMOVAL, created_by=alice,
                     pipeline=PipelineKind.REMOVAL)  # fmt: skip
    board = reverse("prospects:board", args=[project.pk])
    default = client_for(alice).get(board).content.decode()
    assert "building.com" in default and "toxic-links.com" not in default
    assert 'href="?pipeline=removal"' in default
    removal = client_for(alice).get(board + "?pipeline=removal").content.decode()
    assert "toxic-links.com" in removal and "building.com" not in removal
    assert 'name="pipeline" value="removal"' in removal  # the filter bar stays in the removal pipeline
    table = client_for(alice).get(reverse("prospects:prospect-table", args=[project.pk]) + "?pipeline=removal")
    assert "toxic-links.com" in table.content.decode()


def test_moving_to_link_acquired_on_the_page_without_a_url_is_refused(project, alice, client_for):
    created = prospects_create(project=project, domains=["quiet.com"], source=ProspectSource.MANUAL, created_by=alice)
    url = reverse("prospects:prospect-move", args=[project.pk, created.created_ids[0]])
    response = client_for(alice).post(url, {"to_stage": "link_acquired"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "linking page" in response.json()["error"]


# --- API ---------------------------------------------------------------------------------------------


def test_the_api_lists_a_prospect_just_moved_to_link_acquired(prospect, alice, client_for):
    # No sweep has run: the move to Link Acquired created the link, due at once.
    assert AcquiredLink.objects.get(prospect=prospect).next_check_at <= timezone.now()
    body = client_for(alice).get("/api/acquired-links/").json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [(row["prospect"], row["page_url"], row["status"]) for row in rows] == [(prospect.pk, PAGE, "pending")]


def test_the_api_lists_links_and_their_checks(prospect, alice, bob, client_for):
    record(prospect, LinkStatus.ACTIVE, days_ago=1)
    body = client_for(alice).get("/api/acquired-links/", {"status": "active"}).json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [(row["domain"], row["status"], row["anchor"]) for row in rows] == [(BLOG, "active", "great tents")]
    checks = client_for(alice).get(f"/api/acquired-links/{rows[0]['id']}/checks/").json()
    assert [(c["outcome"], c["http_status"], c["automation"]) for c in checks] == [("active", 200, "linkcheck.sweep")]
    assert client_for(bob).get(f"/api/acquired-links/{rows[0]['id']}/").status_code == 404
    assert client_for(alice).get("/api/acquired-links/", {"status": "gone"}).status_code == 400


def test_the_api_reclaims_a_confirmed_loss_only(prospect, alice, client_for, django_capture_on_commit_callbacks):
    link = record(prospect, LinkStatus.ACTIVE, days_ago=1)
    api = client_for(alice)
    assert api.post(f"/api/acquired-links/{link.pk}/reclaim/").status_code == 400
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert api.post(f"/api/acquired-links/{link.pk}/check/").status_code == 202
    assert len(callbacks) == 1
    lose(prospect)
    response = api.post(f"/api/acquired-links/{link.pk}/reclaim/", {"reason": "lost"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["stage"] == "to_contact" and response.json()["link"]["reclaimed_at"]
    assert api.post(f"/api/acquired-links/{link.pk}/check/").status_code == 400  # no longer monitored


def test_the_api_needs_the_outreach_role(prospect, outsider, client_for):
    assert client_for(outsider).get("/api/acquired-links/").status_code == 403
