"""Builders shared by the outreach tests: a sandbox mailbox, templates, a sequence, prospects.

Every mailbox gets a fresh address on the test stack's mail sandbox (any address is a
mailbox there, password ``stack.sandbox_password``), so tests never see each other's mail.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import AbstractBaseUser

from linkcrm.localstack.config import StackConfig
from outreach.choices import SmtpSecurity
from outreach.models import EmailTemplate, Mailbox, Sequence, SequenceStep, TemplateVersion
from prospects.choices import Stage
from prospects.models import Contact, Project, Prospect
from tests.prospects.pipeline_helpers import make_project, make_prospects

ALL_WEEK = [0, 1, 2, 3, 4, 5, 6]


def unique_address(prefix: str = "user", domain: str = "linkcrm.test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@{domain}"


def sandbox_mailbox(stack: StackConfig, owner: AbstractBaseUser, **extra: object) -> Mailbox:
    """An active mailbox on the sandbox, sending any day and hour, with no gap between sends."""
    address = str(extra.pop("email", None) or unique_address("sender"))
    fields: dict[str, object] = {
        "owner": owner,
        "name": f"Sandbox {address}",
        "from_name": "Sam Sender",
        "email": address,
        "smtp_host": "127.0.0.1",
        "smtp_port": stack.smtp_port,
        "smtp_security": SmtpSecurity.PLAIN,
        "smtp_username": address,
        "imap_host": "127.0.0.1",
        "imap_port": stack.imap_port,
        "imap_ssl": False,
        "imap_username": address,
        "daily_cap": 1000,
        "min_gap_seconds": 0,
        "gap_jitter_seconds": 0,
        "window_days": ALL_WEEK,
        "window_start": dt.time(0, 0),
        "window_end": dt.time(23, 59, 59),
        # The sandbox files what a logged-in sender submits in Sent, as Gmail does.
        "server_saves_sent": True,
    }
    mailbox = Mailbox(**{**fields, **extra})
    mailbox.set_smtp_password(stack.sandbox_password)
    mailbox.set_imap_password(stack.sandbox_password)
    mailbox.save()
    return mailbox


def make_template(name: str, subject: str = "Hello {{ contact.first_name | default('there') }}",
                  text: str = "Hi {{ contact.first_name | default('there') }},\n\nA link to "
                              "{{ target_page.url }} would help.\n\n{{ sender.name }}\n") -> EmailTemplate:
    """A template with its first version saved (number 1)."""
    template = EmailTemplate.objects.create(name=name, subject=subject, text=text, version=1)
    TemplateVersion.objects.create(template=template, number=1, subject=subject, text=text)
    return template


def make_sequence(name: str, *steps: tuple[EmailTemplate, int]) -> Sequence:
    """A sequence of (template, delay_days) steps, in order."""
    sequence = Sequence.objects.create(name=name)
    for position, (template, delay) in enumerate(steps, start=1):
        SequenceStep.objects.create(sequence=sequence, position=position, template=template, delay_days=delay)
    return sequence


def prospect_with_contact(
    project: Project, domain: str, *, by: AbstractBaseUser, email: str | None = None, name: str = "Jane Doe"
) -> tuple[Prospect, Contact]:
    """A To Contact prospect at ``domain`` with one primary contact (a fresh sandbox address by default)."""
    (prospect,) = make_prospects(project, domain, by=by, stage=Stage.TO_CONTACT)
    contact = Contact.objects.create(
        prospect=prospect, name=name, email=email or unique_address("editor", domain), is_primary=True
    )
    return prospect, contact


__all__ = [
    "ALL_WEEK", "make_project", "make_sequence", "make_template", "prospect_with_contact", "sandbox_mailbox",
    "unique_address",
]
