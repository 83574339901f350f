"""The report roll-ups (outreach.reports.facts) never change a figure: fresh, stale or absent.

Each test builds a small known world, computes every figure with no roll-up (all live), then
refreshes the roll-up and computes them again — and, where it matters, adds rows after the
refresh (read live for their prospects) — and the figures must be identical.
"""
# ruff: noqa: F811 - the worlds are the formula tests' fixtures, requested by name

from __future__ import annotations

from dataclasses import astuple
from datetime import date, timedelta

import pytest

from outreach.models import ReportFactsState, SentFact, StageFact
from outreach.reports.facts import SETTLE, facts_refresh
from outreach.reports.selectors import ReportFilter, funnel, outreach_rates
from tests.outreach import reports_world as w
from tests.outreach.test_reports_formulas import MARCH, counts, funnel_world, rates_world  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
FILTERS = (
    ReportFilter(**MARCH), ReportFilter(start=date(2026, 3, 5), end=date(2026, 3, 9), tz="UTC"),
    ReportFilter(start=date(2026, 2, 1), end=date(2026, 4, 30), tz="UTC"),
    ReportFilter(start=date(2026, 3, 1), end=date(2026, 3, 31), tz="Europe/Paris"),
)  # fmt: skip


def figures(report: ReportFilter) -> tuple[object, ...]:
    """Every funnel and rate figure of one filter, as plain tuples."""
    rates = outreach_rates(report)
    breakdowns = {name: [(row.key, *counts(row)) for row in rows] for name, rows in rates.breakdowns.items()}
    return [astuple(row) for row in funnel(report)], counts(rates.total), breakdowns


def all_figures(*extra: ReportFilter) -> list[tuple[object, ...]]:
    return [figures(report) for report in (*FILTERS, *extra)]


def test_the_rollup_gives_the_live_figures(funnel_world, rates_world):
    scoped = (ReportFilter(project_id=funnel_world.pk, **MARCH), ReportFilter(user_id=rates_world["bob"].pk, **MARCH))
    live = all_figures(*scoped)
    done = facts_refresh(w.at(6, 1))
    assert [(r.name, r.built_upto) for r in done] == [("sent", w.at(6, 1) - SETTLE), ("stages", w.at(6, 1) - SETTLE)]
    assert SentFact.objects.count() == 6 and StageFact.objects.count() == 15  # every sent email, every move
    assert all_figures(*scoped) == live
    assert facts_refresh(w.at(6, 1))[0].prospects == 0  # nothing new: nothing rebuilt


def test_prospects_with_rows_after_the_rollup_are_read_live(funnel_world, rates_world):
    facts_refresh(w.at(3, 15))  # the roll-up covers the first half of March only
    p2 = funnel_world.prospects.get(domain="p2.example")
    w.change(p2, "reply_received", w.at(3, 16), "contacted")  # p2's stays and conversions change
    q3 = rates_world["project"].prospects.get(domain="q3.example")
    w.sent(q3.enrollments.get(), 2, rates_world["v2"], w.at(3, 18))  # q3's second email
    with_rollup = all_figures()
    ReportFactsState.objects.all().delete()  # no roll-up: every prospect live
    assert all_figures() == with_rollup
    march = {row.stage: row for row in funnel(ReportFilter(**MARCH))}
    assert (march["contacted"].converted, march["contacted"].stays) == (2, 2)
    assert counts(outreach_rates(ReportFilter(**MARCH)).total) == (6, 4, 2, 1, 1)


def test_a_refresh_rebuilds_only_the_prospects_with_new_rows(funnel_world, rates_world):
    facts_refresh(w.at(3, 15))
    p2 = funnel_world.prospects.get(domain="p2.example")
    w.change(p2, "reply_received", w.at(3, 16), "contacted")
    stages = facts_refresh(w.at(6, 1))[1]
    # Moves dated from 15 Mar on: p1, p2 (the new move), p4, p5, q1 — with all their 14 moves; p3 is left alone.
    assert (stages.prospects, stages.rows) == (5, 14)
    assert StageFact.objects.get(change__prospect=p2, to_stage="contacted").left_at == w.at(3, 16)
    assert all_figures() == [figures(report) for report in FILTERS]


def test_rows_written_with_a_past_date_after_the_rollup_count_by_their_id(funnel_world, rates_world):
    facts_refresh(w.at(6, 1))  # covers every date of the worlds
    p3 = funnel_world.prospects.get(domain="p3.example")
    w.change(p3, "to_contact", w.at(3, 3), "in_progress")  # dated before T, as the demo loader writes
    q2 = rates_world["project"].prospects.get(domain="q2.example")
    w.sent(q2.enrollments.get(), 2, rates_world["v2"], w.at(3, 7))
    with_rollup = all_figures()
    assert {row.stage: row.entered for row in funnel(ReportFilter(**MARCH))}["to_contact"] == 4
    assert counts(outreach_rates(ReportFilter(**MARCH)).total) == (6, 4, 2, 1, 1)
    sent, stages = facts_refresh(w.at(6, 1))  # same T: only the new ids make prospects new
    assert (sent.prospects, stages.prospects) == (1, 1)
    assert all_figures() == with_rollup
    ReportFactsState.objects.all().delete()
    assert all_figures() == with_rollup


def test_an_email_in_flight_holds_the_rollup_back(rates_world):
    q5 = rates_world["project"].prospects.get(domain="q5.example")
    w.OutboundMessage.objects.filter(prospect=q5).update(status="unknown", claimed_at=w.at(3, 5))
    sent, stages = facts_refresh(w.at(6, 1))
    # Reconciling it may mark it sent at its claim time: the roll-up stops before that.
    assert (sent.built_upto, stages.built_upto) == (w.at(3, 5), w.at(6, 1) - SETTLE)
    w.OutboundMessage.objects.filter(prospect=q5).update(status="sent", sent_at=w.at(3, 5))
    live = figures(ReportFilter(**MARCH))
    assert counts(outreach_rates(ReportFilter(**MARCH)).total) == (6, 5, 2, 1, 1)
    facts_refresh(w.at(6, 2))
    assert figures(ReportFilter(**MARCH)) == live and SentFact.objects.filter(message__prospect=q5).exists()


def test_refresh_task_is_scheduled():
    from linkcrm.schedules import SCHEDULES

    assert ("reports-facts", "outreach.reports.tasks.facts_refresh_task") in [(s.name, s.func) for s in SCHEDULES]
    assert timedelta(minutes=1) <= SETTLE
