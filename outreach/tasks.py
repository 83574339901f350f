"""django-q2 entry points for outreach: take ids (or nothing), call one service.

One task per mailbox or per sweep, never per email (issue #5 item 7). The sweeps are
declared in linkcrm/schedules.py.
"""

from __future__ import annotations

from django.utils import timezone
from django_q.tasks import async_task

from outreach.choices import CLAIMABLE, MailboxStatus, OutboxStatus
from outreach.models import Mailbox, OutboundMessage
from outreach.services.inbox import IMAP_AUTH_PAUSE, mailbox_sync
from outreach.services.outbox import outbox_send_mailbox
from outreach.services.reconcile import outbox_mark_stale, outbox_reconcile
from outreach.services.sequencing import sequences_advance

SEND_TASK = "outreach.tasks.outbox_send_task"
RECONCILE_TASK = "outreach.tasks.outbox_reconcile_task"
SYNC_TASK = "outreach.tasks.mailbox_sync_task"


def outbox_sweep_task() -> dict[str, int]:
    """Every minute: stale ``sending`` rows become ``unknown``; one send task per mailbox with due
    mail and one reconcile task per mailbox with messages in doubt."""
    now = timezone.now()
    stale = outbox_mark_stale(now=now)
    active = OutboundMessage.objects.filter(mailbox__status=MailboxStatus.ACTIVE)
    due = set(active.filter(status__in=CLAIMABLE, due_at__lte=now).values_list("mailbox_id", flat=True).distinct())
    doubtful = set(active.filter(status=OutboxStatus.UNKNOWN).values_list("mailbox_id", flat=True).distinct())
    for mailbox_id in sorted(due):
        async_task(SEND_TASK, mailbox_id, group=f"outreach-send-{mailbox_id}")
    for mailbox_id in sorted(doubtful):
        async_task(RECONCILE_TASK, mailbox_id, group=f"outreach-reconcile-{mailbox_id}")
    return {"stale": len(stale), "send": len(due), "reconcile": len(doubtful)}


def outbox_send_task(mailbox_id: int) -> dict[str, int]:
    """Send a mailbox's due messages in batches; settle any left in doubt right away."""
    result = outbox_send_mailbox(mailbox_id=mailbox_id)
    if result.unknown:
        outbox_reconcile(mailbox_id=mailbox_id)
    return {"sent": len(result.sent), "retry": len(result.retry), "failed": len(result.failed),
            "unknown": len(result.unknown), "cancelled": len(result.cancelled)}


def outbox_reconcile_task(mailbox_id: int) -> dict[str, int]:
    """Settle a mailbox's messages in doubt against its Sent folder."""
    result = outbox_reconcile(mailbox_id=mailbox_id)
    return {"sent": len(result.sent), "retry": len(result.retry), "failed": len(result.failed)}


def sequences_advance_task() -> dict[str, int]:
    """Queue due follow-ups, lift ended pauses, stop enrollments whose prospect moved on."""
    result = sequences_advance()
    return {"resumed": len(result.resumed), "queued": len(result.queued), "stopped": len(result.stopped),
            "completed": len(result.completed)}


def mailboxes_sync_sweep_task() -> dict[str, int]:
    """Every few minutes: one reply-sync task per mailbox with IMAP configured.

    Mailboxes paused by a person are read too (a pause stops sending, not replies); those
    whose IMAP login was refused are not, until someone fixes the password and resumes them.
    """
    ids = list(
        Mailbox.objects.exclude(imap_host="")
        .exclude(status=MailboxStatus.PAUSED, paused_reason__startswith=IMAP_AUTH_PAUSE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for mailbox_id in ids:
        # One group per mailbox: the admin shows each mailbox's sync history apart.
        async_task(SYNC_TASK, mailbox_id, group=f"outreach-sync-{mailbox_id}")
    return {"sync": len(ids)}


def mailbox_sync_task(mailbox_id: int) -> dict[str, int | str]:
    """Read one mailbox's new mail (a refused login pauses the mailbox; it never raises for that)."""
    result = mailbox_sync(mailbox_id)
    return {
        "fetched": result.fetched,
        "stored": result.stored,
        "paused": int(result.paused),
        "skipped": result.skipped,
        "error": result.error,
    }
