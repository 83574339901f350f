"""Small template helpers of the pipeline pages, and the dashboard's "my work" block."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from prospects.selectors.pipeline import my_prospects_by_stage, reminders_due_for_user

register = template.Library()


@register.filter
def score_class(score: int | None) -> str:
    """CSS class of a score badge: high (70+), mid (40+) or none."""
    if score is None:
        return ""
    return "high" if score >= 70 else "mid" if score >= 40 else ""


@register.filter
def domain_breaks(domain: str) -> str:
    """The domain with line-break opportunities after its dots (hyphens already allow one)."""
    return mark_safe(escape(domain).replace(".", ".<wbr>"))  # noqa: S308 (escaped first)


@register.filter
def age(moment: datetime | None) -> str:
    """How long ago, in one short unit: ``5m``, ``3h``, ``12d``, ``4mo``."""
    if moment is None:
        return ""
    seconds = max(0, int((timezone.now() - moment).total_seconds()))
    for unit, size in (("mo", 30 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "now"


@register.simple_tag(takes_context=True)
def my_work(context: dict[str, Any]) -> dict[str, Any]:
    """The signed-in person's reminders due within a week and their prospects per stage.

    A tag rather than view context so the dashboard view (prospects.views.projects) stays as it is.
    """
    user = context["request"].user
    now = timezone.now()
    return {
        "reminders": reminders_due_for_user(user, now=now),
        "by_stage": my_prospects_by_stage(user),
        "now": now,
    }
