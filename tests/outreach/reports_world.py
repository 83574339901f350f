"""Small known worlds for the report tests: rows created directly, dated exactly.

``auto_now_add`` columns (StageChange.created_at, InboundMessage.received_at) are set by an
UPDATE after the insert, so every figure a test checks follows from the dates written here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser

from outreach.choices import MessageKind, OutboxStatus
from outreach.models import (
    EmailTemplate,
    Enrollment,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    Sequence,
    SequenceStep,
    TemplateVersion,
)
from prospects.choices import ActorKind
from prospects.models import Contact, Project, Prospect, StageChange


def at(month: int, day: int, hour: int = 12) -> datetime:
    """A moment in 2026, UTC."""
    return datetime(2026, month, day, hour, tzinfo=UTC)


def prospect(project: Project, domain: str, *, stage: str = "in_progress", assignee: AbstractBaseUser | None = None,
             **extra: object) -> Prospect:
    return Prospect.objects.create(project=project, domain=domain, stage=stage, assignee=assignee, **extra)


def change(prospect: Prospect, to_stage: str, when: datetime, from_stage: str = "") -> StageChange:
    """A stage-log row dated ``when``."""
    row = StageChange.objects.create(
        prospect=prospect, from_stage=from_stage, to_stage=to_stage, actor_kind=ActorKind.PERSON
    )
    StageChange.objects.filter(pk=row.pk).update(created_at=when)
    return row


def path(prospect: Prospect, *moves: tuple[str, datetime]) -> None:
    """Log a prospect's moves in order: each from the previous stage (blank first)."""
    previous = ""
    for to_stage, when in moves:
        change(prospect, to_stage, when, previous)
        previous = to_stage


def mailbox(owner: AbstractBaseUser, email: str) -> Mailbox:
    return Mailbox.objects.create(owner=owner, name=email.split("@")[0], email=email, smtp_host="127.0.0.1")


def template(name: str, versions: int = 1) -> tuple[EmailTemplate, list[TemplateVersion]]:
    tpl = EmailTemplate.objects.create(name=name, subject="Hi", text="Hello", version=versions)
    return tpl, [
        TemplateVersion.objects.create(template=tpl, number=n, subject="Hi", text=f"Hello v{n}")
        for n in range(1, versions + 1)
    ]


def sequence(name: str, tpl: EmailTemplate, steps: int = 2) -> Sequence:
    seq = Sequence.objects.create(name=name)
    for position in range(1, steps + 1):
        SequenceStep.objects.create(sequence=seq, position=position, template=tpl, delay_days=3)
    return seq


def enroll(seq: Sequence, prospect: Prospect, box: Mailbox, by: AbstractBaseUser | None) -> Enrollment:
    contact = Contact.objects.create(prospect=prospect, email=f"editor@{prospect.domain}")
    return Enrollment.objects.create(
        sequence=seq, prospect=prospect, contact=contact, mailbox=box, domain=prospect.domain, enrolled_by=by
    )


def sent(enrollment: Enrollment | None, step: int | None, version: TemplateVersion | None, when: datetime | None,
         *, box: Mailbox | None = None, prospect: Prospect | None = None,
         status: str = OutboxStatus.SENT) -> OutboundMessage:
    """An outbound message of an enrollment's step (or a system message when enrollment is None)."""
    box = box or enrollment.mailbox
    return OutboundMessage.objects.create(
        mailbox=box, enrollment=enrollment, step_position=step, template_version=version,
        prospect=prospect or (enrollment.prospect if enrollment else None),
        from_address=box.email, to_address="someone@example.net", subject="Hi", text="Hello",
        message_id=f"<{uuid.uuid4().hex}@example.test>", status=status, due_at=when or at(1, 1), sent_at=when,
    )  # fmt: skip


def inbound(kind: str, when: datetime, *, enrollment: Enrollment | None = None,
            answers: OutboundMessage | None = None, permanent: bool | None = None) -> InboundMessage:
    """An inbound message tied to a thread (by its answered message, or by enrollment only)."""
    enrollment = enrollment or (answers.enrollment if answers else None)
    row = InboundMessage.objects.create(
        mailbox=enrollment.mailbox, folder="INBOX", uidvalidity=1, uid=InboundMessage.objects.count() + 1,
        dedupe_key=f"<{uuid.uuid4().hex}@example.net>", kind=kind, permanent=permanent,
        matched_message=answers, enrollment=enrollment, prospect=enrollment.prospect,
    )
    InboundMessage.objects.filter(pk=row.pk).update(received_at=when, date=when)
    return row


REPLY, AUTO_REPLY, BOUNCE = MessageKind.REPLY, MessageKind.AUTO_REPLY, MessageKind.BOUNCE
