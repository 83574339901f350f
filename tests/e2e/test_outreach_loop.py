"""In Chromium, the whole outreach loop: enroll from the board's table → the email is sent to the
sandbox → the thread shows it → "simulate a reply" (DEBUG) → synced → Reply Received."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from outreach.choices import OutboxStatus
from outreach.models import OutboundMessage
from outreach.services.outbox import outbox_send_mailbox
from prospects.choices import Stage
from prospects.models import Prospect
from tests.conftest import PASSWORD
from tests.outreach.world import make_project, make_sequence, make_template, prospect_with_contact, sandbox_mailbox

pytestmark = [pytest.mark.e2e, pytest.mark.mail, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(stack, alice):
    project = make_project("Shop", alice)
    prospect, contact = prospect_with_contact(project, "trailblog.com", by=alice, name="Maja Berg")
    prospect_with_contact(project, "other-blog.com", by=alice)
    mailbox = sandbox_mailbox(stack, alice)
    sequence = make_sequence("Pitch", (make_template("Intro"), 0), (make_template("Nudge"), 3))
    return {"project": project, "prospect": prospect, "contact": contact, "mailbox": mailbox, "sequence": sequence}


def test_enroll_send_reply_and_the_prospect_shows_reply_received(world, alice, login, page, settings):
    settings.DEBUG = True  # "simulate a reply" exists only in DEBUG
    project, prospect = world["project"], world["prospect"]
    base = login("alice", PASSWORD)

    page.goto(f"{base}/projects/{project.pk}/prospects/")
    page.get_by_label("Check trailblog.com").check()
    page.get_by_role("button", name="Enroll in a sequence…").click()
    expect(page.locator("#enroll-prospects")).to_contain_text("trailblog.com")
    expect(page.locator("#enroll-prospects")).not_to_contain_text("other-blog.com")
    page.get_by_label("Sequence").select_option(label="Pitch (2 steps)")
    page.get_by_role("button", name="Enroll", exact=True).click()
    expect(page.locator("[data-enrolled]")).to_contain_text("1 prospect enrolled")

    outbox_send_mailbox(mailbox_id=world["mailbox"].pk)  # what the outbox task does on its schedule
    sent = OutboundMessage.objects.get(prospect=prospect)
    assert sent.status == OutboxStatus.SENT

    page.goto(f"{base}/projects/{project.pk}/prospects/{prospect.pk}/")
    thread = page.locator("#outreach-thread")
    expect(thread.locator('[data-direction="out"]')).to_contain_text(sent.subject)
    expect(thread.locator("[data-outbound-status]")).to_have_text("Sent")
    expect(page.locator(".stage-pill").first).to_have_text("Contacted")

    thread.get_by_role("button", name="Simulate a reply").click()
    expect(page.locator(".stage-pill").first).to_have_text("Reply Received")
    expect(page.locator('#outreach-thread [data-direction="in"]')).to_contain_text(f"Re: {sent.subject}")
    expect(page.locator("#outreach-thread [data-inbound-kind]")).to_have_text("Reply")
    assert Prospect.objects.get(pk=prospect.pk).stage == Stage.REPLY_RECEIVED

    page.goto(f"{base}/outreach/inbox/")
    expect(page.locator("#inbox")).to_contain_text("trailblog.com")
