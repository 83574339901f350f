"""Outbound message headers: injection-proof values, Message-IDs, threading, one-click unsubscribe.

Python 3.11.7 predates the fix for e-mail header injection (CVE-2024-6923), so the
standard library will happily fold a CR/LF from a value into a new header. Every value
that goes into a header passes :func:`check_header_value` first, and :func:`build_message`
is the only place outbound messages are assembled.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from django.core import signing

# CR, LF and every other C0 control (tab too: no value we write needs one), DEL, NEL and the
# Unicode line/paragraph separators that some clients treat as line breaks.
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|fw|fwd)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)

UNSUBSCRIBE_SALT = "linkcrm.outreach.unsubscribe"


class HeaderInjectionError(ValueError):
    """A header value holds a line break or another control character."""

    def __init__(self, name: str, position: int, char: str) -> None:
        super().__init__(
            f"header {name!r}: control character {char!r} at position {position} is not allowed "
            "(line breaks in a header value could inject new headers)"
        )
        self.header = name


def check_header_value(name: str, value: str) -> str:
    """Return ``value`` unchanged, or raise :class:`HeaderInjectionError` naming the header."""
    match = _FORBIDDEN.search(value)
    if match:
        raise HeaderInjectionError(name, match.start(), match.group())
    return value


def make_message_id(domain: str) -> str:
    """``<random@domain>``: 128 random bits, nothing about the sender or the recipient."""
    if not _DOMAIN.match(domain):
        raise ValueError(f"not a valid domain for a Message-ID: {domain!r}")
    return f"<{secrets.token_hex(16)}@{domain.lower()}>"


def thread_headers(previous_message_ids: Sequence[str]) -> dict[str, str]:
    """In-Reply-To (the last message) and References (the whole chain, oldest first).

    An empty chain gives no headers: the first message of a thread starts it.
    """
    ids = [check_header_value("References", message_id.strip()) for message_id in previous_message_ids]
    ids = [message_id for message_id in ids if message_id]
    if not ids:
        return {}
    return {"In-Reply-To": ids[-1], "References": " ".join(ids)}


def reply_subject(subject: str) -> str:
    """``"Re: "`` exactly once: ``"Re: RE: Fwd: x"`` and ``"x"`` both give ``"Re: x"``."""
    return "Re: " + _REPLY_PREFIX.sub("", subject).strip()


@dataclass(frozen=True)
class Mailbox:
    """A display name and an address, both checked before they reach a header."""

    address: str
    name: str = ""

    def as_address(self, header: str) -> Address:
        check_header_value(header, self.name)
        check_header_value(header, self.address)
        username, _, domain = self.address.rpartition("@")
        if not username or not domain:
            raise ValueError(f"header {header!r}: not an e-mail address: {self.address!r}")
        return Address(display_name=self.name, username=username, domain=domain)


@dataclass(frozen=True)
class OutboundMessage:
    sender: Mailbox
    recipient: Mailbox
    subject: str
    text: str
    message_id: str
    date: datetime
    html: str | None = None
    previous_message_ids: Sequence[str] = ()
    unsubscribe_url: str | None = None


def build_message(message: OutboundMessage) -> EmailMessage:
    """The MIME message to send, with every header value checked.

    Text body, plus an HTML alternative when there is one. With an unsubscribe URL the
    message carries ``List-Unsubscribe`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
    (RFC 8058): the URL must be HTTPS and must unsubscribe on POST without a login.
    """
    if message.date.tzinfo is None:
        raise ValueError("the Date header needs a timezone-aware datetime")
    mime = EmailMessage()
    mime["From"] = message.sender.as_address("From")
    mime["To"] = message.recipient.as_address("To")
    headers = {
        "Subject": message.subject,
        "Date": format_datetime(message.date),
        "Message-ID": message.message_id,
        **thread_headers(message.previous_message_ids),
    }
    if message.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in headers.items():
        mime[name] = check_header_value(name, value)
    mime.set_content(message.text)
    if message.html:
        mime.add_alternative(message.html, subtype="html")
    return mime


def sign_unsubscribe(contact_id: int, project_id: int) -> str:
    """A URL-safe token for the one-click unsubscribe link of one contact in one project.

    Signed with SECRET_KEY and a dedicated salt, without expiry: an unsubscribe link in an
    old email must keep working (RFC 8058 and the law expect it to). Rotating SECRET_KEY
    invalidates old links; list the old key in SECRET_KEY_FALLBACKS while they age out.
    """
    return signing.dumps([int(contact_id), int(project_id)], salt=UNSUBSCRIBE_SALT, compress=False)


def verify_unsubscribe(token: str) -> tuple[int, int]:
    """``(contact_id, project_id)`` from a token; :class:`django.core.signing.BadSignature` if tampered."""
    value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not (isinstance(value, list) and len(value) == 2 and all(type(item) is int for item in value)):
        raise signing.BadSignature("unsubscribe token has an unexpected payload")
    return value[0], value[1]
