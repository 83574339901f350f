"""The reports' charts, drawn on the server with ``audit.charts`` (SVG, every label escaped)."""

from __future__ import annotations

from django.utils.safestring import SafeString

from audit.charts import Series, bar_chart, hbar_chart, line_chart
from outreach.reports.selectors import Acquisition, FunnelRow, Growth, RateRow


def funnel_chart(rows: list[FunnelRow]) -> SafeString:
    """Prospects entering each stage in the period, stages top to bottom."""
    return hbar_chart([(row.label, row.entered) for row in rows], title="Prospects entering each stage")


def velocity_chart(result: Acquisition) -> SafeString:
    """Links acquired and lost per week."""
    labels = [week.strftime("%Y-%m-%d") for week in result.weeks]
    return line_chart(labels, [Series("Links acquired", result.acquired_per_week),
                               Series("Links lost", result.lost_per_week)],
                      title="Links acquired and lost per week")  # fmt: skip


def monthly_reply_chart(rows: list[RateRow]) -> SafeString:
    """Reply rate (%) of the prospects emailed in each month."""
    bars = [(row.label, row.reply_rate or 0.0) for row in rows if row.key is not None]
    return bar_chart(bars, title="Reply rate % by month of sending")


LEGEND_CHARS = 14  # audit.charts spaces legend entries 130 px apart: longer names would overlap


def _short(name: str, room: int = LEGEND_CHARS) -> str:
    return name if len(name) <= room else name[: room - 1] + "…"


def growth_chart(growth: Growth) -> SafeString:
    """Live referring domains per month: the project's site (marked ★) against each competitor.

    Domains are shortened in the chart's legend; the table below the chart names them in full.
    """
    labels = [month.strftime("%Y-%m") for month in growth.months]
    series = [Series("★ " + _short(site.domain, LEGEND_CHARS - 2) if site.is_own else _short(site.domain), site.live)
              for site in growth.sites]  # fmt: skip
    return line_chart(labels, series, title="Live referring domains per month", area=False)
