"""What email events do to prospects, contacts and enrollments (issue #5 item 6).

The sender and the syncer call these after they have stored the event; each function only
calls prospects' services and the guarded transitions, so a reader sees every consequence
of an email event here. All are idempotent: replaying an event changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from outreach.choices import RUNNING_ENROLLMENT, StopReason
from outreach.models import Enrollment
from outreach.services.transitions import (
    EnrollmentStop,
    enrollment_stop,
    enrollments_record_replies,
    enrollments_stop,
)
from prospects.choices import Stage, SuppressionKind
from prospects.models import Project
from prospects.services.contacts import contact_mark_bounced
from prospects.services.flags import prospect_flag
from prospects.services.pipeline import AutomationMove, prospect_move_stage, prospects_automation_move
from prospects.services.suppression import suppression_add


def on_first_step_sent(*, enrollment: Enrollment, sent_at: datetime) -> None:
    """The first email of a thread left: the prospect is Contacted (forward moves only)."""
    prospect_move_stage(
        prospect_id=enrollment.prospect_id,
        to_stage=Stage.CONTACTED,
        automation="email.sent",
        reason=f"first email of '{enrollment.sequence}' sent to {enrollment.contact.email}",
        event_at=sent_at,
    )


@dataclass(frozen=True)
class Reply:
    """A person's answer in one of our threads: the thread, when it arrived, who wrote it."""

    enrollment: Enrollment
    received_at: datetime
    from_address: str


def on_replies(replies: Sequence[Reply]) -> None:
    """People answered: Reply Received, each thread stops, and (by setting) its domain's others.

    For each of ``replies`` in order, in a fixed number of statements: a thread stopped by an
    earlier reply of the list (its own, or one at its domain) keeps that first reason; its
    first reply's time is its ``replied_at``; a prospect moves for the first reply that may move it.
    """
    if not replies:
        return
    domains = {r.enrollment.domain for r in replies}
    others = _running_at_domains(domains) if settings.LINKCRM_STOP_DOMAIN_ON_REPLY else {}
    stops = []
    for reply in replies:
        stops.append(EnrollmentStop(reply.enrollment.pk, StopReason.REPLIED, reply.received_at))
        stops.extend(
            EnrollmentStop(other_id, StopReason.DOMAIN_REPLIED, reply.received_at)
            for other_id in others.get(reply.enrollment.domain, ())
            if other_id != reply.enrollment.pk
        )
    enrollments_stop(stops=stops)
    first_replies: dict[int, datetime] = {}
    for reply in replies:
        first_replies.setdefault(reply.enrollment.pk, reply.received_at)
    enrollments_record_replies(replied_at=first_replies)
    moves = [AutomationMove(r.enrollment.prospect_id, f"reply from {r.from_address}", r.received_at) for r in replies]
    prospects_automation_move(
        moves=moves,
        to_stage=Stage.REPLY_RECEIVED,
        automation="email.reply",
    )


def _running_at_domains(domains: set[str]) -> dict[str, list[int]]:
    """The running enrollments at each of ``domains``, by domain."""
    running: dict[str, list[int]] = {}
    rows = Enrollment.objects.filter(domain__in=domains, status__in=RUNNING_ENROLLMENT).order_by("pk")
    for pk, domain in rows.values_list("pk", "domain"):
        running.setdefault(domain, []).append(pk)
    return running


def on_hard_bounce(*, enrollment: Enrollment | None, address: str, detail: str, at: datetime | None = None) -> None:
    """The address does not exist: contact bounced (and suppressed), enrollment stopped, prospect flagged."""
    contact_mark_bounced(email=address, suppress=True)
    if enrollment is None:
        return
    enrollment_stop(enrollment_id=enrollment.pk, reason=StopReason.BOUNCED, at=at or timezone.now())
    prospect_flag(prospect_id=enrollment.prospect_id, reason=f"hard bounce: {address} ({detail})"[:200])


def on_opt_out(*, enrollment: Enrollment | None, address: str, reason: StopReason, project_id: int | None) -> None:
    """Unsubscribe or spam complaint: the address goes on do-not-contact and its enrollments stop.

    An unsubscribe is scoped to the project the link came from; a complaint is global (the
    person told their mail provider we are spam: nobody here writes to them again).
    """
    scope = None if reason == StopReason.COMPLAINED else project_id
    label = "Spam complaint" if reason == StopReason.COMPLAINED else "Unsubscribed (one-click link)"
    project = Project.objects.filter(pk=scope).first() if scope is not None else None
    suppression_add(project=project, value=address, kind=SuppressionKind.EMAIL, reason=label)
    running = Enrollment.objects.filter(contact__email__iexact=address, status__in=RUNNING_ENROLLMENT)
    if project is not None:
        running = running.filter(prospect__project=project)
    ids = set(running.values_list("pk", flat=True)) | ({enrollment.pk} if enrollment else set())
    for enrollment_id in ids:
        enrollment_stop(enrollment_id=enrollment_id, reason=reason)
