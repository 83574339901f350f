"""Outreach API: write-only passwords, roles, template versions and preview, sequences, enroll, inbox."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from outreach.choices import EnrollmentStatus
from outreach.models import EmailTemplate, Enrollment, Mailbox
from tests.outreach.ui_world import enrolled, inbound, sent_message
from tests.outreach.world import (
    make_project,
    make_sequence,
    make_template,
    prospect_with_contact,
    sandbox_mailbox,
    unique_address,
)

pytestmark = pytest.mark.django_db
SECRET = "api-secret-pw"  # noqa: S105 (a test value)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def mailbox_payload(email: str, **extra: object) -> dict:
    return {"name": "API box", "email": email, "smtp_host": "127.0.0.1", "smtp_port": 2525,
            "smtp_security": "plain", "smtp_username": email, "smtp_password": SECRET, "imap_host": "127.0.0.1",
            "imap_port": 1143, "imap_ssl": False, "window_days": [0, 1, 2], "timezone": "America/New_York",
            **extra}


def test_mailbox_passwords_are_write_only(alice):
    client = api(alice)
    created = client.post("/api/outreach/mailboxes/", mailbox_payload(unique_address()), format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert "smtp_password" not in body and "imap_password" not in body
    assert body["has_smtp_password"] is True and SECRET not in created.content.decode()
    mailbox = Mailbox.objects.get(pk=body["id"])
    assert (mailbox.owner, mailbox.get_smtp_password(), mailbox.get_imap_password()) == (alice, SECRET, SECRET)
    listed = client.get("/api/outreach/mailboxes/").content.decode()
    assert SECRET not in listed and mailbox.smtp_password not in listed
    client.patch(f"/api/outreach/mailboxes/{mailbox.pk}/", {"daily_cap": 9}, format="json")
    mailbox.refresh_from_db()
    assert (mailbox.daily_cap, mailbox.get_smtp_password()) == (9, SECRET)


def test_mailbox_api_validates_the_time_zone_and_ownership(stack, alice, bob):
    bad = api(alice).post("/api/outreach/mailboxes/", mailbox_payload(unique_address(), timezone="Nowhere/Land"),
                          format="json")
    assert bad.status_code == 400 and "timezone" in bad.json()
    mailbox = sandbox_mailbox(stack, alice)
    assert api(bob).get(f"/api/outreach/mailboxes/{mailbox.pk}/").status_code == 404
    paused = api(alice).post(f"/api/outreach/mailboxes/{mailbox.pk}/pause/", {"paused": True}, format="json")
    assert paused.json()["status"] == "paused"


@pytest.mark.mail
def test_mailbox_connection_test_over_the_api(stack, alice):
    mailbox = sandbox_mailbox(stack, alice)
    report = api(alice).post(f"/api/outreach/mailboxes/{mailbox.pk}/test/").json()
    assert report["smtp_ok"] is True and report["imap_ok"] is True and "INBOX" in report["folders"]
    assert report["warnings"] == []


def test_templates_admins_write_staff_read_and_preview(admin_user, alice):
    payload = {"name": "Intro", "subject": "Hi {{ contact.first_name }}", "text": "Hello {{ contact.name }}"}
    assert api(alice).post("/api/outreach/templates/", payload, format="json").status_code == 403
    created = api(admin_user).post("/api/outreach/templates/", payload, format="json").json()
    assert created["version"] == 1
    api(admin_user).patch(f"/api/outreach/templates/{created['id']}/", {"text": "Bye {{ contact.name }}"},
                          format="json")
    versions = api(alice).get(f"/api/outreach/templates/{created['id']}/versions/").json()
    assert [(v["number"], v["text"]) for v in versions] == [(2, "Bye {{ contact.name }}"),
                                                             (1, "Hello {{ contact.name }}")]
    preview = api(alice).post("/api/outreach/templates/preview/", payload, format="json").json()
    assert (preview["subject"], preview["errors"]) == ("Hi Jane", [])


def test_an_invalid_template_is_refused_with_part_and_line(admin_user):
    response = api(admin_user).post("/api/outreach/templates/", {
        "name": "Bad", "subject": "Hi", "text": "ok\n{{ nope }}"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["part"] == "text" and response.json()["errors"][0]["line"] == 2
    assert not EmailTemplate.objects.exists()


def test_sequences_managers_write_with_steps(manager, alice):
    a, b = make_template("A"), make_template("B")
    payload = {"name": "API seq", "steps": [{"template": a.pk, "delay_days": 0},
                                             {"template": b.pk, "delay_days": 2, "business_days": True}]}
    assert api(alice).post("/api/outreach/sequences/", payload, format="json").status_code == 403
    created = api(manager).post("/api/outreach/sequences/", payload, format="json").json()
    steps = created["steps"]
    assert [(s["position"], s["template"], s["business_days"]) for s in steps] == [(1, a.pk, False), (2, b.pk, True)]
    reordered = api(manager).patch(f"/api/outreach/sequences/{created['id']}/", {"steps": [
        {"id": steps[1]["id"], "template": b.pk, "delay_days": 0}, {"template": a.pk, "delay_days": 4}]},
        format="json").json()
    assert [(s["position"], s["template"], s["delay_days"]) for s in reordered["steps"]] == [(1, b.pk, 0),
                                                                                           (2, a.pk, 4)]
    assert reordered["steps"][0]["id"] == steps[1]["id"]


def test_bulk_enroll_reports_each_refusal(stack, alice, bob):
    project = make_project("Shop", alice)
    good, _ = prospect_with_contact(project, "good-blog.com", by=alice)
    no_contact = prospect_with_contact(project, "nocontact.com", by=alice)[0]
    no_contact.contacts.all().delete()
    theirs, _ = prospect_with_contact(make_project("Bob's", bob), "bobs-blog.com", by=bob)
    mailbox = sandbox_mailbox(stack, alice)
    sequence = make_sequence("Seq", (make_template("Intro"), 0))
    response = api(alice).post("/api/outreach/enrollments/enroll/", {
        "prospects": [good.pk, no_contact.pk, theirs.pk], "sequence": sequence.pk, "mailboxes": [mailbox.pk]},
        format="json")
    body = response.json()
    assert response.status_code == 200, body
    assert Enrollment.objects.get(pk__in=body["enrolled"]).prospect == good
    refused = {r["prospect_id"]: r["reason"] for r in body["refused"]}
    assert set(refused) == {no_contact.pk, theirs.pk} and refused[theirs.pk] == "prospect not found"
    assert not Enrollment.objects.filter(prospect=theirs).exists()


def test_enroll_refuses_someone_elses_mailbox(stack, alice, bob):
    project = make_project("Shop", alice)
    prospect, _ = prospect_with_contact(project, "good-blog.com", by=alice)
    bobs = sandbox_mailbox(stack, bob)
    sequence = make_sequence("Seq", (make_template("Intro"), 0))
    response = api(alice).post("/api/outreach/enrollments/enroll/", {
        "prospects": [prospect.pk], "sequence": sequence.pk, "mailboxes": [bobs.pk]}, format="json")
    assert response.status_code == 400 and "mailboxes" in response.json()
    assert not Enrollment.objects.exists()


def test_messages_and_inbox_are_scoped_and_handled(stack, alice, bob):
    project = make_project("Shop", alice)
    prospect, contact = prospect_with_contact(project, "blog.com", by=alice)
    mailbox = sandbox_mailbox(stack, alice)
    enrollment = enrolled(prospect, contact, make_sequence("Seq", (make_template("Intro"), 0)), mailbox)
    message = sent_message(enrollment)
    reply = inbound(mailbox, prospect=prospect, matched=message)
    assert [m["id"] for m in api(alice).get("/api/outreach/messages/").json()["results"]] == [message.pk]
    assert api(bob).get("/api/outreach/messages/").json()["results"] == []
    assert api(alice).post("/api/outreach/messages/", {}, format="json").status_code == 405
    assert [m["id"] for m in api(alice).get("/api/outreach/messages/?status=sent").json()["results"]] == [message.pk]
    assert api(alice).get("/api/outreach/messages/?status=queued").json()["results"] == []
    refused = api(alice).get("/api/outreach/messages/?status=delivered")
    assert refused.status_code == 400 and "one of queued" in refused.json()["status"][0]
    assert [m["id"] for m in api(alice).get("/api/outreach/inbox/").json()["results"]] == [reply.pk]
    assert api(bob).post(f"/api/outreach/inbox/{reply.pk}/handled/").status_code == 404
    handled = api(alice).post(f"/api/outreach/inbox/{reply.pk}/handled/").json()
    assert (handled["needs_attention"], handled["handled_by"]) == (False, "alice")
    assert api(alice).get("/api/outreach/inbox/").json()["results"] == []
    assert len(api(alice).get("/api/outreach/inbox/?all=1").json()["results"]) == 1


def test_stopping_an_enrollment_over_the_api(stack, alice):
    project = make_project("Shop", alice)
    prospect, contact = prospect_with_contact(project, "blog.com", by=alice)
    enrollment = enrolled(prospect, contact, make_sequence("Seq", (make_template("Intro"), 0)),
                          sandbox_mailbox(stack, alice))
    body = api(alice).post(f"/api/outreach/enrollments/{enrollment.pk}/stop/").json()
    assert body["status"] == EnrollmentStatus.STOPPED

