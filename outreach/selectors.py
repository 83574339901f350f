"""Reads for outreach's pages and API: who sees which mailboxes, messages and threads.

Rules: an outreach user manages their own mailboxes and sees the mail of prospects in
their projects (and of their own mailboxes); managers and admins see everything, and
only admins manage other people's mailboxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import Http404

from linkcrm.choices import Role
from linkcrm.permissions import has_role
from outreach.choices import MailboxStatus
from outreach.models import EmailTemplate, Enrollment, InboundMessage, Mailbox, OutboundMessage, Sequence
from prospects.models import Prospect
from prospects.selectors.projects import project_list_for_user

# How a person's pause is worded; any other pause reason came from the system (auth failure).
PAUSED_BY_PERSON = "Paused by "


def mailboxes_managed_by(user: AbstractBaseUser) -> QuerySet[Mailbox]:
    """Mailboxes the user may edit, test, pause: their own; every one for admins."""
    mailboxes = Mailbox.objects.select_related("owner")
    return mailboxes if has_role(user, Role.ADMIN) else mailboxes.filter(owner=user)


def mailbox_get_managed(user: AbstractBaseUser, mailbox_id: int) -> Mailbox:
    """The mailbox, or 404 when it does not exist or the user may not manage it."""
    try:
        return mailboxes_managed_by(user).get(pk=mailbox_id)
    except Mailbox.DoesNotExist:
        raise Http404("No such mailbox") from None


def mailboxes_sendable_by(user: AbstractBaseUser) -> QuerySet[Mailbox]:
    """Active mailboxes the user may enroll prospects from: their own; any for managers and admins."""
    mailboxes = Mailbox.objects.filter(status=MailboxStatus.ACTIVE).select_related("owner")
    return mailboxes if has_role(user, Role.MANAGER) else mailboxes.filter(owner=user)


def mailboxes_paused_by_failure(user: AbstractBaseUser) -> QuerySet[Mailbox]:
    """The user's own mailboxes paused by the system (a refused login), not by a person: the banner."""
    return Mailbox.objects.filter(owner=user, status=MailboxStatus.PAUSED).exclude(
        paused_reason__startswith=PAUSED_BY_PERSON
    )


def templates_active() -> QuerySet[EmailTemplate]:
    return EmailTemplate.objects.filter(archived=False)


def sequences_active() -> QuerySet[Sequence]:
    return Sequence.objects.filter(archived=False).prefetch_related("steps__template")


def visible_prospects(user: AbstractBaseUser) -> QuerySet[Prospect]:
    """Prospects in projects the user may see."""
    return Prospect.objects.filter(project__in=project_list_for_user(user).values("pk"))


def _visible(user: AbstractBaseUser, rows: QuerySet) -> QuerySet:
    if has_role(user, Role.MANAGER):
        return rows
    return rows.filter(Q(prospect__in=visible_prospects(user).values("pk")) | Q(mailbox__owner=user))


def inbox_for_user(
    user: AbstractBaseUser,
    *,
    mailbox_id: int | None = None,
    project_id: int | None = None,
    kind: str = "",
    attention_only: bool = True,
) -> QuerySet[InboundMessage]:
    """Inbound messages the user may see, newest first, filtered as asked."""
    rows = _visible(user, InboundMessage.objects.select_related("mailbox", "prospect__project", "handled_by"))
    if attention_only:
        rows = rows.filter(needs_attention=True)
    if mailbox_id:
        rows = rows.filter(mailbox_id=mailbox_id)
    if project_id:
        rows = rows.filter(prospect__project_id=project_id)
    if kind:
        rows = rows.filter(kind=kind)
    return rows


def inbound_get_for_user(user: AbstractBaseUser, message_id: int) -> InboundMessage:
    try:
        return _visible(user, InboundMessage.objects.all()).get(pk=message_id)
    except InboundMessage.DoesNotExist:
        raise Http404("No such message") from None


def outbound_for_user(user: AbstractBaseUser) -> QuerySet[OutboundMessage]:
    return _visible(user, OutboundMessage.objects.select_related("mailbox", "prospect", "template_version"))


def enrollments_for_user(user: AbstractBaseUser) -> QuerySet[Enrollment]:
    rows = Enrollment.objects.select_related("sequence", "prospect", "contact", "mailbox")
    if has_role(user, Role.MANAGER):
        return rows
    return rows.filter(Q(prospect__in=visible_prospects(user).values("pk")) | Q(mailbox__owner=user))


@dataclass(frozen=True)
class ThreadItem:
    """One message in a prospect's thread view, outbound or inbound, for showing in time order."""

    at: datetime | None
    direction: str  # "out" or "in"
    message: OutboundMessage | InboundMessage


def prospect_thread(prospect: Prospect) -> list[ThreadItem]:
    """Every message to and from the prospect, oldest first (unsent ones by their due time)."""
    outbound = OutboundMessage.objects.filter(prospect=prospect)
    inbound = InboundMessage.objects.filter(prospect=prospect).select_related("matched_message")
    items = [ThreadItem(m.sent_at or m.due_at, "out", m) for m in outbound]
    items += [ThreadItem(_inbound_time(m), "in", m) for m in inbound]
    # At equal times the message sent comes before the answer to it.
    return sorted(items, key=lambda item: (item.at is None, item.at or datetime.min, item.direction == "in"))


def _inbound_time(message: InboundMessage) -> datetime:
    """When an answer arrived for ordering: its Date header, but never before what it answers.

    Date headers have whole seconds and come from the sender's clock, so a quick reply can
    look older than the message it answers.
    """
    at = message.date or message.received_at
    answered = message.matched_message
    if answered is not None and answered.sent_at is not None and answered.sent_at > at:
        return answered.sent_at
    return at


def last_sent_message(prospect: Prospect) -> OutboundMessage | None:
    """The newest message actually sent to the prospect (what a simulated reply answers)."""
    return (
        OutboundMessage.objects.filter(prospect=prospect, sent_at__isnull=False)
        .select_related("mailbox", "contact", "enrollment")
        .order_by("-sent_at", "-id")
        .first()
    )
