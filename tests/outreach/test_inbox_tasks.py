"""The sync's django-q2 entry points: one task per active IMAP mailbox, never one per email."""

from __future__ import annotations

import pytest
from django_q.models import OrmQ

from linkcrm.schedules import SCHEDULES
from outreach.choices import MailboxStatus
from outreach.models import InboundMessage
from outreach.services.inbox import IMAP_AUTH_PAUSE
from outreach.tasks import SYNC_TASK, mailbox_sync_task, mailboxes_sync_sweep_task
from tests.outreach.inbox_world import append, reply_to, start_thread
from tests.outreach.world import make_project, sandbox_mailbox

pytestmark = pytest.mark.django_db


def test_the_sweep_queues_one_sync_per_readable_mailbox(stack, alice):
    active = sandbox_mailbox(stack, alice)
    paused = sandbox_mailbox(stack, alice, status=MailboxStatus.PAUSED, paused_reason="holidays")
    sandbox_mailbox(stack, alice, status=MailboxStatus.PAUSED, paused_reason=f"{IMAP_AUTH_PAUSE}: bad password")
    sandbox_mailbox(stack, alice, imap_host="")

    assert mailboxes_sync_sweep_task() == {"sync": 2}

    queued = sorted((q.func(), q.args(), q.group()) for q in OrmQ.objects.all())
    assert queued == [(SYNC_TASK, (box.pk,), f"outreach-sync-{box.pk}") for box in (active, paused)]


def test_the_sweep_is_scheduled():
    assert any(entry.func == "outreach.tasks.mailboxes_sync_sweep_task" for entry in SCHEDULES)


@pytest.mark.mail
def test_the_mailbox_task_syncs_and_reports_counts(stack, alice):
    mailbox = sandbox_mailbox(stack, alice)
    thread = start_thread(mailbox, make_project("Tools", alice), "example.org", by=alice)
    append(stack, mailbox.email, reply_to(thread.sent))

    assert mailbox_sync_task(mailbox.pk) == {"fetched": 1, "stored": 1, "paused": 0, "skipped": "", "error": ""}
    assert InboundMessage.objects.filter(mailbox=mailbox).count() == 1


@pytest.mark.mail
def test_the_mailbox_task_pauses_a_mailbox_whose_login_is_refused(stack, alice):
    mailbox = sandbox_mailbox(stack, alice)
    mailbox.set_imap_password("not-the-password")
    mailbox.save(update_fields=["imap_password"])

    outcome = mailbox_sync_task(mailbox.pk)

    assert outcome["paused"] == 1
    mailbox.refresh_from_db()
    assert mailbox.status == MailboxStatus.PAUSED


@pytest.mark.mail
def test_a_reply_needing_attention_is_marked_handled_once(stack, alice, bob):
    from outreach.services.inbox import mailbox_sync
    from outreach.services.inbox_actions import inbound_mark_handled

    mailbox = sandbox_mailbox(stack, alice)
    thread = start_thread(mailbox, make_project("Tools", alice), "example.org", by=alice)
    append(stack, mailbox.email, reply_to(thread.sent))
    mailbox_sync(mailbox.pk)
    reply = InboundMessage.objects.get(mailbox=mailbox, needs_attention=True)

    assert inbound_mark_handled(message_id=reply.pk, by=alice)
    assert not inbound_mark_handled(message_id=reply.pk, by=bob)  # the second click records nobody

    reply.refresh_from_db()
    assert (reply.needs_attention, reply.handled_by) == (False, alice) and reply.handled_at is not None
    assert mailbox_sync(mailbox.pk).stored == 0  # a later sync does not bring it back
    reply.refresh_from_db()
    assert not reply.needs_attention
