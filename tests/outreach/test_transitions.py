"""Guarded status changes: only from the allowed states, always logged, never over another worker."""

from __future__ import annotations

import pytest
from django.utils import timezone

from outreach.choices import EnrollmentStatus, MailboxStatus, OutboxStatus, StopReason
from outreach.models import Enrollment, OutboundMessage, OutboundTransition
from outreach.services.transitions import (
    EnrollmentStop,
    enrollment_pause_until,
    enrollment_resume,
    enrollment_stop,
    enrollments_record_replies,
    enrollments_stop,
    mailbox_pause,
    mailbox_resume,
    outbound_transition,
    outbound_transitions,
)
from tests.outreach.world import make_project, make_sequence, make_template, prospect_with_contact, sandbox_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrollment(stack, alice) -> Enrollment:
    project = make_project("Tools", alice)
    prospect, contact = prospect_with_contact(project, "example.org", by=alice)
    mailbox = sandbox_mailbox(stack, alice)
    sequence = make_sequence("Intro", (make_template("first"), 0), (make_template("follow"), 3))
    return Enrollment.objects.create(
        sequence=sequence, prospect=prospect, contact=contact, mailbox=mailbox, domain=prospect.domain
    )


def _message(enrollment: Enrollment, position: int, status: str) -> OutboundMessage:
    return OutboundMessage.objects.create(
        mailbox=enrollment.mailbox, enrollment=enrollment, step_position=position, prospect=enrollment.prospect,
        contact=enrollment.contact, from_address=enrollment.mailbox.email, to_address=enrollment.contact.email,
        subject="s", text="t", message_id=f"<m{position}.{enrollment.pk}@linkcrm.test>", status=status,
        due_at=timezone.now(),
    )


def test_it_moves_only_from_an_allowed_status_and_logs_the_move(enrollment) -> None:
    message = _message(enrollment, 1, OutboxStatus.QUEUED)

    assert outbound_transition(message_id=message.pk, from_statuses=[OutboxStatus.QUEUED],
                               to_status=OutboxStatus.SENDING, detail="claimed", claimed_by="w1")
    # A second worker with the same stale view changes nothing.
    assert not outbound_transition(message_id=message.pk, from_statuses=[OutboxStatus.QUEUED],
                                   to_status=OutboxStatus.SENDING, claimed_by="w2")

    message.refresh_from_db()
    assert (message.status, message.claimed_by) == (OutboxStatus.SENDING, "w1")
    assert [(t.from_status, t.to_status, t.detail) for t in message.transitions.all()] == [
        (OutboxStatus.QUEUED, OutboxStatus.SENDING, "claimed")
    ]


def test_stopping_an_enrollment_withdraws_only_messages_nobody_is_sending(enrollment) -> None:
    queued = _message(enrollment, 2, OutboxStatus.QUEUED)
    sending = _message(enrollment, 1, OutboxStatus.SENDING)

    assert enrollment_stop(enrollment_id=enrollment.pk, reason=StopReason.REPLIED)
    assert not enrollment_stop(enrollment_id=enrollment.pk, reason=StopReason.MANUAL)

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.stop_reason) == (EnrollmentStatus.STOPPED, StopReason.REPLIED)
    assert OutboundMessage.objects.get(pk=queued.pk).status == OutboxStatus.CANCELLED
    assert OutboundMessage.objects.get(pk=sending.pk).status == OutboxStatus.SENDING


def test_stopping_many_enrollments_gives_each_its_own_reason_and_time_first_entry_wins(enrollment, alice) -> None:
    prospect, contact = prospect_with_contact(enrollment.prospect.project, "example.net", by=alice)
    second = Enrollment.objects.create(sequence=enrollment.sequence, prospect=prospect, contact=contact,
                                       mailbox=enrollment.mailbox, domain=prospect.domain)  # fmt: skip
    queued = [_message(enrollment, 2, OutboxStatus.QUEUED), _message(second, 2, OutboxStatus.QUEUED)]
    earlier, later = timezone.now() - timezone.timedelta(hours=1), timezone.now()

    stopped = enrollments_stop(stops=[
        EnrollmentStop(enrollment.pk, StopReason.REPLIED, earlier),
        EnrollmentStop(second.pk, StopReason.DOMAIN_REPLIED, later),
        EnrollmentStop(enrollment.pk, StopReason.MANUAL, later),  # already stopped by the first entry
    ])  # fmt: skip

    assert sorted(stopped) == sorted([enrollment.pk, second.pk])
    assert enrollments_stop(stops=[EnrollmentStop(second.pk, StopReason.MANUAL, later)]) == []
    rows = Enrollment.objects.filter(pk__in=stopped).order_by("pk")
    assert list(rows.values_list("status", "stop_reason", "stopped_at")) == [
        (EnrollmentStatus.STOPPED, StopReason.REPLIED, earlier),
        (EnrollmentStatus.STOPPED, StopReason.DOMAIN_REPLIED, later),
    ]
    assert sorted(OutboundTransition.objects.filter(message__in=queued).values_list("message_id", "detail")) == [
        (queued[0].pk, "enrollment stopped: replied"), (queued[1].pk, "enrollment stopped: domain_replied")
    ]  # fmt: skip


def test_the_first_reply_time_is_kept(enrollment) -> None:
    first = timezone.now() - timezone.timedelta(hours=1)
    assert enrollments_record_replies(replied_at={enrollment.pk: first}) == 1
    assert enrollments_record_replies(replied_at={enrollment.pk: timezone.now()}) == 0
    enrollment.refresh_from_db()
    assert enrollment.replied_at == first


def test_pause_and_resume_an_enrollment(enrollment) -> None:
    until = timezone.now() + timezone.timedelta(days=5)
    assert enrollment_pause_until(enrollment_id=enrollment.pk, until=until)
    assert not enrollment_pause_until(enrollment_id=enrollment.pk, until=until)  # already paused
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.paused_until) == (EnrollmentStatus.PAUSED, until)

    assert enrollment_resume(enrollment_id=enrollment.pk)
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.paused_until) == (EnrollmentStatus.ACTIVE, None)
    assert enrollment.next_step_at is not None


def test_pause_and_resume_a_mailbox(enrollment) -> None:
    mailbox = enrollment.mailbox
    assert mailbox_pause(mailbox_id=mailbox.pk, reason="SMTP login refused")
    mailbox.refresh_from_db()
    assert (mailbox.status, mailbox.paused_reason) == (MailboxStatus.PAUSED, "SMTP login refused")
    assert mailbox_resume(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    assert (mailbox.status, mailbox.paused_reason, mailbox.paused_at) == (MailboxStatus.ACTIVE, "", None)


def test_many_messages_move_together_each_logged_with_its_own_previous_status(enrollment) -> None:
    queued = _message(enrollment, 1, OutboxStatus.QUEUED)
    retry = _message(enrollment, 2, OutboxStatus.RETRY)
    sent = _message(enrollment, 3, OutboxStatus.SENT)

    moved = outbound_transitions(
        message_ids=[queued.pk, retry.pk, sent.pk], from_statuses=[OutboxStatus.QUEUED, OutboxStatus.RETRY],
        to_status=OutboxStatus.SENDING, detail="claimed", claimed_by="w1",
    )

    assert sorted(moved) == sorted([queued.pk, retry.pk])
    assert OutboundMessage.objects.get(pk=sent.pk).status == OutboxStatus.SENT
    logged = {(t.message_id, t.from_status, t.to_status) for t in OutboundTransition.objects.all()}
    assert logged == {(queued.pk, OutboxStatus.QUEUED, OutboxStatus.SENDING),
                      (retry.pk, OutboxStatus.RETRY, OutboxStatus.SENDING)}
    assert set(OutboundMessage.objects.filter(claimed_by="w1").values_list("pk", flat=True)) == set(moved)
