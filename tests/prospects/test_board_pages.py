"""The pipeline pages: board, column paging, moves with and without script, table and bulk actions,
the prospect page with its gap evidence, adding and importing prospects, the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from audit.models import Site
from linkcrm.choices import Role
from prospects.choices import ActorKind, PipelineKind, ProspectSource, Stage
from prospects.models import Note, ProjectCompetitor, Prospect, Reminder, StageChange
from prospects.services.creation import prospects_create
from prospects.services.pipeline import note_add, prospects_assign, reminder_add
from tests.prospects.pipeline_helpers import backlink, make_project, make_prospects

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(alice, bob):
    return make_project("Shop", alice, bob)


@pytest.fixture
def client(alice, client_for):
    return client_for(alice)


def board_url(project) -> str:
    return f"/projects/{project.pk}/board/"


def move_url(prospect) -> str:
    return f"/projects/{prospect.project_id}/prospects/{prospect.pk}/move/"


def scored(project, by, stage, *domains_scores):
    """Prospects with given scores, moved to ``stage``."""
    prospects = make_prospects(project, *(d for d, _ in domains_scores), by=by, stage=stage)
    for prospect, (_, score) in zip(prospects, domains_scores, strict=True):
        Prospect.objects.filter(pk=prospect.pk).update(score=score)
    return prospects


# --- board ------------------------------------------------------------------------------------------


def test_the_board_shows_every_stage_with_counts_and_cards_by_score(project, alice, client):
    scored(project, alice, Stage.TO_CONTACT, ("low.com", 10), ("high.com", 90), ("mid.com", 50))
    make_prospects(project, "new.com", by=alice)
    page = client.get(board_url(project)).content.decode()
    for label in ("In Progress", "To Contact", "Contacted", "Reply Received", "Link Acquired", "Rejected"):
        assert f">{label}</h2>" in page
    column = page.split('data-stage="to_contact" data-label')[1].split("</section>")[0]
    assert 'data-count title="3 prospects">3<' in column
    assert column.index("high.com") < column.index("mid.com") < column.index("low.com")
    assert "new.com" not in column


def test_non_members_get_404_and_managers_see_every_board(project, client_for, outsider, manager, make_user):
    carol = make_user("carol", Role.OUTREACH)
    assert client_for(carol).get(board_url(project)).status_code == 404
    assert client_for(manager).get(board_url(project)).status_code == 200
    assert client_for(outsider).get(board_url(project)).status_code == 403


def test_the_board_filters_by_assignee_score_tag_and_domain(project, alice, bob, client):
    one, two, three = scored(
        project, alice, Stage.TO_CONTACT, ("one.com", 80), ("two.com", 20), ("three.org", 60)
    )
    prospects_assign(project=project, prospect_ids=[one.pk, two.pk], assignee=alice)
    prospects_assign(project=project, prospect_ids=[three.pk], assignee=bob)
    Prospect.objects.filter(pk=three.pk).update(tags=["blog"])

    def shown(query: str) -> set[str]:
        page = client.get(f"{board_url(project)}?{query}").content.decode()
        return {d for d in ("one.com", "two.com", "three.org") if f'data-domain="{d}"' in page}

    assert shown("assignee=me") == {"one.com", "two.com"}
    assert shown(f"assignee={bob.pk}") == {"three.org"}
    assert shown("score_min=50") == {"one.com", "three.org"}
    assert shown("tag=Blog") == {"three.org"}
    assert shown("q=.org") == {"three.org"}
    assert shown("score_min=banana") == {"one.com", "two.com", "three.org"}  # a bad filter is ignored


def test_each_column_pages_on_its_own(project, alice, client):
    scored(project, alice, Stage.TO_CONTACT, *((f"d{n:02}.com", 100 - n) for n in range(30)))
    page = client.get(board_url(project)).content.decode()
    assert page.count('class="pcard"') == 25
    assert "Show more (5 left)" in page
    fragment = client.get(f"/projects/{project.pk}/board/column/?stage=to_contact&offset=25").content.decode()
    assert [f"d{n:02}.com" for n in range(25, 30)] == [
        d for d in (f"d{n:02}.com" for n in range(30)) if f'data-domain="{d}"' in fragment
    ]
    assert "Show more" not in fragment
    # Without script the same link pages the column in the board itself.
    assert 'data-domain="d27.com"' in client.get(f"{board_url(project)}?off_to_contact=25").content.decode()


def test_a_big_board_costs_a_fixed_number_of_queries_and_uses_the_board_index(
    project, alice, client, django_assert_max_num_queries
):
    prospects_create(
        project=project,
        domains=[f"site{n}.com" for n in range(10_000)],
        source=ProspectSource.GAP,
        created_by=None,
    )
    with connection.cursor() as cursor:  # spread scores and stages like a real pipeline
        cursor.execute(
            "UPDATE prospects_prospect SET score = id %% 101, stage = (ARRAY['in_progress', 'to_contact',"
            " 'contacted', 'reply_received', 'link_acquired'])[1 + id %% 5]"
            " WHERE project_id = %s",
            [project.pk],
        )
        cursor.execute("ANALYZE prospects_prospect")
    with django_assert_max_num_queries(20):
        response = client.get(board_url(project))
    assert response.content.decode().count('class="pcard"') == 5 * 25
    column = Prospect.objects.filter(project=project, stage=Stage.CONTACTED).order_by("-score", "id")[:25]
    assert "prospect_board" in column.explain()


# --- moves --------------------------------------------------------------------------------------------


def test_the_move_menu_works_without_script(project, alice, client):
    prospect = make_prospects(project, "a.com", by=alice, stage=Stage.TO_CONTACT)[0]
    here = f"{board_url(project)}?tag=x"
    response = client.post(move_url(prospect), {"to_stage": "contacted", "expected_from": "to_contact",
                                                "reject_reason": "declined", "next": here})  # fmt: skip
    assert (response.status_code, response["Location"]) == (302, here)
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.reject_reason) == (Stage.CONTACTED, "")
    change = StageChange.objects.filter(prospect=prospect).latest("id")
    assert (change.actor, change.actor_kind, change.from_stage) == (alice, ActorKind.PERSON, Stage.TO_CONTACT)


def test_a_scripted_move_gets_json_and_a_stale_one_gets_409(project, alice, bob, client):
    prospect = make_prospects(project, "a.com", by=alice, stage=Stage.TO_CONTACT)[0]
    data = {"to_stage": "contacted", "expected_from": "to_contact"}
    response = client.post(move_url(prospect), data, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json()["stage"] == "contacted"
    # Bob's screen still shows To Contact.
    stale = {"to_stage": "rejected", "expected_from": "to_contact", "reject_reason": "declined"}
    response = client.post(move_url(prospect), stale, HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert response.json()["actual"] == "contacted"
    prospect.refresh_from_db()
    assert prospect.stage == Stage.CONTACTED


def test_rejecting_needs_a_reason_and_links_need_evidence_on_the_domain(project, alice, client):
    prospect = make_prospects(project, "a.com", by=alice)[0]
    response = client.post(move_url(prospect), {"to_stage": "rejected"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "why" in response.json()["error"]
    response = client.post(move_url(prospect), {"to_stage": "link_acquired", "linking_page_url": "https://b.com/x"},
                           HTTP_ACCEPT="application/json")  # fmt: skip
    assert response.status_code == 400 and "must be on a.com" in response.json()["error"]
    response = client.post(move_url(prospect), {"to_stage": "link_acquired", "linking_page_url": "https://a.com/x"},
                           HTTP_ACCEPT="application/json")  # fmt: skip
    assert response.status_code == 200
    prospect.refresh_from_db()
    assert prospect.linking_page_url == "https://a.com/x"


def test_the_removal_board_and_prospect_page_say_a_removal_needs_no_linking_page(project, alice, client):
    prospect = make_prospects(project, "a.com", by=alice, pipeline=PipelineKind.REMOVAL)[0]
    removal_board = client.get(board_url(project) + "?pipeline=removal").content.decode()
    assert "The link is gone. Page it was on (optional)" in removal_board
    assert "Linking page (required" in client.get(board_url(project)).content.decode()
    page = client.get(f"/projects/{project.pk}/prospects/{prospect.pk}/").content.decode()
    assert "In link removal, Link Acquired means the link was taken down" in page
    response = client.post(move_url(prospect), {"to_stage": "link_acquired"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.linking_page_url) == (Stage.LINK_ACQUIRED, "")


def test_a_prospect_is_reached_only_through_its_own_project(project, alice, client, client_for, make_user):
    other = make_project("Other", alice)
    prospect = make_prospects(other, "a.com", by=alice)[0]
    assert (
        client.post(
            f"/projects/{project.pk}/prospects/{prospect.pk}/move/", {"to_stage": "contacted"}
        ).status_code
        == 404
    )
    stranger = client_for(make_user("carol", Role.OUTREACH))
    assert stranger.post(move_url(prospect), {"to_stage": "contacted"}).status_code == 404
    prospect.refresh_from_db()
    assert prospect.stage == Stage.IN_PROGRESS


def test_next_never_leads_off_site(project, alice, client):
    prospect = make_prospects(project, "a.com", by=alice)[0]
    response = client.post(move_url(prospect), {"to_stage": "to_contact", "next": "https://evil.example/"})
    assert response["Location"] == board_url(project)


# --- table and bulk ---------------------------------------------------------------------------------


def test_the_table_filters_by_stage_and_sorts(project, alice, client):
    scored(project, alice, Stage.TO_CONTACT, ("b.com", 10), ("a.com", 90))
    scored(project, alice, Stage.CONTACTED, ("c.com", 50))
    page = client.get(f"/projects/{project.pk}/prospects/?stage=to_contact&sort=domain").content.decode()
    assert page.index(">a.com<") < page.index(">b.com<") and ">c.com<" not in page
    page = client.get(f"/projects/{project.pk}/prospects/?sort=-score").content.decode()
    assert page.index(">a.com<") < page.index(">c.com<") < page.index(">b.com<")


def test_bulk_move_assign_and_tag(project, alice, bob, client):
    a, b, c = make_prospects(project, "a.com", "b.com", "c.com", by=alice)
    bulk = f"/projects/{project.pk}/prospects/bulk/"
    client.post(
        bulk, {"ids": [a.pk, b.pk], "action": "move", "to_stage": "rejected", "reject_reason": "not_relevant"}
    )
    assert dict(Prospect.objects.values_list("domain", "stage")) == {
        "a.com": Stage.REJECTED,
        "b.com": Stage.REJECTED,
        "c.com": Stage.IN_PROGRESS,
    }
    assert (
        StageChange.objects.filter(to_stage=Stage.REJECTED, actor=alice, reject_reason="not_relevant").count()
        == 2
    )
    client.post(bulk, {"ids": [b.pk, c.pk], "action": "assign", "assignee": bob.pk})
    assert dict(Prospect.objects.values_list("domain", "assignee")) == {
        "a.com": None,
        "b.com": bob.pk,
        "c.com": bob.pk,
    }
    client.post(bulk, {"ids": [a.pk, c.pk], "action": "tag", "tags": "Blog, tier 1"})
    assert Prospect.objects.get(pk=c.pk).tags == ["blog", "tier 1"]


def test_bulk_reports_what_it_skipped_and_refuses_a_reject_without_reason(project, alice, client):
    a, b = make_prospects(project, "a.com", "b.com", by=alice)
    bulk = f"/projects/{project.pk}/prospects/bulk/"
    response = client.post(bulk, {"ids": [a.pk], "action": "move", "to_stage": "rejected"}, follow=True)
    assert "Say why they are rejected" in response.content.decode()
    response = client.post(
        bulk, {"ids": [a.pk, b.pk], "action": "move", "to_stage": "in_progress"}, follow=True
    )
    assert (
        "Skipped 2: a.com: already in In Progress; b.com: already in In Progress" in response.content.decode()
    )


# --- the prospect page ------------------------------------------------------------------------------------


def test_the_prospect_page_shows_gap_evidence_timeline_notes_and_reminders(project, alice, bob, client):
    rival = Site.objects.create(domain="rival.com")
    stranger = Site.objects.create(domain="stranger.com")
    ProjectCompetitor.objects.create(project=project, site=rival)
    backlink(rival, "https://blog.hikes.com/best-tents", "https://rival.com/tents", "great tents")
    backlink(rival, "https://hikes.com/old", "https://rival.com/", "Rival", lost_at=timezone.now().date())
    backlink(stranger, "https://hikes.com/x", "https://stranger.com/", "not a competitor")
    backlink(rival, "https://other.com/x", "https://rival.com/", "another domain")
    prospect = make_prospects(project, "hikes.com", by=alice, stage=Stage.TO_CONTACT)[0]
    note_add(prospect=prospect, author=bob, body="Editor is Jane.")
    reminder_add(
        prospect=prospect, due_at=timezone.now() + timedelta(days=1), text="Call Jane", created_by=alice
    )

    page = client.get(f"/projects/{project.pk}/prospects/{prospect.pk}/").content.decode()
    evidence = page.split('id="evidence"')[1].split("</section>")[0]
    assert (
        "rival.com" in evidence
        and "great tents" in evidence
        and "https://blog.hikes.com/best-tents" in evidence
    )
    assert "1 live of 2" in evidence
    assert "not a competitor" not in evidence and "another domain" not in evidence
    assert 'id="contacts"' in page  # part D's contacts fragment
    timeline = page.split('id="timeline"')[1].split("</section>")[0]
    assert "In Progress → <strong>To Contact</strong>" in timeline and "alice" in timeline
    assert "Editor is Jane." in page and "Call Jane" in page


def test_notes_reminders_tags_and_assignment_from_the_prospect_page(project, alice, bob, client):
    prospect = make_prospects(project, "a.com", by=alice)[0]
    base = f"/projects/{project.pk}/prospects/{prospect.pk}"
    client.post(f"{base}/notes/", {"body": "Hello"})
    client.post(f"{base}/assign/", {"assignee": bob.pk})
    client.post(f"{base}/tags/", {"tags": "Guest post, blog"})
    client.post(f"{base}/reminders/", {"text": "Follow up", "due_at": "2030-01-02T09:30"})
    prospect.refresh_from_db()
    assert (prospect.assignee, prospect.tags) == (bob, ["guest post", "blog"])
    assert Note.objects.get().author == alice
    reminder = Reminder.objects.get()
    assert (reminder.assignee, reminder.text, reminder.due_at.year) == (bob, "Follow up", 2030)
    client.post(f"/projects/{project.pk}/reminders/{reminder.pk}/done/")
    reminder.refresh_from_db()
    assert reminder.done_at is not None


def test_assigning_to_a_non_member_changes_nothing(project, alice, outsider, client):
    prospect = make_prospects(project, "a.com", by=alice)[0]
    client.post(f"/projects/{project.pk}/prospects/{prospect.pk}/assign/", {"assignee": outsider.pk})
    prospect.refresh_from_db()
    assert prospect.assignee is None


# --- adding prospects -----------------------------------------------------------------------------------


def test_adding_by_hand_reports_merges_and_refusals(project, alice, client):
    make_prospects(project, "old.com", by=alice)
    page = client.post(f"/projects/{project.pk}/prospects/add/", {
        "domains": "new.com\nhttps://www.old.com/x\nnot a domain\n", "tags": "manual",
    }).content.decode()  # fmt: skip
    assert "1 prospect added" in page and "old.com" in page and "not a domain" in page
    assert Prospect.objects.get(domain="new.com").tags == ["manual"]


def test_importing_a_csv_from_the_page(project, alice, client):
    upload = SimpleUploadedFile("list.csv", b"domain,tags\na.com,blog\nbad value,\n", content_type="text/csv")
    page = client.post(f"/projects/{project.pk}/prospects/import/", {"file": upload}).content.decode()
    assert "1 prospect added from 2 rows" in page
    assert "line 3, domain:" in page
    broken = SimpleUploadedFile("list.csv", b"name\nJane\n", content_type="text/csv")
    page = client.post(f"/projects/{project.pk}/prospects/import/", {"file": broken}).content.decode()
    assert "The file was not imported" in page and "line 1: no domain column" in page
    assert Prospect.objects.count() == 1


# --- dashboard and the pipeline page ------------------------------------------------------------------------


def test_the_dashboard_shows_my_reminders_due_and_my_prospects_by_stage(project, alice, bob, client):
    mine = make_prospects(project, "mine.com", "also-mine.com", by=alice, stage=Stage.CONTACTED)
    theirs = make_prospects(project, "theirs.com", by=alice)[0]
    prospects_assign(project=project, prospect_ids=[p.pk for p in mine], assignee=alice)
    now = timezone.now()
    reminder_add(prospect=mine[0], due_at=now - timedelta(days=1), text="Overdue call", created_by=alice)
    reminder_add(prospect=mine[1], due_at=now + timedelta(days=30), text="Far away", created_by=alice)
    reminder_add(prospect=theirs, due_at=now, text="Bob's job", created_by=alice, assignee=bob)
    page = client.get("/").content.decode()
    reminders = page.split('id="my-reminders"')[1].split("</section>")[0]
    assert "Overdue call" in reminders and "overdue since" in reminders
    assert "Far away" not in reminders and "Bob's job" not in reminders
    by_stage = page.split('id="my-prospects"')[1].split("</section>")[0]
    assert 'data-stage="contacted"' in by_stage and ">2</a>" in by_stage
    assert 'data-stage="in_progress"' not in by_stage


def test_the_pipeline_page_leads_to_each_board_with_counts(project, alice, client, make_user):
    make_prospects(project, "a.com", "b.com", by=alice, stage=Stage.TO_CONTACT)
    make_project("Not mine", make_user("carol", Role.OUTREACH))
    page = client.get("/pipeline/").content.decode()
    assert f'href="/projects/{project.pk}/board/"' in page and "Not mine" not in page
    assert f'href="/projects/{project.pk}/prospects/?stage=to_contact" title="To Contact">2</a>' in page


def test_move_json_contract_is_what_the_board_script_reads(project, alice, client):
    prospect = make_prospects(project, "a.com", by=alice, stage=Stage.CONTACTED)[0]
    data = {"to_stage": "rejected", "expected_from": "contacted", "reject_reason": "bounced"}
    body = client.post(move_url(prospect), data, HTTP_ACCEPT="application/json").json()
    assert body == {
        "id": prospect.pk,
        "stage": "rejected",
        "stage_label": "Rejected",
        "reject_reason": "Bounced",
        "message": "a.com moved to Rejected.",
    }


def test_the_prospect_page_explains_its_score_part_by_part(project, alice, client):
    from prospects.services.scoring import prospects_rescore

    prospect = make_prospects(project, "hikes.com", by=alice, stage=Stage.TO_CONTACT)[0]
    prospects_rescore(project=project)
    page = client.get(f"/projects/{project.pk}/prospects/{prospect.pk}/").content.decode()
    assert 'id="score-breakdown"' in page
    assert 'data-part="authority"' in page and 'data-part="spam"' in page
