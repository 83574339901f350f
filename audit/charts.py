"""Server-rendered SVG charts: no JavaScript chart library, no CDN, nothing to download.

Each function takes plain numbers and labels and returns one ``<svg>`` element as a
``SafeString`` ready for a template. Every label is escaped here (it may be a referring
domain or an anchor someone else wrote), every chart has a ``<title>`` and ``role="img"``
with ``aria-label`` for screen readers, and each bar or point carries its own ``<title>``
so hovering shows the exact figure. Charts are sized by ``viewBox`` only, so CSS decides
their width and they scale on small screens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil, log10

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE: tuple[str, ...] = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2")


@dataclass(frozen=True)
class Series:
    """One line of a line chart: a name and one value per x label."""

    name: str
    values: Sequence[float]
    color: str = ""


def _fmt(value: float) -> str:
    """A number as a chart label: integers without decimals, thousands separated."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _coord(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_max(value: float) -> float:
    """The smallest 1/2/5 × 10^n at or above ``value`` (1 for empty data): a round axis top."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** int(log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def _open(width: int, height: int, title: str, css_class: str) -> list[str]:
    safe_title = escape(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{safe_title}" font-family="system-ui, sans-serif">',
        f"<title>{safe_title}</title>",
    ]


def _empty(width: int, height: int, title: str, css_class: str) -> SafeString:
    parts = _open(width, height, title, css_class)
    parts.append(
        f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" fill="#6b7280" font-size="13">'
        "No data yet</text></svg>"
    )
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _y_axis(top: float, left: int, right: int, y0: int, plot_h: int) -> list[str]:
    """Three horizontal grid lines (0, half, top) with their values on the left."""
    parts = []
    for fraction in (0.0, 0.5, 1.0):
        y = y0 + plot_h - fraction * plot_h
        parts.append(f'<line x1="{left}" x2="{right}" y1="{_coord(y)}" y2="{_coord(y)}" stroke="#e5e7eb"/>')
        parts.append(
            f'<text x="{left - 6}" y="{_coord(y + 4)}" text-anchor="end" font-size="11" fill="#6b7280">'
            f"{_fmt(top * fraction)}</text>"
        )
    return parts


def _label_step(count: int, room: int) -> int:
    """Show every n-th x label so they never overlap: at most ``room`` labels."""
    return max(1, ceil(count / max(room, 1)))


def bar_chart(
    bars: Sequence[tuple[str, float]], *, title: str, width: int = 600, height: int = 240,
    color: str = PALETTE[0],
) -> SafeString:
    """Vertical bars, one per ``(label, value)``, left to right, on a 0-based axis."""
    if not bars or all(value == 0 for _, value in bars):
        return _empty(width, height, title, "bar-chart")
    left, right, top_pad, bottom = 48, width - 8, 10, 28
    plot_h = height - top_pad - bottom
    top = nice_max(max(value for _, value in bars))
    slot = (right - left) / len(bars)
    step = _label_step(len(bars), (right - left) // 60)
    parts = _open(width, height, title, "bar-chart") + _y_axis(top, left, right, top_pad, plot_h)
    for index, (label, value) in enumerate(bars):
        bar_h = plot_h * value / top
        x = left + index * slot + slot * 0.1
        y = top_pad + plot_h - bar_h
        safe_label = escape(label)
        parts.append(
            f'<rect class="bar" x="{_coord(x)}" y="{_coord(y)}" width="{_coord(slot * 0.8)}" '
            f'height="{_coord(bar_h)}" fill="{escape(color)}">'
            f"<title>{safe_label}: {_fmt(value)}</title></rect>"
        )
        if index % step == 0:
            parts.append(
                f'<text class="x-label" x="{_coord(left + (index + 0.5) * slot)}" y="{height - 10}" '
                f'text-anchor="middle" font-size="11" fill="#374151">{safe_label}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def hbar_chart(
    items: Sequence[tuple[str, float]], *, title: str, width: int = 600, bar_height: int = 22,
    label_width: int = 170, color: str = PALETTE[0],
) -> SafeString:
    """Horizontal bars, one row per ``(label, value)`` from the top, values printed at the bar's end."""
    if not items:
        return _empty(width, 80, title, "hbar-chart")
    gap = 6
    height = len(items) * (bar_height + gap) + gap
    plot_w = width - label_width - 70
    top = max(value for _, value in items) or 1
    parts = _open(width, height, title, "hbar-chart")
    for index, (label, value) in enumerate(items):
        y = gap + index * (bar_height + gap)
        bar_w = plot_w * value / top
        safe_label = escape(label)
        text_y = _coord(y + bar_height * 0.7)
        parts.append(
            f'<text class="y-label" x="{label_width - 8}" y="{text_y}" text-anchor="end" font-size="12" '
            f'fill="#374151">{safe_label}</text>'
            f'<rect class="bar" x="{label_width}" y="{y}" width="{_coord(bar_w)}" height="{bar_height}" '
            f'fill="{escape(color)}"><title>{safe_label}: {_fmt(value)}</title></rect>'
            f'<text x="{_coord(label_width + bar_w + 6)}" y="{text_y}" font-size="12" fill="#111827">'
            f"{_fmt(value)}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _series_points(
    values: Sequence[float], left: int, slot: float, base_y: int, plot_h: int, top: float
) -> list[tuple[float, float]]:
    """Screen coordinates of each value: centred in its x slot, scaled to the axis top."""
    return [(left + (i + 0.5) * slot, base_y - plot_h * value / top) for i, value in enumerate(values)]


def line_chart(
    labels: Sequence[str], series: Sequence[Series], *, title: str, width: int = 720, height: int = 260,
    area: bool = True,
) -> SafeString:
    """One line per series over shared x labels (e.g. new and lost links per week), with a legend.

    With ``area`` each line is filled down to the axis, lightly, so two series stay readable.
    """
    if not labels or not series or all(v == 0 for s in series for v in s.values):
        return _empty(width, height, title, "line-chart")
    if any(len(s.values) != len(labels) for s in series):
        raise ValueError("every series needs exactly one value per label")
    left, right, top_pad, bottom = 48, width - 8, 28, 28
    plot_h = height - top_pad - bottom
    base_y = top_pad + plot_h
    top = nice_max(max(v for s in series for v in s.values))
    slot = (right - left) / len(labels)
    parts = _open(width, height, title, "line-chart") + _y_axis(top, left, right, top_pad, plot_h)
    for index, s in enumerate(series):
        parts += _draw_series(s, s.color or PALETTE[index % len(PALETTE)], labels,
                              _series_points(s.values, left, slot, base_y, plot_h, top), base_y, area)
        parts.append(_legend_entry(index, s, s.color or PALETTE[index % len(PALETTE)], left))
    step = _label_step(len(labels), (right - left) // 70)
    for index in range(0, len(labels), step):
        parts.append(
            f'<text class="x-label" x="{_coord(left + (index + 0.5) * slot)}" y="{height - 10}" '
            f'text-anchor="middle" font-size="11" fill="#374151">{escape(labels[index])}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _draw_series(
    s: Series, color: str, labels: Sequence[str], points: list[tuple[float, float]], base_y: int, area: bool
) -> list[str]:
    """The polyline (and optional area) of one series, plus a hoverable point per value."""
    color = escape(color)
    path = " ".join(f"{_coord(x)},{_coord(y)}" for x, y in points)
    parts = [f'<g class="series" data-series="{escape(s.name)}">']
    if area:
        first_x, last_x = points[0][0], points[-1][0]
        parts.append(
            f'<polygon points="{_coord(first_x)},{base_y} {path} {_coord(last_x)},{base_y}" '
            f'fill="{color}" fill-opacity="0.12" stroke="none"/>'
        )
    parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
    for (x, y), label, value in zip(points, labels, s.values, strict=True):
        parts.append(
            f'<circle class="point" cx="{_coord(x)}" cy="{_coord(y)}" r="2.5" fill="{color}">'
            f"<title>{escape(s.name)}, {escape(label)}: {_fmt(value)}</title></circle>"
        )
    parts.append("</g>")
    return parts


def _legend_entry(index: int, s: Series, color: str, left: int) -> str:
    x = left + index * 130
    return (
        f'<g class="legend"><rect x="{x}" y="6" width="12" height="12" fill="{escape(color)}"/>'
        f'<text x="{x + 17}" y="16" font-size="12" fill="#374151">{escape(s.name)}</text></g>'
    )
