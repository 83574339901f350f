"""outreach.services.automation: what each email event does, and that replaying it changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from outreach.choices import EnrollmentStatus, OutboxStatus, StopReason
from outreach.services import automation
from prospects.choices import EmailStatus, Stage
from prospects.models import Suppression
from prospects.services.suppression import suppression_match
from tests.outreach.inbox_world import Thread, start_thread
from tests.outreach.world import make_project, sandbox_mailbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(stack, alice) -> Thread:
    return start_thread(sandbox_mailbox(stack, alice), make_project("Tools", alice), "example.org", by=alice)


def _refreshed(thread: Thread) -> Thread:
    for item in (thread.enrollment, thread.prospect, thread.contact, thread.follow_up):
        item.refresh_from_db()
    return thread


def test_first_step_sent_makes_the_prospect_contacted_once(thread):
    for _ in range(2):
        automation.on_first_step_sent(enrollment=thread.enrollment, sent_at=timezone.now())

    assert _refreshed(thread).prospect.stage == Stage.CONTACTED
    assert thread.prospect.stage_changes.filter(automation="email.sent").count() == 1


def test_a_reply_stops_the_thread_and_moves_the_prospect_once(thread):
    first = timezone.now()
    automation.on_replies([automation.Reply(thread.enrollment, first, thread.contact.email)])
    automation.on_replies([automation.Reply(thread.enrollment, first + dt.timedelta(hours=1), thread.contact.email)])

    _refreshed(thread)
    assert thread.prospect.stage == Stage.REPLY_RECEIVED
    assert thread.prospect.stage_changes.filter(automation="email.reply").count() == 1
    assert (thread.enrollment.status, thread.enrollment.stop_reason) == (EnrollmentStatus.STOPPED, StopReason.REPLIED)
    assert thread.enrollment.replied_at == first  # the replay did not overwrite it
    assert thread.follow_up.status == OutboxStatus.CANCELLED
    assert thread.follow_up.transitions.filter(to_status=OutboxStatus.CANCELLED).count() == 1


def test_replies_together_end_as_they_would_one_by_one(thread, alice, settings):
    settings.LINKCRM_STOP_DOMAIN_ON_REPLY = True
    # Same domain, another project: the first reply stops it before its own reply comes.
    colleague = start_thread(thread.mailbox, make_project("Other", alice), "example.org", by=alice)
    first = timezone.now() - dt.timedelta(minutes=10)
    replies = [
        automation.Reply(thread.enrollment, first, thread.contact.email),
        automation.Reply(colleague.enrollment, first + dt.timedelta(minutes=1), colleague.contact.email),
        automation.Reply(thread.enrollment, first + dt.timedelta(minutes=2), thread.contact.email),
    ]

    automation.on_replies(replies)

    for item, reason, replied_at in (
        (thread, StopReason.REPLIED, first),
        (colleague, StopReason.DOMAIN_REPLIED, first + dt.timedelta(minutes=1)),
    ):
        _refreshed(item)
        assert (item.enrollment.status, item.enrollment.stop_reason) == (EnrollmentStatus.STOPPED, reason)
        assert item.enrollment.replied_at == replied_at
        assert item.follow_up.status == OutboxStatus.CANCELLED
        assert item.prospect.stage == Stage.REPLY_RECEIVED
        assert list(item.prospect.stage_changes.filter(automation="email.reply").values_list("reason", flat=True)) == [
            f"reply from {item.contact.email}"
        ]


def test_a_reply_does_not_move_a_prospect_a_person_moved_later(thread, alice):
    from prospects.services.pipeline import prospect_move_stage

    prospect_move_stage(prospect_id=thread.prospect.pk, to_stage=Stage.REJECTED, actor=alice,
                        reject_reason="not_relevant")  # fmt: skip
    automation.on_replies([automation.Reply(thread.enrollment, timezone.now() - dt.timedelta(minutes=5),
                                            thread.contact.email)])  # fmt: skip

    assert _refreshed(thread).prospect.stage == Stage.REJECTED
    assert thread.enrollment.status == EnrollmentStatus.STOPPED


def test_a_hard_bounce_condemns_the_address_and_flags_the_prospect_once(thread):
    for _ in range(2):
        automation.on_hard_bounce(enrollment=thread.enrollment, address=thread.contact.email, detail="5.1.1")

    _refreshed(thread)
    assert thread.contact.email_status == EmailStatus.BOUNCED
    assert (thread.enrollment.status, thread.enrollment.stop_reason) == (EnrollmentStatus.STOPPED, StopReason.BOUNCED)
    assert thread.prospect.flagged and thread.prospect.flag_reason.startswith("hard bounce")
    assert Suppression.objects.filter(value=thread.contact.email, project=None).count() == 1


def test_a_hard_bounce_without_a_thread_only_condemns_the_address(thread):
    automation.on_hard_bounce(enrollment=None, address=thread.contact.email.upper(), detail="5.1.1")

    _refreshed(thread)
    assert thread.contact.email_status == EmailStatus.BOUNCED
    assert thread.enrollment.status == EnrollmentStatus.ACTIVE
    assert not thread.prospect.flagged


def test_an_unsubscribe_is_scoped_to_its_project(thread, alice):
    other_project = make_project("Other", alice)
    for _ in range(2):
        automation.on_opt_out(enrollment=thread.enrollment, address=thread.contact.email,
                              reason=StopReason.UNSUBSCRIBED, project_id=thread.prospect.project_id)  # fmt: skip

    assert suppression_match(project=thread.prospect.project, email=thread.contact.email) is not None
    assert suppression_match(project=other_project, email=thread.contact.email) is None
    assert Suppression.objects.filter(value=thread.contact.email).count() == 1
    _refreshed(thread)
    assert thread.enrollment.stop_reason == StopReason.UNSUBSCRIBED
    assert thread.follow_up.status == OutboxStatus.CANCELLED


def test_a_complaint_is_global_and_stops_every_running_thread_to_the_address(thread, alice):
    elsewhere = start_thread(thread.mailbox, make_project("Other", alice), "example.net", by=alice)
    elsewhere.contact.email = thread.contact.email
    elsewhere.contact.save(update_fields=["email"])

    automation.on_opt_out(enrollment=None, address=thread.contact.email, reason=StopReason.COMPLAINED,
                          project_id=thread.prospect.project_id)  # fmt: skip

    blocked = suppression_match(project=None, email=thread.contact.email)
    assert blocked is not None and blocked.project_id is None
    for each in (thread, elsewhere):
        _refreshed(each)
        assert (each.enrollment.status, each.enrollment.stop_reason) == (
            EnrollmentStatus.STOPPED, StopReason.COMPLAINED)
