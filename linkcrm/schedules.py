"""Every periodic django-q2 job, declared in one place.

Each app's tasks module owns its functions; this list only names them (dotted paths, so
`linkcrm` imports no app). `schedules_sync()` makes the `django_q.Schedule` table match the
list: it runs on every `bootstrap` (so `make run` and deployments converge) and is safe to
repeat. One entry per batch or per sweep, never per row or per email.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

# Name prefix of the rows this module owns; schedules a user adds by hand are left alone.
PREFIX = "linkcrm:"


@dataclass(frozen=True)
class Periodic:
    """A task run every `minutes` minutes."""

    name: str
    func: str
    minutes: int


# Apps add their sweeps here (keep sorted by name).
SCHEDULES: list[Periodic] = [
    Periodic("import-files-prune", "audit.tasks.link_import_files_prune_task", 24 * 60),
    Periodic("links-sweep", "prospects.tasks.links_sweep_task", 15),
    Periodic("outreach-advance", "outreach.tasks.sequences_advance_task", 5),
    Periodic("outreach-send", "outreach.tasks.outbox_sweep_task", 1),
    Periodic("outreach-sync", "outreach.tasks.mailboxes_sync_sweep_task", 2),
    Periodic("reports-digest", "outreach.reports.tasks.digest_weekly_task", 7 * 24 * 60),
    Periodic("reports-facts", "outreach.reports.tasks.facts_refresh_task", 10),
]


def schedules_sync(entries: list[Periodic] | None = None) -> list[str]:
    """Create or update our schedules and delete ones no longer declared; returns their names."""
    from django_q.models import Schedule

    entries = SCHEDULES if entries is None else entries
    names = [PREFIX + e.name for e in entries]
    with transaction.atomic():
        Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=names).delete()
        for entry in entries:
            Schedule.objects.update_or_create(
                name=PREFIX + entry.name,
                defaults={
                    "func": entry.func,
                    "schedule_type": Schedule.MINUTES,
                    "minutes": entry.minutes,
                    "repeats": -1,
                },
            )
    return names
