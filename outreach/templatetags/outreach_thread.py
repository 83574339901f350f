"""``{% prospect_thread prospect %}``: the prospect's email thread, for the prospect page.

Lives in outreach so prospects never imports outreach: the prospect template only loads
this library by name. Shows outbound messages (status, step) and inbound ones (kind, why
they matched) in time order, the enrollments, and in DEBUG a "simulate a reply" button.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from outreach.choices import RUNNING_ENROLLMENT
from outreach.models import Enrollment
from outreach.selectors import prospect_thread as thread_items

register = template.Library()


@register.inclusion_tag("outreach/_thread.html", takes_context=True)
def prospect_thread(context: template.Context, prospect: Any) -> dict[str, Any]:
    """The thread block's context: items oldest first, enrollments, whether a reply can be simulated."""
    enrollments = list(Enrollment.objects.filter(prospect=prospect).select_related("sequence", "mailbox", "contact"))
    items = thread_items(prospect)
    return {
        "prospect": prospect,
        "items": items,
        "enrollments": enrollments,
        # What simulate_reply answers (selectors.last_sent_message) is among the items already.
        "can_simulate": settings.DEBUG and any(i.direction == "out" and i.message.sent_at for i in items),
        "running": any(e.status in RUNNING_ENROLLMENT for e in enrollments),
        "here": context.get("here") or "",
        "csrf_token": context.get("csrf_token"),
    }
