"""django-q2 entry points for prospects: take ids, call one service, return plain data."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from prospects.services.contacts import contacts_discover
from prospects.services.monitoring import links_sweep


def contacts_discover_task(prospect_id: int) -> dict[str, object]:
    """Find contacts on the prospect's site; the result (pages, added, skipped) is the task's result."""
    return contacts_discover(prospect_id=prospect_id).as_dict()


def links_sweep_task() -> dict[str, object]:
    """The scheduled acquired-link check: one sweep over the due links (see services.monitoring)."""
    return links_sweep().as_dict()


def acquired_link_check_task(link_id: int, actor_id: int | None = None) -> dict[str, object]:
    """ "Check now": one link, at once but still paced per host; the person is kept on the check."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return links_sweep(link_ids=[link_id], actor=actor, automation="linkcheck.manual").as_dict()
