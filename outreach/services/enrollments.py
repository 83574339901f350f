"""Enrolling prospects in a sequence, each one checked and refused (with its reason) on its own.

Before a prospect is enrolled: it is still in an outreach stage, the chosen contact has a
valid address that never bounced, neither the address nor the domain is on do-not-contact,
no enrollment is running at the same domain (in any project), and every step's template
renders with this prospect's real context. One refusal never blocks the others.

Mailboxes rotate across the prospects enrolled together, but a prospect that was written
to from one of the chosen mailboxes before stays on it (one thread, one sender).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from outreach.choices import RUNNING_ENROLLMENT, MailboxStatus, StopReason
from outreach.headers import HeaderInjectionError
from outreach.models import Enrollment, Mailbox, SequenceStep
from outreach.models import Sequence as EmailSequence
from outreach.rendering import TemplateRenderError
from outreach.services.enqueue import StepNotReady, message_enqueue_step, render_errors
from outreach.services.sequencing import OUTREACH_STAGES, add_delay
from outreach.services.transitions import enrollment_stop
from prospects.choices import EmailStatus, Stage
from prospects.models import Contact, Prospect, TargetPage
from prospects.services.contacts import ContactInvalid, checked_email
from prospects.services.suppression import suppression_match

UNUSABLE_EMAIL = {EmailStatus.BOUNCED: "bounced before", EmailStatus.INVALID: "is not a valid address",
                  EmailStatus.NO_MX: "has a domain without a mail server"}  # fmt: skip


NO_CONTACT = "no contact to write to (add one, or choose one of this prospect's contacts)"


class EnrollmentError(ValueError):
    """The request as a whole cannot be done (no steps, no usable mailbox)."""


@dataclass(frozen=True)
class Refusal:
    prospect_id: int
    domain: str
    reason: str


@dataclass
class EnrollResult:
    """Enrollment ids created, and every prospect refused with why."""

    enrolled: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def enrollments_create(
    *,
    prospect_ids: Sequence[int],
    sequence: EmailSequence,
    mailboxes: Sequence[Mailbox],
    enrolled_by: AbstractBaseUser | None,
    contact_ids: Sequence[int] | None = None,
    target_page: TargetPage | None = None,
    now: datetime | None = None,
) -> EnrollResult:
    """Enroll each prospect (with its chosen contact, else its primary one) and queue its first step.

    ``contact_ids`` picks contacts (each belongs to one prospect). Raises EnrollmentError when
    the sequence has no steps or no chosen mailbox is active; every per-prospect problem is a
    Refusal in the result instead.
    """
    now = now or timezone.now()
    steps = list(SequenceStep.objects.select_related("template").filter(sequence=sequence).order_by("position"))
    active = [mailbox for mailbox in mailboxes if mailbox.status == MailboxStatus.ACTIVE]
    if not steps:
        raise EnrollmentError(f"sequence '{sequence.name}' has no steps")
    if not active:
        raise EnrollmentError("choose at least one active mailbox")
    prospects = Prospect.objects.select_related("project", "project__site").in_bulk(list(prospect_ids))
    chosen = _chosen_contacts(prospect_ids, contact_ids)
    earlier = _earlier_mailboxes(prospect_ids, active)
    rotation = itertools.cycle(active)
    result = EnrollResult()
    for prospect_id in dict.fromkeys(prospect_ids):
        prospect, contact = prospects.get(prospect_id), chosen.get(prospect_id)
        if prospect is None or contact is None:
            why = "prospect not found" if prospect is None else NO_CONTACT
            result.refused.append(Refusal(prospect_id, prospect.domain if prospect else "", why))
            continue
        enrollment = Enrollment(
            sequence=sequence, prospect=prospect, contact=contact, target_page=target_page,
            mailbox=earlier.get(prospect_id) or next(rotation), domain=prospect.domain, enrolled_by=enrolled_by,
        )
        reason = _refusal(enrollment, steps) or _save(enrollment, steps[0], now)
        if reason:
            result.refused.append(Refusal(prospect_id, prospect.domain, reason))
        else:
            result.enrolled.append(enrollment.pk)
    return result


def _chosen_contacts(prospect_ids: Sequence[int], contact_ids: Sequence[int] | None) -> dict[int, Contact]:
    """prospect id → the contact to write to: the chosen one, else the primary, else the first."""
    contacts = list(Contact.objects.filter(prospect_id__in=list(prospect_ids)).order_by("-is_primary", "email"))
    picked = set(contact_ids or ())
    chosen = {contact.prospect_id: contact for contact in contacts if contact.pk in picked}
    for contact in contacts:
        chosen.setdefault(contact.prospect_id, contact)
    return chosen


def _earlier_mailboxes(prospect_ids: Sequence[int], mailboxes: list[Mailbox]) -> dict[int, Mailbox]:
    """prospect id → the chosen mailbox that wrote to it most recently, for the prospects written to before."""
    by_id = {mailbox.pk: mailbox for mailbox in mailboxes}
    rows = (
        Enrollment.objects.filter(prospect_id__in=list(prospect_ids), mailbox_id__in=list(by_id))
        .order_by("enrolled_at", "pk")
        .values_list("prospect_id", "mailbox_id")
    )
    return {prospect_id: by_id[mailbox_id] for prospect_id, mailbox_id in rows}  # later rows win


def _refusal(enrollment: Enrollment, steps: list[SequenceStep]) -> str:
    """Why this prospect may not be enrolled, or "" when it may."""
    prospect, contact = enrollment.prospect, enrollment.contact
    if prospect.stage not in OUTREACH_STAGES:
        return f"the prospect is in {Stage(prospect.stage).label}, not in an outreach stage"
    try:
        checked_email(contact.email)
    except ContactInvalid as exc:
        return str(exc)
    if contact.email_status in UNUSABLE_EMAIL:
        return f"{contact.email} {UNUSABLE_EMAIL[contact.email_status]}"
    entry = suppression_match(project=prospect.project_id, email=contact.email, domain=prospect.domain)
    if entry is not None:
        scope = "this project's" if entry.project_id else "the global"
        return f"{contact.email} is on {scope} do-not-contact list ({entry.value})"
    running = _running_at(prospect.domain)
    if running:
        return f"an enrollment is already running at {prospect.domain} (#{running})"
    problems = render_errors(enrollment, steps)
    return "templates do not render: " + " | ".join(problems) if problems else ""


def _running_at(domain: str) -> int | None:
    return Enrollment.objects.filter(domain=domain, status__in=RUNNING_ENROLLMENT).values_list("pk", flat=True).first()


def _save(enrollment: Enrollment, first: SequenceStep, now: datetime) -> str:
    """Store the enrollment and queue step 1, under a per-domain lock; "" or why it was refused."""
    due = add_delay(now, first.delay_days, business_days=first.business_days, tz=enrollment.mailbox.timezone)
    try:
        with transaction.atomic():
            # Two enrollments at one domain racing: the lock makes the second see the first.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["linkcrm.enroll:" + enrollment.domain])
            running = _running_at(enrollment.domain)
            if running:
                return f"an enrollment is already running at {enrollment.domain} (#{running})"
            enrollment.current_step = first.position
            enrollment.save()
            message_enqueue_step(enrollment=enrollment, step=first, due_at=due)
    except IntegrityError:
        return "the prospect is already enrolled"
    except (TemplateRenderError, HeaderInjectionError, StepNotReady) as exc:
        return f"the first email cannot be built: {exc}"
    return ""


def enrollment_stop_by_person(*, enrollment_id: int, by: AbstractBaseUser | None = None) -> bool:
    """A person stops a running enrollment; its unsent messages are withdrawn. True if it stopped."""
    del by  # who stopped it is not stored on the enrollment yet; the stop reason says "a person"
    return enrollment_stop(enrollment_id=enrollment_id, reason=StopReason.MANUAL)
