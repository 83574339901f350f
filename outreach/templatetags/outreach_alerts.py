"""``{% paused_mailboxes_banner %}``: tells the signed-in owner that a failure paused their mailbox.

For pages outside outreach (the dashboard): they load this library by name, so prospects
never imports outreach.
"""

from __future__ import annotations

from typing import Any

from django import template

from outreach.selectors import mailboxes_paused_by_failure

register = template.Library()


@register.inclusion_tag("outreach/_paused_banner.html", takes_context=True)
def paused_mailboxes_banner(context: template.Context) -> dict[str, Any]:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"paused_by_failure": []}
    return {"paused_by_failure": list(mailboxes_paused_by_failure(user))}
