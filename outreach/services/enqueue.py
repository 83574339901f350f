"""Putting one step of an enrollment into the outbox: rendered, threaded, with its Message-ID.

Every email is a row before it is sent (DESIGN.md §4.3). The Message-ID is made here, once,
and embeds the enrollment's thread token (``<{token}.{random}@domain>``) so a reply that
lost its In-Reply-To still finds its thread; the same token rides in ``X-LinkCRM-Thread``.
Follow-ups answer the thread: In-Reply-To the previous message, References the whole
chain, and the first message's subject with "Re: ".
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from outreach.choices import OutboxStatus
from outreach.context import render_context_for
from outreach.headers import Mailbox as HeaderAddress
from outreach.headers import OutboundMessage as MessageSpec
from outreach.headers import build_message, check_header_value, make_message_id, reply_subject
from outreach.models import Enrollment, OutboundMessage, OutboundTransition, SequenceStep, TemplateVersion
from outreach.rendering import TemplateError, TemplateRenderError, render_email

THREAD_HEADER = "X-LinkCRM-Thread"


class StepNotReady(Exception):
    """The step cannot be queued (no saved template version, or an earlier step was never sent)."""


def thread_message_id(token: str, domain: str) -> str:
    """``<{token}.{random}@domain>``: the thread token first, then 128 random bits."""
    check_header_value("Message-ID", token)
    return f"<{token}.{make_message_id(domain)[1:]}"


def current_version(step: SequenceStep) -> TemplateVersion:
    """The template version a step would be sent with now; StepNotReady when it has none."""
    version = TemplateVersion.objects.filter(template_id=step.template_id, number=step.template.version).first()
    if version is None:
        raise StepNotReady(f"template '{step.template.name}' has no saved version")
    return version


def _thread_so_far(enrollment: Enrollment, position: int) -> tuple[list[str], str]:
    """Message-IDs of the thread's earlier messages (oldest first) and the first one's subject."""
    earlier = list(
        OutboundMessage.objects.filter(enrollment=enrollment, step_position__lt=position, status=OutboxStatus.SENT)
        .order_by("step_position")
        .values_list("message_id", "subject")
    )
    if position > 1 and not earlier:
        raise StepNotReady(f"step {position} follows no sent message")
    return [message_id for message_id, _ in earlier], (earlier[0][1] if earlier else "")


@transaction.atomic
def message_enqueue_step(*, enrollment: Enrollment, step: SequenceStep, due_at: datetime) -> OutboundMessage:
    """Render ``step`` for ``enrollment`` and store it as a queued message due at ``due_at``.

    Raises TemplateRenderError (with every error), HeaderInjectionError (a header value with
    a line break, e.g. in the contact's name) or StepNotReady. Nothing is stored then.
    """
    version = current_version(step)
    context = render_context_for(enrollment, version)
    rendered = render_email({"subject": version.subject, "text": version.text, "html": version.html}, context)
    previous, first_subject = _thread_so_far(enrollment, step.position)
    mailbox, contact = enrollment.mailbox, enrollment.contact
    message = OutboundMessage(
        mailbox=mailbox, enrollment=enrollment, step=step, step_position=step.position, template_version=version,
        prospect_id=enrollment.prospect_id, contact=contact, from_address=mailbox.email,
        from_name=mailbox.from_name, to_address=contact.email, to_name=contact.name,
        subject=reply_subject(first_subject) if previous else rendered.subject, text=rendered.text,
        html=rendered.html or "", message_id=thread_message_id(enrollment.thread_token, mailbox.message_id_domain),
        in_reply_to=previous[-1] if previous else "", references=" ".join(previous),
        unsubscribe_url=context["unsubscribe_url"], status=OutboxStatus.QUEUED, due_at=due_at,
    )
    mime_of(message, date=timezone.now())  # every header checked before the row exists
    message.save()
    OutboundTransition.objects.create(message=message, from_status="", to_status=OutboxStatus.QUEUED,
                                      detail=f"step {step.position} queued")
    return message


def mime_of(message: OutboundMessage, *, date: datetime) -> object:
    """The MIME message for a stored row (every header value checked for CR/LF)."""
    mime = build_message(
        MessageSpec(
            sender=HeaderAddress(message.from_address, message.from_name),
            recipient=HeaderAddress(message.to_address, message.to_name),
            subject=message.subject, text=message.text, html=message.html or None,
            message_id=message.message_id, date=date,
            previous_message_ids=message.references.split(), unsubscribe_url=message.unsubscribe_url or None,
        )
    )
    token = message.message_id[1:].split(".", 1)[0] if message.enrollment_id else ""
    if token:
        mime[THREAD_HEADER] = check_header_value(THREAD_HEADER, token)
    return mime


def render_errors(enrollment_like: Enrollment, steps: list[SequenceStep]) -> list[str]:
    """Why any step would not render for this (possibly unsaved) enrollment; empty when all do."""
    problems: list[str] = []
    for step in steps:
        try:
            version = current_version(step)
            render_email({"subject": version.subject, "text": version.text, "html": version.html},
                         render_context_for(enrollment_like, version))
        except StepNotReady as exc:
            problems.append(f"step {step.position}: {exc}")
        except TemplateRenderError as exc:
            problems.append(f"step {step.position} ('{step.template.name}'): {_joined(exc.errors)}")
    return problems


def _joined(errors: list[TemplateError]) -> str:
    return "; ".join(str(error) for error in errors)
