"""Writes for mailboxes: create, update (passwords write-only), test the connection, pause/resume.

Passwords arrive as plain strings from a form or the API and go straight into the
model's ``set_*_password`` (encrypted at rest); an empty string on update means "keep the
stored one", so a password is never sent back to the browser to be re-submitted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from outreach.connections import MailboxAuthError, MailboxConnectError, imap_connect, smtp_connect
from outreach.models import Mailbox
from outreach.selectors import PAUSED_BY_PERSON
from outreach.services.transitions import mailbox_pause, mailbox_resume

# Fields a person may set through a form or the API (passwords and status are separate).
EDITABLE_FIELDS = (
    "name", "from_name", "email", "signature",
    "smtp_host", "smtp_port", "smtp_security", "smtp_username",
    "imap_host", "imap_port", "imap_ssl", "imap_username", "watch_folders", "sent_folder", "server_saves_sent",
    "daily_cap", "min_gap_seconds", "gap_jitter_seconds", "window_days", "window_start", "window_end", "timezone",
)  # fmt: skip
MAX_DAILY_CAP = 10_000
TEST_TIMEOUT = 15.0


class MailboxError(Exception):
    """A mailbox value is not acceptable; ``field`` names it (for the form or the API)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class ConnectionReport:
    """What "test connection" found, SMTP and IMAP separately (never a password in a message)."""

    smtp_ok: bool = False
    smtp_message: str = ""
    imap_ok: bool | None = None  # None: no IMAP server configured
    imap_message: str = ""
    folders: list[str] = field(default_factory=list)
    auth_failed: bool = False
    # What the folder list says is wrong with the mailbox's settings (see _folder_warnings).
    warnings: list[str] = field(default_factory=list)


def validate_timezone(name: str) -> str:
    """The IANA zone name if zoneinfo knows it, else :class:`MailboxError` on ``timezone``."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise MailboxError("timezone", f"'{name}' is not a known time zone (e.g. Europe/Berlin, UTC).") from None
    return name


def mailbox_validate(values: Mapping[str, Any]) -> None:
    """Cross-field and range checks the model cannot express on its own."""
    validate_timezone(str(values.get("timezone") or ""))
    days = values.get("window_days") or []
    if not days or any(not isinstance(day, int) or not 0 <= day <= 6 for day in days):
        raise MailboxError("window_days", "Choose at least one sending day (0=Monday … 6=Sunday).")
    start, end = values.get("window_start"), values.get("window_end")
    if isinstance(start, dt.time) and isinstance(end, dt.time) and start >= end:
        raise MailboxError("window_end", "The sending window must end after it starts.")
    if not 1 <= int(values.get("daily_cap") or 0) <= MAX_DAILY_CAP:
        raise MailboxError("daily_cap", f"The daily cap must be between 1 and {MAX_DAILY_CAP}.")
    folders = values.get("watch_folders") or []
    if any(not isinstance(name, str) or not name.strip() or "\n" in name for name in folders):
        raise MailboxError("watch_folders", "Folder names must be non-empty single lines.")


def _apply(mailbox: Mailbox, values: Mapping[str, Any], smtp_password: str | None, imap_password: str | None) -> None:
    for name in EDITABLE_FIELDS:
        if name in values:
            setattr(mailbox, name, values[name])
    mailbox.email = mailbox.email.strip().lower()
    if smtp_password:
        mailbox.set_smtp_password(smtp_password)
    if imap_password:
        mailbox.set_imap_password(imap_password)


def _save(mailbox: Mailbox) -> Mailbox:
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError:
        raise MailboxError("email", f"A mailbox for {mailbox.email} already exists.") from None
    return mailbox


def mailbox_create(
    *, owner: AbstractBaseUser, values: Mapping[str, Any], smtp_password: str, imap_password: str = ""
) -> Mailbox:
    """A new active mailbox owned by ``owner``; IMAP password defaults to the SMTP one when blank."""
    mailbox = Mailbox(owner=owner)
    _apply(mailbox, values, smtp_password, imap_password or smtp_password)
    mailbox_validate({name: getattr(mailbox, name) for name in EDITABLE_FIELDS})
    return _save(mailbox)


def mailbox_update(
    *, mailbox: Mailbox, values: Mapping[str, Any], smtp_password: str = "", imap_password: str = ""
) -> Mailbox:
    """Change the given fields; a blank password keeps the stored one (passwords are write-only)."""
    _apply(mailbox, values, smtp_password, imap_password)
    mailbox_validate({name: getattr(mailbox, name) for name in EDITABLE_FIELDS})
    return _save(mailbox)


def mailbox_set_paused(*, mailbox: Mailbox, paused: bool, by: AbstractBaseUser) -> bool:
    """Pause or resume by a person's choice; True if the status changed."""
    if paused:
        return mailbox_pause(mailbox_id=mailbox.pk, reason=f"{PAUSED_BY_PERSON}{by.get_username()}")
    return mailbox_resume(mailbox_id=mailbox.pk)


def mailbox_test_connection(mailbox: Mailbox, *, timeout: float = TEST_TIMEOUT) -> ConnectionReport:
    """Log in over SMTP and IMAP (nothing sent, nothing selected) and list the IMAP folders.

    A test changes nothing: a refused login is reported, not turned into a paused mailbox,
    because the person is probably fixing the password right now.
    """
    report = ConnectionReport()
    try:
        client = smtp_connect(mailbox, timeout=timeout)
        client.quit()
        report.smtp_ok, report.smtp_message = True, f"Logged in to {mailbox.smtp_host}:{mailbox.smtp_port}."
    except MailboxAuthError as exc:
        report.smtp_message, report.auth_failed = str(exc), True
    except (MailboxConnectError, OSError) as exc:
        report.smtp_message = str(exc) or type(exc).__name__
    if not mailbox.imap_host:
        report.imap_message = "No IMAP server configured: replies will not be read."
        return report
    _test_imap(mailbox, report, timeout)
    return report


def _special_sent(listed: list[tuple[tuple[bytes, ...], bytes, str]]) -> list[str]:
    """The folders the server marks as its Sent folder (RFC 6154 ``\\Sent`` attribute)."""
    return [str(name) for flags, _delim, name in listed if any(f.lower() == b"\\sent" for f in flags)]


def _folder_warnings(mailbox: Mailbox, folders: list[str], special_sent: list[str]) -> list[str]:
    """What the server's folders say is wrong with the mailbox's folder settings.

    A watched folder that does not exist is never read. The Sent folder is where a message
    in doubt is looked for (and where copies are filed when the server does not file them):
    if it does not exist, such a message can never be confirmed. When the server names its
    own Sent folder and it is another one, the setting is probably wrong.
    """
    warnings = [
        f"Watched folder “{name}” is not on the server: its mail will not be read."
        for name in mailbox.watch_folders or ["INBOX"]
        if name not in folders and name.upper() != "INBOX"
    ]
    sent = mailbox.sent_folder
    if sent and sent not in folders:
        warnings.append(
            f"Sent folder “{sent}” is not on the server: a message whose delivery is in doubt cannot be "
            "confirmed there (it is marked failed, never resent)"
            + ("." if mailbox.server_saves_sent else ", and copies of sent mail cannot be filed there.")
        )
    elif sent and special_sent and sent not in special_sent:
        warnings.append(f"The server marks “{special_sent[0]}” as its Sent folder, not “{sent}”.")
    return warnings


def _test_imap(mailbox: Mailbox, report: ConnectionReport, timeout: float) -> None:
    try:
        client = imap_connect(mailbox, timeout=timeout)
    except MailboxAuthError as exc:
        report.imap_ok, report.imap_message, report.auth_failed = False, str(exc), True
        return
    except (MailboxConnectError, OSError) as exc:
        report.imap_ok, report.imap_message = False, str(exc) or type(exc).__name__
        return
    try:
        listed = client.list_folders()
        report.folders = sorted(str(name) for _flags, _delim, name in listed)
        report.imap_ok = True
        report.imap_message = f"Logged in to {mailbox.imap_host}:{mailbox.imap_port}."
        report.warnings = _folder_warnings(mailbox, report.folders, _special_sent(listed))
    except Exception as exc:  # noqa: BLE001 (a test reports every failure; it never raises)
        report.imap_ok, report.imap_message = False, f"Listing folders failed: {type(exc).__name__}"
    finally:
        with contextlib.suppress(Exception):  # already reported, or irrelevant after the test
            client.logout()
