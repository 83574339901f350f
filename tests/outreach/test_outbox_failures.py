"""Every way sending goes wrong, against real servers: the message is delivered once or not at all."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from outreach.choices import EnrollmentStatus, MailboxStatus, OutboxStatus, StopReason
from outreach.models import Enrollment, OutboundMessage
from outreach.services.outbox import outbox_send_batch, outbox_send_mailbox, retry_delay
from outreach.services.reconcile import outbox_reconcile
from prospects.choices import EmailStatus
from prospects.services.suppression import suppression_match
from tests.outreach.outbox_world import enroll, make_world, parse
from tests.outreach.smtp_servers import Script, free_port, imap_messages, scripted_smtp
from tests.outreach.world import prospect_with_contact, unique_address

pytestmark = [pytest.mark.django_db, pytest.mark.mail]


def test_a_451_is_retried_later_and_delivered_exactly_once(stack, alice):
    with scripted_smtp(stack, Script(data_replies=["451 4.3.0 try again later"])) as (port, server):
        world = make_world(stack, alice, smtp_port=port)
        _, contact, result = enroll(world, "greylisted.com")
        now = timezone.now()

        first = outbox_send_batch(mailbox_id=world.mailbox.pk, now=now)
        message = OutboundMessage.objects.get(enrollment_id=result.enrolled[0])
        assert first.retry == [message.pk] and message.status == OutboxStatus.RETRY
        assert message.due_at == now + retry_delay(1) and message.smtp_code == 451
        assert outbox_send_batch(mailbox_id=world.mailbox.pk, now=now).claimed == 0  # not due yet

        second = outbox_send_batch(mailbox_id=world.mailbox.pk, now=message.due_at)

    assert second.sent == [message.pk] and server.data_calls == 2
    assert [parse(raw)["Message-ID"] for raw in imap_messages(stack, contact.email)] == [message.message_id]


def test_a_connection_cut_after_data_is_unknown_then_found_in_sent_and_never_resent(stack, alice):
    with scripted_smtp(stack, Script(drop_after_store=True)) as (port, _):
        world = make_world(stack, alice, smtp_port=port)
        prospect, contact, result = enroll(world, "flaky-server.com")
        batch = outbox_send_batch(mailbox_id=world.mailbox.pk)
    message = OutboundMessage.objects.get(enrollment_id=result.enrolled[0])
    assert batch.unknown == [message.pk] and message.status == OutboxStatus.UNKNOWN

    settled = outbox_reconcile(mailbox_id=world.mailbox.pk)
    # The next batch must not pick it up again, on the healthy sandbox either.
    world.mailbox.smtp_port = stack.smtp_port
    world.mailbox.save(update_fields=["smtp_port"])
    again = outbox_send_batch(mailbox_id=world.mailbox.pk)

    message.refresh_from_db()
    assert settled.sent == [message.pk] and message.status == OutboxStatus.SENT
    assert again.claimed == 0
    assert len(imap_messages(stack, contact.email)) == 1
    assert Enrollment.objects.get(pk=result.enrolled[0]).next_step_at is not None


def test_a_refused_recipient_fails_bounces_the_contact_stops_and_flags(stack, alice):
    with scripted_smtp(stack, Script(rcpt_reply="550 5.1.1 no such user")) as (port, _):
        world = make_world(stack, alice, smtp_port=port)
        prospect, contact, result = enroll(world, "gone-away.com")
        batch = outbox_send_batch(mailbox_id=world.mailbox.pk)

    message = OutboundMessage.objects.get(enrollment_id=result.enrolled[0])
    assert batch.failed == [message.pk]
    assert (message.status, message.smtp_code) == (OutboxStatus.FAILED, 550)
    contact.refresh_from_db()
    prospect.refresh_from_db()
    enrollment = Enrollment.objects.get(pk=result.enrolled[0])
    assert contact.email_status == EmailStatus.BOUNCED
    assert (enrollment.status, enrollment.stop_reason) == (EnrollmentStatus.STOPPED, StopReason.BOUNCED)
    assert prospect.flagged
    assert suppression_match(project=None, email=contact.email) is not None


def test_a_refused_login_pauses_the_mailbox_and_keeps_the_messages_queued(
    stack, alice, django_capture_on_commit_callbacks
):
    world = make_world(stack, alice)
    _, contact, result = enroll(world, "waiting.com")
    world.mailbox.set_smtp_password("wrong password")
    world.mailbox.save(update_fields=["smtp_password"])

    with django_capture_on_commit_callbacks(execute=True):
        batch = outbox_send_batch(mailbox_id=world.mailbox.pk)

    world.mailbox.refresh_from_db()
    message = OutboundMessage.objects.get(enrollment_id=result.enrolled[0])
    assert world.mailbox.status == MailboxStatus.PAUSED and "login refused" in world.mailbox.paused_reason
    assert "wrong password" not in world.mailbox.paused_reason
    assert batch.requeued == [message.pk]
    assert (message.status, message.attempts) == (OutboxStatus.QUEUED, 0)
    assert imap_messages(stack, contact.email) == []
    (notice,) = mail.outbox  # the owner is told, without the password
    assert notice.to == [alice.email] and world.mailbox.email in notice.subject
    assert "wrong password" not in notice.body


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_send_each_message_once(stack, alice, settings):
    settings.LINKCRM_OUTREACH_SEND_BATCH = 3
    world = make_world(stack, alice, steps=1)
    recipient = unique_address("shared")
    for n in range(12):
        prospect, _ = prospect_with_contact(world.project, f"race-{n}.com", by=alice, email=recipient)
        enroll_one(world, prospect.pk)
    start = threading.Barrier(2)
    results = []

    def worker() -> None:
        try:
            start.wait()
            results.append(outbox_send_mailbox(mailbox_id=world.mailbox.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sent_ids = [pk for result in results for pk in result.sent]
    assert len(sent_ids) == len(set(sent_ids)) == 12
    received = [parse(raw)["Message-ID"] for raw in imap_messages(stack, recipient)]
    assert sorted(received) == sorted(OutboundMessage.objects.values_list("message_id", flat=True))


def enroll_one(world, prospect_id: int) -> None:
    from outreach.services.enrollments import enrollments_create

    result = enrollments_create(prospect_ids=[prospect_id], sequence=world.sequence, mailboxes=[world.mailbox],
                                enrolled_by=world.owner)
    assert result.enrolled, result.refused


@pytest.mark.parametrize(
    ("reply", "bounced"), [("550 5.1.1 user unknown", True), ("554 5.7.1 message refused as spam", False)]
)
def test_a_5xx_after_the_data_fails_and_only_an_unknown_user_bounces(stack, alice, reply, bounced):
    with scripted_smtp(stack, Script(data_replies=[reply])) as (port, _):
        world = make_world(stack, alice, smtp_port=port)
        _, contact, result = enroll(world, "after-data.com")
        batch = outbox_send_batch(mailbox_id=world.mailbox.pk)

    contact.refresh_from_db()
    enrollment = Enrollment.objects.get(pk=result.enrolled[0])
    assert len(batch.failed) == 1
    assert (contact.email_status == EmailStatus.BOUNCED) is bounced
    assert enrollment.stop_reason == (StopReason.BOUNCED if bounced else StopReason.ERROR)


def test_an_unreachable_server_is_retried_with_the_attempt_counted(stack, alice):
    world = make_world(stack, alice, smtp_port=free_port())
    _, _, result = enroll(world, "offline.com")
    now = timezone.now()
    batch = outbox_send_batch(mailbox_id=world.mailbox.pk, now=now)
    message = OutboundMessage.objects.get(enrollment_id=result.enrolled[0])
    assert batch.retry == [message.pk]
    assert (message.status, message.attempts, message.due_at) == (OutboxStatus.RETRY, 1, now + retry_delay(1))
