"""DEBUG only: deliver a reply from a prospect's contact through the local mail sandbox, then sync.

This lets a person try the whole loop without a real inbox: the reply goes over real SMTP
to the sandbox (which files it in the mailbox's INBOX over LMTP), and the mailbox's normal
IMAP sync then finds, matches and classifies it like any reply. Nothing is written to the
database here directly.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from django.conf import settings

from linkcrm.localstack.config import StackConfig
from outreach.headers import check_header_value, reply_subject
from outreach.models import OutboundMessage
from outreach.selectors import last_sent_message
from outreach.services.inbox import mailbox_sync
from prospects.models import Prospect

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEFAULT_TEXT = "Thanks for reaching out! Happy to take a look at your page.\n\n-- \nSent from the LinkCRM sandbox"


class SimulationUnavailable(Exception):
    """Not in DEBUG, nothing was sent to this prospect yet, or its mailbox is not on the sandbox."""


@dataclass(frozen=True)
class SimulatedReply:
    message_id: str
    answered: OutboundMessage


def _reply_to(answered: OutboundMessage, text: str) -> EmailMessage:
    reply = EmailMessage()
    sender = answered.to_address
    reply["From"] = check_header_value("From", sender)
    reply["To"] = check_header_value("To", answered.from_address)
    reply["Subject"] = check_header_value("Subject", reply_subject(answered.subject))
    reply["Date"] = formatdate(localtime=False, usegmt=True)
    reply["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "sandbox.linkcrm.test")
    reply["In-Reply-To"] = check_header_value("In-Reply-To", answered.message_id)
    references = " ".join(part for part in (answered.references, answered.message_id) if part)
    reply["References"] = check_header_value("References", references)
    reply.set_content(text)
    return reply


def simulate_reply(*, prospect: Prospect, text: str = DEFAULT_TEXT, stack: StackConfig | None = None) -> SimulatedReply:
    """Send a reply to the last message sent to ``prospect`` through the sandbox SMTP, then sync.

    Raises :class:`SimulationUnavailable` outside DEBUG, when nothing was sent yet, or when
    the mailbox is a real one (its reply would land in the sandbox, never in that mailbox).
    """
    if not settings.DEBUG:
        raise SimulationUnavailable("simulated replies exist only in DEBUG (the local sandbox)")
    answered = last_sent_message(prospect)
    if answered is None:
        raise SimulationUnavailable("nothing has been sent to this prospect yet")
    stack = stack or StackConfig.from_env()
    mailbox = answered.mailbox
    if mailbox.smtp_host not in LOOPBACK or mailbox.smtp_port != stack.smtp_port:
        raise SimulationUnavailable(f"{mailbox.email} is not a mailbox on the local sandbox")
    reply = _reply_to(answered, text)
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=30) as client:
        client.send_message(reply, from_addr=answered.to_address, to_addrs=[answered.from_address])
    mailbox_sync(answered.mailbox_id)
    return SimulatedReply(str(reply["Message-ID"]), answered)
