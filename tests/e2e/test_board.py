"""In Chromium: drag cards across the board, use the keyboard move menu, and see it all persisted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from prospects.choices import ActorKind, Stage
from prospects.models import Prospect, StageChange
from prospects.services.pipeline import prospect_move_stage
from tests.conftest import PASSWORD
from tests.prospects.pipeline_helpers import make_project, make_prospects

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def board(alice, bob):
    project = make_project("Shop", alice, bob)
    make_prospects(project, "first.com", "second.com", by=alice, stage=Stage.TO_CONTACT)
    make_prospects(project, "waiting.com", by=alice)
    return project


def column(page, stage: str):
    return page.locator(f'.board-col[data-stage="{stage}"]')


def card(page, domain: str):
    return page.locator(f'.pcard[data-domain="{domain}"]')


def test_a_card_dragged_from_to_contact_to_contacted_stays_there_after_reload(board, alice, login, page):
    base = login("alice", PASSWORD)
    page.goto(f"{base}/projects/{board.pk}/board/")
    expect(column(page, "to_contact").locator("[data-count]")).to_have_text("2")

    card(page, "first.com").drag_to(column(page, "contacted"))

    expect(column(page, "contacted").locator('.pcard[data-domain="first.com"]')).to_be_visible()
    expect(column(page, "contacted").locator("[data-count]")).to_have_text("1")
    expect(column(page, "to_contact").locator("[data-count]")).to_have_text("1")
    expect(page.locator("#board-live")).to_contain_text("first.com moved to Contacted")
    page.reload()
    expect(column(page, "contacted").locator('.pcard[data-domain="first.com"]')).to_be_visible()
    expect(column(page, "to_contact").locator('.pcard[data-domain="first.com"]')).to_have_count(0)
    change = StageChange.objects.filter(prospect__domain="first.com").latest("id")
    assert (change.from_stage, change.to_stage, change.actor, change.actor_kind) == (
        Stage.TO_CONTACT,
        Stage.CONTACTED,
        alice,
        ActorKind.PERSON,
    )


def test_dropping_on_rejected_asks_why(board, login, page):
    base = login("alice", PASSWORD)
    page.goto(f"{base}/projects/{board.pk}/board/")
    card(page, "waiting.com").drag_to(column(page, "rejected"))
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Why is it rejected?").select_option("not_relevant")
    dialog.get_by_role("button", name="Move").click()
    expect(column(page, "rejected").locator('.pcard[data-domain="waiting.com"]')).to_contain_text(
        "Not relevant"
    )
    prospect = Prospect.objects.get(domain="waiting.com")
    assert (prospect.stage, prospect.reject_reason) == (Stage.REJECTED, "not_relevant")


def test_the_move_menu_works_from_the_keyboard(board, login, page):
    base = login("alice", PASSWORD)
    page.goto(f"{base}/projects/{board.pk}/board/")
    summary = card(page, "second.com").locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    target = card(page, "second.com").get_by_role("button", name="→ Reply Received")
    target.focus()
    page.keyboard.press("Enter")
    expect(column(page, "reply_received").locator('.pcard[data-domain="second.com"]')).to_be_visible()
    expect(column(page, "reply_received").locator('.pcard[data-domain="second.com"] summary')).to_be_focused()
    assert Prospect.objects.get(domain="second.com").stage == Stage.REPLY_RECEIVED


def test_a_card_moved_by_someone_else_meanwhile_goes_where_it_really_is(board, bob, login, page):
    base = login("alice", PASSWORD)
    page.goto(f"{base}/projects/{board.pk}/board/")
    first = Prospect.objects.get(domain="first.com")
    # Bob moves it while Alice's board still shows it in To Contact.
    prospect_move_stage(prospect_id=first.pk, to_stage=Stage.REPLY_RECEIVED, actor=bob)
    card(page, "first.com").drag_to(column(page, "contacted"))
    expect(page.locator("#board-live")).to_contain_text("was moved meanwhile")
    expect(column(page, "reply_received").locator('.pcard[data-domain="first.com"]')).to_be_visible()
    expect(column(page, "contacted").locator("[data-count]")).to_have_text("0")
    first.refresh_from_db()
    assert first.stage == Stage.REPLY_RECEIVED


def test_show_more_appends_the_next_cards_of_one_column_in_place(board, alice, login, page):
    make_prospects(board, *(f"more{n:02}.com" for n in range(30)), by=alice, stage=Stage.CONTACTED)
    base = login("alice", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 3600})  # both ends of the drag on screen, no scrolling
    page.goto(f"{base}/projects/{board.pk}/board/")
    contacted = column(page, "contacted")
    expect(contacted.locator(".pcard")).to_have_count(25)
    contacted.get_by_role("link", name="Show more (5 left)").click()
    expect(contacted.locator(".pcard")).to_have_count(30)
    expect(contacted.get_by_role("link", name="Show more")).to_have_count(0)
    assert page.url == f"{base}/projects/{board.pk}/board/"  # fetched in place, not a new page
    # An appended card is a card like the others: it can be dragged.
    card(page, "more29.com").drag_to(column(page, "reply_received"))
    expect(column(page, "reply_received").locator('.pcard[data-domain="more29.com"]')).to_be_visible()
    assert Prospect.objects.get(domain="more29.com").stage == Stage.REPLY_RECEIVED
