"""Enroll → the outbox sends over the real sandbox → the message is in the recipient's mailbox."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from outreach.choices import EnrollmentStatus, OutboxStatus
from outreach.models import Enrollment, OutboundMessage
from outreach.services.outbox import outbox_send_batch
from outreach.services.sequencing import sequences_advance
from prospects.choices import Stage
from tests.outreach.outbox_world import enroll, make_world, parse
from tests.outreach.smtp_servers import imap_messages

pytestmark = [pytest.mark.django_db, pytest.mark.mail]


def test_it_delivers_the_first_step_with_thread_and_unsubscribe_headers(stack, alice, settings):
    settings.LINKCRM_PUBLIC_URL = "https://crm.example.com"
    world = make_world(stack, alice)
    prospect, contact, result = enroll(world, "blog-one.com")
    assert result.enrolled and not result.refused
    queued = OutboundMessage.objects.get(enrollment_id=result.enrolled[0])
    enrollment = Enrollment.objects.get(pk=result.enrolled[0])

    batch = outbox_send_batch(mailbox_id=world.mailbox.pk)

    assert batch.sent == [queued.pk]
    (raw,) = imap_messages(stack, contact.email)
    message = parse(raw)
    assert message["Message-ID"] == queued.message_id
    assert queued.message_id.startswith(f"<{enrollment.thread_token}.")
    assert message["X-LinkCRM-Thread"] == enrollment.thread_token
    assert message["Subject"] == "Links for blog-one.com #1"
    assert message["List-Unsubscribe"].startswith("<https://crm.example.com/outreach/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["In-Reply-To"] is None
    prospect.refresh_from_db()
    assert prospect.stage == Stage.CONTACTED
    queued.refresh_from_db()
    assert queued.status == OutboxStatus.SENT and queued.template_version.number == 1


def test_the_follow_up_goes_in_the_same_thread_after_its_delay(stack, alice):
    world = make_world(stack, alice)
    _, contact, result = enroll(world, "blog-two.com")
    outbox_send_batch(mailbox_id=world.mailbox.pk)
    first = OutboundMessage.objects.get(enrollment_id=result.enrolled[0], step_position=1)
    enrollment = Enrollment.objects.get(pk=result.enrolled[0])
    assert enrollment.next_step_at == first.sent_at + timedelta(days=3)

    early = sequences_advance(first.sent_at + timedelta(days=2))
    assert early.queued == []
    later = first.sent_at + timedelta(days=3, minutes=1)
    assert sequences_advance(later).queued == [enrollment.pk]
    outbox_send_batch(mailbox_id=world.mailbox.pk, now=later)

    follow_up = parse(imap_messages(stack, contact.email)[1])
    assert follow_up["Subject"] == "Re: Links for blog-two.com #1"
    assert follow_up["In-Reply-To"] == first.message_id
    assert follow_up["References"] == first.message_id
    assert follow_up["X-LinkCRM-Thread"] == enrollment.thread_token
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED


def test_a_message_is_filed_in_sent_by_the_server_or_by_us_never_twice(stack, alice, bob):
    by_server = make_world(stack, alice)
    by_us = make_world(stack, bob, smtp_username="", server_saves_sent=False)
    by_us.sequence = by_server.sequence
    enroll(by_server, "saved-by-server.com")
    enroll(by_us, "saved-by-us.com")

    outbox_send_batch(mailbox_id=by_server.mailbox.pk, now=timezone.now())
    outbox_send_batch(mailbox_id=by_us.mailbox.pk, now=timezone.now())

    assert len(imap_messages(stack, by_server.mailbox.email, "Sent")) == 1
    assert len(imap_messages(stack, by_us.mailbox.email, "Sent")) == 1
