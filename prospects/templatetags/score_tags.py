"""``{% load score_tags %}{% score_breakdown prospect %}``: a prospect's score, part by part.

Reads ``Prospect.score_breakdown`` as ``prospects.services.scoring`` writes it: each part's
0-100 value, its weight, the points it adds, and the facts it came from, said in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from prospects.forms import SCORE_PART_LABELS
from prospects.models import Prospect
from prospects.services.scoring import PARTS

register = template.Library()


@dataclass(frozen=True)
class PartRow:
    part: str
    label: str
    value: int | None
    weight: int
    contribution: float
    why: str


def _why(part: str, facts: dict[str, Any]) -> str:
    """The facts of one part in a sentence (missing data says so)."""
    if part == "authority":
        return f"domain authority {facts['authority']}" if facts.get("authority") is not None else "not known"
    if part == "competitors":
        return f"links to {facts.get('linked', 0)} of {facts.get('of', 0)} competitors"
    if part == "freshness":
        if not facts.get("newest_link"):
            return "no dated link"
        return f"newest link first seen {facts['newest_link']} ({facts.get('age_days')} days ago)"
    if part == "follow":
        if not facts.get("links"):
            return "no link counts"
        return f"{facts.get('follow') or 0} of {facts['links']} live links followed"
    if part == "relevance":
        if not facts.get("keywords"):
            return "no keywords set for the project"
        return f"{facts.get('matching', 0)} of {facts.get('links', 0)} links mention a keyword"
    toxic = facts.get("toxic_score")
    flagged = "yes" if facts.get("flagged_spam") else "no"
    return (
        f"risk {facts.get('risk', 0)}: toxic score {'–' if toxic is None else toxic}, "
        f"flagged spam {flagged}, domain pattern {facts.get('pattern_risk', 0)}"
    )


def breakdown_rows(breakdown: dict[str, Any]) -> list[PartRow]:
    """The parts in their usual order; an empty list for a prospect not scored yet."""
    parts = breakdown.get("parts") if isinstance(breakdown, dict) else None
    if not isinstance(parts, dict):
        return []
    rows = []
    for part in PARTS:
        data = parts.get(part) or {}
        rows.append(PartRow(
            part=part, label=SCORE_PART_LABELS[part], value=data.get("value"),
            weight=int(data.get("weight") or 0), contribution=float(data.get("contribution") or 0),
            why=_why(part, data.get("facts") or {}),
        ))  # fmt: skip
    return rows


@register.inclusion_tag("prospects/_score_breakdown.html")
def score_breakdown(prospect: Prospect) -> dict[str, Any]:
    return {"score": prospect.score, "rows": breakdown_rows(prospect.score_breakdown)}
