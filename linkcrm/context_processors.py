"""Navigation: each entry shows only to users whose role can open it."""

from __future__ import annotations

import re

from django.http import HttpRequest
from django.urls import reverse

from linkcrm.choices import Role
from linkcrm.permissions import has_role, user_role

# Pages that belong to a section although their URL sits under another one's prefix.
SECTION_PATHS: dict[str, re.Pattern[str]] = {
    "prospects:pipeline": re.compile(r"^/(projects/\d+/(board|prospects|reminders)|prospects|contacts)/"),
    "outreach:mailbox-list": re.compile(r"^/outreach/mailboxes/"),
    "outreach:template-list": re.compile(r"^/outreach/templates/"),
    "outreach:sequence-list": re.compile(r"^/outreach/sequences/"),
    "outreach:inbox": re.compile(r"^/outreach/inbox/"),
}

NAVIGATION: tuple[tuple[str, str, Role], ...] = (
    ("Dashboard", "dashboard", Role.OUTREACH),
    ("Projects", "prospects:project-list", Role.OUTREACH),
    ("Pipeline", "prospects:pipeline", Role.OUTREACH),
    ("Outreach", "outreach:home", Role.OUTREACH),
    ("Mailboxes", "outreach:mailbox-list", Role.OUTREACH),
    ("Templates", "outreach:template-list", Role.OUTREACH),
    ("Sequences", "outreach:sequence-list", Role.OUTREACH),
    ("Inbox", "outreach:inbox", Role.OUTREACH),
    ("Audit", "audit:home", Role.OUTREACH),
    ("Reports", "reports:home", Role.OUTREACH),
    ("Do not contact", "prospects:suppressions", Role.MANAGER),
    ("Admin", "users", Role.ADMIN),
)


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "current_role": None}
    path = request.path
    claimed = {name for name, pattern in SECTION_PATHS.items() if pattern.match(path)}
    items = []
    for label, name, minimum in NAVIGATION:
        if not has_role(user, minimum):
            continue
        url = reverse(name)
        if claimed:
            active = name in claimed
        else:
            active = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items, "current_role": user_role(user)}
