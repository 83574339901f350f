"""Builders for the reply-sync tests: a thread we "sent", mail appended over IMAP, folder flags.

Our messages are created as rows directly (status sent), the way the sender leaves them;
inbound mail is APPENDed to the sandbox mailbox with imapclient, as a server would file it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from imapclient import IMAPClient

from linkcrm.localstack.config import StackConfig
from outreach.choices import OutboxStatus
from outreach.models import Enrollment, Mailbox, OutboundMessage, Sequence
from prospects.models import Contact, Project, Prospect
from tests.outreach.world import make_sequence, make_template, prospect_with_contact


@dataclass
class Thread:
    """One enrollment with its first message sent and its follow-up queued."""

    mailbox: Mailbox
    prospect: Prospect
    contact: Contact
    enrollment: Enrollment
    sent: OutboundMessage
    follow_up: OutboundMessage


def our_message_id(enrollment: Enrollment, mailbox: Mailbox) -> str:
    """A Message-ID the way the sender writes them: ``<{thread token}.{random}@{domain}>``."""
    return f"<{enrollment.thread_token}.{secrets.token_hex(16)}@{mailbox.message_id_domain}>"


def sequence_for_tests() -> Sequence:
    name = f"Intro {secrets.token_hex(4)}"
    return make_sequence(name, (make_template(f"{name} first"), 0), (make_template(f"{name} follow"), 3))


def start_thread(
    mailbox: Mailbox, project: Project, domain: str, *, by: AbstractBaseUser, sequence: Sequence | None = None
) -> Thread:
    """A prospect at ``domain`` enrolled from ``mailbox``: step 1 sent, step 2 queued for later."""
    prospect, contact = prospect_with_contact(project, domain, by=by)
    # The person put the prospect in To Contact well before we wrote (IMAP dates are whole
    # seconds: a move in the same second as the reply would otherwise count as later).
    Prospect.objects.filter(pk=prospect.pk).update(person_moved_at=timezone.now() - dt.timedelta(hours=1))
    enrollment = Enrollment.objects.create(
        sequence=sequence or sequence_for_tests(), prospect=prospect, contact=contact, mailbox=mailbox,
        domain=prospect.domain, current_step=1,
    )  # fmt: skip
    now = timezone.now()
    sent = _outbound(enrollment, 1, OutboxStatus.SENT, due_at=now, sent_at=now)
    follow_up = _outbound(
        enrollment, 2, OutboxStatus.QUEUED, due_at=now + dt.timedelta(days=3),
        in_reply_to=sent.message_id, references=sent.message_id,
    )  # fmt: skip
    return Thread(mailbox, prospect, contact, enrollment, sent, follow_up)


def _outbound(enrollment: Enrollment, position: int, status: str, **fields: object) -> OutboundMessage:
    mailbox = enrollment.mailbox
    return OutboundMessage.objects.create(
        mailbox=mailbox, enrollment=enrollment, step_position=position, prospect=enrollment.prospect,
        contact=enrollment.contact, from_address=mailbox.email, from_name=mailbox.from_name,
        to_address=enrollment.contact.email, subject="A link for your readers", text="Hi,\n\nA link?\n",
        message_id=our_message_id(enrollment, mailbox), status=status, **fields,
    )  # fmt: skip


def reply_to(message: OutboundMessage, text: str = "Sounds good, send me the details.\n", **headers: str) -> bytes:
    """A person's answer to ``message``, from its recipient, threaded with In-Reply-To/References."""
    reply = EmailMessage()
    reply["From"] = headers.pop("From", f"Jane Doe <{message.to_address}>")
    reply["To"] = message.from_address
    reply["Subject"] = headers.pop("Subject", "Re: " + message.subject)
    reply["Date"] = format_datetime(timezone.now())
    reply["Message-ID"] = f"<{secrets.token_hex(12)}@{message.to_address.rpartition('@')[2]}>"
    if headers.pop("threaded", "yes") == "yes":
        reply["In-Reply-To"] = message.message_id
        reply["References"] = message.message_id
    for name, value in headers.items():
        reply[name.replace("_", "-")] = value
    reply.set_content(text)
    return bytes(reply)


@contextmanager
def imap_session(stack: StackConfig, address: str) -> Iterator[IMAPClient]:
    """A logged-in IMAP session on the sandbox as ``address``."""
    client = IMAPClient("127.0.0.1", port=stack.imap_port, ssl=False, timeout=10)
    try:
        client.login(address, stack.sandbox_password)
        yield client
    finally:
        client.logout()


def append(
    stack: StackConfig, address: str, *raws: bytes, folder: str = "INBOX", arrived: dt.datetime | None = None
) -> None:
    """File ``raws`` into ``folder`` of the sandbox mailbox ``address`` (no flags: unread).

    ``arrived`` sets the server's INTERNALDATE (default: now), as for mail that came long ago.
    """
    with imap_session(stack, address) as client:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        for raw in raws:
            client.append(folder, raw, flags=(), msg_time=arrived)


def folder_flags(stack: StackConfig, address: str, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
    """Every message's flags, read without changing them."""
    with imap_session(stack, address) as client:
        client.select_folder(folder, readonly=True)
        return {uid: data[b"FLAGS"] for uid, data in client.fetch(client.search(["ALL"]), ["FLAGS"]).items()}
