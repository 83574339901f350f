"""A small outreach world for the sending tests: a project, a sandbox mailbox, a sequence, prospects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from django.contrib.auth.models import AbstractBaseUser

from linkcrm.localstack.config import StackConfig
from outreach.models import Mailbox, Sequence
from outreach.services.enrollments import EnrollResult, enrollments_create
from prospects.models import Contact, Project, Prospect
from tests.outreach.world import make_project, make_sequence, make_template, prospect_with_contact, sandbox_mailbox


@dataclass
class World:
    project: Project
    mailbox: Mailbox
    sequence: Sequence
    owner: AbstractBaseUser


def make_world(stack: StackConfig, owner: AbstractBaseUser, *, steps: int = 2, **mailbox: object) -> World:
    """A project of ``owner``, a sandbox mailbox (overrides in ``mailbox``) and a sequence of ``steps``
    steps, the follow-ups three days apart."""
    tag = uuid.uuid4().hex[:6]
    project = make_project(f"Acme outreach {tag}", owner, created_by=owner)
    templates = [make_template(f"Step {n} {tag}", subject=f"Links for {{{{ prospect.domain }}}} #{n}") for n in
                 range(1, steps + 1)]
    sequence = make_sequence(f"Acme sequence {tag}", *[(template, 0 if n == 0 else 3) for n, template in
                                                enumerate(templates)])
    return World(project, sandbox_mailbox(stack, owner, **mailbox), sequence, owner)


def enroll(world: World, domain: str, **extra: object) -> tuple[Prospect, Contact, EnrollResult]:
    prospect, contact = prospect_with_contact(world.project, domain, by=world.owner)
    result = enrollments_create(prospect_ids=[prospect.pk], sequence=world.sequence, mailboxes=[world.mailbox],
                                enrolled_by=world.owner, **extra)
    return prospect, contact, result


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]
