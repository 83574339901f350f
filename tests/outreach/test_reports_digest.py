"""The weekly digest: opt-in per manager, one queued message each with the week's figures, no setup no mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linkcrm.schedules import SCHEDULES
from outreach.choices import OutboxStatus
from outreach.models import OutboundMessage, ReportSubscription
from outreach.reports.digest import digest_queue, subscription_set
from prospects.choices import LinkStatus
from prospects.models import AcquiredLink
from tests.outreach import reports_world as w
from tests.prospects.pipeline_helpers import make_project

pytestmark = pytest.mark.django_db
# Monday 16 March 2026: the digest covers Monday 9 to Sunday 15 March.
NOW = datetime(2026, 3, 16, 6, tzinfo=UTC)


@pytest.fixture
def week(alice, bob, settings):
    """Last week: 3 prospects contacted, 1 replied, 1 hard bounce, 1 link acquired, 1 lost, 1 stale."""
    settings.TIME_ZONE = "UTC"
    settings.LINKCRM_DIGEST_STALE_DAYS = 14
    project = make_project("Digest", alice)
    tpl, (v1,) = w.template("Intro")
    seq = w.sequence("Intro", tpl, steps=1)
    box = w.mailbox(alice, "alice@ours.test")
    system = w.mailbox(bob, "reports@ours.test")
    prospects = [w.prospect(project, f"d{n}.example", stage="contacted") for n in range(1, 4)]
    threads = [w.enroll(seq, p, box, alice) for p in prospects]
    first = w.sent(threads[0], 1, v1, w.at(3, 9))
    w.sent(threads[1], 1, v1, w.at(3, 10))
    w.sent(threads[2], 1, v1, w.at(3, 15, 23))
    w.sent(None, None, None, w.at(3, 8), box=box, prospect=prospects[0])  # the week before: not counted
    w.inbound(w.REPLY, w.at(3, 11), answers=first)
    w.inbound(w.BOUNCE, w.at(3, 11), enrollment=threads[1], permanent=True)
    won = w.prospect(project, "won.example", stage="link_acquired", linking_page_url="https://won.example/gear")
    w.change(won, "link_acquired", w.at(3, 12), "reply_received")
    lost = w.prospect(project, "lost.example", stage="link_acquired")
    AcquiredLink.objects.create(prospect=lost, page_url="https://lost.example/list", host="lost.example",
                                status=LinkStatus.LOST, next_check_at=NOW, loss_confirmed_at=w.at(3, 13))  # fmt: skip
    stale = w.prospect(project, "stale.example", stage="to_contact")
    type(stale).objects.filter(pk=stale.pk).update(stage_changed_at=NOW - timedelta(days=30))
    settings.LINKCRM_DIGEST_MAILBOX = system.email.upper()  # the address matches whatever its case
    return {"system": system}


def digests() -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(enrollment=None, prospect=None).order_by("to_address"))


def test_it_queues_one_digest_per_opted_in_manager_with_the_weeks_figures(week, manager, admin_user, make_user):
    from linkcrm.choices import Role

    quiet = make_user("quiet", Role.MANAGER)
    subscription_set(user=manager, weekly_digest=True)
    subscription_set(user=admin_user, weekly_digest=True)
    subscription_set(user=quiet, weekly_digest=False)

    assert digest_queue(NOW) == 2
    queued = digests()
    assert [m.to_address for m in queued] == ["admin@example.test", "manager@example.test"]
    message = queued[0]
    assert (message.mailbox_id, message.from_address, message.status) == (
        week["system"].pk, "reports@ours.test", OutboxStatus.QUEUED)  # fmt: skip
    assert message.due_at == NOW and message.message_id.endswith("@ours.test>")
    text = message.text
    assert "09 Mar – 15 Mar 2026" in text
    assert "Prospects contacted: 3\n" in text
    assert "Replied: 1 (reply rate 33.3%)" in text
    assert "Bounced: 1 (bounce rate 33.3%)" in text
    assert "Links acquired: 1 " in text and "won.example (Digest) 2026-03-12 https://won.example/gear" in text
    assert "Links lost: 1\n" in text and "lost.example (Digest) 2026-03-13 https://lost.example/list" in text
    assert "Stale prospects (no activity for 14 days): 1\n  stale.example" in text
    assert message.subject == "LinkCRM weekly: 3 contacted, 1 replied, 1 links"


def test_a_second_run_in_the_same_week_sends_nothing_and_next_week_sends_again(week, manager):
    subscription_set(user=manager, weekly_digest=True)
    assert digest_queue(NOW) == 1
    assert digest_queue(NOW + timedelta(hours=1)) == 0
    assert digest_queue(NOW + timedelta(days=7)) == 1
    assert len(digests()) == 2


def test_without_the_mailbox_setting_nothing_is_queued_and_the_page_says_why(week, manager, settings, client_for):
    subscription_set(user=manager, weekly_digest=True)
    settings.LINKCRM_DIGEST_MAILBOX = ""
    assert digest_queue(NOW) == 0 and digests() == []
    page = client_for(manager).get("/reports/").content.decode()
    assert "LINKCRM_DIGEST_MAILBOX is not set, so no digest is sent." in page
    settings.LINKCRM_DIGEST_MAILBOX = "nobody@ours.test"
    assert digest_queue(NOW) == 0
    assert "no mailbox has that address" in client_for(manager).get("/reports/").content.decode()


def test_staff_cannot_opt_in_and_a_demoted_subscriber_gets_nothing(week, alice, manager, client_for):
    assert client_for(alice).post("/reports/digest/", {"weekly": "on"}).status_code == 403
    assert not ReportSubscription.objects.filter(user=alice).exists()
    ReportSubscription.objects.create(user=alice, weekly_digest=True)  # e.g. a manager since demoted
    assert digest_queue(NOW) == 0


def test_a_manager_opts_in_and_out_from_the_page(week, manager, client_for):
    client = client_for(manager)
    assert client.post("/reports/digest/", {"weekly": "on"}).status_code == 302
    assert ReportSubscription.objects.get(user=manager).weekly_digest is True
    assert "You receive the weekly digest." in client.get("/reports/").content.decode()
    client.post("/reports/digest/", {"weekly": "off"})
    assert ReportSubscription.objects.get(user=manager).weekly_digest is False


def test_the_digest_is_scheduled_weekly():
    entry = next(e for e in SCHEDULES if e.name == "reports-digest")
    assert (entry.func, entry.minutes) == ("outreach.reports.tasks.digest_weekly_task", 7 * 24 * 60)
