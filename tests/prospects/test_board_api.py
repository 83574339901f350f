"""The pipeline API: prospects, the board, moves (409 on a stale stage), bulk actions, timeline, notes,
reminders and CSV import — scoped to the caller's projects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from prospects.choices import Stage, SuppressionKind
from prospects.models import Prospect, Reminder, StageChange, Suppression
from prospects.services.pipeline import prospects_assign, reminder_add
from tests.prospects.pipeline_helpers import make_project, make_prospects

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(alice, bob):
    return make_project("Shop", alice, bob)


@pytest.fixture
def api(alice, client_for):
    return client_for(alice)


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def test_create_reports_created_merged_suppressed_and_invalid(project, api):
    make_prospects(project, "old.com")
    Suppression.objects.create(project=project, kind=SuppressionKind.DOMAIN, value="nope.com")
    response = post(api, "/api/prospects/", {
        "project": project.pk, "domains": ["https://new.com/x", "old.com", "nope.com", "192.168.0.1"],
        "tags": ["Blog"], "assignee": "bob",
    })  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["duplicates"], body["suppressed"]) == (1, ["old.com"], ["nope.com"])
    assert body["invalid"][0]["value"] == "192.168.0.1" and "IP address" in body["invalid"][0]["error"]
    created = Prospect.objects.get(pk=body["created_ids"][0])
    assert (created.domain, created.tags, created.assignee.username) == ("new.com", ["blog"], "bob")


def test_create_in_a_project_the_caller_cannot_see_is_404(api, manager):
    hidden = make_project("Hidden", manager)
    response = post(api, "/api/prospects/", {"project": hidden.pk, "domains": ["a.com"]})
    assert response.status_code == 404
    assert not Prospect.objects.exists()


def test_list_filters_and_orders_within_visible_projects(project, alice, bob, api, manager):
    a, b = make_prospects(project, "a.com", "b.org", by=alice, stage=Stage.TO_CONTACT)
    make_prospects(project, "c.com", by=alice)
    make_prospects(make_project("Hidden", manager), "hidden.com")
    Prospect.objects.filter(pk=a.pk).update(score=20, tags=["blog"])
    Prospect.objects.filter(pk=b.pk).update(score=80)
    prospects_assign(project=project, prospect_ids=[b.pk], assignee=bob)

    def domains(query: str) -> list[str]:
        return [p["domain"] for p in api.get(f"/api/prospects/?{query}").json()["results"]]

    assert domains("") == ["b.org", "a.com", "c.com"]
    assert domains(f"project={project.pk}&stage=to_contact&ordering=domain") == ["a.com", "b.org"]
    assert domains("assignee=bob") == domains(f"assignee={bob.pk}") == ["b.org"]
    assert domains("assignee=none&stage=to_contact") == ["a.com"]
    assert domains("tag=blog") == ["a.com"]
    assert domains("score_min=50") == ["b.org"]
    assert domains("q=.org") == ["b.org"]
    assert api.get("/api/prospects/?score_min=x").status_code == 400
    assert api.get("/api/prospects/?stage=nowhere").status_code == 400


def test_retrieve_is_404_outside_the_callers_projects(api, manager):
    hidden = make_prospects(make_project("Hidden", manager), "hidden.com")[0]
    assert api.get(f"/api/prospects/{hidden.pk}/").status_code == 404


def test_move_logs_the_caller_and_answers_409_with_the_actual_stage(project, alice, api):
    prospect = make_prospects(project, "a.com", by=alice, stage=Stage.TO_CONTACT)[0]
    url = f"/api/prospects/{prospect.pk}/move/"
    response = post(api, url, {"to_stage": "contacted", "expected_from": "to_contact", "reason": "pitched"})
    assert response.status_code == 200 and response.json()["stage"] == "contacted"
    change = StageChange.objects.filter(prospect=prospect).latest("id")
    assert (change.actor, change.reason) == (alice, "pitched")
    response = post(api, url, {"to_stage": "reply_received", "expected_from": "to_contact"})
    assert response.status_code == 409 and response.json()["actual"] == "contacted"
    response = post(api, url, {"to_stage": "rejected"})
    assert response.status_code == 400 and "needs a reason" in response.json()["detail"]


def test_stage_changes_are_the_timeline_oldest_first(project, alice, api):
    prospect = make_prospects(project, "a.com", by=alice, stage=Stage.CONTACTED)[0]
    body = api.get(f"/api/prospects/{prospect.pk}/stage-changes/").json()
    assert [(c["from_stage"], c["to_stage"], c["actor"]) for c in body] == [
        ("", "in_progress", "alice"),
        ("in_progress", "contacted", "alice"),
    ]


def test_assign_and_tags(project, api, outsider):
    prospect = make_prospects(project, "a.com")[0]
    assert post(api, f"/api/prospects/{prospect.pk}/assign/", {"assignee": "bob"}).json()["assignee"] == "bob"
    assert post(api, f"/api/prospects/{prospect.pk}/assign/", {"assignee": "outsider"}).status_code == 400
    assert post(api, f"/api/prospects/{prospect.pk}/assign/", {"assignee": None}).json()["assignee"] is None
    response = api.put(f"/api/prospects/{prospect.pk}/tags/", {"tags": ["Blog", "blog", "News"]},
                       content_type="application/json")  # fmt: skip
    assert response.json()["tags"] == ["blog", "news"]


def test_bulk_move_and_assign_report_done_and_skipped(project, alice, api, manager):
    a, b = make_prospects(project, "a.com", "b.com", by=alice)
    foreign = make_prospects(make_project("Hidden", manager), "x.com")[0]
    response = post(api, "/api/prospects/bulk-move/", {
        "project": project.pk, "ids": [a.pk, b.pk, foreign.pk], "to_stage": "rejected",
        "reject_reason": "declined",
    })  # fmt: skip
    assert response.json() == {
        "done": [a.pk, b.pk],
        "skipped": [{"id": foreign.pk, "reason": "not a prospect of this project"}],
    }
    response = post(
        api, "/api/prospects/bulk-assign/", {"project": project.pk, "ids": [a.pk], "assignee": "bob"}
    )
    assert response.json()["done"] == [a.pk]
    assert Prospect.objects.get(pk=a.pk).assignee.username == "bob"
    foreign.refresh_from_db()
    assert foreign.stage == Stage.IN_PROGRESS


def test_board_returns_counts_and_a_page_per_column(project, alice, api):
    make_prospects(project, *(f"d{n}.com" for n in range(7)), by=alice, stage=Stage.CONTACTED)
    make_prospects(project, "x.com", by=alice)
    columns = api.get(f"/api/prospects/board/?project={project.pk}&page_size=5&off_contacted=5").json()
    assert [c["stage"] for c in columns] == Stage.values
    contacted = columns[2]
    assert (contacted["count"], len(contacted["cards"]), contacted["next_offset"]) == (7, 2, None)
    assert columns[0]["count"] == 1 and columns[0]["next_offset"] is None
    assert api.get("/api/prospects/board/").status_code == 400


def test_notes_and_reminders(project, alice, bob, api):
    prospect = make_prospects(project, "a.com", by=alice)[0]
    response = post(api, f"/api/prospects/{prospect.pk}/notes/", {"body": "Editor is Jane"})
    assert response.status_code == 201 and response.json()["author"] == "alice"
    assert [n["body"] for n in api.get(f"/api/prospects/{prospect.pk}/notes/").json()] == ["Editor is Jane"]
    due = (timezone.now() + timedelta(days=1)).isoformat()
    response = post(
        api, f"/api/prospects/{prospect.pk}/reminders/", {"text": "Call", "due_at": due, "assignee": "bob"}
    )
    assert response.status_code == 201 and response.json()["assignee"] == "bob"
    response = post(api, f"/api/prospects/{prospect.pk}/reminders/", {"text": "Mine", "due_at": due})
    assert response.json()["assignee"] == "alice"


def test_my_reminders_and_marking_one_done(project, alice, bob, api):
    prospect = make_prospects(project, "a.com", by=alice)[0]
    now = timezone.now()
    soon = reminder_add(prospect=prospect, due_at=now + timedelta(hours=1), text="Soon", created_by=alice)
    reminder_add(prospect=prospect, due_at=now + timedelta(days=9), text="Later", created_by=alice)
    reminder_add(prospect=prospect, due_at=now, text="Bob's", created_by=alice, assignee=bob)
    assert [r["text"] for r in api.get("/api/reminders/").json()["results"]] == ["Soon", "Later"]
    cutoff = (now + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    assert [r["text"] for r in api.get("/api/reminders/", {"due_before": cutoff}).json()["results"]] == [
        "Soon"
    ]
    assert post(api, f"/api/reminders/{soon.pk}/done/", {}).json()["done_at"] is not None
    assert Reminder.objects.get(pk=soon.pk).done_at is not None
    assert [r["text"] for r in api.get("/api/reminders/").json()["results"]] == ["Later"]


def test_csv_import_over_the_api(project, api):
    upload = SimpleUploadedFile("p.csv", b"url;notes\nhttps://a.com/x;hi\nnope;\n", content_type="text/csv")
    response = api.post("/api/prospects/import-csv/", {"project": project.pk, "file": upload})
    assert response.status_code == 201
    body = response.json()
    assert (body["rows"], body["created"]) == (2, 1)
    assert body["errors"][0]["line"] == 3 and body["errors"][0]["field"] == "domain"
    broken = SimpleUploadedFile("p.csv", b"\xff\xfe\x00", content_type="text/csv")
    response = api.post("/api/prospects/import-csv/", {"project": project.pk, "file": broken})
    assert response.status_code == 400


def test_outsiders_are_refused(project, client_for, outsider):
    assert client_for(outsider).get("/api/prospects/").status_code == 403
    assert client_for(None).get("/api/reminders/").status_code in (401, 403)
