"""The inbox's one write from the UI: a person marks an inbound message handled.

Kept apart from the syncer's ``outreach.services.inbox`` (which stores and classifies
mail) so the UI never depends on the protocol code being importable.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from outreach.models import InboundMessage


def inbound_mark_handled(*, message_id: int, by: AbstractBaseUser) -> bool:
    """Clear ``needs_attention`` and record who handled it; False if it was already handled.

    Guarded (``WHERE needs_attention``) so two people clicking at once record one handler.
    """
    return bool(
        InboundMessage.objects.filter(pk=message_id, needs_attention=True).update(
            needs_attention=False, handled_by=by, handled_at=timezone.now()
        )
    )
