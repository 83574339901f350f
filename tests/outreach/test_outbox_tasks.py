"""The scheduled entry points: one send task per mailbox with due mail, follow-ups advanced."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from linkcrm.schedules import SCHEDULES
from outreach import tasks
from outreach.choices import OutboxStatus
from outreach.models import OutboundMessage
from outreach.services.transitions import mailbox_pause
from tests.outreach.outbox_world import enroll, make_world
from tests.outreach.smtp_servers import imap_messages

pytestmark = [pytest.mark.django_db, pytest.mark.mail]


def test_the_sweep_sends_each_active_mailbox_s_due_mail_once(stack, alice, bob, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)  # async_task runs inline: no cluster in tests
    active = make_world(stack, alice)
    paused = make_world(stack, bob)
    _, active_contact, _ = enroll(active, "swept.com")
    _, paused_contact, _ = enroll(paused, "left-alone.com")
    mailbox_pause(mailbox_id=paused.mailbox.pk, reason="Paused by bob")

    counts = tasks.outbox_sweep_task()

    assert counts["send"] == 1
    assert len(imap_messages(stack, active_contact.email)) == 1
    assert OutboundMessage.objects.get(mailbox=active.mailbox).status == OutboxStatus.SENT
    assert OutboundMessage.objects.get(mailbox=paused.mailbox).status == OutboxStatus.QUEUED
    assert imap_messages(stack, paused_contact.email) == []


def test_the_send_and_advance_sweeps_are_scheduled():
    functions = {entry.func for entry in SCHEDULES}
    assert {"outreach.tasks.outbox_sweep_task", "outreach.tasks.sequences_advance_task"} <= functions
