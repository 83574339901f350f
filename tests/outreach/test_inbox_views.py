"""The unified inbox (visibility, filters, mark handled) and the thread on the prospect page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from outreach.choices import MessageKind, OutboxStatus
from outreach.models import InboundMessage
from tests.outreach.ui_world import enrolled, inbound, sent_message
from tests.outreach.world import make_project, make_sequence, make_template, prospect_with_contact, sandbox_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(stack, alice, bob):
    project = make_project("Alice's shop", alice)
    other = make_project("Bob's shop", bob)
    mailbox = sandbox_mailbox(stack, alice)
    bobs_mailbox = sandbox_mailbox(stack, bob)
    intro, nudge = make_template("Intro"), make_template("Nudge")
    sequence = make_sequence("Seq", (intro, 0), (nudge, 3))
    prospect, contact = prospect_with_contact(project, "blog-a.com", by=alice)
    bobs_prospect, _ = prospect_with_contact(other, "blog-b.com", by=bob)
    enrollment = enrolled(prospect, contact, sequence, mailbox)
    return {"project": project, "mailbox": mailbox, "bobs_mailbox": bobs_mailbox, "prospect": prospect,
            "bobs_prospect": bobs_prospect, "enrollment": enrollment}


def test_the_inbox_lists_what_needs_attention_in_the_users_projects(world, alice, bob, client_for):
    reply = inbound(world["mailbox"], prospect=world["prospect"], subject="Re: yes please")
    inbound(world["mailbox"], prospect=world["prospect"], subject="Old news", attention=False)
    inbound(world["bobs_mailbox"], prospect=world["bobs_prospect"], subject="Bobs reply")
    page = client_for(alice).get("/outreach/inbox/").content.decode()
    assert "Re: yes please" in page and "Old news" not in page and "Bobs reply" not in page
    assert f'data-id="{reply.pk}"' in page
    assert "Re: yes please" not in client_for(bob).get("/outreach/inbox/").content.decode()


def test_managers_see_every_inbox(world, manager, client_for):
    inbound(world["bobs_mailbox"], prospect=world["bobs_prospect"], subject="Bobs reply")
    inbound(world["mailbox"], prospect=None, subject="Unmatched mail")
    page = client_for(manager).get("/outreach/inbox/").content.decode()
    assert "Bobs reply" in page and "Unmatched mail" in page


def test_the_inbox_filters_by_kind_mailbox_and_project(world, manager, client_for):
    inbound(world["mailbox"], prospect=world["prospect"], subject="A reply")
    inbound(world["mailbox"], prospect=world["prospect"], subject="A bounce", kind=MessageKind.BOUNCE)
    inbound(world["bobs_mailbox"], prospect=world["bobs_prospect"], subject="Bobs reply")
    client = client_for(manager)
    by_kind = client.get("/outreach/inbox/", {"kind": "bounce"}).content.decode()
    assert "A bounce" in by_kind and "A reply" not in by_kind
    by_mailbox = client.get("/outreach/inbox/", {"mailbox": world["bobs_mailbox"].pk}).content.decode()
    assert "Bobs reply" in by_mailbox and "A reply" not in by_mailbox
    by_project = client.get("/outreach/inbox/", {"project": world["project"].pk}).content.decode()
    assert "A reply" in by_project and "Bobs reply" not in by_project


def test_mark_handled_records_who_and_only_once(world, alice, manager, bob, client_for):
    reply = inbound(world["mailbox"], prospect=world["prospect"])
    assert client_for(bob).post(f"/outreach/inbox/{reply.pk}/handled/").status_code == 404
    response = client_for(alice).post(f"/outreach/inbox/{reply.pk}/handled/", {"next": "https://evil.example/"})
    assert response["Location"] == "/outreach/inbox/"
    client_for(manager).post(f"/outreach/inbox/{reply.pk}/handled/")
    reply.refresh_from_db()
    assert (reply.needs_attention, reply.handled_by) == (False, alice)


def test_the_prospect_page_shows_the_thread_in_time_order(world, alice, client_for):
    enrollment, prospect = world["enrollment"], world["prospect"]
    first = sent_message(enrollment, position=1, at=timezone.now() - dt.timedelta(days=3), subject="First")
    sent_message(enrollment, position=2, at=timezone.now() - dt.timedelta(days=1), subject="Re: First",
                 status=OutboxStatus.QUEUED)
    reply = inbound(world["mailbox"], prospect=prospect, subject="Re: First (their answer)", matched=first)
    InboundMessage.objects.filter(pk=reply.pk).update(date=timezone.now() - dt.timedelta(days=2))
    url = f"/projects/{world['project'].pk}/prospects/{prospect.pk}/"
    page = client_for(alice).get(url).content.decode()
    block = page[page.index('id="outreach-thread"'):]
    order = [block.index(text) for text in ("<strong>First</strong>", "their answer", "<strong>Re: First</strong>")]
    assert order == sorted(order)
    assert 'data-status="sent"' in block and 'data-status="queued"' in block and "step 2" in block
    assert 'data-kind="reply"' in block and "matched by in-reply-to header" in block
    assert "Seq</strong> to" in block


def test_simulate_a_reply_is_offered_only_in_debug(world, alice, client_for, settings):
    sent_message(world["enrollment"])
    url = f"/projects/{world['project'].pk}/prospects/{world['prospect'].pk}/"
    settings.DEBUG = False
    assert "Simulate a reply" not in client_for(alice).get(url).content.decode()
    assert client_for(alice).post(f"/outreach/prospects/{world['prospect'].pk}/simulate-reply/").status_code == 404
    settings.DEBUG = True
    assert "Simulate a reply" in client_for(alice).get(url).content.decode()


def test_simulate_a_reply_needs_a_message_actually_sent(world, alice, client_for, settings):
    url = f"/projects/{world['project'].pk}/prospects/{world['prospect'].pk}/"
    settings.DEBUG = True
    assert "Simulate a reply" not in client_for(alice).get(url).content.decode()
    sent_message(world["enrollment"])
    assert "Simulate a reply" in client_for(alice).get(url).content.decode()


def test_a_running_sequence_is_stopped_from_the_thread_and_queued_mail_withdrawn(world, alice, bob, client_for):
    enrollment = world["enrollment"]
    queued = sent_message(enrollment, position=2, status=OutboxStatus.QUEUED)
    assert client_for(bob).post(f"/outreach/enrollments/{enrollment.pk}/stop/").status_code == 404
    url = f"/projects/{world['project'].pk}/prospects/{world['prospect'].pk}/"
    assert f"/outreach/enrollments/{enrollment.pk}/stop/" in client_for(alice).get(url).content.decode()
    response = client_for(alice).post(f"/outreach/enrollments/{enrollment.pk}/stop/")
    assert response["Location"] == f"{url}#outreach-thread"
    enrollment.refresh_from_db()
    queued.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason, queued.status) == ("stopped", "manual", "cancelled")
    page = client_for(alice).get(url).content.decode()
    assert "Stop sequence" not in page and 'action="/outreach/enroll/"' in page  # may be enrolled again


def test_a_quick_reply_with_a_whole_second_date_still_follows_what_it_answers(world, alice, client_for):
    sent = sent_message(world["enrollment"], subject="Quick one")
    reply = inbound(world["mailbox"], prospect=world["prospect"], subject="Re: Quick one", matched=sent)
    InboundMessage.objects.filter(pk=reply.pk).update(date=sent.sent_at.replace(microsecond=0))
    url = f"/projects/{world['project'].pk}/prospects/{world['prospect'].pk}/"
    block = client_for(alice).get(url).content.decode().split('id="outreach-thread"')[1]
    assert block.index('data-direction="out"') < block.index('data-direction="in"')
