"""Guarded, logged status changes shared by the sender, the syncer and the UI.

Each change is ``UPDATE … WHERE id=… AND status IN (<allowed from>)`` plus a log row in the
same transaction (DESIGN.md §4.2): if another worker got there first, nothing changes and
the caller learns it from the return value instead of overwriting the other's work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from outreach.choices import RUNNING_ENROLLMENT, EnrollmentStatus, MailboxStatus, OutboxStatus, StopReason
from outreach.models import Enrollment, Mailbox, OutboundMessage, OutboundTransition

# Messages that may still be withdrawn when their enrollment stops: nobody is sending them.
WITHDRAWABLE = (OutboxStatus.QUEUED, OutboxStatus.RETRY)


def outbound_transitions(
    *, message_ids: Iterable[int], from_statuses: Iterable[str], to_status: str, detail: str = "", **fields: Any
) -> list[int]:
    """Move every message of ``message_ids`` that is in one of ``from_statuses``; log each move.

    One locking SELECT, one UPDATE and one INSERT whatever the number of messages; returns
    the ids that moved (the others were elsewhere already: another worker got there first).
    ``fields`` are written in the same UPDATE (e.g. ``sent_at``, ``last_error``, ``due_at``).
    """
    allowed, ids = list(from_statuses), list(message_ids)
    if not ids:
        return []
    with transaction.atomic():
        current = dict(
            OutboundMessage.objects.select_for_update(of=("self",))
            .filter(pk__in=ids, status__in=allowed)
            .values_list("pk", "status")
        )
        if not current:
            return []
        OutboundMessage.objects.filter(pk__in=current).update(status=to_status, **fields)
        OutboundTransition.objects.bulk_create(
            OutboundTransition(message_id=pk, from_status=status, to_status=to_status, detail=detail[:1000])
            for pk, status in current.items()
        )
    return list(current)


def outbound_transition(
    *, message_id: int, from_statuses: Iterable[str], to_status: str, detail: str = "", **fields: Any
) -> bool:
    """Move one outbound message if it is in one of ``from_statuses``; log it. True if it moved."""
    return bool(outbound_transitions(
        message_ids=[message_id], from_statuses=from_statuses, to_status=to_status, detail=detail, **fields
    ))  # fmt: skip


@dataclass(frozen=True)
class EnrollmentStop:
    """One enrollment to stop, why, and when (``stopped_at``)."""

    enrollment_id: int
    reason: StopReason | str
    at: datetime


def enrollment_stop(*, enrollment_id: int, reason: StopReason | str, at: datetime | None = None) -> bool:
    """Stop a running enrollment and withdraw its messages nobody is sending yet. True if it stopped.

    A message already being sent (``sending``) or in doubt (``unknown``) is left alone: it
    may already be on its way, and withdrawing it would not unsend it.
    """
    return bool(enrollments_stop(stops=[EnrollmentStop(enrollment_id, reason, at or timezone.now())]))


def enrollments_stop(*, stops: Sequence[EnrollmentStop]) -> list[int]:
    """``enrollment_stop`` for each of ``stops`` in order, in a few statements; returns the ids that stopped.

    An enrollment listed twice stops for its first entry (the second would find it stopped).
    The running ones are locked and read first, so the UPDATE changes exactly the rows
    returned, and each reason's withdrawn messages are moved (and logged) in one call.
    """
    wanted: dict[int, EnrollmentStop] = {}
    for stop in stops:
        wanted.setdefault(stop.enrollment_id, stop)
    if not wanted:
        return []
    with transaction.atomic():
        running = list(
            Enrollment.objects.select_for_update()
            .filter(pk__in=wanted, status__in=RUNNING_ENROLLMENT)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not running:
            return []
        Enrollment.objects.filter(pk__in=running, status__in=RUNNING_ENROLLMENT).update(
            status=EnrollmentStatus.STOPPED,
            next_step_at=None,
            stop_reason=_per_row({pk: str(wanted[pk].reason) for pk in running}, models.CharField()),
            stopped_at=_per_row({pk: wanted[pk].at for pk in running}, models.DateTimeField()),
        )
        by_reason: dict[str, list[int]] = {}
        for pk in running:
            by_reason.setdefault(str(wanted[pk].reason), []).append(pk)
        for reason, ids in by_reason.items():
            withdrawable = OutboundMessage.objects.filter(enrollment_id__in=ids, status__in=WITHDRAWABLE)
            outbound_transitions(
                message_ids=withdrawable.values_list("pk", flat=True),
                from_statuses=WITHDRAWABLE,
                to_status=OutboxStatus.CANCELLED,
                detail=f"enrollment stopped: {reason}",
            )
    return running


def enrollments_record_replies(*, replied_at: Mapping[int, datetime]) -> int:
    """Record when each enrollment of ``replied_at`` was first answered; one already answered keeps its time."""
    if not replied_at:
        return 0
    return Enrollment.objects.filter(pk__in=replied_at, replied_at__isnull=True).update(
        replied_at=_per_row(dict(replied_at), models.DateTimeField())
    )


def _per_row(values: dict[int, Any], field: models.Field) -> Case:
    """A column value per primary key, for one UPDATE of rows that each get their own value."""
    return Case(*(When(pk=pk, then=Value(value)) for pk, value in values.items()), output_field=field)


def enrollment_pause_until(*, enrollment_id: int, until: datetime) -> bool:
    """Pause an active enrollment until ``until`` (e.g. an out-of-office return date)."""
    return bool(
        Enrollment.objects.filter(pk=enrollment_id, status=EnrollmentStatus.ACTIVE).update(
            status=EnrollmentStatus.PAUSED, paused_until=until
        )
    )


def enrollment_resume(*, enrollment_id: int, next_step_at: datetime | None = None) -> bool:
    """Resume a paused enrollment; its next step is due at ``next_step_at`` (default: now)."""
    return bool(
        Enrollment.objects.filter(pk=enrollment_id, status=EnrollmentStatus.PAUSED).update(
            status=EnrollmentStatus.ACTIVE, paused_until=None, next_step_at=next_step_at or timezone.now()
        )
    )


def mailbox_pause(*, mailbox_id: int, reason: str) -> bool:
    """Pause an active mailbox (a person's choice, or an authentication failure). True if it paused.

    Its queued messages stay queued: they leave when the mailbox is active again.
    """
    return bool(
        Mailbox.objects.filter(pk=mailbox_id, status=MailboxStatus.ACTIVE).update(
            status=MailboxStatus.PAUSED, paused_reason=reason[:300], paused_at=timezone.now()
        )
    )


def mailbox_resume(*, mailbox_id: int) -> bool:
    """Make a paused mailbox active again. True if it was paused."""
    return bool(
        Mailbox.objects.filter(pk=mailbox_id, status=MailboxStatus.PAUSED).update(
            status=MailboxStatus.ACTIVE, paused_reason="", paused_at=None
        )
    )
