"""Follow-ups: delays in days or business days, pauses lifted, enrollments stopped when the prospect moves on."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest

from outreach.choices import EnrollmentStatus, OutboxStatus, StopReason
from outreach.models import Enrollment, OutboundMessage, SequenceStep
from outreach.services.outbox import outbox_send_batch
from outreach.services.sequencing import add_delay, sequences_advance
from outreach.services.transitions import enrollment_pause_until
from prospects.choices import Stage
from prospects.services.pipeline import prospect_move_stage
from tests.outreach.outbox_world import enroll, make_world

FRIDAY_10 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def _sent_on_friday(world, domain: str):
    """Enroll a prospect at ``domain`` and send its first step on Friday 10:00."""
    prospect, _, result = enroll(world, domain)
    OutboundMessage.objects.update(due_at=FRIDAY_10)
    assert outbox_send_batch(mailbox_id=world.mailbox.pk, now=FRIDAY_10).sent
    return prospect, result


def test_business_days_skip_the_weekend():
    assert add_delay(FRIDAY_10, 1, business_days=True) == FRIDAY_10 + timedelta(days=3)
    assert add_delay(FRIDAY_10, 3, business_days=True) == FRIDAY_10 + timedelta(days=5)
    assert add_delay(FRIDAY_10 + timedelta(days=1), 1, business_days=True) == FRIDAY_10 + timedelta(days=3)
    assert add_delay(FRIDAY_10, 1, business_days=False) == FRIDAY_10 + timedelta(days=1)


def test_business_days_are_counted_in_the_mailbox_time_zone():
    # Friday 23:30 UTC is already Saturday in Tokyo: one business day later is Monday there.
    late_friday = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)
    assert add_delay(late_friday, 1, business_days=True, tz="Asia/Tokyo") == late_friday + timedelta(days=2)


@pytest.mark.django_db
@pytest.mark.mail
def test_a_business_day_follow_up_sent_on_friday_waits_for_monday(stack, alice):
    world = make_world(stack, alice)
    SequenceStep.objects.filter(sequence=world.sequence, position=2).update(delay_days=1, business_days=True)
    _, result = _sent_on_friday(world, "weekend.com")

    assert sequences_advance(FRIDAY_10 + timedelta(days=1, hours=1)).queued == []  # Saturday
    assert sequences_advance(FRIDAY_10 + timedelta(days=3)).queued == result.enrolled  # Monday
    follow_up = OutboundMessage.objects.get(step_position=2)
    assert follow_up.status == OutboxStatus.QUEUED and follow_up.subject.startswith("Re: ")


@pytest.mark.django_db
@pytest.mark.mail
def test_a_prospect_that_left_the_outreach_stages_stops_its_sequence(stack, alice):
    world = make_world(stack, alice)
    prospect, result = _sent_on_friday(world, "moved-on.com")
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.REJECTED, actor=alice, reject_reason="declined")

    advanced = sequences_advance(FRIDAY_10 + timedelta(days=4))

    enrollment = Enrollment.objects.get(pk=result.enrolled[0])
    assert advanced.stopped == [enrollment.pk]
    assert (enrollment.status, enrollment.stop_reason) == (EnrollmentStatus.STOPPED, StopReason.STAGE)
    assert not OutboundMessage.objects.filter(step_position=2).exists()


@pytest.mark.django_db
@pytest.mark.mail
def test_a_pause_holds_the_follow_up_until_it_ends(stack, alice):
    world = make_world(stack, alice)
    _, result = _sent_on_friday(world, "on-holiday.com")
    back = FRIDAY_10 + timedelta(days=10)
    enrollment_pause_until(enrollment_id=result.enrolled[0], until=back)

    assert sequences_advance(FRIDAY_10 + timedelta(days=5)).queued == []
    resumed = sequences_advance(back)
    assert resumed.resumed == result.enrolled and resumed.queued == result.enrolled


def test_every_enrollment_sent_in_one_batch_gets_its_follow_up_scheduled(stack, alice):
    world = make_world(stack, alice)
    enrolled = [enroll(world, domain)[2].enrolled[0] for domain in ("one.com", "two.com", "three.com")]
    OutboundMessage.objects.update(due_at=FRIDAY_10)
    assert len(outbox_send_batch(mailbox_id=world.mailbox.pk, now=FRIDAY_10).sent) == 3

    delay = SequenceStep.objects.get(sequence=world.sequence, position=2).delay_days
    for enrollment in Enrollment.objects.filter(pk__in=enrolled):
        assert enrollment.next_step_at == add_delay(FRIDAY_10, delay, business_days=False, tz=world.mailbox.timezone)
