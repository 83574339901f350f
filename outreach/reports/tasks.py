"""django-q2 entry point of the reports: the weekly digest (one task queues every digest)."""

from __future__ import annotations

from django.utils import timezone

from outreach.reports.digest import digest_queue


def digest_weekly_task() -> int:
    """Queue the weekly digest for every opted-in manager; scheduled in linkcrm/schedules.py."""
    return digest_queue(timezone.now())
