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
from tests.prospects.pipeline_helpers import make_project


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


def rates_world(alice: AbstractBaseUser, bob: AbstractBaseUser) -> dict[str, object]:
    """q1..q4 contacted in March from two mailboxes; see each test for what counts."""
    project = make_project("Rates", alice, bob)
    tpl, (v1, v2) = template("Pitch", versions=2)
    seq = sequence("Guides", tpl)
    box_a, box_b = mailbox(alice, "alice@ours.test"), mailbox(bob, "bob@ours.test")
    q1 = prospect(project, "q1.example", assignee=alice)
    q2 = prospect(project, "q2.example")  # nobody assigned: alice's because she enrolled it
    q3 = prospect(project, "q3.example", assignee=bob)
    q4 = prospect(project, "q4.example", assignee=bob)
    q5 = prospect(project, "q5.example", assignee=bob)
    e1, e2 = enroll(seq, q1, box_a, alice), enroll(seq, q2, box_a, alice)
    e3, e4, e5 = enroll(seq, q3, box_b, bob), enroll(seq, q4, box_b, bob), enroll(seq, q5, box_b, bob)
    sent(e1, 1, v1, at(3, 2))
    q1_step2 = sent(e1, 2, v2, at(3, 9))
    inbound(REPLY, at(3, 10), answers=q1_step2)
    change(q1, "link_acquired", at(3, 20), "reply_received")
    sent(e2, 1, v1, at(3, 3))
    inbound(BOUNCE, at(3, 3, 13), enrollment=e2, permanent=True)  # thread-matched only: step 1
    sent(e3, 1, v1, at(3, 4))
    inbound(AUTO_REPLY, at(3, 5), enrollment=e3)
    inbound(BOUNCE, at(3, 5, 14), enrollment=e3, permanent=False)
    inbound(REPLY, at(3, 6), enrollment=e3)
    q4_feb = sent(e4, 1, v1, at(2, 20))
    sent(e4, 2, v2, at(3, 1))
    inbound(REPLY, at(3, 2), answers=q4_feb)  # answers February's email: not this period's
    sent(e5, 1, v1, None, status="queued")  # never sent
    sent(None, None, None, at(3, 15), box=box_a)  # a digest: no prospect
    return {"project": project, "alice": alice, "bob": bob, "seq": seq, "tpl": tpl, "v1": v1, "v2": v2,
            "box_a": box_a, "box_b": box_b}  # fmt: skip
