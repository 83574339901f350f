"""django-q2 entry points for prospects: take ids, call one service, return plain data."""

from __future__ import annotations

from prospects.services.contacts import contacts_discover


def contacts_discover_task(prospect_id: int) -> dict[str, object]:
    """Find contacts on the prospect's site; the result (pages, added, skipped) is the task's result."""
    return contacts_discover(prospect_id=prospect_id).as_dict()
