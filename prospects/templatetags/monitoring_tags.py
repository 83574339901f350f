"""The acquired-link monitoring blocks: on the prospect page, and the loss notices on the dashboard.

Tags rather than view context, so the prospect page and dashboard views stay as they are.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from prospects.choices import Stage
from prospects.linkcheck import LOSS_STATUSES
from prospects.models import Prospect
from prospects.selectors import monitoring as selectors

register = template.Library()


@register.inclusion_tag("prospects/_monitoring.html", takes_context=True)
def link_monitoring(context: dict[str, Any], prospect: Prospect) -> dict[str, Any]:
    """Status, schedule, "check now"/"reclaim" and the check history of the prospect's link."""
    link = selectors.acquired_link_of_prospect(prospect.pk)
    monitored = link is not None and selectors.monitored_links().filter(pk=link.pk).exists()
    return {
        "prospect": prospect,
        "link": link,
        "checks": selectors.link_checks(link.pk, limit=30) if link else [],
        "monitored": monitored,
        "reclaimable": bool(
            link and link.status in LOSS_STATUSES and not link.reclaimed_at and prospect.stage == Stage.LINK_ACQUIRED
        ),
        "confirm": settings.LINKCRM_LINKCHECK_CONFIRM_FAILURES,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("prospects/_lost_links.html", takes_context=True)
def lost_links_notice(context: dict[str, Any]) -> dict[str, Any]:
    """The signed-in person's links confirmed lost, each with a way to reclaim it."""
    return {"lost": selectors.lost_links_for_user(context["request"].user), "csrf_token": context.get("csrf_token")}
