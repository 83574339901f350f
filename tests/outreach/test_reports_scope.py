"""Role scoping: outreach staff see their own numbers, managers and admins everyone's — in SQL and on the page."""

from __future__ import annotations

import re
from datetime import date

import pytest

from outreach.reports.selectors import ReportFilter, funnel, outreach_rates, scope_user_id
from tests.outreach import reports_world as w

pytestmark = pytest.mark.django_db
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31), "tz": "UTC"}
MARCH_QUERY = "?start=2026-03-01&end=2026-03-31"


@pytest.fixture
def world(alice, bob):
    return w.rates_world(alice, bob)


def totals(user_id):
    row = outreach_rates(ReportFilter(user_id=user_id, **MARCH)).total
    return (row.messages, row.contacted, row.replied, row.bounced, row.won)


def test_staff_get_their_own_prospects_and_managers_everyones(world, alice, bob, manager, admin_user):
    assert scope_user_id(manager) is None and scope_user_id(admin_user) is None
    assert scope_user_id(alice) == alice.pk
    # alice: q1 (assigned) and q2 (unassigned, enrolled by her from her mailbox).
    assert totals(alice.pk) == (3, 2, 1, 1, 1)
    assert totals(bob.pk) == (2, 2, 1, 0, 0)
    assert totals(None) == (5, 4, 2, 1, 1)


def test_a_prospect_counts_for_whoever_emailed_it_from_their_mailbox(world, alice, bob):
    # q3 is bob's; a message to it from alice's mailbox makes it hers too (and still bob's).
    q3 = world["project"].prospects.get(domain="q3.example")
    w.sent(None, None, None, w.at(3, 12), box=world["box_a"], prospect=q3)
    assert totals(alice.pk)[1] == 3 and totals(bob.pk)[1] == 2


def test_the_funnel_is_scoped_too(world, alice, bob):
    q1 = world["project"].prospects.get(domain="q1.example")
    q3 = world["project"].prospects.get(domain="q3.example")
    w.change(q1, "to_contact", w.at(3, 1))
    w.change(q3, "to_contact", w.at(3, 1))
    entered = {uid: {r.stage: r.entered for r in funnel(ReportFilter(user_id=uid, **MARCH))}
               for uid in (alice.pk, bob.pk, None)}  # fmt: skip
    assert entered[alice.pk]["to_contact"] == 1 and entered[bob.pk]["to_contact"] == 1
    assert entered[None]["to_contact"] == 2
    assert entered[alice.pk]["link_acquired"] == 1 and entered[bob.pk]["link_acquired"] == 0


def figure(html: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', html).group(1)


def test_the_page_shows_each_role_its_own_numbers(world, client_for, alice, bob, manager, admin_user):
    pages = {user.username: client_for(user).get("/reports/" + MARCH_QUERY) for user in (alice, bob, manager,
                                                                                        admin_user)}  # fmt: skip
    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    html = {name: page.content.decode() for name, page in pages.items()}
    assert [figure(html[name], "contacted") for name in ("alice", "bob", "manager", "admin")] == ["2", "2", "4", "4"]
    assert figure(html["manager"], "reply_rate") == "50.0%"
    assert "Your own numbers" in html["alice"] and "Everyone's numbers" in html["manager"]
    # The mailbox breakdown of alice's page names only her mailbox.
    assert "alice@ours.test" in html["alice"] and "bob@ours.test" not in html["alice"]


def test_exports_are_scoped_like_the_page(world, client_for, alice, manager):
    mine = client_for(alice).get("/reports/export/mailbox.csv" + MARCH_QUERY).content.decode()
    everyone = client_for(manager).get("/reports/export/mailbox.csv" + MARCH_QUERY).content.decode()
    assert "alice@ours.test" in mine and "bob@ours.test" not in mine
    assert "alice@ours.test" in everyone and "bob@ours.test" in everyone


def test_outsiders_and_strangers_get_nothing(world, client_for, outsider):
    assert client_for(outsider).get("/reports/").status_code == 403
    assert client_for(None).get("/reports/export/funnel.csv").status_code == 302


def test_a_bad_period_is_reported_and_the_default_used(world, client_for, manager):
    page = client_for(manager).get("/reports/?start=2026-03-31&end=2026-03-01")
    assert page.status_code == 200
    assert "must start on or before its last day" in page.content.decode()
    assert (page.context["report"].end - page.context["report"].start).days == 89  # the last 90 days
