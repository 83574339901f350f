"""django-q2 entry points of the reports: the weekly digest (one task queues every digest), the roll-up refresh."""

from __future__ import annotations

from django.utils import timezone

from outreach.reports.digest import digest_queue
from outreach.reports.facts import facts_refresh


def digest_weekly_task() -> int:
    """Queue the weekly digest for every opted-in manager; scheduled in linkcrm/schedules.py."""
    return digest_queue(timezone.now())


def facts_refresh_task() -> list[str]:
    """Bring the report roll-ups up to date (outreach.reports.facts); scheduled in linkcrm/schedules.py."""
    return [f"{r.name}: {r.prospects} prospects, {r.rows} rows" for r in facts_refresh(timezone.now())]
