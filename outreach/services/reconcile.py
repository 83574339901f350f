"""Settling messages in doubt against the mailbox's Sent folder, and filing copies there.

A message is ``unknown`` when the SMTP conversation broke after its data went out, or when
the worker holding it in ``sending`` vanished. Resending could deliver it twice, so we ask
the mailbox instead: a copy with its Message-ID in the Sent folder means it left (``sent``).
Not found, on a server that files what it sends, and long enough after the attempt for the
copy to have landed: it never left, and it goes back to ``retry``. A mailbox whose server
does not file sent mail cannot tell us, so its message fails with a note for a person
rather than risk a duplicate.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from imapclient import IMAPClient

from outreach.choices import OutboxStatus
from outreach.connections import MailboxAuthError, MailboxConnectError, imap_connect
from outreach.models import Mailbox, OutboundMessage
from outreach.services.sequencing import enrollment_step_sent
from outreach.services.transitions import mailbox_pause, outbound_transition

log = logging.getLogger(__name__)

IMAP_ERRORS = (OSError, imaplib.IMAP4.error)


@dataclass
class ReconcileResult:
    sent: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    error: str = ""


def outbox_mark_stale(*, now: datetime | None = None) -> list[int]:
    """Messages ``sending`` for longer than LINKCRM_OUTREACH_STALE_MINUTES become ``unknown``.

    Their worker died or hung mid-batch: any of them may have left, so none is resent blindly.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.LINKCRM_OUTREACH_STALE_MINUTES)
    stale = OutboundMessage.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=cutoff)
    return [
        message_id
        for message_id in stale.values_list("pk", flat=True)
        if outbound_transition(message_id=message_id, from_statuses=[OutboxStatus.SENDING],
                               to_status=OutboxStatus.UNKNOWN, detail="worker vanished while sending")
    ]


def outbox_reconcile(*, mailbox_id: int, now: datetime | None = None) -> ReconcileResult:
    """Look up every ``unknown`` message of a mailbox in its Sent folder and settle it."""
    now = now or timezone.now()
    result = ReconcileResult()
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    doubtful = list(OutboundMessage.objects.filter(mailbox=mailbox, status=OutboxStatus.UNKNOWN).order_by("id"))
    if not doubtful:
        return result
    try:
        found = _find_in_sent(mailbox, [message.message_id for message in doubtful])
    except MailboxAuthError as exc:
        mailbox_pause(mailbox_id=mailbox.pk, reason=f"IMAP login refused: {exc}")
        result.error = str(exc)
        return result
    except (MailboxConnectError, *IMAP_ERRORS) as exc:
        result.error = f"Sent folder unreadable: {exc}"[:300]
        return result
    for message in doubtful:
        _settle(mailbox, message, message.message_id in found, now, result)
    return result


def _find_in_sent(mailbox: Mailbox, message_ids: list[str]) -> set[str]:
    """Which of ``message_ids`` have a copy in the Sent folder (read-only: no flag changes)."""
    client = imap_connect(mailbox)
    try:
        client.select_folder(mailbox.sent_folder or "Sent", readonly=True)
        return {message_id for message_id in message_ids if _search(client, message_id)}
    finally:
        _logout(client)


def _logout(client: IMAPClient) -> None:
    with contextlib.suppress(*IMAP_ERRORS):
        client.logout()


def _search(client: IMAPClient, message_id: str) -> bool:
    # Servers match HEADER searches as substrings; our ids are unique, so a hit is this message.
    return bool(client.search(["HEADER", "Message-ID", message_id]))


def _settle(mailbox: Mailbox, message: OutboundMessage, in_sent: bool, now: datetime, result: ReconcileResult) -> None:
    if in_sent:
        sent_at = message.claimed_at or now
        if outbound_transition(message_id=message.pk, from_statuses=[OutboxStatus.UNKNOWN], to_status=OutboxStatus.SENT,
                               detail="found in the Sent folder", sent_at=sent_at, last_error=""):
            result.sent.append(message.pk)
            enrollment_step_sent(message=message, sent_at=sent_at)
        return
    if not mailbox.server_saves_sent:
        if outbound_transition(message_id=message.pk, from_statuses=[OutboxStatus.UNKNOWN],
                               to_status=OutboxStatus.FAILED,
                               detail="in doubt and this server does not file sent mail: not resent (check by hand)"):
            result.failed.append(message.pk)
        return
    grace = timedelta(minutes=settings.LINKCRM_OUTREACH_RECONCILE_GRACE_MINUTES)
    if message.claimed_at is not None and now - message.claimed_at < grace:
        result.waiting.append(message.pk)  # the copy may not have landed yet
        return
    if outbound_transition(message_id=message.pk, from_statuses=[OutboxStatus.UNKNOWN], to_status=OutboxStatus.RETRY,
                           detail="not in the Sent folder: it never left", due_at=now):
        result.retry.append(message.pk)


def sent_folder_append(mailbox: Mailbox, raws: list[bytes]) -> int:
    """File copies of sent messages in the Sent folder (servers that do not do it themselves).

    Best effort: the messages are sent whatever happens here; a failure is logged. Returns
    how many copies were filed.
    """
    try:
        client = imap_connect(mailbox)
    except (MailboxAuthError, MailboxConnectError) as exc:
        log.warning("mailbox %s: sent copies not filed: %s", mailbox.pk, exc)
        return 0
    filed = 0
    try:
        for raw in raws:
            client.append(mailbox.sent_folder or "Sent", raw, flags=[b"\\Seen"])
            filed += 1
    except IMAP_ERRORS as exc:
        log.warning("mailbox %s: %s of %s sent copies filed: %s", mailbox.pk, filed, len(raws), exc)
    finally:
        _logout(client)
    return filed
