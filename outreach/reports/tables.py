"""Report tables: the selectors' results as plain headings and rows, for the page and for export.

One builder per table; ``table_for`` computes only what one exported table needs, and
``ReportData.tables`` turns a whole page's results into every table at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from outreach.reports.concurrent import run_together
from outreach.reports.export import Table
from outreach.reports.selectors import (
    DIMENSIONS,
    Acquisition,
    FunnelRow,
    Growth,
    RateRow,
    Rates,
    ReportFilter,
    StaleProspect,
    acquisition,
    funnel,
    outreach_rates,
    refdomain_growth,
    stale_prospects,
)
from prospects.choices import Stage
from prospects.models import Project

BREAKDOWN_TITLES: dict[str, str] = {
    "sequence": "By sequence", "template": "By template", "version": "By template version", "step": "By step",
    "mailbox": "By mailbox", "assignee": "By assignee", "month": "By month (of sending)",
}  # fmt: skip
RATE_COLUMNS = ("Group", "Emails sent", "Prospects contacted", "Replied", "Reply rate %", "Bounced",
                "Bounce rate %", "Links acquired", "Win rate %")  # fmt: skip
TABLE_KEYS: tuple[str, ...] = ("funnel", "totals", *DIMENSIONS, "velocity", "refdomains", "stale")


def funnel_table(rows: list[FunnelRow]) -> Table:
    return Table("funnel", "Funnel", (
        "Stage", "Entered", "Reached the next stage", "Conversion %", "Median days in stage", "Ended stays"),
        [(r.label, r.entered, r.converted, r.conversion, r.median_days, r.stays) for r in rows])  # fmt: skip


def _rate_row(row: RateRow) -> tuple[object, ...]:
    return (row.label, row.messages, row.contacted, row.replied, row.reply_rate, row.bounced, row.bounce_rate,
            row.won, row.win_rate)  # fmt: skip


def rates_tables(rates: Rates) -> list[Table]:
    """The totals table, then one table per breakdown."""
    tables = [Table("totals", "Totals", RATE_COLUMNS, [_rate_row(rates.total)])]
    for name, rows in rates.breakdowns.items():
        tables.append(Table(name, BREAKDOWN_TITLES[name], RATE_COLUMNS, [_rate_row(row) for row in rows]))
    return tables


def velocity_table(result: Acquisition) -> Table:
    return Table("velocity", "Links acquired and lost per week", ("Week starting", "Links acquired", "Links lost"),
                 list(result.rows))  # fmt: skip


def growth_table(growth: Growth) -> Table:
    columns = ("Month", *(f"{site.domain}{' (you)' if site.is_own else ''}" for site in growth.sites))
    rows = [
        (month.strftime("%Y-%m"), *(site.live[i] for site in growth.sites)) for i, month in enumerate(growth.months)
    ]
    return Table("refdomains", "Live referring domains at the end of each month", columns, rows)


def stale_table(total: int, rows: list[StaleProspect]) -> Table:
    labels = dict(Stage.choices)
    return Table("stale", f"Stale prospects ({total} in all, oldest first)",
                 ("Domain", "Project", "Stage", "Assignee", "Last activity"),
                 [(r.domain, r.project, labels.get(r.stage, r.stage), r.assignee, r.last_activity)
                  for r in rows])  # fmt: skip


def _stale(report: ReportFilter, now: datetime) -> Table:
    return stale_table(*stale_prospects(report, now=now, days=settings.LINKCRM_DIGEST_STALE_DAYS))


def table_for(key: str, report: ReportFilter, project: Project | None, now: datetime) -> Table:
    """One table, computing only what it needs. ``key`` must be one of TABLE_KEYS."""
    builders: dict[str, Callable[[], Table]] = {
        "funnel": lambda: funnel_table(funnel(report)),
        "totals": lambda: rates_tables(outreach_rates(report, ()))[0],
        "velocity": lambda: velocity_table(acquisition(report)),
        "refdomains": lambda: growth_table(refdomain_growth(project)),
        "stale": lambda: _stale(report, now),
    }
    if key in DIMENSIONS:
        return rates_tables(outreach_rates(report, (key,)))[1]
    return builders[key]()


@dataclass(frozen=True)
class ReportData:
    """Everything the reports page shows, computed once."""

    funnel: list[FunnelRow]
    rates: Rates
    acquisition: Acquisition
    growth: Growth
    stale_total: int
    stale: list[StaleProspect]

    @property
    def tables(self) -> dict[str, Table]:
        tables = [funnel_table(self.funnel), *rates_tables(self.rates), velocity_table(self.acquisition),
                  growth_table(self.growth), stale_table(self.stale_total, self.stale)]  # fmt: skip
        return {table.key: table for table in tables}


def report_data(report: ReportFilter, project: Project | None, now: datetime) -> ReportData:
    """Run every report query for one page: the independent ones at once (``run_together``), longest first."""
    report.params()  # reads an outreach user's own prospects once, here, rather than in each thread
    days = settings.LINKCRM_DIGEST_STALE_DAYS
    results: dict[str, Any] = run_together({
        "rates": lambda: outreach_rates(report), "funnel": lambda: funnel(report),
        "acquisition": lambda: acquisition(report), "stale": lambda: stale_prospects(report, now=now, days=days),
        "growth": lambda: refdomain_growth(project),
    })  # fmt: skip
    stale_total, stale = results["stale"]
    return ReportData(results["funnel"], results["rates"], results["acquisition"], results["growth"],
                      stale_total, stale)  # fmt: skip


# --- display ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """A table cell as shown: its text, the value the column sorts by, and whether it is a number."""

    text: str
    sort: str
    numeric: bool


def cell(value: object) -> Cell:
    if value is None:
        return Cell("–", "", False)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Cell(f"{value:,}" if isinstance(value, int) else f"{value:,.1f}", str(value), True)
    if isinstance(value, datetime):
        text = value.astimezone().strftime("%Y-%m-%d %H:%M")
        return Cell(text, value.isoformat(), False)
    return Cell(str(value), str(value).lower(), False)


def shown(table: Table) -> dict[str, object]:
    """What the table include renders: the table and its rows as cells."""
    rows = [[cell(value) for value in row] for row in table.rows]
    numeric = [
        any(row[i].numeric for row in rows) and all(row[i].numeric or row[i].sort == "" for row in rows)
        for i in range(len(table.columns))
    ]
    return {"table": table, "rows": rows, "headings": list(zip(table.columns, numeric, strict=True))}
