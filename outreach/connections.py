"""Opening SMTP and IMAP connections for a Mailbox: the one place that knows ports, TLS and logins.

Failures are sorted into two kinds, because they call for different reactions
(DESIGN.md §4.8): :class:`MailboxAuthError` (the server refused the credentials, so retrying
is pointless: pause the mailbox, tell its owner, leave the messages queued) and
:class:`MailboxConnectError` (network, TLS, timeouts: try again later). Passwords are
decrypted here and never put into an exception message.
"""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import socket
import ssl

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from outreach.choices import SmtpSecurity
from outreach.models import Mailbox

DEFAULT_TIMEOUT = 30.0


class MailboxConnectError(Exception):
    """The server could not be reached or spoke an unexpected protocol (transient)."""


class MailboxAuthError(Exception):
    """The server refused the username or password (pause the mailbox; do not retry)."""


def smtp_connect(mailbox: Mailbox, *, timeout: float = DEFAULT_TIMEOUT) -> smtplib.SMTP:
    """A logged-in SMTP connection (EHLO done); the caller must ``quit()`` or ``close()`` it."""
    context = ssl.create_default_context()
    try:
        if mailbox.smtp_security == SmtpSecurity.SSL:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                mailbox.smtp_host, mailbox.smtp_port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(mailbox.smtp_host, mailbox.smtp_port, timeout=timeout)
        client.ehlo()
        if mailbox.smtp_security == SmtpSecurity.STARTTLS:
            client.starttls(context=context)
            client.ehlo()
    except (OSError, smtplib.SMTPException) as exc:
        raise MailboxConnectError(f"SMTP {mailbox.smtp_host}:{mailbox.smtp_port}: {_describe(exc)}") from None
    if mailbox.smtp_username:
        _smtp_login(client, mailbox)
    return client


def _smtp_login(client: smtplib.SMTP, mailbox: Mailbox) -> None:
    try:
        client.login(mailbox.smtp_username, mailbox.get_smtp_password())
    except smtplib.SMTPAuthenticationError as exc:
        client.close()
        raise MailboxAuthError(f"SMTP login refused for {mailbox.smtp_username}: {exc.smtp_code}") from None
    except (OSError, smtplib.SMTPException) as exc:
        client.close()
        raise MailboxConnectError(f"SMTP login to {mailbox.smtp_host}: {_describe(exc)}") from None


def imap_connect(mailbox: Mailbox, *, timeout: float = DEFAULT_TIMEOUT) -> IMAPClient:
    """A logged-in IMAPClient; the caller must ``logout()`` it. Nothing is selected yet."""
    if not mailbox.imap_host:
        raise MailboxConnectError(f"mailbox {mailbox.email} has no IMAP server configured")
    try:
        client = IMAPClient(
            mailbox.imap_host,
            port=mailbox.imap_port,
            ssl=mailbox.imap_ssl,
            ssl_context=ssl.create_default_context() if mailbox.imap_ssl else None,
            timeout=timeout,
        )
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxConnectError(f"IMAP {mailbox.imap_host}:{mailbox.imap_port}: {_describe(exc)}") from None
    try:
        client.login(mailbox.imap_username or mailbox.email, mailbox.get_imap_password())
    except LoginError:
        _quietly_close(client)
        raise MailboxAuthError(f"IMAP login refused for {mailbox.imap_username or mailbox.email}") from None
    except (OSError, imaplib.IMAP4.error) as exc:
        _quietly_close(client)
        raise MailboxConnectError(f"IMAP login to {mailbox.imap_host}: {_describe(exc)}") from None
    return client


def _quietly_close(client: IMAPClient) -> None:
    with contextlib.suppress(OSError):
        client.shutdown()


def _describe(exc: BaseException) -> str:
    """A short reason without secrets: exception class plus its first line."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first}"[:300]
