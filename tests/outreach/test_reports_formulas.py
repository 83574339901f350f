"""Each report figure against a small known world, with exact expected values.

Funnel world (March 2026 is the period):
  p1: In Progress 1 Mar → To Contact 3 → Contacted 5 → Reply Received 10 → Link Acquired 20
  p2: In Progress 2 Mar → To Contact 4 → Contacted 8 (still there)
  p3: In Progress 2 Mar → Rejected 6
  p4: In Progress 10 Feb → To Contact 5 Mar → Contacted 2 Apr (after the period)
  p5: In Progress 2 Apr only (outside the period)
"""

from __future__ import annotations

from datetime import date

import pytest

from outreach.reports.formulas import FORMULA_BY_KEY, rate
from outreach.reports.selectors import ReportFilter, acquisition, funnel, outreach_rates, refdomain_growth
from prospects.choices import LinkStatus
from prospects.models import AcquiredLink
from tests.outreach import reports_world as w
from tests.prospects.pipeline_helpers import make_project

pytestmark = pytest.mark.django_db
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31), "tz": "UTC"}


@pytest.fixture
def funnel_world(alice):
    project = make_project("Funnel", alice)
    p1, p2, p3, p4, p5 = (w.prospect(project, f"p{n}.example") for n in range(1, 6))
    w.path(p1, ("in_progress", w.at(3, 1)), ("to_contact", w.at(3, 3)), ("contacted", w.at(3, 5)),
           ("reply_received", w.at(3, 10)), ("link_acquired", w.at(3, 20)))  # fmt: skip
    w.path(p2, ("in_progress", w.at(3, 2)), ("to_contact", w.at(3, 4)), ("contacted", w.at(3, 8)))
    w.path(p3, ("in_progress", w.at(3, 2)), ("rejected", w.at(3, 6)))
    w.path(p4, ("in_progress", w.at(2, 10)), ("to_contact", w.at(3, 5)), ("contacted", w.at(4, 2)))
    w.path(p5, ("in_progress", w.at(4, 2)))
    return project


def test_it_counts_prospects_entering_each_stage_in_the_period(funnel_world):
    rows = {row.stage: row for row in funnel(ReportFilter(**MARCH))}
    assert {stage: row.entered for stage, row in rows.items()} == {
        "in_progress": 3, "to_contact": 3, "contacted": 2, "reply_received": 1, "link_acquired": 1, "rejected": 1,
    }  # fmt: skip


def test_conversion_counts_later_moves_to_the_next_stage_or_beyond(funnel_world):
    rows = {row.stage: row for row in funnel(ReportFilter(**MARCH))}
    # p1 and p2 of {p1, p2, p3}; p4 reached Contacted in April, still "later".
    assert (rows["in_progress"].converted, rows["in_progress"].conversion) == (2, 66.7)
    assert (rows["to_contact"].converted, rows["to_contact"].conversion) == (3, 100.0)
    assert (rows["contacted"].converted, rows["contacted"].conversion) == (1, 50.0)
    assert (rows["reply_received"].converted, rows["reply_received"].conversion) == (1, 100.0)
    assert rows["link_acquired"].converted is None and rows["rejected"].converted is None


def test_median_time_in_stage_uses_ended_stays_that_began_in_the_period(funnel_world):
    rows = {row.stage: row for row in funnel(ReportFilter(**MARCH))}
    assert (rows["in_progress"].median_days, rows["in_progress"].stays) == (2.0, 3)  # 2, 2, 4 days
    assert (rows["to_contact"].median_days, rows["to_contact"].stays) == (4.0, 3)  # 2, 4, 28 days
    assert (rows["contacted"].median_days, rows["contacted"].stays) == (5.0, 1)  # p2 still there
    assert (rows["reply_received"].median_days, rows["reply_received"].stays) == (10.0, 1)
    assert rows["link_acquired"].median_days is None


def test_the_period_moves_the_counts(funnel_world):
    april = funnel(ReportFilter(start=date(2026, 4, 1), end=date(2026, 4, 30), tz="UTC"))
    assert {row.stage: row.entered for row in april if row.entered} == {"in_progress": 1, "contacted": 1}
    february = funnel(ReportFilter(start=date(2026, 2, 1), end=date(2026, 2, 28), tz="UTC"))
    assert {row.stage: row.entered for row in february if row.entered} == {"in_progress": 1}
    # The period's last day counts whole: 20 Mar noon falls inside a period ending on 20 Mar.
    upto20 = funnel(ReportFilter(start=date(2026, 3, 1), end=date(2026, 3, 20), tz="UTC"))
    assert {row.stage: row.entered for row in upto20}["link_acquired"] == 1
    upto19 = funnel(ReportFilter(start=date(2026, 3, 1), end=date(2026, 3, 19), tz="UTC"))
    assert {row.stage: row.entered for row in upto19}["link_acquired"] == 0


def test_the_project_filter_keeps_other_projects_out(funnel_world, alice):
    other = make_project("Other", alice)
    w.path(w.prospect(other, "x.example"), ("in_progress", w.at(3, 3)))
    only = funnel(ReportFilter(project_id=funnel_world.pk, **MARCH))
    both = funnel(ReportFilter(**MARCH))
    assert (only[0].entered, both[0].entered) == (3, 4)


@pytest.fixture
def rates_world(alice, bob):
    return w.rates_world(alice, bob)


def counts(row) -> tuple[int, int, int, int, int]:
    return (row.messages, row.contacted, row.replied, row.bounced, row.won)


def test_rates_count_prospects_over_prospects_contacted(rates_world):
    total = outreach_rates(ReportFilter(**MARCH)).total
    assert counts(total) == (5, 4, 2, 1, 1) and all(type(n) is int for n in counts(total))
    assert (total.reply_rate, total.bounce_rate, total.win_rate) == (50.0, 25.0, 25.0)


def test_breakdowns_credit_replies_to_the_email_they_answer(rates_world):
    rates = outreach_rates(ReportFilter(**MARCH)).breakdowns
    by = {name: {row.label: counts(row) for row in rows} for name, rows in rates.items()}
    assert by["step"] == {"Step 1": (3, 3, 1, 1, 1), "Step 2": (2, 2, 1, 0, 1)}
    assert by["version"] == {"Pitch v1": (3, 3, 1, 1, 1), "Pitch v2": (2, 2, 1, 0, 1)}
    assert by["template"] == {"Pitch": (5, 4, 2, 1, 1)}
    assert by["sequence"] == {"Guides": (5, 4, 2, 1, 1)}
    assert by["mailbox"] == {"alice <alice@ours.test>": (3, 2, 1, 1, 1), "bob <bob@ours.test>": (2, 2, 1, 0, 0)}
    assert by["assignee"] == {"alice": (2, 1, 1, 0, 1), "bob": (2, 2, 1, 0, 0), "—": (1, 1, 0, 1, 0)}
    assert by["month"] == {"2026-03": (5, 4, 2, 1, 1)}


def test_rates_follow_the_period(rates_world):
    february = outreach_rates(ReportFilter(start=date(2026, 2, 1), end=date(2026, 2, 28), tz="UTC"))
    # q4's February email, and the reply to it (received in March, still credited to February).
    assert counts(february.total) == (1, 1, 1, 0, 0)
    assert [row.label for row in february.breakdowns["month"]] == ["2026-02"]


def test_acquisition_counts_velocity_authority_and_losses(alice):
    project = make_project("Links", alice)
    a = w.prospect(project, "a.example", authority=40, stage="link_acquired")
    b = w.prospect(project, "b.example", authority=61, stage="link_acquired")
    c = w.prospect(project, "c.example", stage="link_acquired")  # authority unknown
    d = w.prospect(project, "d.example", authority=90, stage="link_acquired")
    w.change(a, "link_acquired", w.at(3, 2), "reply_received")  # Monday 2 Mar
    w.change(b, "link_acquired", w.at(3, 4), "reply_received")  # same week
    w.change(c, "link_acquired", w.at(3, 17), "reply_received")  # week of 16 Mar
    w.change(d, "link_acquired", w.at(2, 17), "reply_received")  # before the period
    w.change(b, "rejected", w.at(3, 25), "link_acquired")  # moved out
    for prospect, status, lost_at in ((a, LinkStatus.LOST, w.at(3, 18)), (d, LinkStatus.BROKEN, w.at(3, 3)),
                                      (c, LinkStatus.ACTIVE, None)):  # fmt: skip
        AcquiredLink.objects.create(prospect=prospect, page_url=f"https://{prospect.domain}/p", host=prospect.domain,
                                    status=status, next_check_at=w.at(4, 1), loss_confirmed_at=lost_at)  # fmt: skip
    result = acquisition(ReportFilter(**MARCH))
    assert (result.acquired, result.average_authority, result.with_authority) == (3, 50.5, 2)
    assert (result.lost, result.moved_out) == (2, 1)
    assert result.weeks[0] == date(2026, 2, 23) and result.weeks[-1] == date(2026, 3, 30)
    weekly = {week: (acquired, lost) for week, acquired, lost in result.rows if acquired or lost}
    assert weekly == {date(2026, 3, 2): (2, 1), date(2026, 3, 16): (1, 1)}


def test_rate_is_none_without_a_denominator_and_every_formula_is_written_down():
    assert rate(1, 3) == 33.3 and rate(0, 0) is None
    for key in ("reply_rate", "bounce_rate", "win_rate", "conversion", "median_time", "velocity", "authority",
                "lost", "refdomains", "stale"):  # fmt: skip
        assert FORMULA_BY_KEY[key].text
    assert "human reply ÷ prospects contacted" in FORMULA_BY_KEY["reply_rate"].text


def test_referring_domains_per_month_are_anchored_on_todays_live_count():
    from audit.models import RefDomain, Site
    from prospects.models import Project, ProjectCompetitor

    ours, theirs = Site.objects.create(domain="ours.example"), Site.objects.create(domain="them.example")
    project = Project.objects.create(name="Growth", site=ours)
    ProjectCompetitor.objects.create(project=project, site=theirs)
    for site, domain, first_seen, lost_at in (
        (ours, "a.example", date(2026, 1, 10), None), (ours, "b.example", date(2026, 1, 20), date(2026, 3, 5)),
        (ours, "c.example", date(2026, 3, 2), None), (ours, "d.example", None, None),
        (theirs, "e.example", date(2025, 12, 15), None), (theirs, "f.example", date(2026, 2, 3), None),
    ):  # fmt: skip
        RefDomain.objects.create(site=site, domain=domain, first_seen=first_seen, lost_at=lost_at)
    growth = refdomain_growth(project)
    assert growth.months == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert [(s.domain, s.is_own, s.live) for s in growth.sites] == [
        ("ours.example", True, [1, 3, 3, 3]), ("them.example", False, [1, 1, 2, 2])]  # fmt: skip
    assert refdomain_growth(project, max_months=2).months == [date(2026, 2, 1), date(2026, 3, 1)]
    assert refdomain_growth(None).sites == []


def test_docs_state_every_formula_exactly_as_the_page_does():
    from pathlib import Path

    from outreach.reports.formulas import FORMULAS

    docs = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text()
    assert [f.key for f in FORMULAS if f.text not in docs] == []
