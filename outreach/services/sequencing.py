"""Moving enrollments through their sequences: follow-ups queued when due, pauses lifted, ends.

A step's wait counts from the moment the previous message was *sent* (not queued): when the
outbox reports a sent message (:func:`enrollment_step_sent`) the enrollment learns when its
next step is due (``next_step_at``), or completes. :func:`sequences_advance` (a periodic
sweep) queues the follow-ups that are due, in the same thread, and stops enrollments whose
prospect has left the outreach stages (a person moved it to Rejected, a reply arrived ...).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from outreach.choices import EnrollmentStatus, OutboxStatus, StopReason
from outreach.headers import HeaderInjectionError
from outreach.models import Enrollment, OutboundMessage, SequenceStep
from outreach.rendering import TemplateRenderError
from outreach.services import automation
from outreach.services.enqueue import StepNotReady, message_enqueue_step
from outreach.services.transitions import enrollment_resume, enrollment_stop
from prospects.choices import Stage

log = logging.getLogger(__name__)

# Stages in which a prospect is still being written to; anywhere else the sequence stops.
OUTREACH_STAGES = (Stage.IN_PROGRESS, Stage.TO_CONTACT, Stage.CONTACTED)
ADVANCE_BATCH = 500


@dataclass
class AdvanceResult:
    """What one sweep did, by enrollment id."""

    resumed: list[int]
    queued: list[int]
    stopped: list[int]
    completed: list[int]


def add_delay(start: datetime, days: int, *, business_days: bool, tz: str = "UTC") -> datetime:
    """``start`` plus ``days`` days; with ``business_days`` only Monday–Friday (in ``tz``) count.

    Business days keep the time of day: Friday 10:00 plus one business day is Monday 10:00,
    and Saturday 10:00 plus one is Monday 10:00 too.
    """
    if not business_days:
        return start + timedelta(days=days)
    local = start.astimezone(ZoneInfo(tz))
    remaining = days
    while remaining > 0:
        local = local + timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    # Aware arithmetic in one zone is wall-clock arithmetic: a DST change keeps the time of day.
    return local.astimezone(start.tzinfo)


def _step(sequence_id: int, position: int) -> SequenceStep | None:
    return SequenceStep.objects.select_related("template").filter(sequence_id=sequence_id, position=position).first()


def enrollment_step_sent(*, message: OutboundMessage, sent_at: datetime) -> None:
    """The outbox sent ``message``: schedule the enrollment's next step (or complete it)."""
    enrollment_steps_sent(messages=[message], sent_at=sent_at)


def enrollment_steps_sent(*, messages: list[OutboundMessage], sent_at: datetime) -> None:
    """The outbox sent ``messages``: schedule each enrollment's next step (or complete it).

    The enrollments and the steps that follow are read in two queries for the whole batch.
    The first step moves the prospect to Contacted (through automation.on_first_step_sent).
    """
    sent = [m for m in messages if m.enrollment_id is not None and m.step_position is not None]
    if not sent:
        return
    enrollments = Enrollment.objects.select_related("mailbox", "contact", "sequence").in_bulk(
        {m.enrollment_id for m in sent}
    )
    steps = {
        (step.sequence_id, step.position): step
        for step in SequenceStep.objects.filter(sequence_id__in={e.sequence_id for e in enrollments.values()})
    }
    for message in sent:
        enrollment = enrollments[message.enrollment_id]
        if message.step_position == 1:
            automation.on_first_step_sent(enrollment=enrollment, sent_at=sent_at)
        following = steps.get((enrollment.sequence_id, message.step_position + 1))
        running = Enrollment.objects.filter(pk=enrollment.pk, current_step=message.step_position,
                                            status__in=(EnrollmentStatus.ACTIVE, EnrollmentStatus.PAUSED))
        if following is None:
            running.update(status=EnrollmentStatus.COMPLETED, next_step_at=None, paused_until=None)
            continue
        due = add_delay(sent_at, following.delay_days, business_days=following.business_days,
                        tz=enrollment.mailbox.timezone)
        running.update(next_step_at=due)


def sequences_advance(now: datetime | None = None) -> AdvanceResult:
    """Resume pauses that ended, then queue every follow-up due at ``now`` (default: now)."""
    now = now or timezone.now()
    result = AdvanceResult(resumed=_resume_due(now), queued=[], stopped=[], completed=[])
    due_ids = list(
        Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE, next_step_at__lte=now)
        .order_by("next_step_at")
        .values_list("pk", flat=True)[:ADVANCE_BATCH]
    )
    for enrollment_id in due_ids:
        _advance_one(enrollment_id, now, result)
    return result


def _resume_due(now: datetime) -> list[int]:
    """Paused enrollments whose pause ended: active again, next step no earlier than now."""
    resumed = []
    ended = Enrollment.objects.filter(status=EnrollmentStatus.PAUSED, paused_until__lte=now)
    for enrollment_id, next_at in ended.values_list("pk", "next_step_at"):
        if enrollment_resume(enrollment_id=enrollment_id, next_step_at=max(next_at or now, now)):
            resumed.append(enrollment_id)
    return resumed


def _advance_one(enrollment_id: int, now: datetime, result: AdvanceResult) -> None:
    """Queue the next step of one due enrollment, under its row lock (a second sweep skips it)."""
    with transaction.atomic():
        enrollment = (
            Enrollment.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("prospect", "prospect__project", "prospect__project__site", "contact", "mailbox",
                            "target_page")
            .filter(pk=enrollment_id, status=EnrollmentStatus.ACTIVE, next_step_at__lte=now)
            .first()
        )
        if enrollment is None:
            return
        if enrollment.prospect.stage not in OUTREACH_STAGES:
            enrollment_stop(enrollment_id=enrollment.pk, reason=StopReason.STAGE, at=now)
            result.stopped.append(enrollment.pk)
            return
        _queue_next(enrollment, now, result)


def _queue_next(enrollment: Enrollment, now: datetime, result: AdvanceResult) -> None:
    last_sent = OutboundMessage.objects.filter(
        enrollment=enrollment, step_position=enrollment.current_step, status=OutboxStatus.SENT
    ).exists()
    if not last_sent:
        # Its current message is still on its way (e.g. after a pause): the send will reschedule.
        Enrollment.objects.filter(pk=enrollment.pk).update(next_step_at=None)
        return
    step = _step(enrollment.sequence_id, enrollment.current_step + 1)
    if step is None:
        Enrollment.objects.filter(pk=enrollment.pk).update(status=EnrollmentStatus.COMPLETED, next_step_at=None)
        result.completed.append(enrollment.pk)
        return
    try:
        with transaction.atomic():
            message_enqueue_step(enrollment=enrollment, step=step, due_at=now)
    except (TemplateRenderError, HeaderInjectionError, StepNotReady) as exc:
        log.warning("enrollment %s: step %s cannot be queued: %s", enrollment.pk, step.position, exc)
        enrollment_stop(enrollment_id=enrollment.pk, reason=StopReason.ERROR, at=now)
        result.stopped.append(enrollment.pk)
        return
    Enrollment.objects.filter(pk=enrollment.pk).update(current_step=F("current_step") + 1, next_step_at=None)
    result.queued.append(enrollment.pk)
