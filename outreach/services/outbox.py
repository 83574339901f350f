"""The outbox: claim due messages, send them over one SMTP connection, record what happened.

The promise is "never sent twice, never lost" (DESIGN.md §4.3):

* A claim is one short transaction: the mailbox row is locked (so two workers agree on its
  cap and gap), its due rows are taken with ``SELECT … FOR UPDATE SKIP LOCKED`` and marked
  ``sending``. Caps, the sending window (in the mailbox's time zone) and the gap between
  sends are enforced here, at claim time, against the clock passed in.
* SMTP runs with no transaction open. Each message's outcome is classified by
  :mod:`outreach.smtp`; results are written back in bulk (sent) or one by one (the rare
  retries and failures), each as a guarded transition that only moves rows still ``sending``.
* A row stuck in ``sending`` (the worker died) or broken off after DATA is ``unknown``, and
  :mod:`outreach.services.reconcile` settles it against the Sent folder; it is never resent
  blindly.
"""

from __future__ import annotations

import logging
import os
import random
import smtplib
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from email import policy
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from outreach.choices import CLAIMABLE, EnrollmentStatus, MailboxStatus, OutboxStatus, StopReason
from outreach.connections import MailboxAuthError, MailboxConnectError, smtp_connect
from outreach.models import Mailbox, OutboundMessage
from outreach.services import automation
from outreach.services.enqueue import mime_of
from outreach.services.reconcile import sent_folder_append
from outreach.services.sequencing import enrollment_steps_sent
from outreach.services.transitions import enrollment_stop, mailbox_pause, outbound_transition, outbound_transitions
from outreach.smtp import Outcome, SendResult, close_quietly, send_raw
from prospects.models import Suppression
from prospects.services.suppression import suppression_match

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = timedelta(hours=24)
SMTP_POLICY = policy.SMTP


@dataclass
class BatchResult:
    """What one batch did, by message id; ``paused`` names a pause this batch caused."""

    sent: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    paused: str = ""

    @property
    def claimed(self) -> int:
        return sum(len(ids) for ids in (self.sent, self.retry, self.failed, self.unknown, self.cancelled,
                                        self.requeued))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]


def retry_delay(attempts: int) -> timedelta:
    """1 min, 4 min, 16 min, ~1 h, ~4 h, ~17 h, then 24 h: quick for a blip, daily for a long outage."""
    return min(timedelta(minutes=4 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


# --- claim ---------------------------------------------------------------------------------


def in_window(mailbox: Mailbox, now: datetime) -> bool:
    """Is ``now`` inside the mailbox's sending days and hours, in its own time zone?"""
    local = now.astimezone(ZoneInfo(mailbox.timezone))
    if local.weekday() not in (mailbox.window_days or []):
        return False
    start, end, clock = mailbox.window_start, mailbox.window_end, local.time()
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end  # a window across midnight, e.g. 22:00–06:00


def sent_today(mailbox: Mailbox, now: datetime) -> int:
    """Messages that left (or may have left) since midnight in the mailbox's time zone."""
    zone = ZoneInfo(mailbox.timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), clock_time(0), tzinfo=zone)
    in_flight = (OutboxStatus.SENDING, OutboxStatus.UNKNOWN)
    return OutboundMessage.objects.filter(mailbox=mailbox).filter(
        Q(status=OutboxStatus.SENT, sent_at__gte=midnight) | Q(status__in=in_flight, claimed_at__gte=midnight)
    ).count()


def claim_quota(mailbox: Mailbox, now: datetime, limit: int) -> int:
    """How many messages may be claimed now: 0 outside the window, during the gap, or at the cap."""
    if mailbox.status != MailboxStatus.ACTIVE or not in_window(mailbox, now):
        return 0
    if mailbox.next_send_at is not None and mailbox.next_send_at > now:
        return 0
    quota = min(limit, mailbox.daily_cap - sent_today(mailbox, now))
    # With a gap, one message per claim; the gap then starts from this claim.
    return min(quota, 1) if mailbox.min_gap_seconds or mailbox.gap_jitter_seconds else quota


def outbox_claim(*, mailbox_id: int, now: datetime, limit: int, worker: str) -> list[OutboundMessage]:
    """Take up to ``limit`` due messages of one mailbox for sending (status ``sending``); short transaction."""
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().filter(pk=mailbox_id).first()
        quota = claim_quota(mailbox, now, limit) if mailbox else 0
        if quota <= 0:
            return []
        rows = list(
            OutboundMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(mailbox_id=mailbox_id, status__in=CLAIMABLE, due_at__lte=now)
            .filter(Q(enrollment__isnull=True) | Q(enrollment__status=EnrollmentStatus.ACTIVE))
            .annotate(project_id=F("prospect__project_id"), prospect_domain=F("prospect__domain"))
            .order_by("due_at", "id")[:quota]
        )
        moved = set(outbound_transitions(
            message_ids=[row.pk for row in rows], from_statuses=CLAIMABLE, to_status=OutboxStatus.SENDING,
            detail=f"claimed by {worker}", claimed_at=now, claimed_by=worker,
        ))  # fmt: skip
        rows = [row for row in rows if row.pk in moved]
        if not rows:
            return []
        _start_gap(mailbox, now)
    for row in rows:
        row.status, row.claimed_at, row.claimed_by = OutboxStatus.SENDING, now, worker
    return rows


def _start_gap(mailbox: Mailbox, now: datetime) -> None:
    if mailbox.min_gap_seconds or mailbox.gap_jitter_seconds:
        wait = mailbox.min_gap_seconds + random.uniform(0, mailbox.gap_jitter_seconds)  # noqa: S311 - pacing
        Mailbox.objects.filter(pk=mailbox.pk).update(next_send_at=now + timedelta(seconds=wait))


# --- send ----------------------------------------------------------------------------------


def outbox_send_batch(*, mailbox_id: int, now: datetime | None = None, limit: int | None = None) -> BatchResult:
    """Claim, send over one connection and record one batch of a mailbox's due messages."""
    now = now or timezone.now()
    result = BatchResult()
    rows = outbox_claim(mailbox_id=mailbox_id, now=now, limit=limit or settings.LINKCRM_OUTREACH_SEND_BATCH,
                        worker=worker_name())
    if not rows:
        return result
    rows = _drop_suppressed(rows, now, result)
    if rows:
        _deliver(Mailbox.objects.get(pk=mailbox_id), rows, now, result)
    return result


def outbox_send_mailbox(*, mailbox_id: int, now: datetime | None = None, max_batches: int = 1000) -> BatchResult:
    """Send batches until the mailbox has nothing due (or may send no more now); totals."""
    total = BatchResult()
    for _ in range(max_batches):
        batch = outbox_send_batch(mailbox_id=mailbox_id, now=now)
        for name in ("sent", "retry", "failed", "unknown", "cancelled", "requeued"):
            getattr(total, name).extend(getattr(batch, name))
        total.paused = total.paused or batch.paused
        if not batch.claimed or batch.paused or batch.requeued:
            break
    return total


def _drop_suppressed(rows: list[OutboundMessage], now: datetime, result: BatchResult) -> list[OutboundMessage]:
    """Withdraw messages whose address (or prospect's domain) went on do-not-contact after queueing."""
    names = {row.pk: _names(row) for row in rows}
    # One query decides for nearly every row; only rows that might match ask the exact rule.
    listed = set(Suppression.objects.filter(value__in=set().union(*names.values())).values_list("value", flat=True))
    kept = []
    for row in rows:
        entry = None
        if listed & names[row.pk]:
            entry = suppression_match(project=row.project_id, email=row.to_address, domain=row.prospect_domain)
        if entry is None:
            kept.append(row)
            continue
        outbound_transition(message_id=row.pk, from_statuses=[OutboxStatus.SENDING], to_status=OutboxStatus.CANCELLED,
                            detail=f"{row.to_address} is on do-not-contact ({entry.value})")
        if row.enrollment_id:
            enrollment_stop(enrollment_id=row.enrollment_id, reason=StopReason.SUPPRESSED, at=now)
        result.cancelled.append(row.pk)
    return kept


def _names(row: OutboundMessage) -> set[str]:
    """Every value a suppression of this row could be stored as: the address, its host, their parents."""
    hosts = {row.to_address.rpartition("@")[2].lower()} | ({row.prospect_domain} if row.prospect_domain else set())
    return {row.to_address.lower()} | hosts | _parents(hosts)


def _parents(hosts: set[str]) -> set[str]:
    """Every parent name of each host (mail.example.co.uk → example.co.uk, co.uk): covers its registrable domain."""
    parents = set()
    for host in hosts:
        labels = host.split(".")
        parents.update(".".join(labels[i:]) for i in range(1, len(labels) - 1))
    return parents


class _Prepared:
    """The wire bytes of each row, built one ahead: the next message is built while the server
    delivers the current one (between the data and its reply), so building costs no wall time."""

    def __init__(self, rows: list[OutboundMessage], now: datetime) -> None:
        self.rows, self.now = rows, now
        self.ready: dict[int, bytes | ValueError] = {}

    def prepare(self, index: int) -> None:
        if index < len(self.rows) and index not in self.ready:
            try:
                self.ready[index] = mime_of(self.rows[index], date=self.now).as_bytes(policy=SMTP_POLICY)
            except ValueError as exc:  # HeaderInjectionError and bad addresses: this row can never go
                self.ready[index] = exc

    def take(self, index: int) -> bytes | ValueError:
        self.prepare(index)
        return self.ready.pop(index)


def _deliver(mailbox: Mailbox, rows: list[OutboundMessage], now: datetime, result: BatchResult) -> None:
    """Send ``rows`` over one connection (reconnecting once if it drops), then record the outcomes."""
    outcomes: list[tuple[OutboundMessage, SendResult, bytes]] = []
    prepared = _Prepared(rows, now)
    client: smtplib.SMTP | None = None
    connections = 0
    # Stop well before the stale sweep would call these rows "unknown" while we still hold them.
    deadline = time.monotonic() + settings.LINKCRM_OUTREACH_STALE_MINUTES * 30
    try:
        for index, row in enumerate(rows):
            if time.monotonic() > deadline:
                _give_back(rows[index:], "batch ran out of time; not attempted", result)
                break
            raw = prepared.take(index)
            if isinstance(raw, ValueError):
                outcomes.append((row, SendResult(Outcome.FAILED, None, f"cannot be built: {raw}"), b""))
                continue
            if client is None:
                if connections == 2:  # the first connection and one reconnect
                    _give_back(rows[index:], "connection lost; not attempted", result)
                    break
                connections += 1
                client = _connect(mailbox, rows[index:], now, result)
                if client is None:
                    break
            sent = send_raw(client, sender=mailbox.email, recipient=row.to_address, raw=raw,
                            meanwhile=lambda following=index + 1: prepared.prepare(following))
            outcomes.append((row, sent, raw))
            if sent.connection_lost:
                client.close()
                client = None
    finally:
        if client is not None:
            close_quietly(client)
        record_outcomes(mailbox, outcomes, now, result)


def _connect(mailbox: Mailbox, rows: list[OutboundMessage], now: datetime, result: BatchResult) -> smtplib.SMTP | None:
    """A logged-in connection, or None with ``rows`` handled: auth failure pauses, other failures retry."""
    try:
        return smtp_connect(mailbox)
    except MailboxAuthError as exc:
        reason = f"SMTP login refused: {exc}"
        if mailbox_pause(mailbox_id=mailbox.pk, reason=reason):
            transaction.on_commit(lambda: _tell_owner(mailbox.pk, reason))
        result.paused = reason
        _give_back(rows, reason, result)
    except MailboxConnectError as exc:
        for row in rows:
            _retry_or_fail(row, SendResult(Outcome.RETRY, None, str(exc)), now, result)
    return None


def _give_back(rows: list[OutboundMessage], reason: str, result: BatchResult) -> None:
    """Back to ``queued`` untouched (no attempt counted): nothing was sent. One statement for all rows."""
    result.requeued.extend(outbound_transitions(
        message_ids=[row.pk for row in rows], from_statuses=[OutboxStatus.SENDING], to_status=OutboxStatus.QUEUED,
        detail=reason, claimed_at=None, claimed_by="",
    ))  # fmt: skip


def _tell_owner(mailbox_id: int, reason: str) -> None:
    mailbox = Mailbox.objects.select_related("owner").get(pk=mailbox_id)
    if not mailbox.owner.email:
        return
    body = (f"Your mailbox {mailbox.email} was paused: {reason}.\n\nIts messages stay queued. Update the "
            "password in LinkCRM (Outreach → Mailboxes) and resume the mailbox to send them.\n")
    try:
        send_mail(f"Mailbox paused: {mailbox.email}", body, None, [mailbox.owner.email])
    except OSError:
        log.exception("could not tell the owner of mailbox %s that it was paused", mailbox_id)


# --- record --------------------------------------------------------------------------------


def record_outcomes(
    mailbox: Mailbox, outcomes: list[tuple[OutboundMessage, SendResult, bytes]], now: datetime, result: BatchResult
) -> None:
    """Write back every outcome: sent in bulk, the rest one guarded transition each."""
    sent = [(row, raw) for row, outcome, raw in outcomes if outcome.outcome == Outcome.SENT]
    _record_sent(mailbox, [row for row, _ in sent], now, result)
    for row, outcome, _ in outcomes:
        if outcome.outcome == Outcome.RETRY:
            _retry_or_fail(row, outcome, now, result)
        elif outcome.outcome == Outcome.FAILED:
            _fail(row, outcome, now, result)
        elif outcome.outcome == Outcome.UNKNOWN:
            _in_doubt(row, outcome, result)
    if sent and not mailbox.server_saves_sent:
        sent_folder_append(mailbox, [raw for _, raw in sent])


def _in_doubt(row: OutboundMessage, outcome: SendResult, result: BatchResult) -> None:
    """The server may have it: ``unknown`` until the Sent folder says (never resent blindly)."""
    if outbound_transition(message_id=row.pk, from_statuses=[OutboxStatus.SENDING], to_status=OutboxStatus.UNKNOWN,
                           detail=outcome.detail, attempts=F("attempts") + 1, last_error=outcome.detail[:1000]):
        result.unknown.append(row.pk)


def _record_sent(mailbox: Mailbox, rows: list[OutboundMessage], now: datetime, result: BatchResult) -> None:
    """One UPDATE and one INSERT for the whole batch; then each enrollment learns its step left."""
    if not rows:
        return
    ids = outbound_transitions(
        message_ids=[row.pk for row in rows], from_statuses=[OutboxStatus.SENDING], to_status=OutboxStatus.SENT,
        detail=f"250 via {mailbox.smtp_host}", sent_at=now, smtp_code=250, attempts=F("attempts") + 1, last_error="",
    )
    result.sent.extend(ids)
    moved = set(ids)
    enrollment_steps_sent(messages=[row for row in rows if row.pk in moved], sent_at=now)


def _retry_or_fail(row: OutboundMessage, outcome: SendResult, now: datetime, result: BatchResult) -> None:
    """A transient failure: retry after a backoff capped at 24 h, or fail after too many attempts."""
    attempts = row.attempts + 1
    if attempts >= settings.LINKCRM_OUTREACH_MAX_ATTEMPTS:
        _fail(row, SendResult(Outcome.FAILED, outcome.code, f"gave up after {attempts} attempts: {outcome.detail}"),
              now, result)
        return
    if outbound_transition(message_id=row.pk, from_statuses=[OutboxStatus.SENDING], to_status=OutboxStatus.RETRY,
                           detail=outcome.detail, attempts=attempts, due_at=now + retry_delay(attempts),
                           smtp_code=outcome.code, last_error=outcome.detail[:1000]):
        result.retry.append(row.pk)


def _fail(row: OutboundMessage, outcome: SendResult, now: datetime, result: BatchResult) -> None:
    """A permanent failure; a refused recipient is a hard bounce (contact, enrollment, prospect)."""
    if not outbound_transition(message_id=row.pk, from_statuses=[OutboxStatus.SENDING],
                               to_status=OutboxStatus.FAILED, detail=outcome.detail, attempts=F("attempts") + 1,
                               smtp_code=outcome.code, last_error=outcome.detail[:1000]):
        return
    result.failed.append(row.pk)
    enrollment = row.enrollment if row.enrollment_id else None
    if outcome.recipient_refused:
        automation.on_hard_bounce(enrollment=enrollment, address=row.to_address, detail=outcome.detail[:120], at=now)
    elif enrollment is not None:
        enrollment_stop(enrollment_id=enrollment.pk, reason=StopReason.ERROR, at=now)
