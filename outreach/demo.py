"""The demo workspace's outreach: a mailbox on the local sandbox, templates, a 3-step sequence,
contacts at sandbox addresses, and a few threads already under way.

Called by ``manage.py load_demo`` after the prospects demo. Threads are made of real rows
(enrollments, messages enqueued by the sender's own ``message_enqueue_step`` and marked sent
through the guarded transition, inbound replies as the syncer stores them), but no mail is
sent while loading. Contacts live at ``@linkcrm.test`` so nothing leaves the sandbox even
when the demo prospects are real domains. Idempotent: what exists is left as it is.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from linkcrm.localstack.config import SANDBOX_DOMAIN, StackConfig
from outreach.choices import MatchMethod, MessageKind, OutboxStatus, SmtpSecurity, StopReason
from outreach.models import EmailTemplate, Enrollment, InboundMessage, Mailbox, Sequence
from outreach.services.enqueue import message_enqueue_step
from outreach.services.mailboxes import mailbox_create
from outreach.services.sequences import StepSpec, sequence_save, sequence_steps_save
from outreach.services.templates import template_save
from outreach.services.transitions import enrollment_stop, outbound_transition
from prospects.choices import Stage
from prospects.models import Contact, Project, Prospect
from prospects.services.contacts import contact_add

DEMO_MAILBOX = f"outreach-demo@{SANDBOX_DOMAIN}"
DEMO_SEQUENCE = "Demo: resource page pitch"
SIGNATURE = "Northwind Outdoor Gear\nhttps://northwind.example/"
UNSUBSCRIBE = "\n\n--\nNot interested? One click and we stop: {{ unsubscribe_url }}\n"
TEMPLATES = (
    ("Demo: first pitch", "A resource for {{ prospect.domain }} readers",
     "Hi {{ contact.first_name | default('there', true) }},\n\nI was reading {{ prospect.domain }} and think your "
     "readers would like this page of ours ({{ target_page.label | default('a guide', true) | lower }}):\n"
     "{{ target_page.url | default(project.site, true) }}\n\nWould it fit on your resources page?\n\n"
     "{{ sender.name }}\n{{ sender.signature }}" + UNSUBSCRIBE),
    ("Demo: follow-up", "A resource for {{ prospect.domain }} readers",
     "Hi {{ contact.first_name | default('there', true) }},\n\nJust bringing this back to the top of your inbox: "
     "{{ target_page.url | default(project.site, true) }}\n\nThanks,\n{{ sender.name }}" + UNSUBSCRIBE),
    ("Demo: last nudge", "A resource for {{ prospect.domain }} readers",
     "Hi {{ contact.first_name | default('there', true) }},\n\nLast note from me; if the timing is wrong, no "
     "worries at all.\n\n{{ sender.name }}" + UNSUBSCRIBE),
)
DELAYS = ((0, False), (3, False), (4, True))
# Link removal (toxic links found by the audit) is worked with the same engine: one template, two steps.
REMOVAL_SEQUENCE = "Demo: link removal request"
REMOVAL_TEMPLATE = (
    "Demo: link removal request", "A link to {{ project.site }} on {{ prospect.domain }}",
    "Hi {{ contact.first_name | default('there', true) }},\n\nA page on {{ prospect.domain }} links to our site "
    "({{ project.site }}): {{ prospect.url | default(prospect.domain, true) }}\n\nWe are cleaning up our link "
    "profile; could you remove that link? Thank you!\n\n{{ sender.name }}\n{{ sender.signature }}" + UNSUBSCRIBE,
)  # days after the previous step; the last in business days
CONTACT_NAMES = ("Maja Berg", "Tom Reyes", "Ines Duarte", "Jon Aasen", "Priya Nair", "Lea Roth", "Sam Okoro")
WITH_CONTACT = {Stage.TO_CONTACT: 4, Stage.CONTACTED: 3, Stage.REPLY_RECEIVED: 2}
REPLY_TEXT = "Hi,\n\nthanks, this looks useful. I'll add it to our list next week.\n\nBest"


def load(project: Project) -> Mailbox:
    """Create what is missing of the demo's outreach for ``project``; returns the demo mailbox."""
    with transaction.atomic():
        owner = _owner(project)
        mailbox = _mailbox(owner)
        sequence = _sequence(owner)
        _removal_sequence(owner)
        for stage, count in WITH_CONTACT.items():
            prospects = Prospect.objects.filter(project=project, stage=stage).order_by("-score", "id")[:count]
            for index, prospect in enumerate(prospects):
                contact = _contact(prospect, index)
                if stage != Stage.TO_CONTACT and not Enrollment.objects.filter(prospect=prospect).exists():
                    _thread(prospect, contact, sequence, mailbox, owner, replied=stage == Stage.REPLY_RECEIVED)
    return mailbox


def _owner(project: Project) -> AbstractBaseUser:
    """An admin of the workspace when there is one (the mailbox shows on their page), else a demo colleague."""
    users = get_user_model().objects.filter(is_active=True)
    return (users.filter(is_superuser=True).order_by("pk").first()
            or users.filter(memberships__project=project).order_by("username").first()
            or users.order_by("pk").first())


def _mailbox(owner: AbstractBaseUser) -> Mailbox:
    stack = StackConfig.from_env()
    existing = Mailbox.objects.filter(email=DEMO_MAILBOX).first()
    if existing is not None:
        # The sandbox may run on other ports this time (LINKCRM_SMTP_PORT/IMAP_PORT): follow it.
        Mailbox.objects.filter(pk=existing.pk, is_demo=True, smtp_host="127.0.0.1").update(
            smtp_port=stack.smtp_port, imap_port=stack.imap_port
        )
        return existing
    values = {
        "name": "Demo mailbox (local sandbox)", "email": DEMO_MAILBOX, "from_name": "Nora from Northwind",
        "signature": SIGNATURE, "smtp_host": "127.0.0.1", "smtp_port": stack.smtp_port,
        "smtp_security": SmtpSecurity.PLAIN, "smtp_username": DEMO_MAILBOX, "imap_host": "127.0.0.1",
        "imap_port": stack.imap_port, "imap_ssl": False, "imap_username": DEMO_MAILBOX, "watch_folders": ["INBOX"],
        # The sandbox SMTP files a copy of every logged-in submission in Sent, like Gmail does.
        "sent_folder": "Sent", "server_saves_sent": True,
        "daily_cap": 200, "min_gap_seconds": 0, "gap_jitter_seconds": 0, "window_days": [0, 1, 2, 3, 4, 5, 6],
        "window_start": dt.time(0, 0), "window_end": dt.time(23, 59, 59), "timezone": "UTC",
    }
    mailbox = mailbox_create(owner=owner, values=values, smtp_password=stack.sandbox_password)
    Mailbox.objects.filter(pk=mailbox.pk).update(is_demo=True)
    return mailbox


def _sequence(owner: AbstractBaseUser) -> Sequence:
    templates = []
    for name, subject, text in TEMPLATES:
        template = EmailTemplate.objects.filter(name=name).first()
        templates.append(template or template_save(template=None, name=name, subject=subject, text=text, by=owner))
    sequence = Sequence.objects.filter(name=DEMO_SEQUENCE).first()
    if sequence is None:
        sequence = sequence_save(sequence=None, name=DEMO_SEQUENCE, by=owner,
                                 description="Pitch a page of ours for a resources page; two polite follow-ups.")
        steps = [StepSpec(t.pk, delay, business) for t, (delay, business) in zip(templates, DELAYS, strict=True)]
        sequence_steps_save(sequence=sequence, steps=steps)
    return sequence


def _removal_sequence(owner: AbstractBaseUser) -> Sequence:
    """A request and one reminder a week later, for prospects in the link-removal pipeline."""
    name, subject, text = REMOVAL_TEMPLATE
    template = EmailTemplate.objects.filter(name=name).first() or template_save(
        template=None, name=name, subject=subject, text=text, by=owner
    )
    sequence = Sequence.objects.filter(name=REMOVAL_SEQUENCE).first()
    if sequence is None:
        sequence = sequence_save(sequence=None, name=REMOVAL_SEQUENCE, by=owner,
                                 description="Ask a site to remove a link the toxicity audit flagged.")
        sequence_steps_save(sequence=sequence, steps=[StepSpec(template.pk, 0, False), StepSpec(template.pk, 7, False)])
    return sequence


def _contact(prospect: Prospect, index: int) -> Contact:
    existing = prospect.contacts.order_by("-is_primary", "pk").first()
    if existing is not None:
        return existing
    local = "editor." + prospect.domain.replace(".", "-")
    name = CONTACT_NAMES[(prospect.pk + index) % len(CONTACT_NAMES)]
    return contact_add(prospect=prospect, email=f"{local}@{SANDBOX_DOMAIN}", name=name, role="Editor")


def _thread(prospect: Prospect, contact: Contact, sequence: Sequence, mailbox: Mailbox,
            owner: AbstractBaseUser, *, replied: bool) -> None:  # fmt: skip
    """Step 1 sent when the prospect became Contacted (or two days before its reply); a reply when replied."""
    moved = prospect.stage_changed_at or timezone.now()
    sent_at = moved - timedelta(days=2) if replied else moved
    first = sequence.steps.order_by("position").first()
    enrollment = Enrollment.objects.create(
        sequence=sequence, prospect=prospect, contact=contact, mailbox=mailbox, domain=prospect.domain,
        target_page=prospect.project.target_pages.order_by("pk").first(), enrolled_by=owner, current_step=1,
        next_step_at=sent_at + timedelta(days=sequence.steps.get(position=2).delay_days),
    )
    message = message_enqueue_step(enrollment=enrollment, step=first, due_at=sent_at)
    outbound_transition(message_id=message.pk, from_statuses=[OutboxStatus.QUEUED], to_status=OutboxStatus.SENT,
                        detail="demo: sent before the demo was loaded", sent_at=sent_at, attempts=1)
    if replied:
        _reply(enrollment, message.message_id, message.subject, at=moved)


def _reply(enrollment: Enrollment, message_id: str, subject: str, *, at: datetime) -> None:
    """The contact's answer, stored as the syncer stores one: matched, classified, needing attention."""
    contact = enrollment.contact
    InboundMessage.objects.create(
        mailbox=enrollment.mailbox, folder="INBOX", uidvalidity=1, uid=0, dedupe_key=f"<demo-reply-{enrollment.pk}>",
        message_id=f"<demo-reply-{enrollment.pk}@{SANDBOX_DOMAIN}>", in_reply_to=message_id, references=message_id,
        from_address=contact.email, from_name=contact.name, to_addresses=enrollment.mailbox.email,
        subject=f"Re: {subject}", date=at, text=REPLY_TEXT, kind=MessageKind.REPLY,
        kind_reason="a person's answer (demo)", match_method=MatchMethod.IN_REPLY_TO, match_detail=message_id,
        matched_message=enrollment.messages.get(message_id=message_id), enrollment=enrollment,
        prospect=enrollment.prospect, needs_attention=True,
    )
    enrollment_stop(enrollment_id=enrollment.pk, reason=StopReason.REPLIED, at=at)
    Enrollment.objects.filter(pk=enrollment.pk).update(replied_at=at)
