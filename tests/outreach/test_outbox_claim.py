"""Claim-time rules: daily cap, sending window in the mailbox's time zone, gap between sends,
do-not-contact re-checked at send time, stale claims, and the retry backoff's cap. Only the
clock is mocked (``now`` passed in)."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest

from outreach.choices import EnrollmentStatus, OutboxStatus, StopReason
from outreach.models import Enrollment, OutboundMessage
from outreach.services.outbox import outbox_claim, outbox_send_batch, retry_delay
from outreach.services.reconcile import outbox_mark_stale, outbox_reconcile
from prospects.choices import SuppressionKind
from prospects.services.suppression import suppression_add
from tests.outreach.outbox_world import enroll, make_world

pytestmark = pytest.mark.django_db

# Monday 23 November 2026, 14:30 UTC = 09:30 in New York (EST, UTC-5).
MONDAY_0930_NY = dt.datetime(2026, 11, 23, 14, 30, tzinfo=dt.UTC)


def _queue(world, count: int) -> list[int]:
    ids = []
    for n in range(count):
        _, _, result = enroll(world, f"claim-{world.mailbox.pk}-{n}.com")
        ids.append(OutboundMessage.objects.get(enrollment_id=result.enrolled[0]).pk)
    OutboundMessage.objects.filter(pk__in=ids).update(due_at=MONDAY_0930_NY - timedelta(hours=1))
    return ids


def _claim(world, now, limit=100):
    return [row.pk for row in outbox_claim(mailbox_id=world.mailbox.pk, now=now, limit=limit, worker="test")]


def test_the_window_is_read_in_the_mailbox_time_zone(stack, alice):
    world = make_world(stack, alice, timezone="America/New_York", window_days=[0, 1, 2, 3, 4],
                       window_start=dt.time(9, 0), window_end=dt.time(17, 0))
    _queue(world, 1)
    assert _claim(world, MONDAY_0930_NY - timedelta(hours=1)) == []  # 08:30 in New York, 13:30 UTC
    assert _claim(world, MONDAY_0930_NY + timedelta(days=5)) == []  # Saturday
    assert len(_claim(world, MONDAY_0930_NY)) == 1


def test_the_daily_cap_counts_the_mailbox_day(stack, alice):
    world = make_world(stack, alice, daily_cap=2, timezone="America/New_York")
    ids = _queue(world, 3)
    assert _claim(world, MONDAY_0930_NY) == ids[:2]
    assert _claim(world, MONDAY_0930_NY + timedelta(hours=5)) == []
    # 00:30 on Tuesday in New York is a new day there (still Tuesday 05:30 UTC).
    assert _claim(world, dt.datetime(2026, 11, 24, 5, 30, tzinfo=dt.UTC)) == ids[2:]


def test_the_gap_lets_one_message_out_then_waits(stack, alice):
    world = make_world(stack, alice, min_gap_seconds=120, gap_jitter_seconds=0)
    ids = _queue(world, 3)
    assert _claim(world, MONDAY_0930_NY) == ids[:1]
    assert _claim(world, MONDAY_0930_NY + timedelta(seconds=119)) == []
    assert _claim(world, MONDAY_0930_NY + timedelta(seconds=120)) == ids[1:2]


@pytest.mark.mail
def test_an_address_suppressed_after_queueing_is_not_sent(stack, alice):
    world = make_world(stack, alice)
    _, contact, result = enroll(world, "changed-mind.com")
    suppression_add(project=world.project, value="changed-mind.com", kind=SuppressionKind.DOMAIN)
    batch = outbox_send_batch(mailbox_id=world.mailbox.pk)

    message = OutboundMessage.objects.get(enrollment_id=result.enrolled[0])
    enrollment = Enrollment.objects.get(pk=result.enrolled[0])
    assert batch.cancelled == [message.pk] and batch.sent == []
    assert message.status == OutboxStatus.CANCELLED
    assert (enrollment.status, enrollment.stop_reason) == (EnrollmentStatus.STOPPED, StopReason.SUPPRESSED)


def test_a_paused_enrollment_holds_its_message(stack, alice):
    world = make_world(stack, alice)
    ids = _queue(world, 1)
    Enrollment.objects.update(status=EnrollmentStatus.PAUSED)
    assert _claim(world, MONDAY_0930_NY) == []
    Enrollment.objects.update(status=EnrollmentStatus.ACTIVE)
    assert _claim(world, MONDAY_0930_NY) == ids


@pytest.mark.mail
def test_a_claim_whose_worker_vanished_is_unknown_then_resent_only_if_absent_from_sent(stack, alice, settings):
    settings.LINKCRM_OUTREACH_STALE_MINUTES = 15
    settings.LINKCRM_OUTREACH_RECONCILE_GRACE_MINUTES = 10
    world = make_world(stack, alice)
    (message_id,) = _queue(world, 1)
    _claim(world, MONDAY_0930_NY)  # ... and the worker dies here

    assert outbox_mark_stale(now=MONDAY_0930_NY + timedelta(minutes=14)) == []
    assert outbox_mark_stale(now=MONDAY_0930_NY + timedelta(minutes=16)) == [message_id]
    settled = outbox_reconcile(mailbox_id=world.mailbox.pk, now=MONDAY_0930_NY + timedelta(minutes=16))

    message = OutboundMessage.objects.get(pk=message_id)
    assert settled.retry == [message_id] and message.status == OutboxStatus.RETRY


@pytest.mark.mail
def test_in_doubt_without_server_copies_is_failed_not_resent(stack, alice):
    world = make_world(stack, alice, server_saves_sent=False)
    (message_id,) = _queue(world, 1)
    _claim(world, MONDAY_0930_NY)
    outbox_mark_stale(now=MONDAY_0930_NY + timedelta(hours=1))
    settled = outbox_reconcile(mailbox_id=world.mailbox.pk, now=MONDAY_0930_NY + timedelta(hours=1))
    assert settled.failed == [message_id]


def test_the_retry_backoff_grows_and_is_capped_at_a_day():
    delays = [retry_delay(attempt) for attempt in range(1, 12)]
    assert delays[0] == timedelta(minutes=1)
    assert delays == sorted(delays)
    assert max(delays) == timedelta(hours=24) == delays[-1]
