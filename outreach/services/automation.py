"""What email events do to prospects, contacts and enrollments (issue #5 item 6).

The sender and the syncer call these after they have stored the event; each function only
calls prospects' services and the guarded transitions, so a reader sees every consequence
of an email event here. All are idempotent: replaying an event changes nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from outreach.choices import RUNNING_ENROLLMENT, StopReason
from outreach.models import Enrollment
from outreach.services.transitions import enrollment_stop
from prospects.choices import Stage, SuppressionKind
from prospects.models import Project
from prospects.services.contacts import contact_mark_bounced
from prospects.services.flags import prospect_flag
from prospects.services.pipeline import prospect_move_stage
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


def on_reply(*, enrollment: Enrollment, received_at: datetime, from_address: str) -> None:
    """A person answered: Reply Received, this enrollment stops, and (by setting) the domain's others."""
    enrollment_stop(enrollment_id=enrollment.pk, reason=StopReason.REPLIED, at=received_at)
    Enrollment.objects.filter(pk=enrollment.pk, replied_at__isnull=True).update(replied_at=received_at)
    if settings.LINKCRM_STOP_DOMAIN_ON_REPLY:
        others = Enrollment.objects.filter(domain=enrollment.domain, status__in=RUNNING_ENROLLMENT)
        for other_id in others.exclude(pk=enrollment.pk).values_list("pk", flat=True):
            enrollment_stop(enrollment_id=other_id, reason=StopReason.DOMAIN_REPLIED, at=received_at)
    prospect_move_stage(
        prospect_id=enrollment.prospect_id,
        to_stage=Stage.REPLY_RECEIVED,
        automation="email.reply",
        reason=f"reply from {from_address}",
        event_at=received_at,
    )


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
