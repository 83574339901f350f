"""Builders for the outreach UI tests: sent messages and inbound rows created directly.

The UI only reads these tables, so its tests build small known worlds row by row instead
of sending mail; the send and sync lanes test how the rows come to be.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from outreach.choices import EnrollmentStatus, MatchMethod, MessageKind, OutboxStatus
from outreach.models import Enrollment, InboundMessage, Mailbox, OutboundMessage, Sequence
from prospects.models import Contact, Prospect


def enrolled(prospect: Prospect, contact: Contact, sequence: Sequence, mailbox: Mailbox, **extra: object) -> Enrollment:
    return Enrollment.objects.create(
        sequence=sequence, prospect=prospect, contact=contact, mailbox=mailbox, domain=prospect.domain,
        status=extra.pop("status", EnrollmentStatus.ACTIVE), current_step=1, **extra,
    )


def sent_message(enrollment: Enrollment, *, position: int = 1, at: dt.datetime | None = None,
                 subject: str = "A link idea", status: str = OutboxStatus.SENT) -> OutboundMessage:
    at = at or timezone.now() - dt.timedelta(hours=2)
    step = enrollment.sequence.steps.filter(position=position).first()
    return OutboundMessage.objects.create(
        mailbox=enrollment.mailbox, enrollment=enrollment, step=step, step_position=position,
        prospect=enrollment.prospect, contact=enrollment.contact, from_address=enrollment.mailbox.email,
        to_address=enrollment.contact.email, subject=subject, text=f"Hello from step {position}",
        message_id=f"<{uuid.uuid4().hex}@{enrollment.mailbox.message_id_domain}>", status=status,
        due_at=at, sent_at=at if status == OutboxStatus.SENT else None,
    )


def inbound(mailbox: Mailbox, *, prospect: Prospect | None = None, kind: str = MessageKind.REPLY,
            subject: str = "Re: A link idea", attention: bool = True, matched: OutboundMessage | None = None,
            from_address: str = "someone@example.org", text: str = "Sounds good.") -> InboundMessage:
    return InboundMessage.objects.create(
        mailbox=mailbox, folder="INBOX", uidvalidity=1, uid=InboundMessage.objects.count() + 1,
        dedupe_key=f"<{uuid.uuid4().hex}@example.org>", from_address=from_address, subject=subject,
        text=text, kind=kind, prospect=prospect, needs_attention=attention, matched_message=matched,
        enrollment=matched.enrollment if matched else None, date=timezone.now(),
        match_method=MatchMethod.IN_REPLY_TO if matched else MatchMethod.NONE,
        match_detail=matched.message_id if matched else "",
    )
