"""Bulk enrollment from the board's table, and (DEBUG) simulate a reply through the sandbox."""

from __future__ import annotations

import pytest

from outreach.choices import OutboxStatus
from outreach.models import Enrollment, InboundMessage, Mailbox, OutboundMessage
from outreach.services.enrollments import enrollments_create
from outreach.services.outbox import outbox_send_mailbox
from prospects.choices import Stage
from prospects.models import Contact, Prospect
from tests.outreach.ui_world import enrolled, sent_message
from tests.outreach.world import make_project, make_sequence, make_template, prospect_with_contact, sandbox_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(stack, alice, bob):
    project = make_project("Shop", alice)
    good, contact = prospect_with_contact(project, "good-blog.com", by=alice)
    bare, _ = prospect_with_contact(project, "bare-blog.com", by=alice)
    bare.contacts.all().delete()
    theirs, _ = prospect_with_contact(make_project("Bob's", bob), "bobs-blog.com", by=bob)
    return {
        "project": project, "good": good, "contact": contact, "bare": bare, "theirs": theirs,
        "mailbox": sandbox_mailbox(stack, alice), "bobs_mailbox": sandbox_mailbox(stack, bob),
        "sequence": make_sequence("Guest post", (make_template("Intro"), 0), (make_template("Nudge"), 3)),
    }


def test_the_board_table_posts_checked_prospects_to_the_enroll_page(world, alice, client_for):
    client = client_for(alice)
    table = client.get(f"/projects/{world['project'].pk}/prospects/").content.decode()
    assert 'formaction="/outreach/enroll/"' in table
    page = client.post("/outreach/enroll/", {"ids": [world["good"].pk, world["theirs"].pk],
                                             "project": world["project"].pk}).content.decode()
    assert "good-blog.com" in page and "bobs-blog.com" not in page  # only prospects alice may see
    assert world["mailbox"].email in page and world["bobs_mailbox"].email not in page
    assert "Guest post" in page


def test_enrolling_shows_the_count_and_each_refusal(world, alice, client_for):
    response = client_for(alice).post("/outreach/enroll/", {
        "confirm": "1", "ids": [world["good"].pk, world["bare"].pk], "sequence": world["sequence"].pk,
        "mailboxes": [world["mailbox"].pk], f"contact-{world['good'].pk}": world["contact"].pk,
    })
    page = response.content.decode()
    assert 'data-enrolled="1"' in page
    assert f'data-prospect="{world["bare"].pk}"' in page and "bare-blog.com" in page
    enrollment = Enrollment.objects.get()
    assert (enrollment.prospect, enrollment.mailbox, enrollment.enrolled_by) == (world["good"], world["mailbox"],
                                                                                  alice)
    assert OutboundMessage.objects.get().status == OutboxStatus.QUEUED


def test_enrolling_needs_a_sequence_and_a_mailbox_of_ones_own(world, alice, client_for):
    page = client_for(alice).post("/outreach/enroll/", {
        "confirm": "1", "ids": [world["good"].pk], "mailboxes": [world["bobs_mailbox"].pk],
    }).content.decode()
    assert "Choose a sequence." in page and "Choose at least one active mailbox" in page
    assert not Enrollment.objects.exists()


@pytest.mark.mail
def test_simulate_a_reply_goes_through_the_sandbox_and_the_sync(world, alice, client_for, settings):
    settings.DEBUG = True
    enrollments_create(prospect_ids=[world["good"].pk], sequence=world["sequence"], mailboxes=[world["mailbox"]],
                       enrolled_by=alice)
    outbox_send_mailbox(mailbox_id=world["mailbox"].pk)
    sent = OutboundMessage.objects.get(status=OutboxStatus.SENT)
    response = client_for(alice).post(f"/outreach/prospects/{world['good'].pk}/simulate-reply/")
    assert response.status_code == 302 and response["Location"].endswith("#outreach-thread")
    reply = InboundMessage.objects.get(kind="reply")
    assert (reply.matched_message, reply.from_address) == (sent, world["contact"].email)
    assert Prospect.objects.get(pk=world["good"].pk).stage == Stage.REPLY_RECEIVED
    assert (Enrollment.objects.get().status, Enrollment.objects.get().stop_reason) == ("stopped", "replied")


def test_simulate_a_reply_refuses_a_prospect_nothing_was_sent_to(world, alice, client_for, settings):
    settings.DEBUG = True
    response = client_for(alice).post(f"/outreach/prospects/{world['good'].pk}/simulate-reply/", follow=True)
    assert "nothing has been sent to this prospect yet" in response.content.decode()
    assert client_for(alice).post(f"/outreach/prospects/{world['theirs'].pk}/simulate-reply/").status_code == 404


def test_the_chosen_contact_is_written_to_and_mailboxes_take_turns(world, stack, alice, client_for):
    second = Contact.objects.create(prospect=world["good"], email="second@good-blog.com", name="Second Person")
    other, _ = prospect_with_contact(world["project"], "other-blog.com", by=alice)
    spare = sandbox_mailbox(stack, alice)
    client_for(alice).post("/outreach/enroll/", {
        "confirm": "1", "ids": [world["good"].pk, other.pk], "sequence": world["sequence"].pk,
        "mailboxes": [world["mailbox"].pk, spare.pk], f"contact-{world['good'].pk}": second.pk,
    })
    assert Enrollment.objects.get(prospect=world["good"]).contact == second
    assert {e.mailbox_id for e in Enrollment.objects.all()} == {world["mailbox"].pk, spare.pk}


def test_simulate_a_reply_refuses_a_mailbox_that_is_not_on_the_sandbox(world, alice, client_for, settings):
    settings.DEBUG = True
    Mailbox.objects.filter(pk=world["mailbox"].pk).update(smtp_host="smtp.gmail.com", smtp_port=587)
    world["mailbox"].refresh_from_db()
    sent_message(enrolled(world["good"], world["contact"], world["sequence"], world["mailbox"]))
    response = client_for(alice).post(f"/outreach/prospects/{world['good'].pk}/simulate-reply/", follow=True)
    assert "is not a mailbox on the local sandbox" in response.content.decode()
    assert not InboundMessage.objects.exists()
